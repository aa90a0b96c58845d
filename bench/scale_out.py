"""Scale-out figures (issue 20): what grows on the driver, and what follows the cluster.

    python -m bench.scale_out                       # every figure below, full size
    python -m bench.scale_out --components          # (a) only
    python -m bench.scale_out --tasks --delta       # (b) and (c)
    python -m bench.scale_out --quick               # small sizes, for a smoke run
    python -m bench.scale_out --components --edges 2000000

One function per figure, chosen by flag (no flag: all of them):

(a) --components: connected components (spark_jobs/dedup/components.py, large-star /
    small-star) of a generated graph of --edges random edges (default: 1,000,000, then
    10,000,000 unless its time projected from the first exceeds --budget-s) over twice
    as many vertex ids, generated on the executors (spark.range + xxhash64: the driver never
    sees an edge), checkpointed every round under --workdir. Prints seconds, rounds, edges per
    round, the driver's (this Python process's) peak RSS and the JVM's peak RSS (with a local
    master the JVM also runs the executors), and a check run on the executors: the input edges
    whose two ends got different labels (must be 0).
(b) --tasks: tasks per stage against executor cores. For each of --cores (default 1,2,4,8) a
    fresh local[N] session with the profile's SessionLayout (spark_jobs/session.py) ingests a
    landing folder of --landing-files JSONL dumps through spark_jobs.ingest.ingest_files,
    writes the raw rows as a Delta table, reads it back with read_spark and groups it (a
    shuffle). Prints the task count of each stage, read from Spark's status tracker.
(c) --delta: driver time and peak RSS (this process: delta-rs runs in it) while planning a
    read (what read_spark does on the driver: open the snapshot, list its files, group them
    into tasks) and committing a one-file append (write_arrow) against Delta tables of
    --files data files (default 1,000 / 10,000 / 100,000; simulated: the log's add actions
    name files that were never written, which planning and an append never open), written
    as one commit, then after --commits more commits, then with a checkpoint. Each step runs
    in a fresh process (peak RSS includes the interpreter and deltalake); "next commit" is a
    second append from that same process (the commit path's cached snapshot).
(d) --incremental: incremental vs full curate time (slot; measured by the incremental
    curation work, issue 20).
(e) --big-file: one big landing file read by many tasks. A .warc.gz of --big-mb MB (default
    64: the bundled sample generator's pages, its file repeated) is ingested through
    spark_jobs.ingest.ingest_files (WarcReader) in a fresh local[N] session per --cores,
    twice: whole (source option split_bytes 0: one task) and in byte ranges of --split-mb
    (default 8). Prints tasks, seconds and rows of each; the rows must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

FULL_EDGES = 10_000_000
QUICK_EDGES = 200_000
FULL_FILES = (1_000, 10_000, 100_000)
QUICK_FILES = (1_000, 10_000)
_PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------------------------
# Peak memory of one process (the driver), sampled from /proc
# --------------------------------------------------------------------------------------------


def _child_row(flag: str, cores: int, *args: object) -> dict | None:
    """Run `bench.scale_out FLAG CORES ARGS...` in a fresh process (its own local[CORES]
    session) and return the JSON row it printed last; None (and a line saying why) if it failed."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale_out", flag, str(cores), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        print(f"    cores {cores}: failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(lines[-1])


def rss_bytes(pid: int | None = None) -> int:
    try:
        return int(Path(f"/proc/{pid or os.getpid()}/statm").read_text().split()[1]) * _PAGE
    except OSError:
        return 0


class Peak:
    """Peak RSS of one process (default: this one) while the `with` block runs."""

    def __init__(self, pid: int | None = None, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> Peak:
        self.start = self.peak = rss_bytes(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def jvm_pid(spark) -> int | None:
    """The Spark JVM's pid (a child of this process when PySpark launched it)."""
    try:
        return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    except Exception:  # a figure, not a failure
        return None


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    start = time.perf_counter()
    yield out
    out["s"] = time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# (a) connected components on the executors
# --------------------------------------------------------------------------------------------


def figure_components(spark, edges: int, workdir: Path) -> dict[str, object]:
    from pyspark.sql import functions as F

    from spark_jobs.dedup.checkpoint import FrameCheckpoints
    from spark_jobs.dedup.components import run_components

    vertices = 2 * edges
    parts = max(8, spark.sparkContext.defaultParallelism * 4)
    pairs = spark.range(0, edges, 1, parts).select(
        F.pmod(F.xxhash64("id", F.lit(1)), F.lit(vertices)).alias("id_a"),
        F.pmod(F.xxhash64("id", F.lit(2)), F.lit(vertices)).alias("id_b"),
    )
    checkpoints = FrameCheckpoints(str(workdir / "components"))
    jvm = jvm_pid(spark)
    print(
        f"(a) connected components: {edges:,} random edges over {vertices:,} vertex ids, "
        f"generated on the executors; {spark.sparkContext.master}, "
        f"{spark.conf.get('spark.sql.shuffle.partitions')} shuffle partitions",
        flush=True,
    )
    with Peak() as driver, Peak(jvm, interval=0.5) as jvm_peak, timed() as clock:
        run = run_components(pairs, checkpoints=checkpoints, count_edges=True, in_one_task_below=0)
        labelled = run.labels.count()
    seconds = clock["s"]
    # Checks and statistics, on the executors.
    labels = run.labels
    broken = (
        pairs.join(
            labels.withColumnRenamed("id", "id_a").withColumnRenamed("cluster_id", "la"), "id_a"
        )
        .join(labels.withColumnRenamed("id", "id_b").withColumnRenamed("cluster_id", "lb"), "id_b")
        .where(F.col("la") != F.col("lb"))
        .count()
    )
    sizes = labels.groupBy("cluster_id").count()
    stats = sizes.agg(
        F.count(F.lit(1)).alias("components"), F.max("count").alias("largest")
    ).first()
    result = {
        "edges": edges,
        "seconds": round(seconds, 1),
        "rounds": run.iterations,
        "edges_per_round": run.edges,
        "round_seconds": [round(x, 1) for x in run.round_seconds],
        "vertices_labelled": labelled,
        "components": stats["components"],
        "largest_component": stats["largest"],
        "edges_with_two_labels": broken,
        "driver_python_peak_rss_mb": round(driver.peak / 2**20),
        "driver_python_rss_growth_mb": round((driver.peak - driver.start) / 2**20),
        "jvm_peak_rss_mb": round(jvm_peak.peak / 2**20) if jvm else None,
    }
    print(
        f"    {seconds:,.1f} s, {run.iterations} rounds (edges after each: "
        f"{', '.join(f'{n:,}' for n in run.edges)}), {labelled:,} vertices labelled, "
        f"{stats['components']:,} components, largest {stats['largest']:,}",
        flush=True,
    )
    print(
        "    seconds per round (with the edge count): "
        + ", ".join(f"{x:.1f}" for x in run.round_seconds),
        flush=True,
    )
    print(
        f"    driver (Python) peak RSS {mb(driver.peak)} (+{mb(driver.peak - driver.start)} "
        f"during the run); JVM peak RSS {mb(jvm_peak.peak) if jvm else 'n/a'} "
        "(local master: driver and executors in one JVM)",
        flush=True,
    )
    print(f"    input edges whose ends got different labels: {broken} (must be 0)", flush=True)
    checkpoints.clear()
    return result


def components_ladder(spark, sizes: list[int], workdir: Path, budget_s: float) -> list[dict]:
    """figure_components for each size in turn; a size whose time, projected linearly in the
    edges from the last size measured, exceeds `budget_s` is skipped with the reason."""
    results: list[dict] = []
    for edges in sizes:
        if results:
            last = results[-1]
            projected = last["seconds"] * edges / last["edges"]
            if projected > budget_s:
                print(
                    f"(a) {edges:,} edges not run: {last['edges']:,} edges took "
                    f"{last['seconds']:,.0f} s here, so {edges:,} would take about "
                    f"{projected:,.0f} s (> --budget-s {budget_s:,.0f}); largest size "
                    f"measured: {last['edges']:,} edges",
                    flush=True,
                )
                break
        results.append(figure_components(spark, edges, workdir))
    return results


# --------------------------------------------------------------------------------------------
# (b) tasks per stage against executor cores
# --------------------------------------------------------------------------------------------


def make_landing(folder: Path, files: int) -> None:
    """`files` JSONL dumps of sizes 1x..8x (so a big file is visible next to small ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        with (folder / f"dump-{i:04d}.jsonl").open("w") as out:
            for j in range(50 * (1 + i % 8)):
                out.write(json.dumps({"id": f"{i}-{j}", "text": f"document {j} of file {i} " * 20}))
                out.write("\n")


def tasks_child(cores: int, landing: str, workdir: str) -> dict[str, object]:
    """Runs in a subprocess (one JVM per core count): the stages and their task counts."""
    from pyspark.sql import functions as F

    from spark_jobs.delta import read_spark, write_table
    from spark_jobs.ingest import ingest_files
    from spark_jobs.licensed.reader import LicensedReader
    from spark_jobs.session import SessionLayout, get_spark
    from spark_jobs.sources import Source

    layout = SessionLayout()
    spark = get_spark(f"local[{cores}]", app_name=f"scale-out-{cores}", layout=layout)
    tracker = spark.sparkContext.statusTracker()

    def stages(group: str, action: Callable[[], object]) -> list[int]:
        spark.sparkContext.setJobGroup(group, group)
        action()
        # Adaptive execution runs a shuffle's map stage as a job of its own and lists it again
        # (skipped) in the next job: count each stage once.
        stage_ids = set()
        for job in tracker.getJobIdsForGroup(group):
            info = tracker.getJobInfo(job)
            stage_ids.update(info.stageIds if info else [])
        tasks = []
        for stage in sorted(stage_ids):
            stage_info = tracker.getStageInfo(stage)
            if stage_info is not None:
                tasks.append(stage_info.numTasks)
        return tasks

    source = Source("dumps", "licensed", landing, "mixed", "CC0-1.0")
    raw = ingest_files(spark, LicensedReader(), source, run_id="bench")
    uri = f"{workdir}/raw-{cores}"
    ingest = stages("ingest", lambda: write_table(raw, uri, mode="overwrite"))
    table = read_spark(spark, uri)
    read = stages("read", lambda: table.write.format("noop").mode("overwrite").save())
    grouped = table.groupBy("locator").agg(F.count(F.lit(1)))
    shuffle = stages("shuffle", lambda: grouped.write.format("noop").mode("overwrite").save())
    conf = spark.conf
    return {
        "cores": cores,
        "default_parallelism": spark.sparkContext.defaultParallelism,
        "shuffle_partitions": int(conf.get("spark.sql.shuffle.partitions")),
        "ingest_write_tasks": ingest,
        "read_spark_tasks": read,
        "group_by_tasks": shuffle,
    }


def figure_tasks(cores_list: list[int], landing_files: int, workdir: Path) -> list[dict]:
    landing = workdir / "landing"
    make_landing(landing, landing_files)
    print(
        f"(b) tasks per stage vs executor cores: ingest of {landing_files} JSONL landing files "
        "(LicensedReader) + Delta write, read_spark of the raw table, a groupBy; SessionLayout "
        "defaults (tasks_per_core 2, shuffle_partitions_per_core 4)",
        flush=True,
    )
    print(f"    {'cores':>5} {'parallelism':>11} {'shuffle':>7}  ingest+write    read   groupBy")
    rows = []
    for cores in cores_list:
        row = _child_row("--tasks-child", cores, landing, workdir)
        if row is None:
            continue
        rows.append(row)
        print(
            f"    {cores:>5} {row['default_parallelism']:>11} {row['shuffle_partitions']:>7}  "
            f"{'/'.join(map(str, row['ingest_write_tasks'])):>12}  "
            f"{'/'.join(map(str, row['read_spark_tasks'])):>6}  "
            f"{'/'.join(map(str, row['group_by_tasks'])):>8}",
            flush=True,
        )
    return rows


# --------------------------------------------------------------------------------------------
# (e) one big landing file, whole and in byte ranges
# --------------------------------------------------------------------------------------------


def make_big_warc(path: Path, megabytes: int) -> int:
    """A .warc.gz of at least `megabytes` MB: one generated sample file (2,000 pages, with the
    generator's planted damage), repeated; returns its size."""
    from spark_jobs.samples.web import generate_web_sample

    sample = path.parent.parent / "big-sample"  # outside the landing folder
    manifest = generate_web_sample(sample, pages=2000, files=1, seed=20)
    data = (sample / manifest.files[0]).read_bytes()
    copies = -(-(megabytes << 20) // len(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for _ in range(copies):
            out.write(data)
    return len(data) * copies


def big_file_child(cores: int, landing: str, split_bytes: int) -> dict[str, object]:
    """Runs in a subprocess (one JVM per core count): whole-file and ranged ingest."""
    from pyspark.sql import functions as F

    from spark_jobs.ingest import ingest_files
    from spark_jobs.session import SessionLayout, get_spark
    from spark_jobs.sources import Source
    from spark_jobs.web.ingest import WarcReader

    spark = get_spark(f"local[{cores}]", app_name=f"big-file-{cores}", layout=SessionLayout())
    result: dict[str, object] = {"cores": cores}
    for mode, size in (("whole", 0), ("ranges", split_bytes)):
        source = Source("big", "web", landing, "warc", "CC-BY-4.0", options={"split_bytes": size})
        frame = ingest_files(spark, WarcReader(), source, run_id="bench")
        start = time.perf_counter()
        totals = frame.agg(
            F.count(F.lit(1)).alias("rows"),
            F.bit_xor(F.xxhash64("id", "warc_offset", "text", "disposition")).alias("digest"),
        ).first()
        result[mode] = {
            "tasks": frame.rdd.getNumPartitions(),
            "seconds": round(time.perf_counter() - start, 1),
            "rows": totals["rows"],
            "digest": totals["digest"],
        }
    return result


def figure_big_file(cores_list: list[int], megabytes: int, split_mb: int, workdir: Path) -> list:
    landing = workdir / "big-landing"
    size = make_big_warc(landing / "big.warc.gz", megabytes)
    split_bytes = split_mb << 20
    print(
        f"(e) one {size / 2**20:.1f} MB .warc.gz (WarcReader, extraction included): whole (one "
        f"task) vs byte ranges of {split_mb} MB; local[N], SessionLayout defaults",
        flush=True,
    )
    print(f"    {'cores':>5}  {'whole: tasks':>12} {'s':>7}  {'ranges: tasks':>13} {'s':>7}  rows")
    rows = []
    for cores in cores_list:
        row = _child_row("--big-child", cores, landing, split_bytes)
        if row is None:
            continue
        rows.append(row)
        whole, ranged = row["whole"], row["ranges"]
        same = (whole["rows"], whole["digest"]) == (ranged["rows"], ranged["digest"])
        print(
            f"    {cores:>5}  {whole['tasks']:>12} {whole['seconds']:>7.1f}  "
            f"{ranged['tasks']:>13} {ranged['seconds']:>7.1f}  {ranged['rows']:,} "
            f"({'the same rows' if same else 'ROWS DIFFER'})",
            flush=True,
        )
    return rows


# --------------------------------------------------------------------------------------------
# (c) driver time and memory of planning a read and committing over a table of many files
# --------------------------------------------------------------------------------------------


def simulated_table(uri: str, files: int, sources: int = 100) -> None:
    """A Delta table whose log adds `files` data files (never written) in one commit."""
    import pyarrow as pa
    from deltalake.schema import Schema as DeltaSchema
    from deltalake.transaction import AddAction, create_table_with_add_actions

    schema = pa.schema([("id", pa.string()), ("n", pa.int64()), ("source", pa.string())])
    now = int(time.time() * 1000)
    actions = [
        AddAction(
            f"source=s{i % sources:03d}/part-{i:08d}.parquet",
            1_000_000 + i,
            {"source": f"s{i % sources:03d}"},
            now,
            True,
            json.dumps(
                {
                    "numRecords": 10_000,
                    "minValues": {"n": i * 10_000},
                    "maxValues": {"n": i * 10_000 + 9_999},
                    "nullCount": {"id": 0, "n": 0},
                }
            ),
        )
        for i in range(files)
    ]
    create_table_with_add_actions(
        uri, DeltaSchema.from_arrow(schema), actions, mode="error", partition_by=["source"]
    )


def _append_one(uri: str, i: int) -> None:
    import pyarrow as pa

    from spark_jobs.delta import write_arrow

    rows = pa.table({"id": [f"new-{i}"], "n": [i], "source": ["s000"]})
    write_arrow(rows, uri, mode="append", partition_by=["source"])


def _plan_read(uri: str) -> int:
    from spark_jobs.delta.read import SPLIT_MIN_ROWS, _arrow_schema, _file_table, _task_groups
    from spark_jobs.delta.snapshot import open_table

    table = open_table(uri)
    files = _file_table(table, _arrow_schema(table), list(table.metadata().partition_columns))
    return len(_task_groups(files, 64, SPLIT_MIN_ROWS))


def delta_child(op: str, uri: str) -> dict[str, float]:
    """Runs in a fresh process: one planning or commit step, its time and peak RSS."""
    import deltalake  # noqa: F401 - imported before the baseline, as any driver has it

    import spark_jobs.delta  # noqa: F401

    step = (lambda: _plan_read(uri)) if op == "plan" else (lambda: _append_one(uri, 10_000))
    with Peak(interval=0.005) as peak, timed() as clock:
        step()
    out = {"s": clock["s"], "base": peak.start, "peak": peak.peak}
    if op == "commit":
        # A second commit from the same driver: the cached snapshot is brought up to date.
        with timed() as again:
            step()
        out["again_s"] = again["s"]
    return out


def _measure(op: str, uri: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale_out", "--delta-child", op, uri],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def figure_delta(sizes: list[int], workdir: Path, commits: int = 100) -> list[dict]:
    from deltalake import DeltaTable

    print(
        "(c) driver time and peak RSS (a fresh process per step, after importing deltalake): "
        "plan a read (open the snapshot, list its files, 64 task groups: read_spark's driver "
        "side) and commit a one-file append (write_arrow), over simulated tables",
        flush=True,
    )
    print(
        f"    {'files':>8} {'log':<16} {'plan read':>19} {'commit append':>19} {'next commit':>12}"
    )
    rows = []
    for files in sizes:
        uri = str(workdir / f"table-{files}")
        shutil.rmtree(uri, ignore_errors=True)
        simulated_table(uri, files)
        states = [
            ("1 commit", None),
            (f"+{commits} commits", "commits"),
            ("+checkpoint", "checkpoint"),
        ]
        for name, change in states:
            if change == "commits":
                for i in range(commits):
                    _append_one(uri, i)
            elif change == "checkpoint":
                DeltaTable(uri).create_checkpoint()
            plan = _measure("plan", uri)
            commit = _measure("commit", uri)
            row = {
                "files": files,
                "log": name,
                "plan_s": round(plan["s"], 3),
                "plan_peak_rss_mb": round(plan["peak"] / 2**20),
                "plan_rss_growth_mb": round((plan["peak"] - plan["base"]) / 2**20),
                "commit_s": round(commit["s"], 3),
                "commit_peak_rss_mb": round(commit["peak"] / 2**20),
                "commit_rss_growth_mb": round((commit["peak"] - commit["base"]) / 2**20),
                "next_commit_s": round(commit["again_s"], 3),
            }
            rows.append(row)
            print(
                f"    {files:>8,} {name:<16} {plan['s']:>6.2f} s {mb(plan['peak']):>9} "
                f"{commit['s']:>6.2f} s {mb(commit['peak']):>9} {commit['again_s']:>10.2f} s",
                flush=True,
            )
        shutil.rmtree(uri, ignore_errors=True)
    return rows


# --------------------------------------------------------------------------------------------
# (d) incremental vs full curate (slot)
# --------------------------------------------------------------------------------------------


def figure_incremental(workdir: Path) -> dict:
    print("(d) incremental vs full curate: not measured by this version of the script")
    return {}


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--components", action="store_true", help="figure (a)")
    parser.add_argument("--tasks", action="store_true", help="figure (b)")
    parser.add_argument("--delta", action="store_true", help="figure (c)")
    parser.add_argument("--incremental", action="store_true", help="figure (d)")
    parser.add_argument("--big-file", action="store_true", help="figure (e)")
    parser.add_argument("--big-mb", type=int, default=64, help="(e) landing file size, MB")
    parser.add_argument("--split-mb", type=int, default=8, help="(e) byte range size, MB")
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--edges", type=int, help=f"(a) edges (default {FULL_EDGES:,})")
    parser.add_argument("--master", default="local[*]", help="(a) Spark master")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=1800,
        help="(a) skip a size whose time, projected linearly from the last size, exceeds this",
    )
    parser.add_argument("--cores", default="1,2,4,8", help="(b) local[N] per N")
    parser.add_argument("--landing-files", type=int, default=64, help="(b) landing files")
    parser.add_argument("--files", help="(c) table sizes in files, comma separated")
    parser.add_argument("--workdir", type=Path, help="scratch (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--commits", type=int, default=100, help="(c) commits added")
    parser.add_argument("--tasks-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--delta-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--big-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.delta_child:
        print(json.dumps(delta_child(*args.delta_child)), flush=True)
        return {}
    if args.big_child:
        cores, landing, split_bytes = args.big_child
        print(json.dumps(big_file_child(int(cores), landing, int(split_bytes))), flush=True)
        return {}
    if args.tasks_child:
        cores, landing, workdir = args.tasks_child
        print(json.dumps(tasks_child(int(cores), landing, workdir)), flush=True)
        return {}
    figures = ("components", "tasks", "delta", "incremental", "big_file")
    chosen = {k for k in figures if getattr(args, k)}
    chosen = chosen or {"components", "tasks", "delta"}
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pilehouse-scale-out-"))
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, object] = {}
    try:
        if "delta" in chosen:
            sizes = (
                [int(x) for x in args.files.split(",")]
                if args.files
                else list(QUICK_FILES if args.quick else FULL_FILES)
            )
            out["delta"] = figure_delta(sizes, work, args.commits)
        if "tasks" in chosen:
            cores = [int(x) for x in args.cores.split(",")]
            out["tasks"] = figure_tasks(cores, 16 if args.quick else args.landing_files, work)
        if "components" in chosen:
            from spark_jobs.session import get_spark

            spark = get_spark(args.master, app_name="scale-out")
            if args.edges or args.quick:
                sizes = [args.edges or QUICK_EDGES]
            else:
                sizes = [FULL_EDGES // 10, FULL_EDGES]
            out["components"] = components_ladder(spark, sizes, work, args.budget_s)
        if "big_file" in chosen:
            cores = [int(x) for x in args.cores.split(",")]
            megabytes = 4 if args.quick else args.big_mb
            split_mb = 1 if args.quick else args.split_mb
            out["big_file"] = figure_big_file(cores, megabytes, split_mb, work)
        if "incremental" in chosen:
            out["incremental"] = figure_incremental(work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
