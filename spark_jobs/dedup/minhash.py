"""MinHash signatures and LSH band keys, vectorized over a batch of documents.

Normalization and shingling follow datatrove's MinhashDedupSignature (FineWeb): lowercase,
numbers to "0", punctuation to spaces, whitespace folded, diacritics removed; word n-grams
(n=5) of the result. Differences, on purpose: punctuation is Unicode categories P, S and Cc
(datatrove lists characters by hand), words are split on whitespace (datatrove runs a spaCy
tokenizer over the already punctuation-free text, which splits the same way on such text), and
a document with fewer than n words gets one shingle of all its words (datatrove gives it no
signature).

Per batch, all work is array work: normalization and word splitting are Arrow compute kernels,
each distinct word of the batch is hashed once (xxh64), n-gram hashes combine word hashes with
numpy, and the minimum of 112 universal hashes (a*x+b mod 2^64, odd a) per document is a
`np.minimum.reduceat` over the shingle array. A band key is a 64-bit mix of the band's rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from spark_jobs.dedup.config import DedupConfig, Normalization

# Decimal separators: . , and the Arabic comma, Arabic decimal separator, U+2396..U+2398.
_NUMBERS = "\\p{Nd}+([.,\u060c\u066b\u2396\u2397\u2398]\\p{Nd}+)?"
_PUNCTUATION = r"[\p{P}\p{S}\p{Cc}]"
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_COMBINE = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
# Chunk of shingles hashed at once against all hash functions (rows x num_hashes uint64).
_CHUNK_SHINGLES = 8192


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place on a uint64 array."""
    x ^= x >> _S30
    x *= _MIX1
    x ^= x >> _S27
    x *= _MIX2
    x ^= x >> _S31
    return x


def normalize_texts(texts: pa.Array, norm: Normalization) -> pa.Array:
    """datatrove's simplify_text, as Arrow kernels over a string array (nulls stay null)."""
    out = texts
    if norm.lowercase:
        out = pc.utf8_lower(out)
    if norm.norm_numbers:
        out = pc.replace_substring_regex(out, _NUMBERS, "0")
    if norm.remove_punctuation:
        out = pc.replace_substring_regex(out, _PUNCTUATION, " ")
    if norm.norm_unicode_diacritics:
        out = pc.replace_substring_regex(pc.utf8_normalize(out, "NFD"), r"\p{Mn}", "")
    return out


def _words(texts: pa.Array, norm: Normalization) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every word of every document, flat, and each document's word count."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if pa.types.is_large_string(texts.type):
        texts = texts.cast(pa.string())
    normalized = normalize_texts(texts, norm)
    # Whitespace is always a word boundary (norm_whitespace only matters for display).
    lists = pc.utf8_split_whitespace(normalized)
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    keep = pc.greater(pc.utf8_length(flat), 0)
    flat = pc.filter(flat, keep)
    parents = pc.filter(parents, keep).to_numpy()
    counts = np.bincount(parents, minlength=len(texts)).astype(np.int64)
    if len(flat) == 0:
        return np.zeros(0, dtype=np.uint64), counts
    encoded = pc.dictionary_encode(flat)
    vocabulary = encoded.dictionary.cast(pa.binary()).to_pylist()
    word_hashes = np.fromiter(
        (xxhash.xxh64_intdigest(w) for w in vocabulary), dtype=np.uint64, count=len(vocabulary)
    )
    return word_hashes[encoded.indices.to_numpy()], counts


def _shingles(words: np.ndarray, counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hash of every word n-gram, flat, and each document's shingle count."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    total = len(words)
    # An n-gram starting at j combines words j..j+n-1.
    if total >= n:
        combined = words[: total - n + 1].copy()
        for k in range(1, n):
            combined *= _COMBINE
            combined ^= words[k : total - n + 1 + k]
        _mix(combined)
    else:
        combined = np.zeros(0, dtype=np.uint64)
    shingle_counts = np.maximum(counts - n + 1, 0)
    # Valid n-grams do not cross a document's end.
    valid = np.zeros(max(total - n + 1, 0), dtype=bool)
    for_docs = np.nonzero(shingle_counts)[0]
    if len(for_docs):
        idx = np.repeat(starts[for_docs], shingle_counts[for_docs]) + _ranges(
            shingle_counts[for_docs]
        )
        valid[idx] = True
    shingles = combined[valid]
    # Documents with 0 < words < n: one shingle of all their words.
    short = np.nonzero((counts > 0) & (counts < n))[0]
    if len(short):
        extra = np.empty(len(short), dtype=np.uint64)
        for i, d in enumerate(short):
            h = words[starts[d] : starts[d] + counts[d]].copy()
            value = h[0]
            with np.errstate(over="ignore"):
                for w in h[1:]:
                    value = np.uint64(value * _COMBINE) ^ w
            extra[i] = value
        _mix(extra)
        shingle_counts = shingle_counts.copy()
        shingle_counts[short] = 1
        # Re-assemble in document order.
        out = np.empty(int(shingle_counts.sum()), dtype=np.uint64)
        out_starts = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(shingle_counts[:-1], out=out_starts[1:])
        is_short = np.zeros(len(counts), dtype=bool)
        is_short[short] = True
        long_docs = np.nonzero(~is_short & (shingle_counts > 0))[0]
        long_idx = np.repeat(out_starts[long_docs], shingle_counts[long_docs]) + _ranges(
            shingle_counts[long_docs]
        )
        out[long_idx] = shingles
        out[out_starts[short]] = extra
        shingles = out
    return shingles, shingle_counts


def _ranges(counts: np.ndarray) -> np.ndarray:
    """Concatenated arange(c) for each c in counts."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    offsets = np.repeat(ends - counts, counts)
    return np.arange(total, dtype=np.int64) - offsets


def hash_parameters(config: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of each hash function h(x) = a*x + b mod 2^64, a odd; fixed by the seed."""
    rng = np.random.Generator(np.random.PCG64(config.seed))
    a = rng.integers(0, 2**64, size=config.num_hashes, dtype=np.uint64, endpoint=False) | np.uint64(
        1
    )
    b = rng.integers(0, 2**64, size=config.num_hashes, dtype=np.uint64, endpoint=False)
    return a, b


def batch_minhashes(texts: pa.Array, config: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of a batch: (documents x num_hashes) uint64, and shingle counts.

    Rows of documents without shingles (empty or null text) are all-ones and must be ignored.
    """
    words, counts = _words(texts, config.normalization)
    shingles, shingle_counts = _shingles(words, counts, config.shingle_size)
    return minhashes_of_shingles(shingles, shingle_counts, config), shingle_counts


def minhashes_of_shingles(
    shingles: np.ndarray, shingle_counts: np.ndarray, config: DedupConfig
) -> np.ndarray:
    a, b = hash_parameters(config)
    docs = len(shingle_counts)
    out = np.full((docs, config.num_hashes), np.iinfo(np.uint64).max, dtype=np.uint64)
    nonempty = np.nonzero(shingle_counts)[0]
    if len(nonempty) == 0:
        return out
    starts = np.zeros(docs, dtype=np.int64)
    np.cumsum(shingle_counts[:-1], out=starts[1:])
    # Walk shingles in chunks of whole documents: each chunk is a (shingles x hashes) matrix
    # reduced per document with minimum.reduceat; a document longer than a chunk is its own chunk.
    doc_ends = starts[nonempty] + shingle_counts[nonempty]
    i = 0
    with np.errstate(over="ignore"):
        while i < len(nonempty):
            first = starts[nonempty[i]]
            j = int(np.searchsorted(doc_ends, first + _CHUNK_SHINGLES, side="right"))
            j = max(j, i + 1)
            last = doc_ends[j - 1]
            block = shingles[first:last, None] * a[None, :]
            block += b[None, :]
            local = starts[nonempty[i:j]] - first
            out[nonempty[i:j]] = np.minimum.reduceat(block, local, axis=0)
            i = j
    return out


def band_keys_of(minhashes: np.ndarray, config: DedupConfig) -> np.ndarray:
    """One 64-bit key per band (documents x bands) from signatures (documents x num_hashes)."""
    docs = minhashes.shape[0]
    rows = minhashes.reshape(docs, config.bands, config.rows)
    with np.errstate(over="ignore"):
        key = rows[:, :, 0].copy()
        for r in range(1, config.rows):
            key *= _COMBINE
            key ^= rows[:, :, r]
        _mix(key)
    return key


def signature(text: str, config: DedupConfig | None = None) -> np.ndarray:
    """MinHash signature of one text (num_hashes uint64); the batch code path on one row."""
    config = config or DedupConfig()
    mins, counts = batch_minhashes(pa.array([text], pa.string()), config)
    if counts[0] == 0:
        raise ValueError("text has no words to shingle")
    return mins[0]


def shingle_set(text: str, config: DedupConfig | None = None) -> set[int]:
    """The distinct shingle hashes of a text (for exact Jaccard in tests and benchmarks)."""
    config = config or DedupConfig()
    words, counts = _words(pa.array([text], pa.string()), config.normalization)
    shingles, _ = _shingles(words, counts, config.shingle_size)
    return set(shingles.tolist())


def shingle_sets(texts: list[str | None], config: DedupConfig | None = None) -> list[set[int]]:
    """shingle_set of many texts in one batch (the Arrow kernels run once, not per text)."""
    config = config or DedupConfig()
    words, counts = _words(pa.array(texts, pa.string()), config.normalization)
    shingles, shingle_counts = _shingles(words, counts, config.shingle_size)
    ends = np.cumsum(shingle_counts)
    values = shingles.tolist()
    return [
        set(values[e - c : e]) for e, c in zip(ends.tolist(), shingle_counts.tolist(), strict=True)
    ]


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Fraction of equal signature entries: an unbiased estimate of the Jaccard similarity."""
    return float(np.mean(sig_a == sig_b))


def sketch_of(minhashes: np.ndarray) -> np.ndarray:
    """16-bit sketch of signatures (documents x num_hashes int16): the low bits of each minimum.

    Equal minima give equal sketch entries; unequal ones collide with probability 2^-16, so the
    fraction of equal entries still estimates Jaccard similarity (b-bit MinHash, b=16).
    """
    return (minhashes & np.uint64(0xFFFF)).astype(np.uint16).view(np.int16)


def arrow_band_keys(
    batches: Iterator[pa.RecordBatch],
    config: DedupConfig,
    text_column: str,
    keep_columns: list[str],
) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: passthrough columns, band_keys (null without shingles), num_shingles,
    config_fingerprint, and minhash_sketch when the config verifies candidate pairs."""
    fingerprint = config.fingerprint
    with_sketch = config.verify_threshold is not None
    for batch in batches:
        if batch.num_rows == 0:
            continue
        mins, counts = batch_minhashes(batch.column(text_column), config)
        mask = pa.array(counts == 0)
        keys = band_keys_of(mins, config).view(np.int64)
        columns = [batch.column(name) for name in keep_columns]
        columns += [
            _lists(keys, config.bands, mask),
            pa.array(counts.astype(np.int32)),
            pa.array([fingerprint] * batch.num_rows, pa.string()),
        ]
        names = [*keep_columns, "band_keys", "num_shingles", "config_fingerprint"]
        if with_sketch:
            columns.append(_lists(sketch_of(mins), config.num_hashes, mask))
            names.append("minhash_sketch")
        yield pa.RecordBatch.from_arrays(columns, names=names)


def _lists(values: np.ndarray, width: int, mask: pa.Array) -> pa.ListArray:
    offsets = np.arange(0, (values.shape[0] + 1) * width, width, dtype=np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.reshape(-1)), mask=mask)
