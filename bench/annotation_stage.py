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
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float:
    """user + system CPU seconds of `root` and its descendants (and their waited children)."""
    return sum(_tree_cpu_by_pid(root).values())


def _tree_cpu_by_pid(root: int) -> dict[int, float]:
    """pid -> user + system CPU seconds (own, no children's), for `root` and its descendants."""
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
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = sum(int(x) for x in stats[pid][11:13]) / _TICK  # utime stime
        todo.extend(children.get(pid, []))
    return out


class TreeCpu:
    """CPU seconds of a process tree over a stretch of time, including processes that start and
    end within it (datatrove's workers): /proc is sampled every `interval` seconds and each
    process's last reading is kept, so a process loses at most its last interval."""

    def __init__(self, root: int | None = None, interval: float = 0.25) -> None:
        self.root = root or os.getpid()
        self.interval = interval
        self._seen: dict[int, float] = {}
        self._kinds: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for pid, seconds in _tree_cpu_by_pid(self.root).items():
            self._seen[pid] = max(seconds, self._seen.get(pid, 0.0))
            if pid not in self._kinds:
                try:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                self._kinds[pid] = (
                    "java"
                    if name == "java"
                    else ("python" if name.startswith("python") else "other")
                )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> TreeCpu:
        self._sample()
        self._before = dict(self._seen)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(s - self._before.get(pid, 0.0) for pid, s in self._seen.items())

    def seconds_by_kind(self) -> dict[str, float]:
        """CPU seconds of the JVM ("java") and of the Python processes ("python")."""
        out: dict[str, float] = {}
        for pid, seconds in self._seen.items():
            kind = self._kinds.get(pid, "other")
            out[kind] = out.get(kind, 0.0) + seconds - self._before.get(pid, 0.0)
        return out

    @property
    def new_processes(self) -> int:
        """Processes that started during the stretch (e.g. Spark's Python workers)."""
        return len(self._seen.keys() - self._before.keys())


def run_stage(corpus: str, cores: int, out: str, partitions: int = 0) -> dict:
    """One annotation stage in this process: the code of whatever spark_jobs is importable."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from spark_jobs.annotate import annotate_documents
    from spark_jobs.session import get_spark

    texts = pq.read_table(corpus, columns=["text"])["text"]
    mb = pc.sum(pc.binary_length(texts.cast("binary"))).as_py() / 1e6
    spark = get_spark(f"local[{cores}]")
    shutil.rmtree(out, ignore_errors=True)
    documents = spark.read.parquet(corpus).repartition(partitions or cores * 4)
    load_before = os.getloadavg()[0]
    with TreeCpu() as tree:
        start = time.perf_counter()
        annotate_documents(documents).write.parquet(out)
        wall = time.perf_counter() - start
    cpu = tree.seconds
    new_processes = tree.new_processes
    rows = spark.read.parquet(out).count()
    spark.stop()
    return {
        "rows": rows,
        "mb": mb,
        "wall_s": wall,
        "cpu_s": cpu,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "processes_started": new_processes,
        "cpu_by_kind": {k: round(v, 1) for k, v in tree.seconds_by_kind().items()},
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="checkout of the old code (an export of a commit)")
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=0, help="tasks (default: cores x 4)")
    parser.add_argument("--run-stage", nargs=2, metavar=("CORPUS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_stage:
        corpus, out = args.run_stage
        print(json.dumps(run_stage(corpus, args.cores, out, args.partitions)))
        return {}

    sys.path.insert(0, str(REPO))
    from bench.corpus import BENCH_DIR, ensure_corpus

    corpus = str(ensure_corpus(args.docs, args.seed))
    checkouts = {"new": REPO, **({"old": Path(args.old).resolve()} if args.old else {})}
    results: dict[str, list[dict]] = {name: [] for name in checkouts}
    tasks = args.partitions or args.cores * 4
    print(
        f"annotation stage on {corpus}, local[{args.cores}], {tasks} tasks, "
        f"{args.reps} interleaved runs each"
    )
    for rep in range(args.reps):
        order = list(checkouts) if rep % 2 == 0 else list(reversed(checkouts))
        for name in order:
            env = {**os.environ, "PYTHONPATH": str(checkouts[name])}
            out = str(BENCH_DIR / "annotation-stage" / name)
            done = subprocess.run(
                [
                    *(sys.executable, str(Path(__file__).resolve()), "--cores", str(args.cores)),
                    *("--partitions", str(args.partitions), "--run-stage", corpus, out),
                ],
                env=env,
                # Spark starts its Python workers with `python -m`, which puts the working
                # directory first on sys.path: run each side from its own checkout.
                cwd=checkouts[name],
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
                f"{r['load_after']:.2f}, {r.get('processes_started', '?')} processes started, "
                f"CPU by process {r.get('cpu_by_kind')}",
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
