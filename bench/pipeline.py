"""Whole-pipeline throughput (workload W8): the Dagster job `web_pipeline` in process, on a
generated sample crawl in a scratch PILEHOUSE_HOME, with docs, MB and seconds per step.

    python -m bench.pipeline --pages 2000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Everything the run writes goes under the scratch home: settings that point the lake,
# landing zone, MLflow or Dagster elsewhere would make a benchmark write into real tables.
REDIRECTING_ENV = (
    "DAGSTER_HOME",
    "PILEHOUSE_PROFILE",
    "PILEHOUSE_LAKE_URI",
    "PILEHOUSE_LANDING_URI",
    "PILEHOUSE_MLFLOW_TRACKING_URI",
    "PILEHOUSE_DAGSTER_POSTGRES_URL",
)
# What each step reads: a lake table, or "landing" for the WARC files.
STEP_INPUTS = {
    "raw__web": "landing",
    "annotated__web": "raw.web",
    "curated__web": "annotated.web",
    "curated__web_curated_documents": "curated.web",  # the blocking GX check
    "training__curated_web_run": "curated.web",
}
STEP_STAGES = {
    "raw__web": "ingest",
    "annotated__web": "annotate",
    "curated__web": "curate",
    "curated__web_curated_documents": "validate",
    "training__curated_web_run": "mlflow",
}


@dataclass(frozen=True)
class Volume:
    """Documents and bytes a step reads: WARC records and file bytes, or rows and text bytes."""

    docs: int
    bytes: int


@dataclass(frozen=True)
class StepLine:
    stage: str
    step: str
    volume: Volume | None
    seconds: float


def use_scratch_home(home: Path) -> None:
    """Point settings at `home` and nowhere else; call before importing orchestration."""
    for name in REDIRECTING_ENV:
        os.environ.pop(name, None)
    os.environ["PILEHOUSE_HOME"] = str(home)


def input_volumes(lake, landing: Path) -> dict[str, Volume]:
    """Docs and bytes of every step input, read from the committed tables."""
    from orchestration.sql import connect

    con = connect(lake)
    try:
        records = con.execute(
            "SELECT (SELECT count(*) FROM raw.web)"
            " + (SELECT count(*) FROM rejects WHERE stage = 'ingest')"
            " + (SELECT count(*) FROM quarantine)"
        ).fetchone()[0]
        warc_bytes = sum(p.stat().st_size for p in landing.rglob("*.warc.gz"))
        volumes = {"landing": Volume(records, warc_bytes)}
        for name in ("raw.web", "annotated.web", "curated.web"):
            docs, size = con.execute(
                f"SELECT count(*), coalesce(sum(byte_length), 0) FROM {name}"
            ).fetchone()
            volumes[name] = Volume(docs, size)
        return volumes
    finally:
        con.close()


def render(lines: list[StepLine], cores: int, job_seconds: float, spark_seconds: float) -> str:
    header = (
        f"{'stage':<9} {'step':<31} {'docs in':>8} {'MB in':>7} {'seconds':>8} "
        f"{'docs/s':>8} {'docs/s/core':>11}"
    )
    out = [header]

    def row(stage: str, step: str, volume: Volume | None, seconds: float) -> str:
        if volume is None:
            return f"{stage:<9} {step:<31} {'':>8} {'':>7} {seconds:>8.1f}"
        rate = volume.docs / seconds if seconds else float("nan")
        return (
            f"{stage:<9} {step:<31} {volume.docs:>8} {volume.bytes / 1e6:>7.1f} "
            f"{seconds:>8.1f} {rate:>8.1f} {rate / cores:>11.1f}"
        )

    for line in lines:
        out.append(row(line.stage, line.step, line.volume, line.seconds))
    first = next((line.volume for line in lines if line.step == "raw__web"), None)
    steps_total = sum(line.seconds for line in lines)
    out.append(row("all", "sum of steps", first, steps_total))
    out.append(row("all", "end to end (job wall clock)", first, job_seconds))
    out.append(row("all", "end to end + Spark start", first, job_seconds + spark_seconds))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--pages", type=int, default=2000, help="sample crawl size (responses)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the scratch PILEHOUSE_HOME")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="pilehouse-bench-"))
    use_scratch_home(home)
    try:
        return _run(args, home)
    finally:
        if args.keep:
            print(f"\nscratch home kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _run(args: argparse.Namespace, home: Path) -> int:
    import dagster as dg

    from orchestration.cli import ensure_sample_corpus
    from orchestration.definitions import WEB_PIPELINE, defs
    from orchestration.instance import prepare_dagster_home
    from orchestration.report import step_durations
    from orchestration.settings import load_settings
    from spark_jobs.lake import Lake
    from spark_jobs.session import get_spark

    settings = load_settings()
    prepare_dagster_home(settings)
    landing = ensure_sample_corpus(settings, pages=args.pages, seed=args.seed, regenerate=True)

    # Started before the clock so the JVM start (~10 s) is reported apart from the first step.
    started = time.monotonic()
    get_spark(settings.spark_master, conf=settings.spark_conf)
    spark_seconds = time.monotonic() - started

    instance = dg.DagsterInstance.get()
    started = time.monotonic()
    result = defs.resolve_job_def(WEB_PIPELINE).execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    job_seconds = time.monotonic() - started
    if not result.success:
        print(
            f"run {result.run_id} failed; see the Dagster event log under {home}", file=sys.stderr
        )
        args.keep = True  # the event log and tables are the evidence
        return 1

    volumes = input_volumes(Lake(settings.lake_uri, settings.store), landing)
    lines = []
    for step, seconds in step_durations(instance, result.run_id).items():
        source = STEP_INPUTS.get(step)
        lines.append(StepLine(STEP_STAGES.get(step, "?"), step, volumes.get(source or ""), seconds))
    cores = os.cpu_count() or 1
    print()
    print(
        f"W8 pipeline: {args.pages} sample pages (seed {args.seed}), Spark "
        f"{settings.spark_master}, {cores} cores (os.cpu_count); Spark session start "
        f"{spark_seconds:.1f} s, not in the steps"
    )
    print("docs in: WARC records (ingest), else rows of the table the step reads;")
    print("MB in: compressed WARC bytes (ingest), else UTF-8 text bytes of those rows")
    print()
    print(render(lines, cores, job_seconds, spark_seconds))
    print()
    out = ", ".join(f"{name} {v.docs}" for name, v in volumes.items() if name != "landing")
    print(f"rows written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
