"""W5 exact dedup on short documents with 30% planted exact duplicates: Pilehouse's exact path
on Spark against a bare xxh3 + set loop and datatrove's exact dedup (ExactDedupSignature ->
ExactFindDedups -> ExactDedupFilter), on the same Parquet files.

    python -m bench.exact_dedup            # 1,000,000 documents
    python -m bench.exact_dedup --quick    # 100,000 documents

Documents are 1-3 random lines of real offline text (the W4 text pool), unique as generated;
30% of the documents are exact copies of others. Every method reads the same Parquet files and
writes its result as Parquet, and every method deduplicates on the same key: Pilehouse's exact
dedup key (spark_jobs.annotators.text_hash.exact_dedup_key: NFKC, casefold, punctuation folded,
xxh3-128), so all of them remove the same number of documents. Figures:
- bare loop (pilehouse key): one core, one Python loop: read the Parquet files with pyarrow,
  compute the key of each text, keep the first document of each key (set lookup), write the
  kept documents to Parquet. The denominator of the "from text" ratio.
- bare loop (raw bytes): the same loop keyed on xxh3_64 of the UTF-8 text, as a reference; it
  counts fewer duplicates (texts that differ only in case, punctuation or Unicode form are
  different there), reported in its "removed" column.
- pilehouse (from text): Spark local[2] reads the Parquet, computes the key with the
  annotator's function in mapInArrow, as the annotate stage does, then dedup.exact_clusters
  (one keeper per key by the keep policy) and writes the cluster rows to Parquet.
- pilehouse (dedup stage): the same clustering from documents whose key is already an
  annotation (text_hash column), which is what the dedup stage reads in the pipeline; its
  bare counterpart is "bare loop (annotated key)": read id + text_hash, set, write the kept ids.
- datatrove: its three exact-dedup steps with LocalPipelineExecutor, 2 tasks/workers, writing
  the kept documents as Parquet, with content_getter returning Pilehouse's key (datatrove then
  hashes it), so it counts the same duplicates.
Bare loops are the best of 3 repetitions, interleaved with nothing else. The load average is
printed before and after.
Spark session start is reported apart.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
import xxhash

from bench.fuzzy_dedup import CACHE, text_pool

FULL_DOCS = 1_000_000
QUICK_DOCS = 100_000
DUPLICATE_FRACTION = 0.3
SEED = 0


def make_corpus(n_docs: int, seed: int) -> Path:
    """Two Parquet files (id, text) with `n_docs` documents, 30% exact copies (cached)."""
    folder = CACHE / f"exact-{n_docs}-{seed}"
    if (folder / "_SUCCESS").exists():
        return folder
    # Written to a folder of this process, then renamed: concurrent runs do not collide.
    final, folder = folder, CACHE / f"exact-{n_docs}-{seed}.{os.getpid()}.partial"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    lines = text_pool()
    n_unique = n_docs - round(DUPLICATE_FRACTION * n_docs)
    seen: set[str] = set()
    unique: list[str] = []
    while len(unique) < n_unique:
        text = "\n".join(rng.choice(lines) for _ in range(rng.randint(1, 3)))
        if text not in seen:
            seen.add(text)
            unique.append(text)
    texts = unique + [rng.choice(unique) for _ in range(n_docs - n_unique)]
    rng.shuffle(texts)
    ids = [f"x{i:08d}" for i in range(n_docs)]
    for f in range(2):
        table = pa.table({"id": ids[f::2], "text": texts[f::2]})
        pq.write_table(table, folder / f"part-{f:05d}.parquet")
    (folder / "_SUCCESS").write_text("")
    try:
        folder.rename(final)
    except OSError:  # another run finished first: use its files
        shutil.rmtree(folder, ignore_errors=True)
    return final


def bare_loop(folder: Path, out: Path, key: str) -> tuple[float, int]:
    """(seconds, documents removed): read the Parquet files, key each document, keep the first
    of each key, write the kept rows to Parquet; key is "raw" (xxh3_64 of the UTF-8 text),
    "pilehouse" (exact_dedup_key of the text) or "annotated" (the text_hash column)."""
    from spark_jobs.annotators.text_hash import exact_dedup_key

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    removed = 0
    seen: set = set()
    for i, path in enumerate(sorted(folder.glob("*.parquet"))):
        table = pq.read_table(path)
        column = table.column("text_hash" if key == "annotated" else "text").to_pylist()
        keep = []
        for value in column:
            if key == "raw":
                h = xxhash.xxh3_64_intdigest(value.encode())
            elif key == "pilehouse":
                h = exact_dedup_key(value)
            else:
                h = value
            if h in seen:
                keep.append(False)
                removed += 1
            else:
                seen.add(h)
                keep.append(True)
        pq.write_table(table.filter(pa.array(keep)), out / f"part-{i:05d}.parquet")
    return time.perf_counter() - started, removed


def _text_hash_batches(batches):
    from spark_jobs.annotators.text_hash import exact_dedup_key

    for batch in batches:
        texts = batch.column("text").to_pylist()
        yield pa.RecordBatch.from_arrays(
            [batch.column("id"), pa.array([exact_dedup_key(t) for t in texts], pa.string())],
            names=["id", "text_hash"],
        )


def run_pilehouse(folder: Path, out: Path) -> tuple[float, float, float, int]:
    """(seconds from text, seconds from keys, Spark start seconds, documents removed); leaves
    the annotated documents (id, text_hash) in out / "annotated"."""
    started = time.perf_counter()
    from pyspark.sql import functions as F

    from spark_jobs.dedup import exact_clusters
    from spark_jobs.session import get_spark

    spark = get_spark("local[2]", app_name="bench-exact-dedup")
    session_s = time.perf_counter() - started

    def dedup(docs, target: Path) -> int:
        docs = docs.withColumn("corpus", F.lit("web")).withColumn("source", F.lit("bench"))
        exact_clusters(docs).write.mode("overwrite").parquet(str(target))
        return spark.read.parquet(str(target)).where(~F.col("is_keeper")).count()

    started = time.perf_counter()
    raw = spark.read.parquet(str(folder))
    keyed = raw.select("id", "text").mapInArrow(_text_hash_batches, "id string, text_hash string")
    removed = dedup(keyed, out / "from_text")
    from_text_s = time.perf_counter() - started

    keyed.write.mode("overwrite").parquet(str(out / "annotated"))
    annotated = spark.read.parquet(str(out / "annotated"))
    started = time.perf_counter()
    removed_again = dedup(annotated, out / "from_keys")
    from_keys_s = time.perf_counter() - started
    assert removed == removed_again
    return from_text_s, from_keys_s, session_s, removed


def text_bytes(doc) -> bytes:
    """datatrove's content_getter: Pilehouse's exact dedup key, so both count the same copies."""
    from spark_jobs.annotators.text_hash import exact_dedup_key

    return exact_dedup_key(doc.text).encode()


def run_datatrove(folder: Path, work: Path, workers: int = 2) -> tuple[float, int]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.exact_dedup import (
        ExactDedupConfig,
        ExactDedupFilter,
        ExactDedupSignature,
        ExactFindDedups,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    if work.exists():
        shutil.rmtree(work)
    config = ExactDedupConfig(content_getter=text_bytes)
    files = len(list(folder.glob("*.parquet")))

    def reader():
        return ParquetReader(str(folder), glob_pattern="*.parquet")

    started = time.perf_counter()
    stage1 = LocalPipelineExecutor(
        [reader(), ExactDedupSignature(output_folder=str(work / "sigs"), config=config)],
        tasks=files,
        workers=workers,
        logging_dir=str(work / "logs1"),
    )
    stage2 = LocalPipelineExecutor(
        [
            ExactFindDedups(
                data_folder=str(work / "sigs"), output_folder=str(work / "dups"), config=config
            )
        ],
        tasks=1,
        logging_dir=str(work / "logs2"),
        depends=stage1,
    )
    stage3 = LocalPipelineExecutor(
        [
            reader(),
            ExactDedupFilter(data_folder=str(work / "dups"), config=config),
            ParquetWriter(str(work / "kept")),
        ],
        tasks=files,
        workers=workers,
        logging_dir=str(work / "logs3"),
        depends=stage2,
    )
    stage3.run()
    elapsed = time.perf_counter() - started
    kept = sum(pq.read_metadata(p).num_rows for p in (work / "kept").rglob("*.parquet"))
    return elapsed, kept


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.exact_dedup", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} documents")
    parser.add_argument("--docs", type=int, help=f"documents (default {FULL_DOCS})")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--skip", default="", help="comma list: pilehouse,datatrove")
    args = parser.parse_args(argv)
    n_docs = args.docs or (QUICK_DOCS if args.quick else FULL_DOCS)
    skip = set(filter(None, args.skip.split(",")))
    print(f"load before: {load()}", flush=True)
    started = time.perf_counter()
    folder = make_corpus(n_docs, args.seed)
    mb = (
        sum(
            pa.compute.sum(
                pa.compute.binary_length(pq.read_table(p, columns=["text"])["text"])
            ).as_py()
            for p in folder.glob("*.parquet")
        )
        / 1e6
    )
    print(
        f"{n_docs} documents ({mb:.0f} MB, {DUPLICATE_FRACTION:.0%} planted copies) "
        f"ready in {time.perf_counter() - started:.1f} s: {folder}",
        flush=True,
    )
    work = CACHE / f"exact-work-{n_docs}-{os.getpid()}"
    # name -> (seconds, cores, removed)
    rows: dict[str, tuple[float, int, int]] = {}
    for key in ("pilehouse", "raw"):
        seconds, removed = min(bare_loop(folder, work / f"bare-{key}", key) for _ in range(3))
        rows[f"bare loop ({key} key)"] = (seconds, 1, removed)
        print(f"bare loop ({key} key) done in {seconds:.1f} s", flush=True)
    session_s = None
    if "pilehouse" not in skip:
        from_text_s, from_keys_s, session_s, removed = run_pilehouse(folder, work / "pilehouse")
        rows["pilehouse (from text)"] = (from_text_s, 2, removed)
        rows["pilehouse (dedup stage)"] = (from_keys_s, 2, removed)
        annotated = work / "pilehouse" / "annotated"
        seconds, removed = min(
            bare_loop(annotated, work / "bare-annotated", "annotated") for _ in range(3)
        )
        rows["bare loop (annotated key)"] = (seconds, 1, removed)
        print(f"pilehouse done ({session_s:.1f} s Spark start)", flush=True)
    if "datatrove" not in skip:
        dt_s, kept = run_datatrove(folder, work / "datatrove")
        rows["datatrove (3 steps)"] = (dt_s, 2, n_docs - kept)
        print(f"datatrove done in {dt_s:.1f} s", flush=True)
    print(f"load after: {load()}")

    denominators = {
        "pilehouse (from text)": "bare loop (pilehouse key)",
        "datatrove (3 steps)": "bare loop (pilehouse key)",
        "pilehouse (dedup stage)": "bare loop (annotated key)",
    }
    print()
    print(
        f"{'method':<26} {'seconds':>8} {'cores':>5} {'docs/s':>10} {'docs/s/core':>12} "
        f"{'vs bare/core':>13} {'removed':>8}"
    )
    figures: dict[str, float] = {"documents": n_docs}
    for name, (seconds, cores, removed) in rows.items():
        rate = n_docs / seconds
        base = denominators.get(name)
        ratio = ""
        if base in rows:
            ratio = rate / cores / (n_docs / rows[base][0])
            key = name.split(" (")[0] if "pilehouse" not in name else name
            figures[f"{key}/bare per core"] = round(ratio, 4)
            ratio = f"{ratio:.3f}"
        print(
            f"{name:<26} {seconds:>8.2f} {cores:>5} {rate:>10.0f} {rate / cores:>12.0f} "
            f"{ratio:>13} {removed:>8}"
        )
        figures[f"{name} docs/s/core"] = round(rate / cores, 1)
        figures[f"{name} removed"] = removed
    print("vs bare/core: docs/s/core over the bare loop on the same key (from text: the pilehouse")
    print("key loop; dedup stage: the annotated key loop)")
    if session_s is not None:
        print(f"(Spark session start, not included above: {session_s:.1f} s)")
        figures["pilehouse spark start s"] = round(session_s, 2)
    shutil.rmtree(work, ignore_errors=True)
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
