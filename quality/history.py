"""quality.validations: one row per expectation per validation; quality.profiles: the measures
each source showed in each validated version, which the distribution bounds learn from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from quality.bounds import Judged, Measure
from spark_jobs.delta import read_arrow, table_exists, write_arrow
from spark_jobs.lake import Lake

if TYPE_CHECKING:  # quality.validation imports the suites, which read this module's history
    from quality.validation import ValidationReport

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
    # What the distribution suite measured teaches the bounds of the table's later versions.
    record_profile(lake, report.judged, table=table, version=version, run_id=run_id)
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


# --- distribution profiles: what each source looked like in each validated version ----------

PROFILES = "quality.profiles"

PROFILES_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("key", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("n", pa.int64(), nullable=False),
        pa.field("low", pa.float64(), nullable=False),
        pa.field("high", pa.float64(), nullable=False),
        pa.field("basis", pa.string(), nullable=False),
        pa.field("within", pa.bool_(), nullable=False),
        # Every measure of this source in this version was within its bounds: only accepted
        # observations teach the bounds of later versions.
        pa.field("source_accepted", pa.bool_(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("validated_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def record_profile(
    lake: Lake, judged: Sequence[Judged], *, table: str, version: int, run_id: str
) -> int | None:
    """Append one row per judged measure to quality.profiles; returns the committed version."""
    if not judged:
        return None
    accepted: dict[str, bool] = {}
    for j in judged:
        accepted[j.measure.source] = accepted.get(j.measure.source, True) and j.within
    now = datetime.now(UTC)
    rows = [
        {
            "table": table,
            "version": version,
            "source": j.measure.source,
            "kind": j.measure.kind,
            "key": j.measure.key,
            "value": float(j.measure.value),
            "n": int(j.measure.n),
            "low": float(j.low),
            "high": float(j.high),
            "basis": j.basis,
            "within": j.within,
            "source_accepted": accepted[j.measure.source],
            "run_id": run_id,
            "validated_at": now,
        }
        for j in judged
    ]
    commit = write_arrow(
        pa.Table.from_pylist(rows, schema=PROFILES_SCHEMA),
        lake.uri(PROFILES),
        mode="append",
        partition_by=lake.spec(PROFILES).partition_by,
        metadata={"dagster.run_id": run_id, "quality.table": table},
        store=lake.store,
    )
    return commit.version


def profile_history(
    lake: Lake,
    table: str,
    *,
    before: int,
    window: int,
    relearn_from: Mapping[str, int] | None = None,
) -> list[Measure]:
    """The accepted measures of each source of `table` in its last `window` accepted versions
    older than `before` (and not older than the source's `relearn_from` version).

    A version validated more than once counts with its last validation.
    """
    uri = lake.uri(PROFILES)
    if not table_exists(uri, lake.store):
        return []
    rows = read_arrow(uri, store=lake.store)
    rows = rows.filter(
        pc.and_(pc.equal(rows["table"], table), pc.less(rows["version"], before))
    ).to_pylist()
    last_check: dict[tuple[str, int], Any] = {}
    for row in rows:
        key = (row["source"], row["version"])
        last_check[key] = max(last_check.get(key, row["validated_at"]), row["validated_at"])
    rows = [r for r in rows if r["validated_at"] == last_check[(r["source"], r["version"])]]
    ok: dict[tuple[str, int], bool] = {}
    for r in rows:
        key = (r["source"], r["version"])
        ok[key] = ok.get(key, True) and r["source_accepted"]
    floors = relearn_from or {}
    accepted: dict[str, list[int]] = {}
    for (source, version), good in ok.items():
        if good and version >= floors.get(source, -1):
            accepted.setdefault(source, []).append(version)
    kept = {(s, v) for s, versions in accepted.items() for v in sorted(versions)[-window:]}
    return [
        Measure(r["source"], r["kind"], r["key"], r["value"], r["n"], r["version"])
        for r in rows
        if (r["source"], r["version"]) in kept
    ]
