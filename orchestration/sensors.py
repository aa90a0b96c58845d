"""Sensors: the source registry turns into dynamic partitions and ingest runs, without a deploy."""

import dagster as dg

from assets.corpus import source_partitions
from orchestration.jobs import ingest_job_name, ingest_jobs
from orchestration.resources import registered_sources
from orchestration.settings import load_settings
from spark_jobs.lake import CORPORA


def new_source_requests(instance: dg.DagsterInstance) -> dg.SensorResult:
    """Partitions for registry entries Dagster does not know yet, and one ingest run each."""
    settings = load_settings()
    partition_requests, run_requests = [], []
    for corpus in CORPORA:
        partitions = source_partitions(corpus)
        known = set(instance.get_dynamic_partitions(partitions.name))
        new = [s.name for s in registered_sources(settings, corpus) if s.name not in known]
        if new:
            partition_requests.append(partitions.build_add_request(new))
            run_requests += [
                dg.RunRequest(job_name=ingest_job_name(corpus), partition_key=name) for name in new
            ]
    return dg.SensorResult(
        run_requests=run_requests, dynamic_partitions_requests=partition_requests
    )


@dg.sensor(
    name="source_registry_sensor",
    description="Adds a partition for every new entry in the source registry and ingests it.",
    minimum_interval_seconds=60,
    jobs=list(ingest_jobs.values()),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def source_registry_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    return new_source_requests(context.instance)
