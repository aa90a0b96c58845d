"""`pilehouse status`: what is ingested, curated, failing and queued, read from the lake's
Delta logs and the Dagster instance (no Spark, no data file read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg

from orchestration.settings import Settings
from spark_jobs.lake import CORPORA, Lake, document_tables

# Runs looked at for "the latest run of each job and partition".
RECENT_RUNS = 500
WAITING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


@dataclass(frozen=True)
class TableState:
    name: str
    version: int
    rows: int
    updated_at: datetime


@dataclass(frozen=True)
class SourceState:
    corpus: str
    name: str
    ingested_at: datetime | None  # the partition's latest raw materialization
    last_run: str | None  # status of the latest ingest run of the partition


@dataclass
class LakeStatus:
    tables: dict[str, TableState] = field(default_factory=dict)
    sources: list[SourceState] = field(default_factory=list)
    failing_runs: list[dg.DagsterRun] = field(default_factory=list)
    failing_checks: list[str] = field(default_factory=list)
    waiting_runs: list[dg.DagsterRun] = field(default_factory=list)
    backfills: list[str] = field(default_factory=list)


def _tables(lake: Lake) -> dict[str, TableState]:
    from spark_jobs.analyst.catalog import describe_table
    from spark_jobs.delta import table_exists

    states = {}
    for corpus in CORPORA:
        for name in document_tables(corpus):
            if table_exists(lake.uri(name), lake.store):
                info = describe_table(lake, name)
                states[name] = TableState(name, info.version, info.rows, info.updated_at)
    return states


def _latest_per_job(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """The newest finished run of each (job, partition), newest first."""
    seen, latest = set(), []
    finished = dg.RunsFilter(statuses=list(FINISHED))
    for run in instance.get_runs(filters=finished, limit=RECENT_RUNS):
        key = (run.job_name, run.tags.get("dagster/partition"))
        if key not in seen:
            seen.add(key)
            latest.append(run)
    return latest


def _failed_checks(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed:
            failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return failed


def collect_status(settings: Settings, instance: dg.DagsterInstance) -> LakeStatus:
    """The lake's tables, every registered source's ingest, what failed last, what waits."""
    from orchestration.resources import registered_sources

    status = LakeStatus(tables=_tables(Lake(settings.lake_uri, settings.store)))
    latest = _latest_per_job(instance)
    by_partition = {
        (run.job_name, run.tags.get("dagster/partition")): run.status.value for run in latest
    }
    for corpus in CORPORA:
        # The raw table's asset key and ingest job, named here so that status does not load
        # the asset graph (assets.corpus.corpus_keys, orchestration.jobs.ingest_job_name).
        raw_key = dg.AssetKey(document_tables(corpus)[0].split("."))
        for source in registered_sources(settings, corpus):
            found = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=raw_key, asset_partitions=[source.name]), limit=1
            ).records
            at = datetime.fromtimestamp(found[0].timestamp, UTC) if found else None
            last = by_partition.get((f"ingest_{corpus}", source.name))
            status.sources.append(SourceState(corpus, source.name, at, last))
    for run in latest:
        if run.status == dg.DagsterRunStatus.FAILURE:
            status.failing_runs.append(run)
        if run.status != dg.DagsterRunStatus.CANCELED:
            status.failing_checks += _failed_checks(instance, run)
    status.waiting_runs = list(instance.get_runs(filters=dg.RunsFilter(statuses=WAITING)))
    from dagster._core.execution.backfill import BulkActionStatus

    for backfill in instance.get_backfills(status=BulkActionStatus.REQUESTED):
        status.backfills.append(f"{backfill.backfill_id} ({backfill.job_name or 'assets'})")
    return status


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def render_status(status: LakeStatus) -> str:
    """Plain text, one section each: ingested, curated, failing, queued."""
    out = ["ingested:"]
    row = "  {:<9} {:<26} {:<24} {}".format
    if not status.sources:
        out.append("  no registered source")
    for source in status.sources:
        out.append(
            row(
                source.corpus,
                source.name,
                _when(source.ingested_at),
                f"last run {source.last_run}" if source.last_run else "never run",
            )
        )
    out.append("")
    out.append("tables:")
    table = "  {:<18} {:>7} {:>12}  {}".format
    out.append(table("table", "version", "rows", "updated"))
    for corpus in CORPORA:
        for name in document_tables(corpus):
            state = status.tables.get(name)
            if state is None:
                out.append(table(name, "-", "-", "not written yet"))
            else:
                out.append(
                    table(name, f"v{state.version}", f"{state.rows:,}", _when(state.updated_at))
                )
    out.append("")
    out.append("failing:")
    if not (status.failing_runs or status.failing_checks):
        out.append("  nothing: the latest run of every job succeeded, every check passed")
    for run in status.failing_runs:
        partition = run.tags.get("dagster/partition")
        out.append(
            f"  run {run.run_id[:8]} {run.job_name}{f' {partition}' if partition else ''} FAILED"
        )
    for check in status.failing_checks:
        out.append(f"  check {check} failed")
    out.append("")
    out.append("queued or running:")
    if not (status.waiting_runs or status.backfills):
        out.append("  nothing")
    for run in status.waiting_runs:
        partition = run.tags.get("dagster/partition")
        out.append(
            f"  run {run.run_id[:8]} {run.job_name}{f' {partition}' if partition else ''} "
            f"{run.status.value}"
        )
    for backfill in status.backfills:
        out.append(f"  backfill {backfill} requested")
    return "\n".join(out)
