"""Opt-out and takedown: remove documents from every derived table, record the request,
and say which training runs and exported shards already hold them.

Each touched partition is rewritten without the documents in a new Delta version, so current
versions no longer hold them while time travel still shows what each run consumed. Shards already exported
are immutable files: they are reported, not rewritten; rebuild the mixture to drop them.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from spark_jobs.delta import open_table, snapshot_dataset, table_exists, write_arrow
from spark_jobs.lake import Lake
from spark_jobs.lineage import (
    RunHit,
    ShardHit,
    lake_tables,
    mixtures_holding,
    rows_with_ids,
    runs_holding,
    shards_holding,
)

TAKEDOWNS_TABLE = "ops.takedowns"
# Tables that describe the lake rather than hold documents.
_NOT_DOCUMENT_TABLES = ("ops.", "quality.")

TAKEDOWN_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("requested_at", pa.timestamp("us", tz="UTC")),
        ("criteria", pa.string()),
        ("document_ids", pa.list_(pa.string())),
        (
            "tables",
            pa.list_(
                pa.struct(
                    [
                        ("table", pa.string()),
                        ("version_before", pa.int64()),
                        ("version_written", pa.int64()),
                        ("rows_deleted", pa.int64()),
                    ]
                )
            ),
        ),
        ("affected_runs", pa.list_(pa.string())),
        ("affected_shards", pa.list_(pa.string())),
    ]
)


@dataclass(frozen=True)
class TakedownRequest:
    """What to take down. Criteria combine with OR: a document matching any is removed.

    Attributes:
        ids: document ids.
        url_pattern: a regular expression searched in the url column (or locator where a
            table has no url), e.g. ``^https://example\\.org/private/``.
        domain: a host; its subdomains match too (matched on domain, else on url/locator).
        source: a source name: every document of that source.
        license: an SPDX license id or expression, matched exactly.
        reason: free text kept with the request (e.g. "opt-out request #123").
    """

    ids: tuple[str, ...] = ()
    url_pattern: str | None = None
    domain: str | None = None
    source: str | None = None
    license: str | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if not (self.ids or self.url_pattern or self.domain or self.source or self.license):
            raise ValueError(
                "a takedown needs at least one criterion: ids, url_pattern, domain, source "
                "or license"
            )
        if self.url_pattern:
            re.compile(self.url_pattern)

    def criteria(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v}, sort_keys=True)


@dataclass
class TableDeletion:
    table: str
    version_before: int
    version_written: int
    rows_deleted: int


@dataclass
class TakedownReport:
    request_id: str
    request: TakedownRequest
    document_ids: list[str]
    deletions: list[TableDeletion] = field(default_factory=list)
    runs: list[RunHit] = field(default_factory=list)
    shards: list[ShardHit] = field(default_factory=list)
    dry_run: bool = False

    def render(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        lines = [
            f"takedown {self.request_id}{' (dry run)' if self.dry_run else ''}: "
            f"{len(self.document_ids)} document(s) matched {self.request.criteria()}"
        ]
        for d in self.deletions:
            written = "" if self.dry_run else f" -> v{d.version_written}"
            lines.append(
                f"  {d.table}: {verb} {d.rows_deleted} row(s) (v{d.version_before}{written})"
            )
        if self.runs:
            lines.append(f"  training runs that consumed them ({len(self.runs)}):")
            lines += [f"    {r.run_id} ({r.run_name}) via {', '.join(r.tables)}" for r in self.runs]
        else:
            lines.append("  no recorded training run consumed them")
        if self.shards:
            lines.append(
                "  exported shards holding them (immutable files; rebuild the mixture and "
                "retire these exports):"
            )
            lines += [f"    {s.manifest_uri} {s.shard} sha256 {s.sha256[:16]}" for s in self.shards]
        return "\n".join(lines)


def _domain_regex(domain: str) -> str:
    return rf"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/@]*@)?([^/]*\.)?{re.escape(domain.lower())}(:[0-9]+)?(/|$|\?|#)"


def _matching_ids(table: pa.Table, request: TakedownRequest) -> set[str]:
    names = table.column_names
    masks = []
    if request.ids:
        masks.append(pc.is_in(table["id"], pa.array(request.ids, pa.string())))
    location = "url" if "url" in names else "locator" if "locator" in names else None
    if request.url_pattern and location:
        masks.append(pc.match_substring_regex(table[location], request.url_pattern))
    if request.domain:
        domain = request.domain.lower().removeprefix("www.")
        if "domain" in names:
            lowered = pc.utf8_lower(table["domain"])
            masks.append(pc.or_(pc.equal(lowered, domain), pc.ends_with(lowered, "." + domain)))
        if location:
            masks.append(
                pc.match_substring_regex(table[location], _domain_regex(domain), ignore_case=True)
            )
    if request.source and "source" in names:
        masks.append(pc.equal(table["source"], request.source))
    if request.license and "license" in names:
        masks.append(pc.equal(table["license"], request.license))
    if not masks:
        return set()
    mask = masks[0]
    for other in masks[1:]:
        mask = pc.or_kleene(mask, other)
    return set(table.filter(pc.fill_null(mask, False))["id"].to_pylist())


def document_tables_in(lake: Lake) -> list[str]:
    return [n for n in lake_tables(lake) if not n.startswith(_NOT_DOCUMENT_TABLES)]


def find_documents(lake: Lake, request: TakedownRequest) -> list[str]:
    """Ids of the documents the request covers, across every document table of the lake."""
    found: set[str] = set()
    for name in document_tables_in(lake):
        dataset = snapshot_dataset(lake.uri(name), store=lake.store)
        wanted = ("id", "url", "locator", "domain", "source", "license")
        columns = [c for c in wanted if c in dataset.schema.names]
        if "id" not in columns:
            continue
        found |= _matching_ids(dataset.to_table(columns=columns), request)
    # Ids asked for by name are recorded even when nothing holds them (any more).
    return sorted(found | set(request.ids))


def _partition_filter(values: dict[str, object]) -> ds.Expression:
    expression = ds.scalar(True)
    for column, value in values.items():
        field_ = ds.field(column)
        expression &= field_.is_null() if value is None else field_ == value
    return expression


def delete_documents(
    lake: Lake, name: str, ids: list[str], metadata: dict[str, str]
) -> TableDeletion | None:
    """Rewrite the partitions of one table that hold these ids without them; None if none.

    Each touched partition is overwritten through the lake's one write path (replace_where
    on the partition, one commit each), rather than with delta-rs DELETE: its rewritten
    files carry Arrow string_view types that pyarrow cannot filter against the table's
    string schema, which would break filtered reads (DuckDB SQL included) afterwards.
    """
    uri = lake.uri(name)
    snapshot = open_table(uri, store=lake.store)
    before = snapshot.version()
    partition_by = list(snapshot.metadata().partition_columns)
    dataset = snapshot_dataset(uri, version=before, store=lake.store)
    if "id" not in dataset.schema.names:
        return None
    doomed = ds.field("id").isin(pa.array(sorted(ids), pa.string()))
    holding = dataset.to_table(columns=["id", *partition_by], filter=doomed)
    if holding.num_rows == 0:
        return None
    partitions = holding.group_by(partition_by).aggregate([]).to_pylist() if partition_by else [{}]
    version = before
    for values in sorted(partitions, key=lambda v: json.dumps(v, default=str)):
        kept = dataset.to_table(filter=_partition_filter(values) & ~doomed)
        if any(v is None for v in values.values()):
            raise ValueError(
                f"{name}: rows of a null {partition_by} partition match the takedown; "
                "rewrite that partition by hand (replace_where cannot name a null value)"
            )
        version = write_arrow(
            kept,
            uri,
            mode="overwrite",
            partition_by=partition_by,
            replace_where={k: str(v) for k, v in values.items()} or None,
            metadata=metadata,
            store=lake.store,
        ).version
    return TableDeletion(name, before, version, holding.num_rows)


def takedown(
    lake: Lake,
    request: TakedownRequest,
    *,
    tracking_uri: str | None = None,
    metadata: dict[str, str] | None = None,
    dry_run: bool = False,
) -> TakedownReport:
    """Remove every document the request covers from every table holding it.

    Finds the documents, lists the runs and exported shards that consumed them (through
    the snapshots they recorded), deletes them table by table (one commit per touched
    partition, tagged with the request id), and appends the request to ops.takedowns.
    """
    request_id = f"takedown-{uuid.uuid4().hex[:12]}"
    ids = find_documents(lake, request)
    report = TakedownReport(request_id, request, ids, dry_run=dry_run)
    if not ids:
        return report
    report.shards = shards_holding(lake, mixtures_holding(lake, ids))
    if tracking_uri:
        report.runs = runs_holding(ids, tracking_uri, lake.store)
    commit = {
        **(metadata or {}),
        "lineage.takedown.request_id": request_id,
        "lineage.takedown.reason": request.reason,
    }
    for name in document_tables_in(lake):
        if dry_run:
            uri = lake.uri(name)
            version = open_table(uri, store=lake.store).version()
            rows = rows_with_ids(uri, ids, version=version, store=lake.store).num_rows
            if rows:
                report.deletions.append(TableDeletion(name, version, version, rows))
            continue
        deletion = delete_documents(lake, name, ids, commit)
        if deletion is not None:
            report.deletions.append(deletion)
    if not dry_run:
        _record(lake, report, commit)
    return report


def _record(lake: Lake, report: TakedownReport, metadata: dict[str, str]) -> None:
    row = {
        "request_id": report.request_id,
        "requested_at": datetime.now(UTC),
        "criteria": report.request.criteria(),
        "document_ids": report.document_ids,
        "tables": [asdict(d) for d in report.deletions],
        "affected_runs": [r.run_id for r in report.runs],
        "affected_shards": [f"{s.manifest_uri.rsplit('/', 1)[0]}/{s.shard}" for s in report.shards],
    }
    write_arrow(
        pa.Table.from_pylist([row], schema=TAKEDOWN_SCHEMA),
        lake.uri(TAKEDOWNS_TABLE),
        mode="append",
        metadata={k: v for k, v in metadata.items() if k != "lineage.takedown.reason"},
        store=lake.store,
    )


def taken_down_ids(lake: Lake) -> set[str]:
    """Every document id a takedown removed: ingest can skip them when landing data returns."""
    uri = lake.uri(TAKEDOWNS_TABLE)
    if not table_exists(uri, lake.store):
        return set()
    table = snapshot_dataset(uri, store=lake.store).to_table(columns=["document_ids"])
    return set(pc.list_flatten(table["document_ids"]).to_pylist())
