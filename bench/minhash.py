"""W3 MinHash signatures (word 5-grams, 112 hashes as 14 bands x 8 rows): Pilehouse's signature
code against datatrove's signature stage, datasketch and rensa, on the same documents of the
shared benchmark corpus (bench/corpus.py), one core each.

    python -m bench.minhash            # 10,000 documents
    python -m bench.minhash --quick    # 2,000 documents
    python -m bench.minhash --no-spark # without the Spark stage

What each one does, timed from Python strings in memory to signatures:
- pilehouse: spark_jobs.dedup.minhash.batch_minhashes + band_keys_of over Arrow batches of
  2,000 documents (the mapInArrow body of the Spark stage), in this process.
- pilehouse-spark: minhash_signatures over the Parquet file on local[2] (+ write to a no-op
  sink), docs/s divided by the 2 cores; Spark session start not included.
- datatrove: MinhashDedupSignature.run on rank 0 (normalize, spaCy word tokenizer, xxh64 per
  5-gram, 112 hashes, writes and sorts its 14 bucket files), in this process.
- datasketch: datatrove's simplify_text, whitespace words, 5-gram strings, MinHash(112)
  .update_batch per document.
- rensa: the same shingles, RMinHash(112).update per document (Rust).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from spark_jobs.dedup import DedupConfig, band_keys_of, batch_minhashes

FULL_DOCS = 10_000
QUICK_DOCS = 2_000
CORPUS_DOCS = 20_000  # the shared corpus file to draw documents from
SEED = 0
BATCH = 2_000


def xxhash64_str(data: str | bytes) -> int:
    """datatrove 0.10.1 passes str to xxhash, which xxhash 4 refuses; the same hash, encoded."""
    return xxhash.xxh64_intdigest(data.encode() if isinstance(data, str) else data)


def load_texts(n_docs: int, seed: int) -> tuple[list[str], Path]:
    from bench.corpus import ensure_corpus

    path = Path(ensure_corpus(max(CORPUS_DOCS, n_docs), seed))
    table = pq.read_table(path, columns=["id", "text"]).slice(0, n_docs)
    return table.column("text").to_pylist(), path


def run_pilehouse(texts: list[str], config: DedupConfig) -> float:
    array = pa.array(texts, pa.string())
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        mins, _ = batch_minhashes(array.slice(start, BATCH), config)
        band_keys_of(mins, config)
    return time.perf_counter() - started


def run_pilehouse_spark(path: Path, n_docs: int, config: DedupConfig) -> float:
    from spark_jobs.dedup import minhash_signatures
    from spark_jobs.session import get_spark

    spark = get_spark("local[2]", app_name="bench-minhash")
    docs = spark.read.parquet(str(path)).limit(n_docs).repartition(2).cache()
    docs.count()
    started = time.perf_counter()
    minhash_signatures(docs, config).write.format("noop").mode("overwrite").save()
    elapsed = time.perf_counter() - started
    docs.unpersist()
    return elapsed


def run_datatrove(texts: list[str], config: DedupConfig) -> float:
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    folder = Path(tempfile.mkdtemp(prefix="w3-datatrove-"))
    step = MinhashDedupSignature(
        output_folder=str(folder),
        config=MinhashConfig(
            n_grams=config.shingle_size,
            num_buckets=config.bands,
            hashes_per_bucket=config.rows,
            seed=config.seed,
            hash_config=HashConfig(precision=64),
        ),
    )
    step._hash_func = xxhash64_str
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    step.get_shingles("warm up the word tokenizer")
    started = time.perf_counter()
    step.run(iter(docs), rank=0)
    elapsed = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return elapsed


def _shingles(text: str, n: int) -> list[bytes]:
    from datatrove.utils.text import simplify_text

    words = simplify_text(text).split()
    return [" ".join(words[i : i + n]).encode() for i in range(max(len(words) - n + 1, 1))]


def run_datasketch(texts: list[str], config: DedupConfig) -> float:
    from datasketch import MinHash

    started = time.perf_counter()
    for text in texts:
        m = MinHash(num_perm=config.num_hashes, seed=config.seed)
        m.update_batch(_shingles(text, config.shingle_size))
    return time.perf_counter() - started


def run_rensa(texts: list[str], config: DedupConfig) -> float:
    from rensa import RMinHash

    started = time.perf_counter()
    for text in texts:
        m = RMinHash(num_perm=config.num_hashes, seed=config.seed)
        m.update(_shingles(text, config.shingle_size))
        m.digest()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.minhash", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} documents")
    parser.add_argument("--docs", type=int, help=f"documents (default {FULL_DOCS})")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark stage")
    args = parser.parse_args(argv)
    n_docs = args.docs or (QUICK_DOCS if args.quick else FULL_DOCS)
    config = DedupConfig()
    texts, path = load_texts(n_docs, args.seed)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} documents, {mb:.1f} MB, {words / len(texts):.0f} words/doc from {path}")
    run_pilehouse(texts[:200], config)  # warm-up: imports, regex compilation

    timings: dict[str, tuple[float, int]] = {}
    timings["pilehouse"] = (run_pilehouse(texts, config), 1)
    timings["datatrove"] = (run_datatrove(texts, config), 1)
    timings["datasketch"] = (run_datasketch(texts, config), 1)
    try:
        timings["rensa"] = (run_rensa(texts, config), 1)
    except ImportError:
        print("rensa is not installed: skipped")
    if not args.no_spark:
        timings["pilehouse-spark"] = (run_pilehouse_spark(path, n_docs, config), 2)

    print()
    print(
        f"{'method':<16} {'seconds':>8} {'cores':>5} {'docs/s/core':>12} {'MB/s/core':>10} {'vs datatrove':>13}"
    )
    base = len(texts) / timings["datatrove"][0]
    figures: dict[str, float] = {"documents": len(texts)}
    for name, (seconds, cores) in timings.items():
        rate = len(texts) / seconds / cores
        print(
            f"{name:<16} {seconds:>8.2f} {cores:>5} {rate:>12.0f} {mb / seconds / cores:>10.2f} "
            f"{rate / base:>12.2f}x"
        )
        figures[f"{name} docs/s/core"] = round(rate, 1)
    figures["pilehouse/datatrove"] = round(figures["pilehouse docs/s/core"] / base, 2)
    if "pilehouse-spark" in timings:
        figures["pilehouse-spark/datatrove"] = round(
            figures["pilehouse-spark docs/s/core"] / base, 2
        )
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
