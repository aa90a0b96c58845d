"""Whole-pipeline throughput (workload W8): what `pilehouse run` materializes, in process, for the
web family (the registry cut down to its web sources) on a generated sample crawl in a scratch
PILEHOUSE_HOME, with docs, MB and seconds per step.

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
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:  # importing orchestration/spark_jobs must wait for the scratch home
    from spark_jobs.lake import Lake

# Everything the run writes goes under the scratch home: settings that point the lake,
# landing zone, sources, MLflow or Dagster elsewhere would make a benchmark write real tables.
REDIRECTING_ENV = (
    "DAGSTER_HOME",
    "PILEHOUSE_PROFILE",
    "PILEHOUSE_LAKE_URI",
    "PILEHOUSE_LANDING_URI",
    "PILEHOUSE_SOURCES_FILE",
    "PILEHOUSE_MLFLOW_TRACKING_URI",
    "PILEHOUSE_DAGSTER_POSTGRES_URL",
)
# The layer each asset layer is computed from; raw reads the source's landing files.
READS = {"annotated": "raw", "curated": "annotated"}


@dataclass(frozen=True)
class Volume:
    """What a step reads: landing records and file bytes, or table rows and their text bytes."""

    docs: int
    bytes: int


@dataclass(frozen=True)
class StepLine:
    job: str
    partition: str
    step: str
    seconds: float
    volume: Volume | None


def use_scratch_home(home: Path) -> None:
    """Point settings at `home` and nowhere else; call before importing orchestration."""
    for name in REDIRECTING_ENV:
        os.environ.pop(name, None)
    os.environ["PILEHOUSE_HOME"] = str(home)


def use_web_sources_only(registry: Path, home: Path) -> None:
    """Register only the web sources of `registry` (opt-out list included) for this process."""
    entries = yaml.safe_load(registry.read_text())
    entries["sources"] = {
        name: entry for name, entry in entries["sources"].items() if entry["corpus"] == "web"
    }
    web_only = home / "sources-web.yaml"
    web_only.write_text(yaml.safe_dump(entries, sort_keys=False))
    os.environ["PILEHOUSE_SOURCES_FILE"] = str(web_only)


class LakeVolumes:
    """Docs and bytes of each step's input, read from the committed tables and landing files."""

    def __init__(self, lake: Lake, sources: dict[str, Path]) -> None:
        from spark_jobs.analyst.sql import connect

        self.con = connect(lake)
        self.sources = sources  # source name -> landing folder

    def close(self) -> None:
        self.con.close()

    def _one(self, sql: str) -> tuple:
        return self.con.execute(sql).fetchone()

    def table(self, name: str, source: str = "") -> Volume:
        where = f"WHERE source = '{source}'" if source else ""
        docs, size = self._one(
            f"SELECT count(*), coalesce(sum(byte_length), 0) FROM {name} {where}"
        )
        return Volume(docs, size)

    def landing(self, corpus: str, source: str) -> Volume:
        """Input records of one source: every one ends in raw, ingest rejects or quarantine."""
        kept = self.table(f"raw.{corpus}", source).docs
        where = f"corpus = '{corpus}' AND source = '{source}'"
        skipped = self._one(f"SELECT count(*) FROM rejects WHERE {where} AND stage = 'ingest'")
        quarantined = self._one(f"SELECT count(*) FROM quarantine WHERE {where}")
        folder = self.sources[source]
        # Files named _* (the sample's _manifest.json) are not read by ingest.
        files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("_")]
        size = sum(p.stat().st_size for p in files)
        return Volume(kept + skipped[0] + quarantined[0], size)

    def of_step(self, step: str, partition: str) -> Volume | None:
        """What a step read: raw__web the landing files, annotated__web raw.web, curated__web
        annotated.web, a check such as curated__web_conservation the table it checks; MLflow
        and report steps get none."""
        layer, _, rest = step.partition("__")
        corpus, _, check = rest.partition("_")
        if layer not in ("raw", *READS):
            return None
        if check:
            return self.table(f"{layer}.{corpus}", partition)
        if layer == "raw":
            return self.landing(corpus, partition)
        return self.table(f"{READS[layer]}.{corpus}", partition)


def is_ingest(step: str) -> bool:
    """raw__web, not a check on it such as raw__web_raw_documents."""
    layer, _, corpus = step.partition("__")
    return layer == "raw" and "_" not in corpus


def render(lines: list[StepLine], cores: int, records: Volume, wall: float) -> str:
    row = "{:<16} {:<22} {:<40} {:>8} {:>7} {:>8} {:>8} {:>11}".format
    out = [row("job", "partition", "step", "docs in", "MB in", "seconds", "docs/s", "docs/s/core")]

    def numbers(volume: Volume | None, seconds: float) -> list[str]:
        if volume is None:
            return ["", "", f"{seconds:.1f}", "", ""]
        rate = volume.docs / seconds if seconds else float("nan")
        return [
            str(volume.docs),
            f"{volume.bytes / 1e6:.1f}",
            f"{seconds:.1f}",
            f"{rate:.1f}",
            f"{rate / cores:.1f}",
        ]

    for line in lines:
        out.append(row(line.job, line.partition, line.step, *numbers(line.volume, line.seconds)))
    steps = sum(line.seconds for line in lines)
    out.append(row("all", "", "sum of steps", *numbers(records, steps)))
    out.append(row("all", "", "end to end (wall clock)", *numbers(records, wall)))
    return "\n".join(line.rstrip() for line in out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--pages", type=int, help="web sample size (responses; default 2000)")
    parser.add_argument("--quick", action="store_true", help="200 pages")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the scratch PILEHOUSE_HOME")
    args = parser.parse_args(argv)
    if args.pages is None:
        args.pages = 200 if args.quick else 2000

    home = Path(tempfile.mkdtemp(prefix="pilehouse-bench-"))
    use_scratch_home(home)
    figures: dict[str, float] = {}
    try:
        figures = _run(args)
    finally:
        if args.keep or not figures:  # a failed run's event log and tables are the evidence
            print(f"\nscratch home kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    return figures


def _run(args: argparse.Namespace) -> dict[str, float]:
    import dagster as dg

    from orchestration.instance import prepare_dagster_home
    from orchestration.pipeline import materialize_all
    from orchestration.resources import registered_sources
    from orchestration.run_summary import step_durations
    from orchestration.settings import load_settings
    from spark_jobs.lake import CORPORA, Lake
    from spark_jobs.samples.web import generate_web_sample
    from spark_jobs.session import get_spark

    defaults = load_settings()
    use_web_sources_only(defaults.sources_file, defaults.home)
    settings = load_settings()
    prepare_dagster_home(settings)
    for source in registered_sources(settings, "web"):
        started = time.monotonic()
        generate_web_sample(source.location, pages=args.pages, seed=args.seed)
        took = time.monotonic() - started
        print(f"sample crawl: {args.pages} pages into {source.location} in {took:.1f} s")

    # Started before the clock so the JVM start is reported apart from the first step.
    started = time.monotonic()
    get_spark(settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout)
    spark_seconds = time.monotonic() - started

    instance = dg.DagsterInstance.get()
    started = time.monotonic()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    results = materialize_all(instance, settings, run_config=quiet)
    wall = time.monotonic() - started
    failed = [r.run_id for r in results if not r.success]
    if failed:
        raise RuntimeError(f"runs failed: {', '.join(failed)}")

    sources = {
        source.name: Path(source.location)
        for corpus in CORPORA
        for source in registered_sources(settings, corpus)
    }
    volumes = LakeVolumes(Lake(settings.lake_uri, settings.store), sources)
    try:
        lines = []
        for result in results:
            partition = result.dagster_run.tags.get("dagster/partition", "")
            for step, seconds in step_durations(instance, result.run_id).items():
                volume = volumes.of_step(step, partition)
                lines.append(
                    StepLine(result.dagster_run.job_name, partition, step, seconds, volume)
                )
        ingests = [line.volume for line in lines if is_ingest(line.step) and line.volume]
        records = Volume(sum(v.docs for v in ingests), sum(v.bytes for v in ingests))
    finally:
        volumes.close()

    cores = os.cpu_count() or 1
    print()
    print(
        f"W8 pipeline: web sample crawl of {args.pages} pages (seed {args.seed}), web sources "
        f"only; {len(results)} Dagster runs in process; Spark "
        f"{settings.spark_master}, {cores} cores (os.cpu_count)"
    )
    print(f"Spark session start: {spark_seconds:.1f} s (before the clock, not in any step)")
    print("docs in: landing records (raw__*), else rows of the table the step reads;")
    print("MB in: landing file bytes (raw__*), else UTF-8 text bytes of those rows")
    print()
    print(render(lines, cores, records, wall))
    steps = sum(line.seconds for line in lines)
    return {
        "pages": args.pages,
        "docs in": records.docs,
        "spark session start s": spark_seconds,
        "end to end seconds": wall,
        "end to end docs/s/core": records.docs / wall / cores,
        "sum of steps docs/s/core": records.docs / steps / cores if steps else float("nan"),
    }


if __name__ == "__main__":
    main()
    sys.exit(0)
