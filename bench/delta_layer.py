"""W7: the Pilehouse Delta layer (spark_jobs/delta/) against plain Parquet on the same data,
and Spark's fixed costs.

    python -m bench.delta_layer              # a ~1 GB table (Arrow in-memory size)
    python -m bench.delta_layer --quick      # 50 MB, 20 Spark appends
    python -m bench.delta_layer --mb 300 --repeat 2

Measured, in one process, on one generated table (id, source, url, byte_length, score,
fetch_date, text; text drawn word by word from CPython's docs, so it compresses like prose):
- Arrow: `write_arrow` vs `pyarrow.parquet.write_table` (both zstd and the same row-group
  size: write_arrow's, in rows, passed to write_table; both layouts are printed), `read_arrow` vs `pyarrow.parquet.read_table` (both multi-threaded, the default).
- Spark: session start (cold JVM), `write_table` vs Spark's own `df.write.parquet` (zstd) from
  the same cached DataFrame, `read_spark` vs `spark.read.parquet` of the same files; reads are
  forced through every column and row with Spark's `noop` sink.
- Per-task overhead: a trivial job of N tasks, (time(N tasks) - time(1 task)) / (N - 1), for a
  Python task (`parallelize(...).count()`) and a JVM-only task (`spark.range` to `noop`).
- Commit latency: 100 appends of 10 rows each with `write_arrow` (what the target counts), and
  --spark-appends appends of 10 rows with `write_table` from Spark.

Each timing is the fastest of --repeat runs, except session start and the appends (one run).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from spark_jobs.delta import COMPRESSION, read_arrow, read_spark, write_arrow, write_table

FULL_MB = 1000
QUICK_MB = 50
MEAN_DOC_BYTES = 4000
APPENDS = 100
APPEND_ROWS = 10
SPARK_SOURCE = "spark-source.parquet"


def make_table(target_mb: float, seed: int = 0) -> pa.Table:
    """A documents table of about `target_mb` MB (Arrow buffers), text drawn from real prose."""
    from pydoc_data.topics import topics

    rng = np.random.default_rng(seed)
    vocabulary = " ".join(topics.values()).split()
    # A pool of distinct documents, then rows drawn from it: the same word statistics as a
    # bigger corpus without a Python join per row; the pool is far larger than zstd's window.
    pool_bytes = min(target_mb, 80) * 1e6
    picks = rng.integers(0, len(vocabulary), int(pool_bytes / 6)).tolist()
    blob = " ".join([vocabulary[i] for i in picks])
    cuts = np.sort(rng.integers(0, len(blob), max(2, int(pool_bytes / MEAN_DOC_BYTES))))
    pool = pa.array([blob[a:b] for a, b in itertools.pairwise(cuts) if b > a])
    mean_bytes = pc.mean(pc.binary_length(pool)).as_py()
    rows = max(1, int(target_mb * 1e6 / (mean_bytes + 100)))
    text = pool.take(pa.array(rng.integers(0, len(pool), rows)))
    sources = np.array(["cc-2024-10", "cc-2024-18", "cc-2024-26", "cc-2024-33"])
    ids = rng.permutation(rows * 4)[:rows]
    return pa.table(
        {
            "id": pa.array([f"{i:032x}" for i in ids]),
            "source": pa.array(sources[rng.integers(0, len(sources), rows)]),
            "url": pa.array([f"https://site-{i % 997}.example.org/doc/{i}" for i in ids]),
            "byte_length": pc.binary_length(text).cast(pa.int64()),
            "score": pa.array(rng.random(rows)),
            "fetch_date": pa.array(
                np.datetime64("2024-10-01") + rng.integers(0, 86400 * 60, rows).astype("m8[s]")
            ).cast(pa.timestamp("us", tz="UTC")),
            "text": text,
        }
    )


def fastest(step: Callable[[], object], repeat: int, before: Callable[[], None] | None = None):
    """Seconds of the fastest of `repeat` runs of step (before() runs untimed each time)."""
    best = float("inf")
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return best


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*.parquet"))


def _fresh(path: Path) -> Callable[[], None]:
    def remove() -> None:
        shutil.rmtree(path, ignore_errors=True)
        if path.is_file():
            path.unlink()

    return remove


def _row_groups(path: Path) -> list[int]:
    """Rows per row group of every Parquet file under path (or of the file path)."""
    files = [path] if path.is_file() else sorted(path.rglob("*.parquet"))
    out = []
    for f in files:
        meta = pq.read_metadata(f)
        out.extend(meta.row_group(g).num_rows for g in range(meta.num_row_groups))
    return out


def _layout(groups: list[int]) -> str:
    return f"{len(groups)} row group(s) of {min(groups)}-{max(groups)} rows"


def bench_arrow(table: pa.Table, work: Path, repeat: int) -> dict[str, float]:
    plain = work / "plain.parquet"
    delta = work / "delta-arrow"
    # Delta first: its writer decides row groups by buffered bytes (ROW_GROUP_BYTES); the plain
    # file then gets the same row-group size in rows, so both are the same layout.
    write_delta = fastest(
        lambda: write_arrow(table, str(delta), mode="overwrite"), repeat, _fresh(delta)
    )
    group_rows = max(_row_groups(delta))
    write_plain = fastest(
        lambda: pq.write_table(table, plain, compression=COMPRESSION, row_group_size=group_rows),
        repeat,
        _fresh(plain),
    )
    read_plain = fastest(lambda: pq.read_table(plain), repeat)
    read_delta = fastest(lambda: read_arrow(str(delta)), repeat)
    assert read_arrow(str(delta)).num_rows == table.num_rows
    mb = table.nbytes / 1e6
    print(f"\nArrow, in this process: {table.num_rows} rows, {mb:.0f} MB in Arrow buffers")
    print(
        f"on disk: plain {_size(plain) / 1e6:.0f} MB, {_layout(_row_groups(plain))}; "
        f"Delta {_size(delta) / 1e6:.0f} MB, {_layout(_row_groups(delta))}"
    )
    line = "{:<40} {:>8} {:>8} {:>8}".format
    print(line("step", "seconds", "MB/s", "ratio"))
    print(line("pyarrow.parquet.write_table", f"{write_plain:.2f}", f"{mb / write_plain:.0f}", ""))
    print(
        line(
            "delta.write_arrow (incl. commit)",
            f"{write_delta:.2f}",
            f"{mb / write_delta:.0f}",
            f"{write_plain / write_delta:.2f}",
        )
    )
    print(line("pyarrow.parquet.read_table", f"{read_plain:.2f}", f"{mb / read_plain:.0f}", ""))
    print(
        line(
            "delta.read_arrow",
            f"{read_delta:.2f}",
            f"{mb / read_delta:.0f}",
            f"{read_plain / read_delta:.2f}",
        )
    )
    return {
        "table MB": round(mb, 1),
        "pyarrow write MB/s": mb / write_plain,
        "write_arrow MB/s": mb / write_delta,
        "write_arrow / pyarrow write": write_plain / write_delta,
        "pyarrow read MB/s": mb / read_plain,
        "read_arrow MB/s": mb / read_delta,
        "read_arrow / pyarrow read": read_plain / read_delta,
    }


def bench_spark(spark, table_mb: float, work: Path, repeat: int) -> dict[str, float]:
    from pyspark import StorageLevel

    df = spark.read.parquet(str(work / SPARK_SOURCE))
    df = df.repartition(spark.sparkContext.defaultParallelism * 2)
    df.persist(StorageLevel.MEMORY_AND_DISK)
    df.count()
    spark_plain = work / "spark-plain"
    spark_delta = work / "delta-spark"

    def native_write() -> None:
        df.write.mode("overwrite").option("compression", COMPRESSION).parquet(str(spark_plain))

    write_plain = fastest(native_write, repeat, _fresh(spark_plain))
    write_delta = fastest(
        lambda: write_table(df, str(spark_delta), mode="overwrite"), repeat, _fresh(spark_delta)
    )
    df.unpersist()

    def scan(frame) -> None:
        frame.write.format("noop").mode("overwrite").save()

    read_plain = fastest(lambda: scan(spark.read.parquet(str(spark_plain))), repeat)
    read_delta = fastest(lambda: scan(read_spark(spark, str(spark_delta))), repeat)
    line = "{:<40} {:>8} {:>8} {:>8}".format
    print(f"\nSpark, {spark.sparkContext.master}, from a cached DataFrame of the same rows")
    print(line("step", "seconds", "MB/s", "ratio"))
    print(
        line(
            "df.write.parquet (Spark's writer)",
            f"{write_plain:.2f}",
            f"{table_mb / write_plain:.0f}",
            "",
        )
    )
    print(
        line(
            "delta.write_table (incl. commit)",
            f"{write_delta:.2f}",
            f"{table_mb / write_delta:.0f}",
            f"{write_plain / write_delta:.2f}",
        )
    )
    print(
        line("spark.read.parquet -> noop", f"{read_plain:.2f}", f"{table_mb / read_plain:.0f}", "")
    )
    print(
        line(
            "delta.read_spark -> noop",
            f"{read_delta:.2f}",
            f"{table_mb / read_delta:.0f}",
            f"{read_plain / read_delta:.2f}",
        )
    )
    return {
        "spark parquet write MB/s": table_mb / write_plain,
        "write_table MB/s": table_mb / write_delta,
        "write_table / spark parquet write": write_plain / write_delta,
        "spark parquet read MB/s": table_mb / read_plain,
        "read_spark MB/s": table_mb / read_delta,
        "read_spark / spark parquet read": read_plain / read_delta,
    }


def bench_tasks(spark, tasks: int, repeat: int) -> dict[str, float]:
    context = spark.sparkContext

    def python_job(n: int) -> Callable[[], None]:
        return lambda: context.parallelize(range(n), n).count()

    def jvm_job(n: int) -> Callable[[], None]:
        return lambda: spark.range(0, n, 1, n).write.format("noop").mode("overwrite").save()

    figures = {}
    print(f"\nper-task overhead: (time of a {tasks}-task job - time of a 1-task job) / {tasks - 1}")
    for name, job in (("python", python_job), ("jvm", jvm_job)):
        job(tasks)()  # warm-up
        one = fastest(job(1), repeat)
        many = fastest(job(tasks), repeat)
        per_task = (many - one) / (tasks - 1)
        print(
            f"  {name:<7} task: 1 task {one * 1000:.0f} ms, {tasks} tasks {many * 1000:.0f} ms, "
            f"{per_task * 1000:.1f} ms per task"
        )
        figures[f"{name} job of 1 task ms"] = one * 1000
        figures[f"{name} per-task overhead ms"] = per_task * 1000
    return figures


def _appends(write: Callable[[int], None], count: int) -> list[float]:
    times = []
    for i in range(count):
        started = time.perf_counter()
        write(i)
        times.append(time.perf_counter() - started)
    return times


def _small(i: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array([f"{i:06d}-{j}" for j in range(APPEND_ROWS)]),
            "step": pa.array([i] * APPEND_ROWS, pa.int64()),
            "note": pa.array(["small append"] * APPEND_ROWS),
        }
    )


def bench_appends(spark, work: Path, spark_appends: int) -> dict[str, float]:
    uri = str(work / "appends-arrow")
    arrow_times = _appends(lambda i: write_arrow(_small(i), uri, mode="append"), APPENDS)
    assert read_arrow(uri).num_rows == APPENDS * APPEND_ROWS
    figures = {
        "100 small appends seconds": sum(arrow_times),
        "append latency median ms": statistics.median(arrow_times) * 1000,
    }
    print(f"\n{APPENDS} appends of {APPEND_ROWS} rows with write_arrow, one table:")
    print(
        f"  total {sum(arrow_times):.2f} s; median {statistics.median(arrow_times) * 1000:.0f} ms, "
        f"first 10 mean {statistics.mean(arrow_times[:10]) * 1000:.0f} ms, "
        f"last 10 mean {statistics.mean(arrow_times[-10:]) * 1000:.0f} ms"
    )
    if spark is not None and spark_appends:
        spark_uri = str(work / "appends-spark")

        def spark_write(i: int) -> None:
            frame = spark.createDataFrame(_small(i).to_pandas())
            write_table(frame.coalesce(1), spark_uri, mode="append")

        spark_times = _appends(spark_write, spark_appends)
        assert read_arrow(spark_uri).num_rows == spark_appends * APPEND_ROWS
        print(f"{spark_appends} appends of {APPEND_ROWS} rows with write_table from Spark:")
        print(
            f"  total {sum(spark_times):.2f} s; median "
            f"{statistics.median(spark_times) * 1000:.0f} ms per append"
        )
        figures[f"{spark_appends} write_table appends seconds"] = sum(spark_times)
        figures["write_table append latency median ms"] = statistics.median(spark_times) * 1000
    return figures


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delta_layer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_MB} MB, 50 tasks, 20 Spark appends"
    )
    parser.add_argument("--mb", type=float, help=f"table size in MB of Arrow (default {FULL_MB})")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs; the fastest counts")
    parser.add_argument("--tasks", type=int, help="tasks of the per-task job (200; quick 50)")
    parser.add_argument("--spark-appends", type=int, help="write_table appends (default 100)")
    parser.add_argument("--no-spark", action="store_true", help="Arrow and appends only")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--workdir", type=Path, help="where to write (default: a temp dir)")
    args = parser.parse_args(argv)
    target_mb = args.mb or (QUICK_MB if args.quick else FULL_MB)
    tasks = args.tasks or (50 if args.quick else 200)
    spark_appends = args.spark_appends
    if spark_appends is None:
        spark_appends = 20 if args.quick else APPENDS

    print(f"load before: {load()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="pilehouse-w7-", dir=args.workdir))
    try:
        started = time.perf_counter()
        table = make_table(target_mb)
        print(
            f"W7 Delta layer: generated {table.num_rows} rows, {table.nbytes / 1e6:.0f} MB in "
            f"{time.perf_counter() - started:.1f} s; {os.cpu_count()} cores; "
            f"compression {COMPRESSION}"
        )
        figures = bench_arrow(table, work, args.repeat)
        # Spark's input: the same rows in small row groups, so that Spark splits the reading.
        pq.write_table(table, work / SPARK_SOURCE, compression=COMPRESSION, row_group_size=10_000)
        table_mb = table.nbytes / 1e6
        del table
        spark = None
        if not args.no_spark:
            from spark_jobs.session import get_spark

            started = time.perf_counter()
            spark = get_spark(args.master, app_name="pilehouse-bench-w7")
            figures["spark session start s"] = time.perf_counter() - started
            print(
                f"\nSpark session start ({args.master}): {figures['spark session start s']:.1f} s"
            )
            figures.update(bench_spark(spark, table_mb, work, args.repeat))
            figures.update(bench_tasks(spark, tasks, args.repeat))
        figures.update(bench_appends(spark, work, spark_appends))
        if spark is not None:
            spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load after: {load()}")
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
