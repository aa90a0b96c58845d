"""Gates: every quality check of the sample run, on today's Spark path and on the pandas path,
side by side in one process.

    python -m bench.gates                          # builds the sample lake first (`pilehouse run`)
    python -m bench.gates --home /tmp/sample-home  # reuses a PILEHOUSE_HOME `pilehouse run` filled
    python -m bench.gates --repeat 5
    python -m bench.gates --probe-mb 16 64 256     # the pandas path's memory on bigger tables

The checks are the ones `pilehouse run` gates the sample with: raw_documents on every source
partition of every raw table, and the three curated suites on every curated table. Each round
runs all of them on the old path (`engine="spark"`: tables read by Spark tasks, GX's Spark
engine) and then on the new one (`engine="auto"`: a table under engine.pandas_max_bytes and
the tables its suite reads are read with delta-rs, its frames computed in this process and
checked by GX's pandas engine, with no Spark job), alternating which goes first. A check is
what the asset check does: the table's version and baseline, the suite's validation, the
append to quality.validations and the Data Docs pages; history and Data Docs go to a scratch
lake and GX project, so the sample lake is left as it was. Spark jobs are counted per path and
round with a job group. Prints seconds, jobs, the ratio of the median rounds and the 1-minute
load average before and after.

--probe-mb measures what engine.pandas_max_bytes trades: for each size, a generated curated
table of that many MB of Arrow text-heavy rows (prose from CPython's docs, as bench.delta_layer
makes it), validated by curated_documents on each engine in a fresh process, with its seconds,
Spark jobs and the peak resident memory of the process tree (JVM and Python workers included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from bench.pipeline import use_scratch_home

PATHS = {"old": "spark", "new": "auto"}


@dataclass(frozen=True)
class Check:
    table: str
    suite: str
    source: str | None = None

    @property
    def name(self) -> str:
        return f"{self.table} {self.suite}" + (f" [{self.source}]" if self.source else "")


def sample_checks(lake) -> list[Check]:
    """The checks a `pilehouse run` of the sample runs, on the tables as they are now."""
    from assets.checks import CURATED_SUITES
    from quality.suites import RAW_DOCUMENTS
    from spark_jobs.delta import open_table, table_exists
    from spark_jobs.lake import CORPORA, document_tables

    checks = []
    for corpus in CORPORA:
        raw, _, curated = document_tables(corpus)
        if not table_exists(lake.uri(raw), lake.store):
            continue
        adds = pa.table(open_table(lake.uri(raw), store=lake.store).get_add_actions(flatten=True))
        sources = sorted(set(adds.column("partition.source").to_pylist()))
        checks += [Check(raw, RAW_DOCUMENTS, source) for source in sources]
        checks += [Check(curated, suite) for suite in CURATED_SUITES]
    return checks


def run_check(check: Check, *, spark, lake, history, project: Path, engine: str, run: str):
    """The body of assets.checks' asset check, with history and Data Docs kept aside."""
    from quality import data_docs
    from quality.history import last_passing_version, record_validation
    from quality.suites import SUITES, Subject
    from quality.validation import validate_suite
    from spark_jobs.delta import open_table

    suite = SUITES[check.suite]
    version = open_table(lake.uri(check.table), store=lake.store).version()
    baseline = (
        last_passing_version(lake, check.table, check.suite, before=version)
        if suite.uses_baseline
        else None
    )
    subject = Subject(
        spark, lake, check.table, version, baseline_version=baseline, source=check.source
    )
    report = validate_suite(suite, subject, engine=engine)
    record_validation(history, report, table=check.table, version=version, run_id=run)
    batch = f"{check.table.replace('.', '_')}_v{version}"
    data_docs.publish(
        report, project=project, run_name=f"{check.table}-v{version}-{run}", batch=batch
    )
    return report


def probe_table(target_mb: float) -> pa.Table:
    """A curated documents table of about `target_mb` MB (Arrow) with every column the
    documents suites read, plus a nested annotation column as real curated tables have."""
    import numpy as np

    from bench.delta_layer import make_table
    from spark_jobs.annotators.pii import PII_TYPES

    base = make_table(target_mb)
    rows = base.num_rows
    constant = lambda value: pa.array(np.full(rows, value))  # noqa: E731
    counts = pa.StructArray.from_arrays(
        [pa.array(np.zeros(rows, np.int64)) for _ in PII_TYPES], names=list(PII_TYPES)
    )
    return pa.table(
        {
            "id": base["id"],
            "corpus": constant("web"),
            "source": base["source"],
            "text": base["text"],
            "byte_length": base["byte_length"],
            "license": constant("PSF-2.0"),
            "license_evidence": constant("declared"),
            "language": constant("en"),
            "language_score": base["score"],
            "text_hash": base["id"],
            "url": base["url"],
            "fetch_date": base["fetch_date"],
            "pii_counts": counts,
        }
    )


def probe(sizes: list[float], scratch: Path) -> None:
    """Each size on each engine, each in a fresh interpreter (a JVM's heap never shrinks)."""
    import json
    import subprocess

    from quality.bounds import pandas_max_bytes
    from spark_jobs.delta import write_arrow

    print(f"engine.pandas_max_bytes: {pandas_max_bytes():,}; load average before: {_load()}")
    print(
        f"{'Arrow MB':>8} {'rows':>8} {'Delta MB':>9} {'engine':<7} {'seconds':>8} "
        f"{'jobs':>5} {'RSS at start GiB':>17} {'peak GiB':>9}"
    )
    for mb in sizes:
        table = probe_table(mb)
        lake = scratch / f"probe-{mb:g}"
        uri = str(lake / "curated" / "web")
        write_arrow(table, uri, mode="overwrite", partition_by=("source",))
        delta_mb = sum(f.stat().st_size for f in Path(uri).rglob("*.parquet")) / 1e6
        for engine in ("pandas", "spark"):
            child = subprocess.run(
                [sys.executable, "-m", "bench.gates", "--probe-child", engine, str(lake)],
                capture_output=True,
                text=True,
                check=False,
            )
            if child.returncode != 0:
                print(child.stderr[-3000:])
                raise SystemExit(f"probe of {mb} MB on {engine} failed ({child.returncode})")
            got = json.loads(child.stdout.strip().splitlines()[-1])
            print(
                f"{table.nbytes / 1e6:8.0f} {table.num_rows:8,d} {delta_mb:9.1f} {engine:<7} "
                f"{got['seconds']:8.1f} {got['jobs']:5d} {got['start_rss'] / 2**30:17.2f} "
                f"{got['peak_rss'] / 2**30:9.2f}",
                flush=True,
            )
    print(f"load average after: {_load()}")


def probe_child(engine: str, root: str) -> None:
    """curated_documents on <root>/curated/web with `engine`; prints one JSON line."""
    import json

    from bench.memory import PeakMemory
    from orchestration.settings import load_settings
    from quality.suites import CURATED_DOCUMENTS, SUITES, Subject
    from quality.validation import validate_suite
    from spark_jobs.delta import open_table
    from spark_jobs.lake import Lake
    from spark_jobs.session import get_spark

    settings = load_settings()
    spark = get_spark(settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout)
    spark.sparkContext.setJobGroup("probe", "bench.gates probe")
    lake = Lake(root, settings.store)
    subject = Subject(spark, lake, "curated.web", open_table(lake.uri("curated.web")).version())
    with PeakMemory() as memory:
        start_rss = memory.sample()
        memory.reset()
        started = time.perf_counter()
        report = validate_suite(SUITES[CURATED_DOCUMENTS], subject, engine=engine)
        seconds = time.perf_counter() - started
        peak = memory.peak()
    jobs = len(spark.sparkContext.statusTracker().getJobIdsForGroup("probe"))
    assert report.engine == engine
    print(json.dumps({"seconds": seconds, "jobs": jobs, "start_rss": start_rss, "peak_rss": peak}))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.gates", description=__doc__)
    parser.add_argument("--home", type=Path, help="a PILEHOUSE_HOME that `pilehouse run` filled")
    parser.add_argument("--pages", type=int, default=2000, help="web sample size when building")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of old and new (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument(
        "--quick", action="store_true", help="a 200-page sample and one round (bench.run_all)"
    )
    parser.add_argument(
        "--probe-mb", type=float, nargs="+", help="only probe tables of these Arrow MB sizes"
    )
    parser.add_argument(
        "--probe-child", nargs=2, metavar=("ENGINE", "LAKE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.pages, args.repeat = min(args.pages, 200), 1
    if args.probe_child:
        probe_child(*args.probe_child)
        return {}

    scratch = Path(tempfile.mkdtemp(prefix="pilehouse-gates-"))
    try:
        if args.probe_mb:
            probe(args.probe_mb, scratch)
            return {}
        return _run(args, scratch)
    finally:
        if args.keep:
            print(f"\nscratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def _build_sample(home: Path, pages: int) -> None:
    """What `pilehouse run` does on a fresh home: the bundled samples, then every run."""
    import dagster as dg

    from orchestration.instance import prepare_dagster_home
    from orchestration.pipeline import materialize_all
    from orchestration.settings import load_settings
    from spark_jobs.samples.bundled import ensure_samples

    settings = load_settings()
    prepare_dagster_home(settings)
    ensure_samples(Path(settings.landing_uri), pages=pages, seed=0, regenerate=False)
    started = time.monotonic()
    results = materialize_all(dg.DagsterInstance.get(), settings)
    failed = [r.dagster_run.job_name for r in results if not r.success]
    if failed:
        raise RuntimeError(f"building the sample lake under {home} failed: {', '.join(failed)}")
    print(f"sample lake built under {home} in {time.monotonic() - started:.0f} s")


def _run(args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    home = args.home.resolve() if args.home else scratch / "home"
    use_scratch_home(home)
    if args.home is None:
        _build_sample(home, args.pages)

    from orchestration.settings import load_settings
    from quality.bounds import pandas_max_bytes
    from quality.suites import Subject
    from quality.validation import choose_engine
    from spark_jobs.delta import open_table
    from spark_jobs.lake import Lake
    from spark_jobs.session import get_spark

    settings = load_settings()
    lake = Lake(settings.lake_uri, settings.store)
    if not (Path(settings.lake_uri) / "curated").is_dir():
        raise SystemExit(f"no sample lake under {settings.lake_uri}: run `pilehouse run` first")
    spark = get_spark(settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout)
    tracker = spark.sparkContext.statusTracker()
    history = Lake(str(scratch / "history"), settings.store)
    checks = sample_checks(lake)
    engines = {
        c.name: choose_engine(
            Subject(spark, lake, c.table, open_table(lake.uri(c.table)).version())
        )
        for c in checks
    }
    print(
        f"{len(checks)} checks of the sample under {lake.root_uri}; Spark "
        f"{settings.spark_master}, {os.cpu_count()} cores; engine.pandas_max_bytes "
        f"{pandas_max_bytes():,}"
    )
    load_before = _load()
    print(f"load average before: {load_before}")

    seconds: dict[str, list[float]] = {p: [] for p in PATHS}
    jobs: dict[str, list[int]] = {p: [] for p in PATHS}
    per_check: dict[tuple[str, str], list[float]] = {}
    failed: dict[tuple[str, str], list[str]] = {}
    for round_ in range(args.repeat):
        order = list(PATHS) if round_ % 2 == 0 else list(PATHS)[::-1]
        for path in order:
            group = f"gates-{path}-{round_}"
            spark.sparkContext.setJobGroup(group, f"bench.gates {path} path, round {round_}")
            project = scratch / f"gx-{path}"
            started = time.perf_counter()
            for check in checks:
                check_started = time.perf_counter()
                report = run_check(
                    check,
                    spark=spark,
                    lake=lake,
                    history=history,
                    project=project,
                    engine=PATHS[path],
                    run=f"{path}{round_}",
                )
                per_check.setdefault((path, check.name), []).append(
                    time.perf_counter() - check_started
                )
                failed[(path, check.name)] = sorted(o.description or "" for o in report.failures)
            seconds[path].append(time.perf_counter() - started)
            jobs[path].append(len(tracker.getJobIdsForGroup(group)))
            print(
                f"round {round_ + 1} {path}: {seconds[path][-1]:6.1f} s, "
                f"{jobs[path][-1]:5d} Spark jobs, load {_load()}",
                flush=True,
            )
    load_after = _load()

    print()
    print(f"{'check':<50} {'engine':<7} {'old s':>7} {'new s':>7} {'same failures':>14}")
    for check in checks:
        old = statistics.median(per_check[("old", check.name)])
        new = statistics.median(per_check[("new", check.name)])
        same = failed[("old", check.name)] == failed[("new", check.name)]
        print(f"{check.name:<50} {engines[check.name]:<7} {old:7.2f} {new:7.2f} {same!s:>14}")
    old, new = statistics.median(seconds["old"]), statistics.median(seconds["new"])
    print()
    old_jobs, new_jobs = statistics.median(jobs["old"]), statistics.median(jobs["new"])
    print(f"all {len(checks)} checks, median of {args.repeat} rounds:")
    print(f"  old path (Spark reads, GX Spark engine): {old:7.1f} s, {old_jobs:5.0f} Spark jobs")
    print(f"  new path (engine=auto):                  {new:7.1f} s, {new_jobs:5.0f} Spark jobs")
    print(f"  ratio old/new: {old / new:.2f}x")
    print(f"load average before: {load_before}; after: {load_after}")
    return {
        "checks": len(checks),
        "old seconds": old,
        "new seconds": new,
        "ratio": old / new,
        "old jobs": old_jobs,
        "new jobs": new_jobs,
    }


if __name__ == "__main__":
    main()
    sys.exit(0)
