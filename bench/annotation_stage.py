"""The whole annotation stage (Spark local[N], Parquet in and out), old code against new, by CPU
time of the process tree (driver, JVM, Python workers) and wall time, in interleaved runs.

Each run is a fresh process (a new Spark session, cold Python workers: the fixed cost of
loading models and compiled kernels is in the figure) running `annotate_documents` from the
checkout on its PYTHONPATH; the "old" checkout is an export of the commit before the change:

    git archive f917b45 | tar -x -C /tmp/pilehouse-base
    .venv/bin/python bench/annotation_stage.py --old /tmp/pilehouse-base --docs 20000 --reps 2

CPU seconds count every process of the tree while the stage runs, so other engineers' load on
the shared machine does not enter them; the load average is printed before and after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float:
    """user + system CPU seconds of `root` and its descendants (and their waited children)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += sum(int(x) for x in stats[pid][11:15])  # utime stime cutime cstime
        todo.extend(children.get(pid, []))
    return total / _TICK


def run_stage(corpus: str, cores: int, out: str) -> dict:
    """One annotation stage in this process: the code of whatever spark_jobs is importable."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from spark_jobs.annotate import annotate_documents
    from spark_jobs.session import get_spark

    texts = pq.read_table(corpus, columns=["text"])["text"]
    mb = pc.sum(pc.binary_length(texts.cast("binary"))).as_py() / 1e6
    spark = get_spark(f"local[{cores}]")
    shutil.rmtree(out, ignore_errors=True)
    documents = spark.read.parquet(corpus).repartition(cores * 4)
    cpu_before, load_before = _tree_cpu_seconds(os.getpid()), os.getloadavg()[0]
    start = time.perf_counter()
    annotate_documents(documents).write.parquet(out)
    wall = time.perf_counter() - start
    cpu = _tree_cpu_seconds(os.getpid()) - cpu_before
    rows = spark.read.parquet(out).count()
    spark.stop()
    return {
        "rows": rows,
        "mb": mb,
        "wall_s": wall,
        "cpu_s": cpu,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="checkout of the old code (an export of a commit)")
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--run-stage", nargs=2, metavar=("CORPUS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_stage:
        corpus, out = args.run_stage
        print(json.dumps(run_stage(corpus, args.cores, out)))
        return {}

    sys.path.insert(0, str(REPO))
    from bench.corpus import BENCH_DIR, ensure_corpus

    corpus = str(ensure_corpus(args.docs, args.seed))
    checkouts = {"new": REPO, **({"old": Path(args.old).resolve()} if args.old else {})}
    results: dict[str, list[dict]] = {name: [] for name in checkouts}
    print(f"annotation stage on {corpus}, local[{args.cores}], {args.reps} interleaved runs each")
    for rep in range(args.reps):
        order = list(checkouts) if rep % 2 == 0 else list(reversed(checkouts))
        for name in order:
            env = {**os.environ, "PYTHONPATH": str(checkouts[name])}
            out = str(BENCH_DIR / "annotation-stage" / name)
            done = subprocess.run(
                [sys.executable, __file__, "--cores", str(args.cores), "--run-stage", corpus, out],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode or not lines:
                raise RuntimeError(f"{name} stage failed: {done.stderr[-2000:]}")
            r = json.loads(lines[-1])
            results[name].append(r)
            print(
                f"  {name}: {r['rows']:,} rows, wall {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s "
                f"({r['mb'] / r['cpu_s']:.2f} MB per CPU-second), load {r['load_before']:.2f} -> "
                f"{r['load_after']:.2f}",
                flush=True,
            )
    figures = {}
    for name, runs in results.items():
        best = min(runs, key=lambda r: r["cpu_s"])
        figures[f"{name} MB/s per core (CPU time)"] = round(best["mb"] / best["cpu_s"], 3)
        figures[f"{name} wall s (best)"] = round(min(r["wall_s"] for r in runs), 1)
    if "old" in results:
        ratio = figures["new MB/s per core (CPU time)"] / figures["old MB/s per core (CPU time)"]
        figures["new / old per-core throughput"] = round(ratio, 2)
    print(json.dumps(figures, indent=1))
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
