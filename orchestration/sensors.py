"""Sensors: new registry entries and new landing files become partitions and ingest runs;
failed runs become rows of ops.run_failures."""

import logging
from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa
from dagster_shared.error import SerializableErrorInfo

from assets.corpus import source_partitions
from orchestration.jobs import ingest_job_name, ingest_jobs
from orchestration.resources import registered_sources
from orchestration.settings import Settings, load_settings
from spark_jobs.delta import write_arrow
from spark_jobs.lake import CORPORA, Lake
from spark_jobs.landing import (
    LandingCursor,
    ingest_units,
    ingested_files,
    key_digest,
    run_key,
    scan_source,
)

log = logging.getLogger(__name__)

RUN_FAILURES_TABLE = "ops.run_failures"
# Landing-sensor defaults: a tick lists at most MAX_KEYS_PER_TICK keys in pages of
# PAGE_SIZE (the S3 maximum), and a file must be SETTLE_SECONDS old to be ingested.
PAGE_SIZE = 1000
MAX_KEYS_PER_TICK = 10_000
SETTLE_SECONDS = 10.0
MAX_FILES_PER_RUN = 500
LANDING_INTERVAL_SECONDS = 30


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


def landing_requests(
    instance: dg.DagsterInstance,
    cursor_text: str | None,
    settings: Settings,
    *,
    page_size: int = PAGE_SIZE,
    max_keys_per_tick: int = MAX_KEYS_PER_TICK,
    settle_seconds: float = SETTLE_SECONDS,
    max_files_per_run: int = MAX_FILES_PER_RUN,
) -> dg.SensorResult:
    """One tick of the landing sensor: list each registered source's location from where the
    cursor stopped, and request an ingest run of the new ready files (a partition too, for a
    source Dagster does not know yet).

    A source the cursor has no entry for starts from the files its rows in the lake came
    from (`ingested_files`): after `make run`, or on a fresh Dagster instance, the files
    already ingested are not requested again.
    """
    cursor = LandingCursor.parse(cursor_text)
    lake = Lake(settings.lake_uri, settings.store)
    sources = sorted(
        (s for corpus in CORPORA for s in registered_sources(settings, corpus)),
        key=lambda s: s.name,
    )
    # Start where the last tick ran out of budget, so a huge source does not starve the rest.
    names = [s.name for s in sources]
    first = names.index(cursor.next_source) if cursor.next_source in names else 0
    budget, cursor.next_source = max_keys_per_tick, ""
    run_requests: list[dg.RunRequest] = []
    new_partitions: dict[str, list[str]] = {}
    notes = []
    for source in sources[first:] + sources[:first]:
        if budget <= 0:
            cursor.next_source = source.name
            break
        if source.name not in cursor.sources:
            try:
                seeded = ingested_files(lake, source.corpus, source.name, source.location)
            except Exception as error:  # without the seed every file would look new: wait
                log.warning("landing sensor: cannot read what %s ingested: %s", source.name, error)
                notes.append(f"{source.name}: cannot read its ingested files: {error}")
                continue
            cursor.source(source.name).seen.update(key_digest(key) for key in seeded)
        try:
            scan = scan_source(
                source.location,
                settings.store,
                cursor.source(source.name),
                budget=budget,
                page_size=page_size,
                settle_seconds=settle_seconds,
            )
        except Exception as error:  # one unreachable location must not stop the others
            log.warning(
                "landing sensor: cannot list %s (%s): %s", source.name, source.location, error
            )
            notes.append(f"{source.name}: cannot list {source.location}: {error}")
            continue
        budget -= max(scan.listed, 1)
        if scan.skipped:
            notes.append(f"{source.name}: passed over {scan.skipped}")
        if not scan.new_files:
            continue
        partitions = source_partitions(source.corpus)
        if not instance.has_dynamic_partition(partitions.name, source.name):
            new_partitions.setdefault(partitions.name, []).append(source.name)
        units = ingest_units(source.corpus, scan.new_files)
        for start in range(0, len(units), max_files_per_run):
            chunk = units[start : start + max_files_per_run]
            run_requests.append(
                dg.RunRequest(
                    job_name=ingest_job_name(source.corpus),
                    partition_key=source.name,
                    run_key=run_key(source.name, chunk),
                    run_config={"ops": {f"raw__{source.corpus}": {"config": {"files": chunk}}}},
                    tags={
                        "pilehouse/trigger": "landing",
                        "pilehouse/landing_files": str(len(chunk)),
                    },
                )
            )
    partition_requests = [
        dg.AddDynamicPartitionsRequest(partitions_def_name=name, partition_keys=keys)
        for name, keys in new_partitions.items()
    ]
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=partition_requests,
        cursor=cursor.serialize(),
        skip_reason=None if run_requests else "; ".join(notes) or "no new landing files",
    )


def build_landing_sensor(
    *,
    name: str = "landing_sensor",
    minimum_interval_seconds: int = LANDING_INTERVAL_SECONDS,
    page_size: int = PAGE_SIZE,
    max_keys_per_tick: int = MAX_KEYS_PER_TICK,
    settle_seconds: float = SETTLE_SECONDS,
    max_files_per_run: int = MAX_FILES_PER_RUN,
) -> dg.SensorDefinition:
    """The landing sensor, with its paging and settle limits (tests make them small)."""

    @dg.sensor(
        name=name,
        description="Ingests new files under each registered source's landing location "
        "(local directory or s3:// prefix): a partition for a new source, one run per batch "
        "of new files, each file once.",
        minimum_interval_seconds=minimum_interval_seconds,
        jobs=list(ingest_jobs.values()),
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return landing_requests(
            context.instance,
            context.cursor,
            load_settings(),
            page_size=page_size,
            max_keys_per_tick=max_keys_per_tick,
            settle_seconds=settle_seconds,
            max_files_per_run=max_files_per_run,
        )

    return landing_sensor


landing_sensor = build_landing_sensor()

# Declared here rather than left to Dagster's default automation sensor so that it starts
# RUNNING: downstream stages follow their inputs (EAGER_AFTER_GATES) without a toggle.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Requests the assets whose automation condition is true: annotated, curated "
    "and reports follow their inputs, never past a failed blocking check.",
)

RUN_FAILURE_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("job", pa.string(), nullable=False),
        pa.field("partition", pa.string()),
        pa.field("step", pa.string()),
        pa.field("error_class", pa.string()),
        pa.field("message", pa.string()),
        pa.field("failed_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def _root_error(error: SerializableErrorInfo | None) -> SerializableErrorInfo | None:
    """The user's exception under Dagster's wrappers (and under a dg.Failure raised from it)."""
    while (
        error is not None
        and error.cause is not None
        and (error.cls_name.startswith("Dagster") or error.cls_name == "Failure")
    ):
        error = error.cause
    return error


def _error_message(error: SerializableErrorInfo) -> str:
    """The message without the leading `module.ClassName: ` Dagster puts in front of it."""
    head, sep, rest = error.message.strip().partition(": ")
    return rest if sep and head.split(".")[-1] == error.cls_name else error.message.strip()


def failure_rows(context: dg.RunFailureSensorContext) -> list[dict]:
    """One row per failed step of the run (one for the run when no step failed)."""
    run = context.dagster_run
    base = {
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "failed_at": datetime.now(UTC),
    }
    rows = []
    for event in context.get_step_failure_events():
        error = _root_error(event.step_failure_data.error)
        rows.append(
            base
            | {
                "step": event.step_key,
                "error_class": error.cls_name if error else None,
                "message": (_error_message(error) if error else event.message or "")[:4000],
            }
        )
    if not rows:
        rows.append(
            base
            | {
                "step": None,
                "error_class": "RunFailure",
                "message": (context.failure_event.message or "")[:4000],
            }
        )
    return rows


def record_run_failures(lake: Lake, rows: list[dict]) -> int:
    """Append the rows to ops.run_failures; returns the committed table version."""
    table = pa.Table.from_pylist(rows, schema=RUN_FAILURE_SCHEMA)
    commit = write_arrow(
        table,
        lake.uri(RUN_FAILURES_TABLE),
        mode="append",
        metadata={"dagster.run_id": rows[0]["run_id"]},
        store=lake.store,
    )
    return commit.version


@dg.run_failure_sensor(
    name="run_failure_sensor",
    description="Writes every failed run (job, partition, step, error) to ops.run_failures "
    "and the log.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def run_failure_sensor(context: dg.RunFailureSensorContext) -> None:
    settings = load_settings()
    rows = failure_rows(context)
    version = record_run_failures(Lake(settings.lake_uri, settings.store), rows)
    for row in rows:
        context.log.error(
            f"run {row['run_id']} of {row['job']} (partition {row['partition']}) failed in "
            f"step {row['step']}: {row['error_class']}: {row['message'][:300]} "
            f"-> {RUN_FAILURES_TABLE} v{version}"
        )
