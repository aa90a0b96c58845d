"""W0 baseline: how fast one core can read the benchmark corpus's Parquet with pyarrow, turn it
into Python strings, loop over it doing nothing, and hash every text with xxh3. These are the
denominators of "fraction of the machine's limit" for the other workloads' per-core rates.

    python -m bench.baseline            # the shared benchmark corpus (bench/corpus.py)
    python -m bench.baseline --quick    # a small corpus
    python -m bench.baseline --parquet PATH [--column text]

Everything runs in this process on one thread (pyarrow with use_threads=False), so each rate
is per core. Each step is timed as the fastest of --repeat passes. MB are UTF-8 text bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

FULL_DOCS = 20_000  # the W1 corpus size (bench/annotation.py), so W0 reads the same file
QUICK_DOCS = 2_000
SEED = 0


def corpus_path(n_docs: int, seed: int) -> Path:
    """The shared benchmark corpus (bench/corpus.py), generated once and reused."""
    from bench.corpus import ensure_corpus

    return Path(ensure_corpus(n_docs, seed))


def fastest(step: Callable[[], object], repeat: int) -> tuple[float, object]:
    """(seconds of the fastest of `repeat` runs, the last run's result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - started)
    return best, result


def _parquet_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*.parquet"))
    return path.stat().st_size


def measure(path: Path, column: str, repeat: int) -> dict[str, float]:
    file_bytes = _parquet_bytes(path)
    read_s, table = fastest(
        lambda: pq.read_table(path, columns=[column], use_threads=False), repeat
    )
    text = table.column(column)
    docs = len(text)
    text_bytes = pc.sum(pc.binary_length(text)).as_py() or 0
    mb = text_bytes / 1e6

    pylist_s, texts = fastest(text.to_pylist, repeat)

    def empty_loop() -> None:
        for _ in texts:
            pass

    loop_s, _ = fastest(empty_loop, repeat)

    blobs = text.cast(pa.large_binary()).to_pylist()  # bytes objects, untimed
    hash_bytes = xxhash.xxh3_64_intdigest

    def hash_all() -> int:
        acc = 0
        for blob in blobs:
            acc ^= hash_bytes(blob)
        return acc

    hash_s, _ = fastest(hash_all, repeat)

    def encode_and_hash() -> int:
        acc = 0
        for t in texts:
            acc ^= hash_bytes(t.encode())
        return acc

    encode_hash_s, _ = fastest(encode_and_hash, repeat)

    def end_to_end() -> int:
        column_ = pq.read_table(path, columns=[column], use_threads=False).column(column)
        acc = 0
        for t in column_.to_pylist():
            acc ^= hash_bytes(t.encode())
        return acc

    e2e_s, _ = fastest(end_to_end, repeat)

    rows = [
        ("pyarrow read (1 thread)", read_s),
        ("to_pylist: Arrow -> str", pylist_s),
        ("empty loop over the strs", loop_s),
        ("xxh3 of bytes objects", hash_s),
        ("str.encode + xxh3", encode_hash_s),
        ("read + to_pylist + encode + xxh3", e2e_s),
    ]
    print(
        f"W0 baseline: {path} ({file_bytes / 1e6:.1f} MB of Parquet), column {column!r}: "
        f"{docs} docs, {mb:.1f} MB of UTF-8 text"
    )
    print(f"one process, one thread; fastest of {repeat} passes; cores: {os.cpu_count()}")
    print()
    print(f"{'step':<34} {'seconds':>8} {'docs/s/core':>12} {'MB/s/core':>10}")
    for name, seconds in rows:
        print(f"{name:<34} {seconds:>8.3f} {docs / seconds:>12,.0f} {mb / seconds:>10.1f}")
    print(f"\nParquet file MB/s/core (read): {file_bytes / 1e6 / read_s:.1f}")
    return {
        "docs": docs,
        "text MB": round(mb, 1),
        "read MB/s/core": mb / read_s,
        "read file MB/s/core": file_bytes / 1e6 / read_s,
        "to_pylist docs/s/core": docs / pylist_s,
        "empty loop docs/s/core": docs / loop_s,
        "xxh3 MB/s/core": mb / hash_s,
        "xxh3 docs/s/core": docs / hash_s,
        "encode+xxh3 MB/s/core": mb / encode_hash_s,
        "read+hash MB/s/core": mb / e2e_s,
        "read+hash docs/s/core": docs / e2e_s,
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} documents")
    parser.add_argument("--docs", type=int, help=f"corpus size (default {FULL_DOCS})")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--parquet", type=Path, help="measure this Parquet file or folder instead")
    parser.add_argument("--column", default="text")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest counts")
    args = parser.parse_args(argv)
    path = args.parquet
    if path is None:
        n_docs = args.docs or (QUICK_DOCS if args.quick else FULL_DOCS)
        started = time.perf_counter()
        path = corpus_path(n_docs, args.seed)
        print(f"benchmark corpus ready in {time.perf_counter() - started:.1f} s: {path}")
    return measure(path, args.column, args.repeat)


if __name__ == "__main__":
    main()
    sys.exit(0)
