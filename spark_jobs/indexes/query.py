"""Query an n-gram index: count an n-gram, or trace a text to the training documents that
hold its longest spans.

Both binary-search each shard's suffix array (memory-mapped for a local index). Documents
taken down since the build (ops.takedowns) are excluded at query time: their occurrences
are not counted, a span is only as long as its longest match outside them, and they are
never listed.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from spark_jobs.indexes.layout import (
    INDEX_FORMAT,
    MANIFEST,
    SA_DTYPE,
    exists,
    export_index_dir,
    read_bytes,
    read_json,
)
from spark_jobs.lake import Lake
from spark_jobs.mixtures.build import EXPORTS_TABLE
from spark_jobs.mixtures.tokenizer import MixtureTokenizer, tokenizer_from_json
from spark_jobs.storage import LOCAL, ObjectStore, is_s3

# Shorter matches are everywhere (common words); a trace reports spans from this length on.
DEFAULT_MIN_TOKENS = 6
# Occurrences mapped to documents per shard and span; a span with more lists a sample.
_SCAN = 100_000
_CHUNK = 1 << 16
_BREAK = -1  # a query token that matches nothing: end-of-text in the query
# Reads of an index on S3: 64 KiB ranges, up to 64 MiB of them cached per opened file.
RANGE_BLOCK_BYTES = 1 << 16
RANGE_CACHE_BYTES = 1 << 26


class IndexShard:
    """One shard's tokens, suffix array and document table."""

    def __init__(self, tokens: np.ndarray, sa: np.ndarray, docs: pa.Table, excluded: set[str]):
        self.tokens = tokens
        self.sa = sa
        # Scalar reads and short slices through memoryviews: ~15x cheaper than numpy's.
        # (An index on S3 is read by ranges: RangeArray answers the same calls.)
        self._tokens = tokens if isinstance(tokens, RangeArray) else _native_view(tokens)
        self._sa = sa if isinstance(sa, RangeArray) else _native_view(sa)
        self.docs = docs
        self.n = len(tokens)
        self.starts = np.asarray(docs["start"], dtype=np.int64)
        self.ends = self.starts + np.asarray(docs["length"], dtype=np.int64)
        ids = pa.array(sorted(excluded), pa.string())
        self.dead = pc.is_in(docs["id"], ids).to_numpy(zero_copy_only=False).astype(bool)
        self.any_dead = bool(self.dead.any())

    def _compare(self, j: int, q: list[int]) -> int:
        """Sign of (the j-th suffix's first len(q) tokens) - q; a suffix shorter than q and
        equal to its start sorts before it, as Python compares lists."""
        p = self._sa[j]
        s = self._tokens[p : p + len(q)].tolist()
        return (s > q) - (s < q)

    def find(self, q: Sequence[int]) -> tuple[int, int]:
        """The suffix-array range of suffixes starting with q (all of it for an empty q)."""
        q = q.tolist() if isinstance(q, np.ndarray) else list(q)
        if not q:
            return 0, self.n
        a, b = 0, self.n
        above, match = self.n, -1  # what the lower-bound search learns for the upper one
        while a < b:
            mid = (a + b) // 2
            sign = self._compare(mid, q)
            if sign < 0:
                a = mid + 1
            else:
                b = mid
                if sign > 0:
                    above = min(above, mid)
                else:
                    match = max(match, mid)
        lo = a
        a, b = max(lo, match + 1), above
        while a < b:
            mid = (a + b) // 2
            if self._compare(mid, q) <= 0:
                a = mid + 1
            else:
                b = mid
        return lo, a

    def _token_at(self, j: int, k: int) -> int:
        p = self._sa[j] + k
        return self._tokens[p] if p < self.n else -1

    def extend(self, lo: int, hi: int, k: int, token: int) -> tuple[int, int]:
        """Narrow [lo, hi) (suffixes sharing their first k tokens) to those whose token k is
        `token`: the tokens at offset k are sorted within the range."""
        a, b = lo, hi
        while a < b:
            mid = (a + b) // 2
            if self._token_at(mid, k) < token:
                a = mid + 1
            else:
                b = mid
        first, b = a, hi
        while a < b:
            mid = (a + b) // 2
            if self._token_at(mid, k) <= token:
                a = mid + 1
            else:
                b = mid
        return first, a

    def rows(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Token offsets of the occurrences in [lo, hi) and the document row of each."""
        positions = self.sa[lo:hi].astype(np.int64)
        return positions, np.searchsorted(self.starts, positions, "right") - 1

    def live_count(self, lo: int, hi: int) -> int:
        if not self.any_dead:
            return hi - lo
        return sum(
            int((~self.dead[self.rows(a, min(hi, a + _CHUNK))[1]]).sum())
            for a in range(lo, hi, _CHUNK)
        )

    def has_live(self, lo: int, hi: int) -> bool:
        if hi <= lo:
            return False
        if not self.any_dead:
            return True
        return any(
            (~self.dead[self.rows(a, min(hi, a + _CHUNK))[1]]).any() for a in range(lo, hi, _CHUNK)
        )

    def longest_matches(self, q: np.ndarray) -> np.ndarray:
        """Per start i, the length of the longest q[i:i+L] with an occurrence outside the
        excluded documents. Uses L(i+1) >= L(i) - 1: each start resumes one token short of
        the previous match instead of from nothing."""
        out = np.zeros(len(q), dtype=np.int64)
        q = q.tolist()
        k = 0
        for i in range(len(q)):
            k = max(k - 1, 0)
            if q[i] == _BREAK:
                k = 0
                continue
            lo, hi = self.find(q[i : i + k])
            while i + k < len(q) and q[i + k] != _BREAK:
                nlo, nhi = self.extend(lo, hi, k, q[i + k])
                if not self.has_live(nlo, nhi):
                    break
                lo, hi, k = nlo, nhi, k + 1
            out[i] = k
        return out


def _native_view(array: np.ndarray) -> memoryview:
    """Unsigned little-endian integers as a memoryview of Python ints (x86 and ARM: native)."""
    code = {1: "B", 2: "H", 4: "I", 8: "Q"}[array.dtype.itemsize]
    return memoryview(np.ascontiguousarray(array)).cast("B").cast(code)


@dataclass(frozen=True)
class DocumentHit:
    """A training document holding a span."""

    id: str
    corpus: str | None
    source: str | None
    license: str | None
    table: str | None
    table_version: int | None
    position: int  # mixture position (table row number for a table index)
    occurrences: int  # of the span in this document, repetitions in the mixture included
    snippet: str  # the span «marked» in its surrounding text


@dataclass(frozen=True)
class Span:
    start: int  # character offsets in the traced text
    end: int
    text: str
    tokens: int
    count: int  # occurrences in the indexed tokens
    documents: list[DocumentHit]
    sampled: bool = False  # documents drawn from the first occurrences only


@dataclass
class Trace:
    text: str
    index: str
    built_from: str
    tokenizer_version: str
    tokens: int
    spans: list[Span] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        lines = [f"note: {self.note}"] if self.note else []
        lines.append(
            f"{len(self.spans)} span(s) of the text's {self.tokens} tokens occur in "
            f"{self.built_from} (tokenizer {self.tokenizer_version}; index {self.index})"
        )
        for number, span in enumerate(self.spans, 1):
            shown = span.text if len(span.text) <= 120 else span.text[:117] + "..."
            lines.append(
                f"[{number}] {span.tokens} tokens at chars {span.start}-{span.end}, "
                f"{span.count} occurrence(s): {shown!r}"
            )
            for doc in span.documents:
                lines.append(
                    f"    {doc.id}  {doc.source}  {doc.license}  {doc.table}@v{doc.table_version}"
                    f"  x{doc.occurrences}  (position {doc.position})"
                )
                lines.append(f"      {doc.snippet!r}")
            if span.sampled:
                lines.append("    (documents of the first occurrences only)")
        return "\n".join(lines)


class NgramIndex:
    """An opened index: its manifest, tokenizer and shards."""

    def __init__(
        self,
        manifest_uri: str,
        manifest: dict,
        tokenizer: MixtureTokenizer,
        shards: list[IndexShard],
        note: str | None = None,
    ) -> None:
        self.manifest_uri = manifest_uri
        self.manifest = manifest
        self.tokenizer = tokenizer
        self.shards = shards
        self.note = note

    @classmethod
    def open(
        cls,
        manifest_uri: str,
        store: ObjectStore = LOCAL,
        *,
        excluded: Iterable[str] = (),
        note: str | None = None,
    ) -> NgramIndex:
        """Open an index; `excluded` ids (taken down) are never counted or returned."""
        manifest = read_json(manifest_uri, store)
        if manifest.get("format") != INDEX_FORMAT:
            raise ValueError(f"{manifest_uri} is not an n-gram index manifest ({INDEX_FORMAT})")
        directory = manifest_uri.rsplit("/", 1)[0]
        tok = manifest["tokenizer"]
        tokenizer = tokenizer_from_json(read_bytes(f"{directory}/{tok['file']}", store).decode())
        if tokenizer.version != tok["version"]:
            raise ValueError(
                f"{directory}/{tok['file']} is tokenizer {tokenizer.version}, the index was "
                f"built with {tok['version']}: rebuild the index"
            )
        dtype = np.dtype(manifest["token_dtype"]).newbyteorder("<")
        excluded = set(excluded)
        shards = []
        for entry in manifest["shards"]:
            files = {kind: f"{directory}/{f['name']}" for kind, f in entry["files"].items()}
            shards.append(
                IndexShard(
                    _array(files["tokens"], dtype, store),
                    _array(files["sa"], np.dtype(SA_DTYPE), store),
                    _documents(files["docs"], store),
                    excluded,
                )
            )
        return cls(manifest_uri, manifest, tokenizer, shards, note)

    @property
    def built_from(self) -> str:
        if self.manifest["kind"] == "mixture":
            mixture = self.manifest["mixture"]
            return f"{mixture['table']} v{mixture['version']}"
        table = self.manifest["table"]
        return f"{table['name']} v{table['version']}"

    def encode(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Token ids (end-of-text marked as a break) and character offsets of `text`."""
        encoding = self.tokenizer.tokenizer.encode(text)
        ids = np.array(encoding.ids, dtype=np.int64)
        ids[ids == self.tokenizer.eos_id] = _BREAK
        return ids, encoding.offsets

    def count(self, ngram: str | Sequence[int]) -> int:
        """Occurrences of an n-gram (text, tokenized like the training data, or token ids)."""
        q = self.encode(ngram)[0] if isinstance(ngram, str) else np.asarray(ngram, np.int64)
        if not len(q):
            raise ValueError("an empty n-gram")
        if (q == _BREAK).any() or (q == self.tokenizer.eos_id).any():
            raise ValueError("an n-gram cannot hold end-of-text: it would span two documents")
        return sum(shard.live_count(*shard.find(q)) for shard in self.shards)

    def trace(
        self,
        text: str,
        *,
        max_documents: int = 5,
        min_tokens: int = DEFAULT_MIN_TOKENS,
        max_spans: int = 10,
        context_tokens: int = 16,
    ) -> Trace:
        """The longest spans of `text` that occur in the indexed tokens (maximal: not inside
        a longer one), longest first, each with its count and up to `max_documents`
        documents (most occurrences first) with a snippet."""
        q, offsets = self.encode(text)
        result = Trace(
            text, self.manifest_uri, self.built_from, self.tokenizer.version, len(q), note=self.note
        )
        if not len(q):
            return result
        lengths = np.zeros(len(q), dtype=np.int64)
        for shard in self.shards:
            lengths = np.maximum(lengths, shard.longest_matches(q))
        maximal, reach = [], 0
        for i, length in enumerate(lengths.tolist()):
            if length and i + length > reach:
                maximal.append((i, length))
                reach = i + length
        chosen = sorted((s for s in maximal if s[1] >= min_tokens), key=lambda s: (-s[1], s[0]))
        for i, length in chosen[:max_spans]:
            start, end = offsets[i][0], offsets[i + length - 1][1]
            count, documents, sampled = self._span_documents(
                q[i : i + length], max_documents, context_tokens
            )
            result.spans.append(
                Span(start, end, text[start:end], length, count, documents, sampled)
            )
        return result

    def _span_documents(
        self, q: np.ndarray, limit: int, context: int
    ) -> tuple[int, list[DocumentHit], bool]:
        count, sampled = 0, False
        found: dict[str, list] = {}  # id -> [occurrences, shard, row, offset]
        for shard in self.shards:
            lo, hi = shard.find(q)
            count += shard.live_count(lo, hi)
            sampled |= hi - lo > _SCAN
            positions, rows = shard.rows(lo, min(hi, lo + _SCAN))
            live = ~shard.dead[rows]
            positions, rows = positions[live], rows[live]
            unique, first, per_row = np.unique(rows, return_index=True, return_counts=True)
            ids = shard.docs["id"].take(pa.array(unique)).to_pylist()
            for doc_id, row, index, n in zip(
                ids, unique.tolist(), first.tolist(), per_row.tolist(), strict=True
            ):
                hit = found.setdefault(doc_id, [0, shard, row, int(positions[index])])
                hit[0] += n
        ranked = sorted(found.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
        documents = []
        for doc_id, (occurrences, shard, row, offset) in ranked:
            meta = shard.docs.slice(row, 1).to_pylist()[0]
            documents.append(
                DocumentHit(
                    id=doc_id,
                    corpus=meta["corpus"],
                    source=meta["source"],
                    license=meta["license"],
                    table=meta["table"],
                    table_version=meta["table_version"],
                    position=meta["position"],
                    occurrences=occurrences,
                    snippet=self._snippet(shard, row, offset, len(q), context),
                )
            )
        return count, documents, sampled

    def _snippet(self, shard: IndexShard, row: int, offset: int, length: int, context: int) -> str:
        start, end = int(shard.starts[row]), int(shard.ends[row]) - 1  # without end-of-text
        a, b = max(start, offset - context), min(end, offset + length + context)

        def decode(lo: int, hi: int) -> str:
            return self.tokenizer.tokenizer.decode(shard.tokens[lo:hi].tolist())

        return (
            ("..." if a > start else "")
            + decode(a, offset)
            + "«"
            + decode(offset, offset + length)
            + "»"
            + decode(offset + length, b)
            + ("..." if b < end else "")
        )


class RangeArray:
    """A file of little-endian integers read by byte ranges (an index on S3): a binary
    search touches a few dozen places of a shard, so a query reads some blocks of it, never
    the whole file. Blocks are cached (least recently used first out) up to `cache_bytes`.
    Answers what IndexShard asks of a numpy array: len, an int at i, a slice as an array."""

    def __init__(
        self,
        uri: str,
        dtype: np.dtype,
        store: ObjectStore,
        *,
        block_bytes: int | None = None,
        cache_bytes: int | None = None,
    ) -> None:
        block_bytes = block_bytes or RANGE_BLOCK_BYTES
        cache_bytes = cache_bytes or RANGE_CACHE_BYTES
        fs, path = store.filesystem(uri)
        self._file = fs.open_input_file(path)
        self.dtype = np.dtype(dtype)
        self._size = self._file.size()
        self._item = self.dtype.itemsize
        self._block = max(self._item, block_bytes - block_bytes % self._item)
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cache_blocks = max(2, cache_bytes // self._block)
        self.bytes_read = 0  # for tests and measurement

    def __len__(self) -> int:
        return self._size // self._item

    def _block_at(self, number: int) -> bytes:
        data = self._cache.get(number)
        if data is None:
            offset = number * self._block
            data = self._file.read_at(min(self._block, self._size - offset), offset)
            self.bytes_read += len(data)
            self._cache[number] = data
            if len(self._cache) > self._cache_blocks:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(number)
        return data

    def _read(self, start: int, stop: int) -> np.ndarray:
        first, last = start * self._item, stop * self._item
        pieces = []
        while first < last:
            number, within = divmod(first, self._block)
            take = min(last - first, self._block - within)
            pieces.append(self._block_at(number)[within : within + take])
            first += take
        return np.frombuffer(b"".join(pieces), dtype=self.dtype)

    def __getitem__(self, key: int | slice) -> int | np.ndarray:
        n = len(self)
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                raise ValueError("RangeArray slices have step 1")
            return self._read(start, max(start, stop))
        if key < 0:
            key += n
        if not 0 <= key < n:
            raise IndexError(key)
        return int(self._read(key, key + 1)[0])


def _array(uri: str, dtype: np.dtype, store: ObjectStore) -> np.ndarray | RangeArray:
    """A file as an array: memory-mapped when local, read by ranges from S3."""
    if is_s3(uri):
        return RangeArray(uri, dtype, store)
    path = store.filesystem(uri)[1]
    size = _file_size(path)
    if size == 0:
        return np.empty(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(size // dtype.itemsize,))


def _file_size(path: str) -> int:
    import os

    return os.path.getsize(path)


def _documents(uri: str, store: ObjectStore) -> pa.Table:
    if is_s3(uri):
        return pq.read_table(io.BytesIO(read_bytes(uri, store)))
    return pq.read_table(store.filesystem(uri)[1])


# --- Finding the index for a mixture, a training run or a path ----------------------------


@dataclass(frozen=True)
class IndexLocation:
    manifest_uri: str
    note: str | None = None  # e.g. that a newer mixture version exists (the index is stale)


def _exports(lake: Lake, mixture: str) -> list[tuple[int, str]]:
    """(mixture version, export manifest) of a mixture's exports, newest first."""
    from spark_jobs.delta import snapshot_dataset, table_exists

    uri = lake.uri(EXPORTS_TABLE)
    if not table_exists(uri, lake.store):
        return []
    rows = snapshot_dataset(uri, store=lake.store).to_table(
        columns=["mixture", "mixture_version", "manifest_uri"]
    )
    rows = rows.filter(pc.equal(rows["mixture"], mixture))
    pairs = set(
        zip(rows["mixture_version"].to_pylist(), rows["manifest_uri"].to_pylist(), strict=True)
    )
    return sorted(pairs, reverse=True)


def _index_of_export(manifest_uri: str) -> str:
    return f"{export_index_dir(manifest_uri)}/{MANIFEST}"


def locate_mixture_index(lake: Lake, mixture: str, version: int | None = None) -> IndexLocation:
    """The newest index of a mixture (or of one version), noting when it is stale."""
    exports = _exports(lake, mixture)
    if not exports:
        raise FileNotFoundError(
            f"mixture {mixture!r} has no export; build it first (pilehouse mixture build {mixture})"
        )
    newest = exports[0][0]
    for built, manifest_uri in exports:
        if version is not None and built != version:
            continue
        index = _index_of_export(manifest_uri)
        if not exists(index, lake.store):
            continue
        note = None
        if built < newest:
            note = (
                f"stale: this index was built from mixtures.{mixture} v{built}, the newest "
                f"build is v{newest}; rebuild it (materialize indexes/{mixture}, or "
                f"python -m spark_jobs.indexes.build {mixture} --lake {lake.root_uri})"
            )
        return IndexLocation(index, note)
    which = f"v{version}" if version is not None else "any version"
    raise FileNotFoundError(
        f"no n-gram index of mixtures.{mixture} ({which}); build it: materialize "
        f"indexes/{mixture} in Dagster, or python -m spark_jobs.indexes.build {mixture} "
        f"--lake {lake.root_uri}"
    )


def locate_run_index(lake: Lake, run_id: str, tracking_uri: str) -> IndexLocation:
    """The index of the mixture export an MLflow training run consumed."""
    import mlflow

    from spark_jobs.tracking import MANIFEST_TAG

    run = mlflow.MlflowClient(tracking_uri).get_run(run_id)
    params, tags = run.data.params, run.data.tags
    name, version = params.get("mixture.name"), params.get("mixture.version")
    if name is None:
        raise FileNotFoundError(
            f"run {run_id} logged no mixture (no mixture.name param); only runs started by "
            "pilehouse training start/proxy record one"
        )
    consumed = f"run {run_id} trained on mixtures.{name} v{version}"
    manifest_uri = tags.get(MANIFEST_TAG)
    if manifest_uri and exists(_index_of_export(manifest_uri), lake.store):
        return IndexLocation(_index_of_export(manifest_uri), consumed)
    try:
        location = locate_mixture_index(lake, name, int(version))
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{consumed}: {error}") from None
    return IndexLocation(location.manifest_uri, consumed)


def open_index(lake: Lake, location: IndexLocation | str) -> NgramIndex:
    """Open an index of this lake, excluding every document taken down so far."""
    from spark_jobs.takedown import taken_down_ids

    if isinstance(location, str):
        uri = location if location.endswith(".json") else f"{location.rstrip('/')}/{MANIFEST}"
        location = IndexLocation(uri)
    return NgramIndex.open(
        location.manifest_uri, lake.store, excluded=taken_down_ids(lake), note=location.note
    )
