"""N-gram index (issue 21): build throughput, index size and count/trace latency, against
ExactSubstr's and infini-gram's published figures.

    python -m bench.trace_index            # CPython's whole standard library (~160 MB)
    python -m bench.trace_index --quick    # its first 20 MB

The corpus is real text that ships with Python: every documentation topic of pydoc_data and
every .py file of the standard library (tests included), one document each, tokenized with
the platform's byte-level BPE (vocabulary 2,048, the recipes' default, trained on the
documentation topics). 5% of the files (by hash of their path) are held out as "novel" text.

Figures:
- build: IndexWriter with one worker (one core): packing, suffix arrays (pydivsufsort) and
  writing the files; tokenization is timed apart. Throughput per core in tokens/s and in MB
  of UTF-8 text/s (ExactSubstr's published suffix-array build: ~1.8 MB/s).
- size: bytes of index files (tokens + suffix array + document table) per token
  (infini-gram: 7 bytes per token).
- count: n-grams of 1-34 tokens drawn from the indexed tokens, plus random token sequences
  (mostly absent); trace: 600-character windows of indexed documents and of held-out ones.
  One process, files memory-mapped (warm page cache: the build just wrote them); infini-gram
  publishes < 20 ms for count and < 200 ms for its other queries on 1.4T tokens on disk.
"""

from __future__ import annotations

import argparse
import glob
import json
import pydoc_data.topics
import shutil
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np
import xxhash

import spark_jobs.indexes.build as index_build
from spark_jobs.indexes.build import IndexWriter, index_manifest
from spark_jobs.indexes.layout import MANIFEST, TOKENIZER
from spark_jobs.indexes.query import NgramIndex
from spark_jobs.mixtures.shards import token_dtype, write_bytes
from spark_jobs.mixtures.tokenizer import train_bpe

EXACTSUBSTR_MB_S = 1.8
INFINIGRAM_BYTES_PER_TOKEN = 7.0
INFINIGRAM_COUNT_MS = 20.0
INFINIGRAM_OTHER_MS = 200.0
QUICK_BYTES = 20_000_000


def corpus(max_bytes: int | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, text) of the indexed documents, and the held-out texts."""
    topics = [(f"pydoc:{k}", t) for k, t in sorted(pydoc_data.topics.topics.items())]
    root = sysconfig.get_paths()["stdlib"]
    indexed, held_out, size = list(topics), [], sum(len(t.encode()) for _, t in topics)
    for path in sorted(glob.glob(f"{root}/**/*.py", recursive=True)):
        text = Path(path).read_text(errors="replace")
        if not text.strip():
            continue
        if xxhash.xxh64_intdigest(path.encode()) % 20 == 0:
            held_out.append(text)
            continue
        indexed.append((path[len(root) + 1 :], text))
        size += len(text.encode())
        if max_bytes and size >= max_bytes:
            break
    return indexed, held_out


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):7.2f} ms   p99 {np.percentile(ms, 99):7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BYTES // 10**6} MB")
    parser.add_argument("--shard-tokens", type=int, default=index_build.DEFAULT_SHARD_TOKENS)
    parser.add_argument("--dir", help="where the index goes (default: a temporary directory)")
    args = parser.parse_args()

    documents, held_out = corpus(QUICK_BYTES if args.quick else None)
    text_bytes = sum(len(t.encode()) for _, t in documents)
    print(
        f"corpus: {len(documents)} documents, {text_bytes / 1e6:.1f} MB of text "
        f"(pydoc topics + CPython {sysconfig.get_python_version()} stdlib); "
        f"{len(held_out)} held-out files"
    )
    tokenizer = train_bpe(list(pydoc_data.topics.topics.values()), 2048)
    started = time.perf_counter()
    encoded = []
    for i in range(0, len(documents), 1024):
        encoded += tokenizer.tokenizer.encode_batch([t for _, t in documents[i : i + 1024]])
    tokenize_s = time.perf_counter() - started

    directory = args.dir or tempfile.mkdtemp(prefix="pilehouse-bench-trace-")
    sort_seconds = []
    sort = index_build.suffix_array

    def timed_sort(tokens: np.ndarray) -> np.ndarray:
        began = time.perf_counter()
        result = sort(tokens)
        sort_seconds.append(time.perf_counter() - began)
        return result

    index_build.suffix_array = timed_sort
    dtype = token_dtype(tokenizer.vocab_size)
    eos = tokenizer.eos_id
    started = time.perf_counter()
    writer = IndexWriter(directory, dtype=dtype, shard_tokens=args.shard_tokens, workers=1)
    for position, ((name, _), encoding) in enumerate(zip(documents, encoded, strict=True)):
        tokens = np.array([*encoding.ids, eos], dtype=dtype)
        writer.add(tokens, {"id": name, "position": position, "source": "cpython"})
    shards = writer.close()
    build_s = time.perf_counter() - started
    index_build.suffix_array = sort
    del encoded
    manifest = index_manifest(
        {"kind": "table", "table": {"name": "bench.cpython", "uri": "", "version": 0}},
        tokenizer,
        dtype,
        shards,
        shard_tokens=args.shard_tokens,
        skipped=0,
        seconds=build_s,
    )
    write_bytes(f"{directory}/{TOKENIZER}", tokenizer.to_json().encode())
    write_bytes(f"{directory}/{MANIFEST}", json.dumps(manifest).encode())
    tokens = manifest["totals"]["tokens"]
    index_bytes = manifest["totals"]["bytes"]
    per_core = tokens / build_s
    print(
        f"index: {tokens:,} tokens in {len(shards)} shard(s) of <= {args.shard_tokens:,}; "
        f"{index_bytes / 1e6:.1f} MB on disk"
    )
    print(f"tokenize (tokenizers, all cores): {tokenize_s:6.1f} s")
    print(
        f"build, one core: {build_s:6.1f} s (suffix arrays {sum(sort_seconds):.1f} s) = "
        f"{per_core / 1e6:.2f} M tokens/s/core = {text_bytes / build_s / 1e6:.2f} MB text/s/core"
    )
    print(
        f"  vs ExactSubstr ~{EXACTSUBSTR_MB_S} MB/s: "
        f"{text_bytes / build_s / 1e6 / EXACTSUBSTR_MB_S:.1f}x"
    )
    print(
        f"size: {index_bytes / tokens:.2f} bytes/token ({dtype.itemsize} token + 4 suffix array "
        f"+ document table) vs infini-gram's {INFINIGRAM_BYTES_PER_TOKEN}"
    )

    index = NgramIndex.open(f"{directory}/{MANIFEST}")
    rng = np.random.default_rng(0)
    stream = np.concatenate([np.asarray(s.tokens) for s in index.shards])
    count_s, absent_s, counts = [], [], []
    for _ in range(1000):
        n = int(rng.choice([1, 2, 3, 5, 8, 13, 21, 34]))
        start = int(rng.integers(0, len(stream) - n))
        ngram = stream[start : start + n].astype(np.int64)
        if (ngram == eos).any():
            continue
        began = time.perf_counter()
        counts.append(index.count(ngram.tolist()))
        count_s.append(time.perf_counter() - began)
    for _ in range(200):
        ngram = rng.integers(0, eos if eos else 2048, int(rng.integers(5, 11)))
        ngram = ngram[ngram != eos]
        began = time.perf_counter()
        index.count(ngram.tolist())
        absent_s.append(time.perf_counter() - began)
    print(
        f"count, {len(count_s)} present n-grams (1-34 tokens, median count "
        f"{int(np.median(counts))}): {percentiles(count_s)}"
    )
    print(f"count, {len(absent_s)} random token sequences:        {percentiles(absent_s)}")

    trace_s = {"indexed": [], "held out": []}
    spans = {"indexed": [], "held out": []}
    sources = {"indexed": [t for _, t in documents], "held out": held_out}
    for kind, texts in sources.items():
        for _ in range(50):
            text = texts[int(rng.integers(0, len(texts)))]
            start = int(rng.integers(0, max(1, len(text) - 600)))
            began = time.perf_counter()
            result = index.trace(text[start : start + 600])
            trace_s[kind].append(time.perf_counter() - began)
            spans[kind].append(max((s.tokens for s in result.spans), default=0))
    for kind in trace_s:
        print(
            f"trace, 50 windows of 600 chars from {kind} text (longest span median "
            f"{int(np.median(spans[kind]))} tokens): {percentiles(trace_s[kind])}"
        )
    print(
        f"  vs infini-gram (1.4T tokens, on disk): count < {INFINIGRAM_COUNT_MS:.0f} ms, "
        f"other queries < {INFINIGRAM_OTHER_MS:.0f} ms"
    )
    if not args.dir:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
