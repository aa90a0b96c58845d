"""Time from a newly landed WARC to curated, checked tables (issue 19: a 100-page WARC in <= 60 s
of run time).

A home as `make run` leaves it (the bundled samples of every family ingested and curated), then
one new WARC of `--pages` responses lands in the sample crawl's location. What the deployed
product does next is reproduced run by run, in this process, on the same Dagster instance:

1. one tick of the landing sensor (`landing_requests`, no settle time): it must request exactly
   one ingest run, of the new file only;
2. that ingest run, with the sensor's partition and run config (raw.web and annotated.web of
   the sample crawl, the new file's rows appended);
3. the curation run `pilehouse run` ends with (curated tables of every family, their blocking
   checks, dedup and decontamination, the lineage run, the report); in the UI, automation
   starts the same assets once the ingest run's checks pass.

"run time" is the wall time of runs 2 and 3; the sensor's and automation's tick intervals are
not included (they are settings, 30 s by default). The script then checks that the new file's
kept pages are in curated.web (or in a reject table with a reason) and that every asset check
of both runs passed.

    python -m bench.landing_latency                 # 100 pages
    python -m bench.landing_latency --pages 400 --keep
    python -m bench.landing_latency --quick         # a smaller base home
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1/5/15 min, {os.cpu_count()} cores)"


def _checks_passed(result) -> tuple[int, int]:
    evaluations = result.get_asset_check_evaluations()
    return sum(1 for e in evaluations if e.passed), len(evaluations)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """The figures (`bench.run_all` reads them): seconds per run, pages, checks passed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100, help="responses in the new WARC")
    parser.add_argument("--sample-pages", type=int, help="the base home's sample size")
    parser.add_argument("--keep", action="store_true", help="keep the scratch PILEHOUSE_HOME")
    parser.add_argument(
        "--quick", action="store_true", help="a smaller base home (200 sample pages)"
    )
    args = parser.parse_args(argv)
    if args.quick and args.sample_pages is None:
        args.sample_pages = 200

    scratch = Path(tempfile.mkdtemp(prefix="pilehouse-landing-latency-"))
    os.environ["PILEHOUSE_HOME"] = str(scratch / "home")
    for name in ("PILEHOUSE_SOURCES_FILE", "DAGSTER_HOME", "PILEHOUSE_LAKE_URI"):
        os.environ.pop(name, None)
    try:
        return _measure(args, scratch)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def _measure(args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    import dagster as dg
    import pyarrow.compute as pc

    from orchestration.definitions import defs
    from orchestration.instance import prepare_dagster_home
    from orchestration.pipeline import QUIET_LOGS, materialize_all, spark_output_to
    from orchestration.sensors import landing_requests
    from orchestration.settings import load_settings
    from spark_jobs.delta import read_arrow
    from spark_jobs.lake import Lake
    from spark_jobs.samples.bundled import ensure_samples
    from spark_jobs.samples.web import generate_web_sample
    from spark_jobs.session import get_spark

    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    prepare_dagster_home(settings)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    print(f"load before: {_load()}")
    ensure_samples(
        settings.landing_uri,
        pages=args.sample_pages or settings.sample_pages,
        seed=settings.sample_seed,
        regenerate=False,
    )
    spark_log = settings.home / "logs" / "spark.log"
    print(f"Spark's log: {spark_log}")
    # Timed as `pilehouse run` times itself: from the Spark session's start to the last run.
    started = time.monotonic()
    with spark_output_to(spark_log):
        get_spark(settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout)
    instance = dg.DagsterInstance.get()
    base = materialize_all(instance, settings, run_config=QUIET_LOGS)
    if not all(r.success for r in base):
        raise SystemExit("the base home's pipeline failed; see its Dagster runs (--keep)")
    base_seconds = time.monotonic() - started
    print(
        f"base home (`make run`'s pipeline, Spark start included): {len(base)} runs in "
        f"{base_seconds:.1f} s"
    )

    # A new WARC: generated apart (its own seed, so its pages are new), moved in as one file.
    generated = scratch / "new-crawl"
    generate_web_sample(generated, pages=args.pages, files=1, seed=20261205)
    (warc,) = sorted(generated.glob("*.warc.gz"))
    landing = Path(settings.landing_uri) / "web" / "sample-crawl"
    new_name = f"landed-{args.pages}-pages.warc.gz"
    shutil.move(str(warc), landing / new_name)
    size = (landing / new_name).stat().st_size
    print(f"landed {new_name}: {args.pages} responses, {size / 1e6:.2f} MB")

    tick = landing_requests(instance, None, settings, settle_seconds=0)
    requests = tick.run_requests
    files = [r.run_config["ops"]["raw__web"]["config"]["files"] for r in requests]
    if files != [[new_name]]:
        raise SystemExit(
            f"the landing sensor requested {files}, expected one run of [{new_name!r}]"
        )
    (request,) = requests

    started = time.monotonic()
    ingest = defs.resolve_job_def(request.job_name).execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        run_config={**request.run_config, **QUIET_LOGS},
        tags=request.tags,
        raise_on_error=False,
    )
    ingest_seconds = time.monotonic() - started
    started = time.monotonic()
    curate = materialize_all(instance, settings, run_config=QUIET_LOGS, ingest=False)
    curate_seconds = time.monotonic() - started
    total = ingest_seconds + curate_seconds
    print(f"load after: {_load()}")

    lake = Lake(settings.lake_uri, settings.store)
    raw = read_arrow(lake.uri("raw.web"), columns=["id", "warc_file"])
    new_ids = raw.filter(pc.ends_with(raw["warc_file"], new_name))["id"]
    curated_ids = read_arrow(lake.uri("curated.web"), columns=["id"])["id"]
    in_curated = pc.sum(pc.is_in(new_ids, curated_ids)).as_py() or 0
    counts = [_checks_passed(r) for r in (ingest, *curate)]
    passed, checks = sum(p for p, _ in counts), sum(n for _, n in counts)
    ok = ingest.success and all(r.success for r in curate) and passed == checks
    print()
    print(f"{'step':34} seconds")
    print(f"{'ingest run (raw + annotated)':34} {ingest_seconds:7.1f}")
    print(f"{'curation run (curated + checks)':34} {curate_seconds:7.1f}")
    print(f"{'run time, landed -> curated':34} {total:7.1f}")
    print(
        f"new file: {len(new_ids)} kept pages in raw.web, {in_curated} of them in curated.web "
        f"(the rest rejected with a reason); asset checks passed: {passed} of {checks}; "
        f"runs {'succeeded' if ok else 'FAILED'}"
    )
    verdict = "met" if ok and total <= TARGET_SECONDS else "not met"
    print(f"target: run time <= {TARGET_SECONDS:.0f} s: {verdict} ({total:.1f} s)")
    return {
        "base run s": base_seconds,
        "pages landed": args.pages,
        "ingest run s": ingest_seconds,
        "curation run s": curate_seconds,
        "run seconds": total,
        "new pages in curated.web": in_curated,
        "checks failed": checks - passed,
        "runs succeeded": int(ingest.success and all(r.success for r in curate)),
    }


if __name__ == "__main__":
    figures = main()
    raise SystemExit(0 if figures["runs succeeded"] and not figures["checks failed"] else 1)
