"""Materialize everything on the embedded default: every registered source, then curation."""

from __future__ import annotations

import logging

import dagster as dg

from assets.corpus import corpus_keys, source_partitions
from assets.dedup import BENCHMARK_ITEMS, DECONTAMINATION_FLAGS, DEDUP_CLUSTERS
from assets.reports import CORPUS_REPORT
from assets.training import CURATED_RUN
from orchestration.definitions import defs
from orchestration.jobs import CURATE_JOB, ingest_job_name
from orchestration.resources import registered_sources
from orchestration.settings import Settings
from spark_jobs.lake import CORPORA

log = logging.getLogger(__name__)
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


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


def materialize_all(
    instance: dg.DagsterInstance, settings: Settings, *, run_config: dict | None = None
) -> list[dg.ExecuteInProcessResult]:
    """One ingest run per registered source, then one curation run for every family that has
    sources (curated tables, their blocking checks, the MLflow lineage run, the report).

    Stops before curation if an ingest run fails; returns every run's result in order.
    """
    run_config = run_config if run_config is not None else QUIET_LOGS
    sources = sync_source_partitions(instance, settings)
    results = []
    for corpus, names in sources.items():
        job = defs.resolve_job_def(ingest_job_name(corpus))
        for name in names:
            log.info("ingesting %s source %s", corpus, name)
            result = job.execute_in_process(
                instance=instance, partition_key=name, raise_on_error=False, run_config=run_config
            )
            results.append(result)
            if not result.success:
                return results
    selection = [
        BENCHMARK_ITEMS,
        *[corpus_keys(corpus)[2] for corpus in sources],
        DEDUP_CLUSTERS,
        DECONTAMINATION_FLAGS,
        CURATED_RUN,
    ]
    if "web" in sources:  # the corpus report reads curated.web
        selection.append(CORPUS_REPORT)
    results.append(
        defs.resolve_job_def(CURATE_JOB).execute_in_process(
            instance=instance,
            asset_selection=selection,
            raise_on_error=False,
            run_config=run_config,
        )
    )
    return results
