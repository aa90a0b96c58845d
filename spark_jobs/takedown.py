"""Opt-out and takedown: remove documents from every derived table, record the request,
and say which training runs and exported shards already hold them; then, on request, purge
them physically.

`takedown` rewrites each touched partition without the documents in a new Delta version, so
current versions no longer hold them while time travel still shows what each run consumed:
the old data files stay on storage. `purge` is the physical step: it rewrites the exported
shards (and jsonl.zst text shards) that hold taken-down documents without them, marks their
manifests, and vacuums the tables takedowns touched (but mixture tables, which hold no text)
with a retention R, which deletes every data file a commit removed more than R ago (and
with it time travel to those versions).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from deltalake import CommitProperties

from spark_jobs.delta import (
    _relative_to_root,
    open_table,
    snapshot_dataset,
    table_exists,
    write_arrow,
)
from spark_jobs.lake import Lake
from spark_jobs.lineage import (
    MixtureHit,
    RunHit,
    ShardHit,
    mixtures_holding,
    rows_with_ids,
    runs_holding,
    shards_holding,
)
from spark_jobs.mixtures.build import EXPORT_SCHEMA, EXPORTS_TABLE, read_manifest, token_report
from spark_jobs.mixtures.shards import encode_index, encode_shard, read_shard, write_bytes

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
                "  exported shards holding them (immutable files until `pilehouse takedown "
                "--purge` rewrites them):"
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
    return [n for n in sorted(lake.tables()) if not n.startswith(_NOT_DOCUMENT_TABLES)]


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
    found |= derived_documents(lake, found | set(request.ids))
    # Ids asked for by name are recorded even when nothing holds them (any more).
    return sorted(found | set(request.ids))


def derived_documents(lake: Lake, ids: set[str]) -> set[str]:
    """Ids of synthetic samples (any table with a source_doc_id column) made from `ids`: a
    takedown of a source document reaches every rewrite of it."""
    derived: set[str] = set()
    if not ids:
        return derived
    for name in document_tables_in(lake):
        dataset = snapshot_dataset(lake.uri(name), store=lake.store)
        if not {"id", "source_doc_id"} <= set(dataset.schema.names):
            continue
        matched = dataset.to_table(
            columns=["id"], filter=ds.field("source_doc_id").isin(pa.array(sorted(ids)))
        )
        derived |= set(matched["id"].to_pylist())
    return derived


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


# --- Purge: physical removal ------------------------------------------------------------

PURGE_METADATA_KEY = "lineage.takedown.purge"
# delta-rs's retention when neither the caller nor the table's properties name one.
DEFAULT_RETENTION_HOURS = 7 * 24


@dataclass
class TablePurge:
    table: str
    retention: str  # what the vacuum used, in words
    files_removed: list[str]  # data files deleted (relative to the table root)
    files_kept: int  # unreferenced files still on storage: younger than the retention


@dataclass
class ShardPurge:
    manifest_uri: str
    shard: str  # a .bin file, or a text-NNNNN.jsonl.zst file
    action: str  # "rewritten" or "deleted"
    document_ids: tuple[str, ...]
    removed: int  # tokens (.bin) or lines (.jsonl.zst)
    sha256_before: str
    sha256_after: str | None
    positions: tuple[int, ...] = ()  # mixture positions removed (token shards)


@dataclass
class PurgeReport:
    document_ids: list[str]
    retention_hours: int | None
    tables: list[TablePurge] = field(default_factory=list)
    shards: list[ShardPurge] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)  # manifests marked
    dry_run: bool = False
    indexes: list[str] = field(default_factory=list)  # n-gram index shards, one line each

    @property
    def files_removed(self) -> int:
        """Table data files and shard files deleted (a token shard is its .bin and .idx)."""
        deleted = [s for s in self.shards if s.action == "deleted"]
        return sum(len(t.files_removed) for t in self.tables) + sum(
            2 if s.shard.endswith(".bin") else 1 for s in deleted
        )

    def render(self) -> str:
        def verb(done: str, todo: str) -> str:
            return f"would {todo}" if self.dry_run else done

        retention = (
            "each table's delta.deletedFileRetentionDuration (default 7 days)"
            if self.retention_hours is None
            else f"{self.retention_hours} h"
        )
        lines = [
            f"purge{' (dry run)' if self.dry_run else ''}: {len(self.document_ids)} taken-down "
            f"document(s), retention {retention}"
        ]
        for s in self.shards:
            unit = "token(s)" if s.shard.endswith(".bin") else "line(s)"
            todo = "rewrite" if s.action == "rewritten" else "delete"
            lines.append(
                f"  {s.manifest_uri.rsplit('/', 1)[0]}/{s.shard}: {verb(s.action, todo)} "
                f"({s.removed} {unit} of {len(s.document_ids)} document(s) removed)"
            )
        if not self.shards:
            lines.append("  no exported shard holds them")
        for m in self.manifests:
            lines.append(f"  {m}: {verb('marked', 'mark')} with the takedown, new checksums")
        lines += self.indexes
        for t in self.tables:
            kept = (
                f"; {t.files_kept} unreferenced file(s) still on storage (younger than the "
                "retention)"
                if t.files_kept
                else ""
            )
            lines.append(
                f"  {t.table}: vacuum ({t.retention}) {verb('deleted', 'delete')} "
                f"{len(t.files_removed)} data file(s){kept}"
            )
        kept = sum(t.files_kept for t in self.tables)
        lines.append(
            f"physically {verb('removed', 'remove')} {self.files_removed} file(s), "
            f"{verb('rewrote', 'rewrite')} {sum(s.action == 'rewritten' for s in self.shards)} "
            "shard file(s)"
            + (f"; {kept} table file(s) wait for the retention to pass" if kept else "")
        )
        return "\n".join(lines)


def _retention_words(table, retention_hours: int | None) -> str:
    if retention_hours is not None:
        return f"{retention_hours} h"
    configured = table.metadata().configuration.get("delta.deletedFileRetentionDuration")
    return configured or f"{DEFAULT_RETENTION_HOURS} h, the default"


def _on_storage(lake: Lake, uri: str, listed: Iterable[str]) -> list[str]:
    """The files of a vacuum listing still on storage (relative to the table root)."""
    paths = sorted({_relative_to_root(p, uri, lake.store) for p in listed})
    if not paths:
        return []
    fs, root = lake.store.filesystem(uri)
    infos = fs.get_file_info([f"{root}/{p}" for p in paths])
    return [p for p, i in zip(paths, infos, strict=True) if i.type != pafs.FileType.NotFound]


def vacuum_table(
    lake: Lake,
    name: str,
    retention_hours: int | None,
    *,
    dry_run: bool = False,
    metadata: dict[str, str] | None = None,
) -> TablePurge:
    """Delete the data files of `name` that a commit removed more than `retention_hours` ago.

    None uses the table's delta.deletedFileRetentionDuration (delta-rs: 7 days if unset),
    with delta-rs's retention check on; an explicit value (0 included) turns the check off.
    Only files a commit removed go (not files a running write has not committed yet).
    """
    uri = lake.uri(name)
    table = open_table(uri, store=lake.store)
    enforce = retention_hours is None
    # delta-rs lists every tombstone past the retention, deleted already or not: keep the
    # files still on storage, and vacuum (two commits) only when there is one.
    listed = table.vacuum(
        retention_hours=retention_hours, dry_run=True, enforce_retention_duration=enforce
    )
    removed = _on_storage(lake, uri, listed)
    if removed and not dry_run:
        table.vacuum(
            retention_hours=retention_hours,
            dry_run=False,
            enforce_retention_duration=enforce,
            commit_properties=CommitProperties(custom_metadata=metadata or {}),
        )
    # Files still on storage that the current version does not reference: what a later
    # vacuum can delete (those younger than the retention, or written by no commit).
    unreferenced = open_table(uri, store=lake.store).vacuum(
        retention_hours=0, dry_run=True, enforce_retention_duration=False, full=True
    )
    return TablePurge(
        name,
        _retention_words(table, retention_hours),
        removed,
        len(set(_on_storage(lake, uri, unreferenced)) - set(removed)),
    )


def _positions_by_mixture_version(
    lake: Lake, hits: list[MixtureHit], ids: list[str]
) -> dict[tuple[str, int], dict[int, str]]:
    """(mixture, version) -> {position: document id} of the taken-down documents."""
    found: dict[tuple[str, int], dict[int, str]] = {}
    for hit in hits:
        rows = rows_with_ids(
            lake.uri(f"mixtures.{hit.mixture}"),
            ids,
            version=hit.version,
            columns=["position"],
            store=lake.store,
        )
        found[(hit.mixture, hit.version)] = dict(
            zip(rows["position"].to_pylist(), rows["id"].to_pylist(), strict=True)
        )
    return found


def _scrub_token_shard(
    manifest_uri: str, entry: dict, doomed: dict[int, str], lake: Lake, dry_run: bool
) -> ShardPurge | None:
    """Rewrite one .bin/.idx pair without the segments of doomed positions (or delete it)."""
    directory = manifest_uri.rsplit("/", 1)[0]
    shard = read_shard(f"{directory}/{entry['file']}", lake.store)
    segments = shard.segments
    gone = np.isin(segments["position"], np.fromiter(doomed, dtype=np.uint64, count=len(doomed)))
    if not gone.any():
        return None
    kept = segments[~gone].copy()
    pieces = [shard.tokens[int(s["start"]) : int(s["start"]) + int(s["length"])] for s in kept]
    tokens = np.concatenate(pieces) if pieces else shard.tokens[:0]
    positions = tuple(sorted({int(p) for p in segments["position"][gone]}))
    ids = tuple(sorted({doomed[p] for p in positions}))
    removed = len(shard.tokens) - len(tokens)
    if not len(kept):
        if not dry_run:
            for name in (entry["file"], entry["index"]):
                fs, path = lake.store.filesystem(f"{directory}/{name}")
                fs.delete_file(path)
        return ShardPurge(
            manifest_uri, entry["file"], "deleted", ids, removed, entry["sha256"], None, positions
        )
    lengths = kept["length"].astype(np.uint64)
    kept["start"] = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.uint64)
    data = encode_shard(tokens, shard.sequence_length)
    index = encode_index(kept)
    if dry_run:
        digest, index_digest = hashlib.sha256(data).hexdigest(), None
    else:
        # The index first: a crash in between leaves a .bin whose checksum the manifest
        # does not know, never an index pointing past the end of its shard.
        index_digest = write_bytes(f"{directory}/{entry['index']}", index, lake.store)
        digest = write_bytes(f"{directory}/{entry['file']}", data, lake.store)
    before = entry["sha256"]
    entry.update(
        sha256=digest,
        index_sha256=index_digest or entry["index_sha256"],
        tokens=len(tokens),
        sequences=-(-len(tokens) // shard.sequence_length),
        bytes=len(data),
        first_position=int(kept["position"].min()),
        last_position=int(kept["position"].max()),
    )
    return ShardPurge(
        manifest_uri, entry["file"], "rewritten", ids, removed, before, digest, positions
    )


def _scrub_text_shard(
    manifest_uri: str, entry: dict, ids: set[str], lake: Lake, dry_run: bool
) -> ShardPurge | None:
    """Rewrite one text-NNNNN.jsonl.zst without the lines of taken-down documents."""
    uri = f"{manifest_uri.rsplit('/', 1)[0]}/{entry['name']}"
    fs, path = lake.store.filesystem(uri)
    with fs.open_input_stream(path, compression=None) as stream:
        compressed = stream.read()
    raw = pa.CompressedInputStream(pa.BufferReader(compressed), "zstd").read()
    lines = raw.splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["id"] not in ids]
    if len(kept) == len(lines):
        return None
    found = tuple(sorted({json.loads(line)["id"] for line in lines} & ids))
    before = entry["sha256"]
    if not kept:
        if not dry_run:
            fs.delete_file(path)
        return ShardPurge(manifest_uri, entry["name"], "deleted", found, len(lines), before, None)
    data = pa.compress(b"".join(kept), codec="zstd", asbytes=True)
    digest = write_bytes(uri, data, lake.store) if not dry_run else None
    entry.update(sha256=digest or before, rows=len(kept))
    return ShardPurge(
        manifest_uri, entry["name"], "rewritten", found, len(lines) - len(kept), before, digest
    )


def _scrub_export(
    lake: Lake, manifest_uri: str, doomed: dict[int, str], dry_run: bool, now: datetime
) -> list[ShardPurge]:
    """Rewrite the shards of one export that hold doomed positions; mark its manifest."""
    try:
        manifest = read_manifest(manifest_uri, lake.store)
    except (FileNotFoundError, OSError):
        return []  # the export was retired (its files deleted) already
    lo, hi = min(doomed), max(doomed)
    done: list[ShardPurge] = []
    kept_entries = []
    for entry in manifest["shards"]:
        if entry["last_position"] < lo or entry["first_position"] > hi:
            kept_entries.append(entry)
            continue
        result = _scrub_token_shard(manifest_uri, entry, doomed, lake, dry_run)
        if result is not None:
            done.append(result)
        if result is None or result.action == "rewritten":
            kept_entries.append(entry)
    ids = set(doomed.values())
    kept_text = []
    for entry in manifest.get("text_shards") or []:
        result = _scrub_text_shard(manifest_uri, entry, ids, lake, dry_run)
        if result is not None:
            done.append(result)
        if result is None or result.action == "rewritten":
            kept_text.append(entry)
    if not done or dry_run:
        return done
    manifest["shards"] = kept_entries
    manifest["text_shards"] = kept_text
    marks = manifest.setdefault("takedowns", [])
    marks.append(
        {
            "purged_at": now.isoformat(),
            "document_ids": sorted({i for s in done for i in s.document_ids}),
            "positions": sorted({p for s in done for p in s.positions}),
            "files": {
                s.shard: {
                    "action": s.action,
                    "removed": s.removed,
                    "sha256_before": s.sha256_before,
                }
                for s in done
            },
        }
    )
    totals = manifest["totals"]
    totals["tokens"] = sum(e["tokens"] for e in kept_entries)
    totals["sequences"] = sum(e["sequences"] for e in kept_entries)
    mixture = manifest["mixture"]
    gone = sorted({p for mark in marks for p in mark["positions"]})  # this purge's and before
    try:
        rows = snapshot_dataset(mixture["uri"], version=mixture["version"], store=lake.store)
        rows = rows.to_table(filter=~ds.field("position").isin(pa.array(gone, pa.int64())))
        totals.update(rows=rows.num_rows, documents=len(set(rows["id"].to_pylist())))
        totals.update(token_report(rows))
    except (FileNotFoundError, ValueError, OSError):
        pass  # the mixture version is gone: token and sequence totals are still exact
    write_bytes(manifest_uri, json.dumps(manifest, indent=2, sort_keys=True).encode(), lake.store)
    return done


def _update_exports_table(
    lake: Lake, shards: list[ShardPurge], manifests: dict[str, dict], metadata: dict[str, str]
) -> None:
    """Give ops.shard_exports the rewritten shards' checksums; drop rows of deleted shards."""
    uri = lake.uri(EXPORTS_TABLE)
    bins = {(s.manifest_uri, s.shard): s for s in shards if s.shard.endswith(".bin")}
    if not bins:
        return
    rows = []
    for row in snapshot_dataset(uri, store=lake.store).to_table().to_pylist():
        done = bins.get((row["manifest_uri"], row["shard"]))
        if done is None:
            rows.append(row)
        elif done.action == "rewritten":
            entry = manifests[row["manifest_uri"]][row["shard"]]
            fields = ("sha256", "tokens", "first_position", "last_position")
            rows.append(row | {k: entry[k] for k in fields})
    write_arrow(
        pa.Table.from_pylist(rows, schema=EXPORT_SCHEMA),
        uri,
        mode="overwrite",
        metadata=metadata,
        store=lake.store,
    )


def purge(
    lake: Lake,
    ids: Iterable[str] | None = None,
    *,
    retention_hours: int | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Physically remove taken-down documents: exported shards first, then old table files.

    1. Every export (ops.shard_exports) cut from a mixture version that held the documents:
       its token shards are rewritten without their segments (a shard left empty is
       deleted), its jsonl.zst text shards without their lines; the manifest gets new
       checksums and totals and a `takedowns` entry; ops.shard_exports the new checksums.
       This reads the mixture versions by time travel, so it runs before the vacuum.
    2. Every table a recorded takedown rewrote (mixture tables aside: no text, and their
       versions map export positions to documents) is vacuumed with `retention_hours`:
       data files a commit removed more than that long ago are deleted, and time travel to
       the versions that needed them ends.

    Args:
        lake: the lake.
        ids: the documents; default every id recorded in ops.takedowns.
        retention_hours: None: each table's delta.deletedFileRetentionDuration (7 days by
            default), with delta-rs's check on; 0 deletes every removed file now.
        dry_run: report what would go, change nothing.
    """
    if retention_hours is not None and retention_hours < 0:
        raise ValueError(f"retention_hours must be >= 0, not {retention_hours}")
    ids = sorted(set(ids) if ids is not None else taken_down_ids(lake))
    report = PurgeReport(ids, retention_hours, dry_run=dry_run)
    if not ids:
        return report
    now = datetime.now(UTC)
    metadata = {PURGE_METADATA_KEY: now.isoformat()}
    hits = mixtures_holding(lake, ids)
    doomed = _positions_by_mixture_version(lake, hits, ids)
    exports_uri = lake.uri(EXPORTS_TABLE)
    manifests: dict[str, dict] = {}
    if doomed and table_exists(exports_uri, lake.store):
        exports = snapshot_dataset(exports_uri, store=lake.store).to_table(
            columns=["mixture", "mixture_version", "manifest_uri"]
        )
        seen = {}
        for row in exports.to_pylist():
            key = (row["mixture"], row["mixture_version"])
            if doomed.get(key):
                seen[row["manifest_uri"]] = key
        for manifest_uri, key in sorted(seen.items()):
            done = _scrub_export(lake, manifest_uri, doomed[key], dry_run, now)
            report.shards += done
            if done:
                report.manifests.append(manifest_uri)
                if not dry_run:
                    entries = read_manifest(manifest_uri, lake.store)["shards"]
                    manifests[manifest_uri] = {e["file"]: e for e in entries}
        if not dry_run:
            _update_exports_table(lake, report.shards, manifests, metadata)
    # n-gram indexes hold copies of the tokens: their shards are rebuilt without the documents.
    from spark_jobs.indexes.build import purge_indexes

    report.indexes = purge_indexes(lake, ids, dry_run=dry_run)
    for name in _purge_tables(lake):
        report.tables.append(
            vacuum_table(lake, name, retention_hours, dry_run=dry_run, metadata=metadata)
        )
    return report


def _purge_tables(lake: Lake) -> list[str]:
    """The tables recorded takedowns rewrote, but mixture tables.

    Mixture tables hold ids, positions and metadata, no text; their old versions are the
    position -> document map of every export cut from them, which a later purge needs to
    find the shards of a later takedown (and lineage to explain runs). They are kept.
    """
    names: set[str] = set()
    uri = lake.uri(TAKEDOWNS_TABLE)
    if table_exists(uri, lake.store):
        recorded = snapshot_dataset(uri, store=lake.store).to_table(columns=["tables"])
        for tables in recorded["tables"].to_pylist():
            names |= {t["table"] for t in tables or ()}
    return sorted(
        n for n in names if not n.startswith("mixtures.") and table_exists(lake.uri(n), lake.store)
    )
