"""quality.validations: one row per expectation per validation, appended to a Delta table."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from quality.validation import ValidationReport
from spark_jobs.delta import read_arrow, table_exists, write_arrow
from spark_jobs.lake import Lake

VALIDATIONS = "quality.validations"

VALIDATIONS_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("suite", pa.string(), nullable=False),
        pa.field("batch", pa.string()),
        pa.field("expectation", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("description", pa.string()),
        pa.field("success", pa.bool_(), nullable=False),
        pa.field("observed", pa.string()),
        pa.field("unexpected_count", pa.int64()),
        pa.field("sample_ids", pa.list_(pa.string())),
        # Whether the whole suite passed on this version: drift baselines are picked by it.
        pa.field("suite_success", pa.bool_(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("validated_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def record_validation(
    lake: Lake, report: ValidationReport, *, table: str, version: int, run_id: str
) -> int:
    """Append the report's outcomes to quality.validations; returns the committed version."""
    now = datetime.now(UTC)
    rows = [
        {
            "table": table,
            "version": version,
            "suite": report.suite,
            "batch": o.batch,
            "expectation": o.expectation,
            "column": o.column,
            "description": o.description,
            "success": o.success,
            "observed": o.observed,
            "unexpected_count": o.unexpected_count,
            "sample_ids": o.sample_ids,
            "suite_success": report.success,
            "run_id": run_id,
            "validated_at": now,
        }
        for o in report.outcomes
    ]
    commit = write_arrow(
        pa.Table.from_pylist(rows, schema=VALIDATIONS_SCHEMA),
        lake.uri(VALIDATIONS),
        mode="append",
        partition_by=lake.spec(VALIDATIONS).partition_by,
        metadata={"dagster.run_id": run_id, "quality.table": table, "quality.suite": report.suite},
        store=lake.store,
    )
    return commit.version


def last_passing_version(lake: Lake, table: str, suite: str, *, before: int) -> int | None:
    """The newest version of `table` older than `before` on which `suite` passed, if any."""
    uri = lake.uri(VALIDATIONS)
    if not table_exists(uri, lake.store):
        return None
    history = read_arrow(
        uri, columns=["table", "suite", "version", "suite_success"], store=lake.store
    )
    passed = history.filter(
        pc.and_(
            pc.and_(pc.equal(history["table"], table), pc.equal(history["suite"], suite)),
            pc.and_(history["suite_success"], pc.less(history["version"], before)),
        )
    )
    return pc.max(passed["version"]).as_py() if passed.num_rows else None
