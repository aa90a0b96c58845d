"""Materialize everything on the embedded default: every registered source, then curation.

`python -m orchestration.pipeline` is the worker `pilehouse run` starts and stops: it
generates the sample corpus if needed, runs everything in one process (one Spark session)
and prints the summary.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from assets.corpus import corpus_keys, source_partitions
from assets.dedup import BENCHMARK_ITEMS, DECONTAMINATION_FLAGS, DEDUP_CLUSTERS
from assets.reports import CORPUS_REPORT
from assets.training import CURATED_RUN
from orchestration.definitions import defs
from orchestration.jobs import CURATE_JOB, ingest_job_name
from orchestration.progress import RunProgress, line_buffered_output
from orchestration.resources import registered_sources
from orchestration.settings import Settings, load_settings
from spark_jobs.lake import CORPORA

if TYPE_CHECKING:
    from pyspark import SparkContext

log = logging.getLogger(__name__)
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
# With live progress on the terminal, Dagster's console says only what went wrong.
TERSE_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def sync_source_partitions(
    instance: dg.DagsterInstance, settings: Settings
) -> dict[str, list[str]]:
    """Add a dynamic partition for every registered source; return the sources per family."""
    sources = {}
    for corpus in CORPORA:
        names = [s.name for s in registered_sources(settings, corpus)]
        partitions = source_partitions(corpus)
        known = set(instance.get_dynamic_partitions(partitions.name))
        missing = [n for n in names if n not in known]
        if missing:
            instance.add_dynamic_partitions(partitions.name, missing)
        if names:
            sources[corpus] = names
    return sources


def bundled_sample_sources(settings: Settings) -> set[str]:
    """Registered sources that read one of the bundled sample corpora's landing folders."""
    from spark_jobs.samples.bundled import SAMPLES

    landing = settings.landing_uri.rstrip("/")
    folders = [f"{landing}/{sample.folder}" for sample in SAMPLES]
    return {
        source.name
        for corpus in CORPORA
        for source in registered_sources(settings, corpus)
        if any(f"{source.location.rstrip('/')}/".startswith(f"{f}/") for f in folders)
    }


def _execute(
    job: dg.JobDefinition,
    progress: RunProgress | None,
    instance: dg.DagsterInstance,
    label: str,
    **kwargs,
) -> dg.ExecuteInProcessResult:
    """One run in this process, followed live by `progress` when given."""
    if progress is None:
        return job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    with progress.follow(instance, label) as run_id:
        return job.execute_in_process(
            instance=instance, raise_on_error=False, run_id=run_id, **kwargs
        )


def materialize_all(
    instance: dg.DagsterInstance,
    settings: Settings,
    *,
    run_config: dict | None = None,
    progress: RunProgress | None = None,
    ingest: bool = True,
    curate: bool = True,
    skip_sources: set[str] | frozenset[str] = frozenset(),
) -> list[dg.ExecuteInProcessResult]:
    """One ingest run per registered source, then one curation run for every family that has
    sources (curated tables, their blocking checks, the MLflow lineage run, the report).

    `ingest=False` curates what is already ingested (the families with an annotated table);
    `skip_sources` leaves registered sources out (the bundled samples, for --no-samples).
    Stops before curation if an ingest run fails; returns every run's result in order.
    """
    run_config = run_config if run_config is not None else QUIET_LOGS
    sources = {
        corpus: kept
        for corpus, names in sync_source_partitions(instance, settings).items()
        if (kept := [n for n in names if n not in skip_sources])
    }
    results = []
    for corpus, names in sources.items() if ingest else ():
        job = defs.resolve_job_def(ingest_job_name(corpus))
        for name in names:
            log.info("ingesting %s source %s", corpus, name)
            result = _execute(
                job,
                progress,
                instance,
                f"{job.name} {name}",
                partition_key=name,
                run_config=run_config,
            )
            results.append(result)
            if not result.success:
                return results
    if not curate:
        return results
    families = list(sources) if ingest else ingested_families(settings)
    if not families:
        return results
    selection = [
        BENCHMARK_ITEMS,
        *[corpus_keys(corpus)[2] for corpus in families],
        DEDUP_CLUSTERS,
        DECONTAMINATION_FLAGS,
        CURATED_RUN,
    ]
    if "web" in families:  # the corpus report reads curated.web
        selection.append(CORPUS_REPORT)
    results.append(
        _execute(
            defs.resolve_job_def(CURATE_JOB),
            progress,
            instance,
            CURATE_JOB,
            asset_selection=selection,
            run_config=run_config,
        )
    )
    return results


def ingested_families(settings: Settings) -> list[str]:
    """The families whose annotated table exists: what `pilehouse curate` can select from."""
    from spark_jobs.delta import table_exists
    from spark_jobs.lake import Lake, document_tables

    lake = Lake(settings.lake_uri, settings.store)
    return [c for c in CORPORA if table_exists(lake.uri(document_tables(c)[1]), lake.store)]


def _stop_on_signal(wound_down: threading.Event, grace: float = 2.0) -> None:
    """On SIGINT or SIGTERM, cancel the running Spark jobs at once; if the worker has not
    wound down `grace` seconds later, stop Spark and exit (`pilehouse run` then marks the
    run CANCELED).

    The interrupt normally ends the run itself (Dagster raises it in the step; the run is
    CANCELED because `pilehouse run` marked it canceling first), but pyspark makes one more
    call into the JVM on the way out, which waits for the current Spark job; and a signal
    that lands while Dagster holds interrupts back (between steps, while a step waits out
    its retry delay) is only raised when the next step starts. Signal handlers run in the
    main thread and Dagster swaps its own in around every step, so a thread reads the
    signal numbers from the wakeup fd, which is written whichever handler is in place.
    """
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)

    def watch() -> None:
        while not {signal.SIGINT, signal.SIGTERM} & set(os.read(read, 64)):
            pass
        context = _spark_context()
        if context is not None:
            context.cancelAllJobs()
        if wound_down.wait(grace):
            return
        with contextlib.suppress(Exception):
            _stop_spark()
        print("pilehouse run: stopped; Spark stopped", file=sys.stderr, flush=True)
        os._exit(130)

    threading.Thread(target=watch, name="stop-on-signal", daemon=True).start()


def _spark_context() -> SparkContext | None:
    """This process's SparkContext, if one was started (without importing pyspark)."""
    if "pyspark" not in sys.modules:
        return None
    from pyspark import SparkContext

    return SparkContext._active_spark_context


def _stop_spark() -> None:
    """Stop this process's Spark session, if there is one (its JVM exits with it)."""
    context = _spark_context()
    if context is not None:
        context.stop()


def _print_report(
    instance: dg.DagsterInstance,
    settings: Settings,
    results: list[dg.ExecuteInProcessResult],
    elapsed: float,
    progress: RunProgress,
) -> None:
    from orchestration.run_summary import render_summary, step_durations
    from spark_jobs.lake import Lake

    localhost = "127.0.0.1"
    success = all(r.success for r in results)
    durations: dict[str, float] = {}
    for result in results:
        for step, seconds in step_durations(instance, result.run_id).items():
            durations[step] = durations.get(step, 0.0) + seconds
    print()
    print(
        f"== Pilehouse: {len(results)} runs, {'SUCCESS' if success else 'FAILURE'} "
        f"in {elapsed:.1f} s =="
    )
    progress.render_table()
    print()
    print(render_summary(Lake(settings.lake_uri, settings.store), durations))
    print()
    print("next:")
    print(f"  Dagster UI  .venv/bin/pilehouse ui         then open http://{localhost}:3000")
    print(f"  MLflow UI   .venv/bin/pilehouse mlflow-ui  then open http://{localhost}:5000")
    print('  SQL         .venv/bin/pilehouse sql "SELECT reason, count(*) FROM rejects GROUP BY 1"')
    print("  catalog     .venv/bin/pilehouse catalog     (tables, columns, versions, sizes)")
    print("  status      .venv/bin/pilehouse status      (ingested, curated, failing, queued)")
    print(f"  report      {settings.lake_uri}/_reports/corpus/  (HTML, also linked in the UI)")


@contextlib.contextmanager
def spark_output_to(log_file: Path | None):
    """Start Spark with its JVM's output (log4j warnings, Python worker noise) going to
    `log_file` instead of the terminal: the JVM inherits this process's stderr at launch."""
    if log_file is None:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log_file, "ab") as target:
        os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    """Sample corpus, every ingest run, the curation run, the summary; 130 when stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, help="sample corpus size")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the sample corpus")
    parser.add_argument(
        "--no-samples",
        action="store_true",
        help="neither generate nor ingest the bundled sample corpora (your own registry only)",
    )
    parser.add_argument(
        "--curate-only", action="store_true", help="no ingest: curate what is already ingested"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="Spark's and Dagster's logs on the terminal"
    )
    args = parser.parse_args(argv)
    line_buffered_output()

    from orchestration.instance import prepare_dagster_home

    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    prepare_dagster_home(settings)
    wound_down = threading.Event()
    _stop_on_signal(wound_down)
    if args.curate_only and not ingested_families(settings):
        print(
            f"nothing to curate: no annotated table in {settings.lake_uri}; ingest first "
            "(pilehouse run, or pilehouse backfill FAMILY)",
            file=sys.stderr,
        )
        return 2
    spark_log = None if args.verbose else settings.home / "logs" / "spark.log"
    progress = RunProgress()
    try:
        if not (args.no_samples or args.curate_only):
            from spark_jobs.samples.bundled import ensure_samples

            ensure_samples(
                settings.landing_uri,
                pages=args.pages or settings.sample_pages,
                seed=settings.sample_seed,
                regenerate=args.regenerate,
                store=settings.store,
            )
        started = time.monotonic()
        # The session every run reuses, started outside any run: created inside a step,
        # pyspark would put its own SIGINT handler (cancel the Spark jobs, raise) in place of
        # Dagster's for that step, and the step would fail like any error and wait out its
        # retry delay instead of ending the run as canceled.
        from spark_jobs.session import get_spark

        if spark_log is not None:
            print(f"Spark's log: {spark_log} (--verbose shows it here)")
        with spark_output_to(spark_log):
            get_spark(settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout)
        instance = dg.DagsterInstance.get()
        results = materialize_all(
            instance,
            settings,
            run_config=QUIET_LOGS if args.verbose else TERSE_LOGS,
            progress=progress,
            ingest=not args.curate_only,
            skip_sources=bundled_sample_sources(settings) if args.no_samples else frozenset(),
        )
        # An interrupt inside a run ends that run (CANCELED when `pilehouse run` asked for it)
        # and materialize_all stops there; do not print a summary of a stopped pipeline.
        if any(_canceled(instance, r.run_id) for r in results):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        print("pilehouse run: stopped", file=sys.stderr)
        return 130
    finally:
        wound_down.set()
        _stop_spark()
    if not results:
        print(
            f"nothing to do: no registered source to ingest ({settings.sources_file})",
            file=sys.stderr,
        )
        return 2
    _print_report(instance, settings, results, time.monotonic() - started, progress)
    return 0 if all(r.success for r in results) else 1


def _canceled(instance: dg.DagsterInstance, run_id: str) -> bool:
    run = instance.get_run_by_id(run_id)
    return run is not None and run.status == dg.DagsterRunStatus.CANCELED


if __name__ == "__main__":
    sys.exit(main())
