"""W3 MinHash signatures (word 5-grams, 112 hashes as 14 bands x 8 rows): Pilehouse's signature
code and its Spark stage against datatrove's signature stage, datasketch and rensa, on the same
documents of the shared benchmark corpus (bench/corpus.py).

    python -m bench.minhash                         # 10,000 documents
    python -m bench.minhash --sizes 10000,200000    # one table per size, one process
    python -m bench.minhash --quick                 # 2,000 documents
    python -m bench.minhash --no-spark              # without the Spark stage

Per size, in one process, the methods run one after the other (datatrove, the Spark stage,
pilehouse in-process, then datasketch and rensa at the first size only), with the load
average printed before and after. In-process methods are timed by wall clock and by the
process's CPU time; the Spark stage by wall clock and by the CPU time of this process's whole
tree (JVM and Python workers, from /proc). The Spark stage's fixed costs are reported apart:
once per process, the session start and the first job (it starts the Python workers); per job,
the same job on FIXED_DOCS documents with warm workers. Its marginal rate is
(N - FIXED_DOCS) / (t(N) - t(FIXED_DOCS)).

What each one does, timed from Python strings in memory to signatures:
- pilehouse: spark_jobs.dedup.minhash.batch_minhashes + band_keys_of over Arrow batches of
  2,000 documents (the mapInArrow body of the Spark stage), in this process.
- pilehouse-spark: minhash_signatures over the documents cached in Spark on local[2] (+ write
  to a no-op sink), docs/s divided by the 2 cores; session start and fixed job cost apart.
- datatrove: MinhashDedupSignature.run on rank 0 (normalize, spaCy word tokenizer, xxh64 per
  5-gram, 112 hashes, writes and sorts its 14 bucket files), in this process.
- datasketch: datatrove's simplify_text, whitespace words, 5-gram strings, MinHash(112)
  .update_batch per document.
- rensa: the same shingles, RMinHash(112).update per document (Rust).
"""

from __future__ import annotations

import argparse
import os
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


FIXED_DOCS = 100  # the Spark job on this many documents is its fixed cost


def tree_cpu_seconds() -> float:
    """User + system CPU seconds of this process and all its descendants (JVM, Python workers)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    mine = {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                changed = True
    return sum(cpu.get(pid, 0.0) for pid in mine)


def spark_session() -> tuple[object, float]:
    from spark_jobs.session import get_spark

    started = time.perf_counter()
    spark = get_spark("local[2]", app_name="bench-minhash")
    return spark, time.perf_counter() - started


def run_pilehouse_spark(spark, path: Path, n_docs: int, config: DedupConfig) -> tuple[float, float]:
    """(wall seconds, tree CPU seconds) of the signature stage over n_docs cached documents."""
    from spark_jobs.dedup import minhash_signatures

    docs = spark.read.parquet(str(path)).limit(n_docs).repartition(2).cache()
    docs.count()
    cpu = tree_cpu_seconds()
    started = time.perf_counter()
    minhash_signatures(docs, config).write.format("noop").mode("overwrite").save()
    elapsed = time.perf_counter() - started
    cpu = tree_cpu_seconds() - cpu
    docs.unpersist()
    return elapsed, cpu


def timed(run, *args) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of an in-process method."""
    cpu = time.process_time()
    wall = run(*args)
    return wall, time.process_time() - cpu


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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.minhash", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} documents")
    parser.add_argument("--docs", type=int, help=f"documents (default {FULL_DOCS})")
    parser.add_argument("--sizes", help="comma list of document counts, e.g. 10000,200000")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark stage")
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    else:
        sizes = [args.docs or (QUICK_DOCS if args.quick else FULL_DOCS)]
    config = DedupConfig()
    figures: dict[str, float] = {}
    spark = None
    if not args.no_spark:
        spark, session_s = spark_session()
        # The first job starts the Python workers and imports the signature code in them.
        texts, path = load_texts(FIXED_DOCS, args.seed)
        first_s, _ = run_pilehouse_spark(spark, path, FIXED_DOCS, config)
        print(
            f"Spark fixed costs, once per process: session start (local[2]) {session_s:.1f} s, "
            f"first job ({FIXED_DOCS} docs, starts the Python workers) {first_s:.1f} s"
        )
        figures["spark session start s"] = round(session_s, 2)
        figures["spark first job s"] = round(first_s, 2)
    for index, n_docs in enumerate(sizes):
        texts, path = load_texts(n_docs, args.seed)
        mb = sum(len(t.encode()) for t in texts) / 1e6
        words = sum(len(t.split()) for t in texts)
        print(
            f"\n{len(texts)} documents, {mb:.1f} MB, {words / len(texts):.0f} words/doc "
            f"from {path}\nload before: {load()}",
            flush=True,
        )
        run_pilehouse(texts[:200], config)  # warm-up: imports, regex compilation
        # name -> (wall s, CPU s, cores)
        timings: dict[str, tuple[float, float, int]] = {}
        timings["datatrove"] = (*timed(run_datatrove, texts, config), 1)
        fixed = None
        if spark is not None:
            fixed = run_pilehouse_spark(spark, path, FIXED_DOCS, config)
            timings["pilehouse-spark"] = (*run_pilehouse_spark(spark, path, n_docs, config), 2)
        timings["pilehouse"] = (*timed(run_pilehouse, texts, config), 1)
        if index == 0:
            timings["datasketch"] = (*timed(run_datasketch, texts, config), 1)
            try:
                timings["rensa"] = (*timed(run_rensa, texts, config), 1)
            except ImportError:
                print("rensa is not installed: skipped")
        print(f"load after: {load()}")
        print(
            f"{'method':<16} {'wall s':>8} {'cores':>5} {'docs/s/core':>12} {'MB/s/core':>10} "
            f"{'vs datatrove':>13} {'CPU s':>8} {'docs/CPU-s':>11} {'vs datatrove':>13}"
        )
        base = len(texts) / timings["datatrove"][0]
        base_cpu = len(texts) / timings["datatrove"][1]
        tag = f"@{n_docs}"
        for name, (seconds, cpu, cores) in timings.items():
            rate = len(texts) / seconds / cores
            print(
                f"{name:<16} {seconds:>8.2f} {cores:>5} {rate:>12.0f} "
                f"{mb / seconds / cores:>10.2f} {rate / base:>12.2f}x {cpu:>8.2f} "
                f"{len(texts) / cpu:>11.0f} {len(texts) / cpu / base_cpu:>12.2f}x"
            )
            figures[f"{name} docs/s/core{tag}"] = round(rate, 1)
            figures[f"{name}/datatrove wall per core{tag}"] = round(rate / base, 2)
            figures[f"{name}/datatrove CPU{tag}"] = round(len(texts) / cpu / base_cpu, 2)
        if fixed is not None:
            wall, cpu = timings["pilehouse-spark"][:2]
            marginal = (n_docs - FIXED_DOCS) / max(wall - fixed[0], 1e-9) / 2
            marginal_cpu = (n_docs - FIXED_DOCS) / max(cpu - fixed[1], 1e-9)
            print(
                f"pilehouse-spark fixed cost per job (the job on {FIXED_DOCS} docs, warm "
                f"workers): {fixed[0]:.2f} s "
                f"wall, {fixed[1]:.2f} CPU s; marginal {marginal:.0f} docs/s/core "
                f"({marginal / base:.2f}x datatrove), {marginal_cpu:.0f} docs/CPU-s "
                f"({marginal_cpu / base_cpu:.2f}x datatrove)"
            )
            figures[f"spark fixed job s{tag}"] = round(fixed[0], 2)
            figures[f"pilehouse-spark marginal/datatrove{tag}"] = round(marginal / base, 2)
        if index == 0:  # the names bench.run_all's W3 target reads
            figures["documents"] = len(texts)
            figures["pilehouse/datatrove"] = figures[f"pilehouse/datatrove wall per core{tag}"]
            if spark is not None:
                figures["pilehouse-spark/datatrove"] = figures[
                    f"pilehouse-spark/datatrove wall per core{tag}"
                ]
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
