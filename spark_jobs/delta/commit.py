"""Planning a write against the table it goes to, and committing its files once with delta-rs."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.fs as pafs
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.schema import Schema as DeltaSchema
from deltalake.transaction import AddAction, create_table_with_add_actions

from spark_jobs.delta.failures import _WriteState
from spark_jobs.delta.log import (
    COMMIT_ID_KEY,
    _log_entry_path,
    _log_versions,
    _read_commit_info,
)
from spark_jobs.storage import ObjectStore

WriteMode = Literal["append", "overwrite"]

RESERVED_METADATA_PREFIX = "pilehouse."
# Commits lost to concurrent writers are retried on a fresh snapshot; the files stay valid.
COMMIT_ATTEMPTS = 5


@dataclass(frozen=True)
class CommitResult:
    """What one write committed."""

    uri: str
    version: int
    num_rows: int
    num_files: int
    num_bytes: int
    # The write's unique id, also in the commit's commitInfo (COMMIT_ID_KEY).
    commit_id: str = ""


@dataclass(frozen=True)
class _WritePlan:
    uri: str
    store: ObjectStore
    mode: WriteMode
    schema: pa.Schema
    partition_by: list[str]
    replace_where: dict[str, str | tuple[str, ...]]  # a value, or any of several values

    @property
    def full_overwrite(self) -> bool:
        return self.mode == "overwrite" and not self.replace_where


def _nullable(schema: pa.Schema) -> pa.Schema:
    # Like Spark's file sources, tables accept nulls in every column: a non-null constraint
    # inferred from one DataFrame would make the next legitimate write fail.
    return pa.schema([field.with_nullable(True) for field in schema])


def _comparable_fields(schema: DeltaSchema) -> dict[str, Any]:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in node.items()
                if k not in {"nullable", "containsNull", "valueContainsNull", "metadata"}
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return {f["name"]: strip(f["type"]) for f in json.loads(schema.to_json())["fields"]}


def _schema_difference(table_schema: DeltaSchema, new_schema: pa.Schema) -> str | None:
    old = _comparable_fields(table_schema)
    new = _comparable_fields(DeltaSchema.from_arrow(new_schema))
    problems = [f"missing column {n!r}" for n in old if n not in new]
    problems += [f"new column {n!r}" for n in new if n not in old]
    problems += [
        f"column {n!r} is {json.dumps(new[n])}, table has {json.dumps(old[n])}"
        for n in new
        if n in old and new[n] != old[n]
    ]
    return "; ".join(problems) or None


def _check_partition_type(uri: str, field: pa.Field) -> None:
    dtype = field.type
    if (
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_integer(dtype)
        or pa.types.is_boolean(dtype)
        or pa.types.is_date32(dtype)
        or pa.types.is_timestamp(dtype)
    ):
        return
    raise ValueError(
        f"cannot partition {uri} by column {field.name!r} of type {dtype}; "
        "partition by a string, integer, boolean, date or timestamp column"
    )


def _plan_write(
    uri: str,
    schema: pa.Schema,
    *,
    mode: WriteMode,
    partition_by: Sequence[str],
    replace_where: Mapping[str, str | Sequence[str]] | None,
    overwrite_schema: bool,
    store: ObjectStore,
) -> _WritePlan:
    if mode not in ("append", "overwrite"):
        raise ValueError(f"mode must be 'append' or 'overwrite', got {mode!r}")
    partition_by = list(partition_by)
    schema = _nullable(schema)
    columns = set(schema.names)
    if len(columns) != len(schema.names):
        raise ValueError(f"duplicate column names in the data for {uri}: {schema.names}")
    unknown = [c for c in partition_by if c not in columns]
    if unknown:
        raise ValueError(
            f"partition columns {unknown} are not in the data for {uri}: {schema.names}"
        )
    if len(set(partition_by)) != len(partition_by):
        raise ValueError(f"partition_by lists a column twice: {partition_by}")
    if partition_by and len(partition_by) == len(columns):
        raise ValueError(f"{uri} needs at least one column that is not a partition column")
    for column in partition_by:
        _check_partition_type(uri, schema.field(column))
    try:
        DeltaSchema.from_arrow(schema)
    except Exception as error:  # delta-rs raises several types for unsupported types
        raise ValueError(
            f"the data for {uri} has a column type Delta cannot store ({error}); "
            f"cast it first (schema: {schema})"
        ) from error

    replace_where = {
        str(k): tuple(sorted(set(v), key=str))
        if isinstance(v, list | tuple | set | frozenset)
        else v
        for k, v in (replace_where or {}).items()
    }
    if replace_where:
        if mode != "overwrite":
            raise ValueError(
                f"replace_where={replace_where} overwrites a partition; use mode='overwrite'"
            )
        outside = [c for c in replace_where if c not in partition_by]
        if outside:
            raise ValueError(
                f"replace_where columns {outside} are not partition columns of {uri} "
                f"(partition_by={partition_by}); only whole partitions can be replaced"
            )
        for column, value in replace_where.items():
            values = value if isinstance(value, tuple) else (value,)
            if not values or not all(isinstance(v, str) for v in values):
                raise ValueError(
                    f"replace_where[{column!r}] must be the partition value as a string "
                    f"(as Delta stores it, e.g. '2024-10-01' or '7'), or a non-empty list "
                    f"of them, got {value!r}"
                )

    plan = _WritePlan(uri, store, mode, schema, partition_by, replace_where)
    table = _open_existing(uri, store)
    if table is not None:
        _check_fits_table(plan, table, overwrite_schema=overwrite_schema)
    # Before any file is written: refuse a store on which concurrent commits are unsafe.
    store.check_conditional_put(uri)
    return plan


def _check_fits_table(plan: _WritePlan, table: DeltaTable, *, overwrite_schema: bool) -> None:
    table_partitions = list(table.metadata().partition_columns)
    if table_partitions != plan.partition_by:
        raise ValueError(
            f"{plan.uri} is partitioned by {table_partitions}, this write by "
            f"{plan.partition_by}; pass partition_by={table_partitions} "
            "(a table's partitioning cannot change)"
        )
    difference = _schema_difference(table.schema(), plan.schema)
    if difference and not (plan.full_overwrite and overwrite_schema):
        hint = (
            "pass overwrite_schema=True to replace the schema with the data's"
            if plan.full_overwrite
            else "write a full overwrite with overwrite_schema=True to change the schema"
        )
        raise ValueError(f"data does not match the schema of {plan.uri}: {difference}; {hint}")


# Snapshots of the tables this process last committed to, brought up to date with
# update_incremental(): a commit then reads the log entries written since, not the whole log
# (a table of 100k files took 1.4 s and 65 MB to open; bench/scale_out.py --delta).
_SNAPSHOT_LIMIT = 4
_snapshots: OrderedDict[str, tuple[DeltaTable, int, tuple[int, int | None]]] = OrderedDict()
_snapshots_lock = threading.Lock()


def _entry_mark(uri: str, store: ObjectStore, version: int) -> tuple[int, int | None] | None:
    """Size and modification time of one log entry (None: it does not exist)."""
    fs, root = store.filesystem(uri)
    info = fs.get_file_info(_log_entry_path(root, version))
    if info.type == pafs.FileType.NotFound:
        return None
    return (info.size, info.mtime_ns)


def _open_existing(uri: str, store: ObjectStore) -> DeltaTable | None:
    """The table's latest snapshot (None: no table), from the process's cache when the log
    entry it was loaded at is still the same file (not a table deleted and written anew)."""
    key = f"{uri}\0{store!r}"
    with _snapshots_lock:
        cached = _snapshots.pop(key, None)
    table = None
    if cached is not None:
        stale, version, mark = cached
        if _entry_mark(uri, store, version) == mark:
            with contextlib.suppress(DeltaError, OSError):
                stale.update_incremental()
                table = stale
    if table is None:
        options = store.delta_storage_options(uri)
        if not DeltaTable.is_deltatable(uri, storage_options=options):
            return None
        table = DeltaTable(uri, storage_options=options)
    version = table.version()
    mark = _entry_mark(uri, store, version)
    if mark is not None:
        with _snapshots_lock:
            _snapshots[key] = (table, version, mark)
            while len(_snapshots) > _SNAPSHOT_LIMIT:
                _snapshots.popitem(last=False)
    return table


def _matches(value: str | None, wanted: str | tuple[str, ...]) -> bool:
    return value in wanted if isinstance(wanted, tuple) else value == wanted


def _partition_filters(replace_where: Mapping[str, str | tuple[str, ...]]) -> list[tuple] | None:
    """delta-rs partition filters for a replace_where: `=` a value or `in` several."""
    filters = [
        (c, "in", list(v)) if isinstance(v, tuple) else (c, "=", v)
        for c, v in replace_where.items()
    ]
    return filters or None


def _check_replace_where(plan: _WritePlan, files: list[dict[str, Any]]) -> None:
    if not plan.replace_where:
        return
    wrong = set()
    for file in files:
        values = json.loads(file["partition_values"])
        if not all(_matches(values.get(c), v) for c, v in plan.replace_where.items()):
            wrong.add(tuple(sorted(values.items(), key=lambda kv: str(kv))))
    if wrong:
        found = [dict(w) for w in sorted(wrong, key=str)[:5]]
        _delete_written(plan, files)
        raise ValueError(
            f"rows outside replace_where={plan.replace_where} in the write to {plan.uri}: "
            f"found partitions {found}; filter the data to that partition or widen "
            "replace_where (nothing was committed)"
        )


def _delete_written(plan: _WritePlan, files: list[dict[str, Any]]) -> None:
    fs, root = plan.store.filesystem(plan.uri)
    for file in files:
        with contextlib.suppress(OSError):  # vacuum_orphans removes whatever is left
            fs.delete_file(f"{root}/{file['path']}")


def _commit_metadata(
    plan: _WritePlan, files: list[dict[str, Any]], metadata: Mapping[str, object] | None
) -> dict[str, str]:
    caller = {str(k): str(v) for k, v in (metadata or {}).items()}
    reserved = [k for k in caller if k.startswith(RESERVED_METADATA_PREFIX)]
    if reserved:
        raise ValueError(
            f"commit metadata keys {reserved} use the reserved prefix "
            f"{RESERVED_METADATA_PREFIX!r}; rename them"
        )
    return {
        **caller,
        "pilehouse.rows": str(sum(f["num_records"] for f in files)),
        "pilehouse.files": str(len(files)),
        "pilehouse.bytes": str(sum(f["size"] for f in files)),
        "pilehouse.mode": plan.mode,
        "pilehouse.replace_where": json.dumps(plan.replace_where or None, sort_keys=True),
        # Lets the writer find its own commit's version even when others commit right after.
        COMMIT_ID_KEY: str(uuid.uuid4()),
    }


def _commit(
    plan: _WritePlan,
    files: list[dict[str, Any]],
    metadata: Mapping[str, object] | None,
    before_commit: Callable[[list[AddAction]], None] | None,
    *,
    overwrite_schema: bool,
    state: _WriteState | None = None,
) -> CommitResult:
    custom = _commit_metadata(plan, files, metadata)
    commit_id = custom[COMMIT_ID_KEY]
    _check_replace_where(plan, files)
    actions = [
        AddAction(
            f["path"],
            f["size"],
            json.loads(f["partition_values"]),
            f["modification_time"],
            True,
            f["stats"],
        )
        for f in files
    ]
    properties = CommitProperties(custom_metadata=custom)
    state = state or _WriteState()
    version: int | None = None
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        # A fresh snapshot for every attempt: the Spark job may have run for hours, and
        # delta-rs rejects an overwrite when any commit since its snapshot removed files,
        # even in another partition (parallel backfills of one table do exactly that).
        table = _open_existing(plan.uri, plan.store)
        # This attempt's commit can only land after the snapshot it is made against.
        first_possible = table.version() + 1 if table is not None else 0
        if table is not None:
            _check_fits_table(plan, table, overwrite_schema=overwrite_schema)
        # Failures from here on leave the files in place: a commit can succeed on the store
        # and still raise (a lost response), and deleting its files would corrupt the
        # table. Files never committed are invisible; vacuum_orphans removes them.
        if before_commit is not None and attempt == 1:
            before_commit(actions)
        state.commit_id = commit_id
        try:
            _commit_once(plan, table, actions, properties, overwrite_schema=overwrite_schema)
        except (CommitFailedError, DeltaError, OSError) as error:
            # The put may have landed even though the answer was an error (a lost response):
            # look first, so a retry cannot commit the same files twice.
            version = _find_commit(plan.uri, plan.store, commit_id, first_possible)
            if version is not None:
                break
            state.commit_id = None  # looked: it did not land
            # CommitFailedError: delta-rs gave up on conflicts. A 409 Conflict: AWS S3's
            # answer to two conditional puts of one key in flight at once (delta-rs passes
            # it up as an OSError). And the table may have been created by another writer
            # since this one found none.
            lost_race = (
                isinstance(error, CommitFailedError)
                or (isinstance(error, OSError) and _is_put_conflict(error))
                or (table is None and _open_existing(plan.uri, plan.store) is not None)
            )
            if not lost_race:
                raise
            if attempt == COMMIT_ATTEMPTS:
                raise RuntimeError(
                    f"could not commit to {plan.uri}: {COMMIT_ATTEMPTS} attempts lost to "
                    f"concurrent writers ({error}); the files are written but invisible; "
                    "re-run the write (vacuum_orphans removes the leftovers)"
                ) from error
            time.sleep(0.2 * attempt)
            continue
        version = _find_commit(plan.uri, plan.store, commit_id, first_possible)
        if version is None:
            raise RuntimeError(
                f"delta-rs reported commit {commit_id} to {plan.uri} as done, but no log "
                f"entry from version {first_possible} on holds it; check the table history"
            )
        break
    assert version is not None
    state.commit_id = None
    return CommitResult(
        uri=plan.uri,
        version=version,
        num_rows=int(custom["pilehouse.rows"]),
        num_files=len(files),
        num_bytes=int(custom["pilehouse.bytes"]),
        commit_id=commit_id,
    )


def _is_put_conflict(error: OSError) -> bool:
    text = str(error)
    return "409" in text and ("Conflict" in text or "conflict" in text)


def _commit_once(
    plan: _WritePlan,
    table: DeltaTable | None,
    actions: list[AddAction],
    properties: CommitProperties,
    *,
    overwrite_schema: bool,
) -> None:
    if table is None:
        create_table_with_add_actions(
            plan.uri,
            DeltaSchema.from_arrow(plan.schema),
            actions,
            mode="error",
            partition_by=plan.partition_by or None,
            storage_options=plan.store.delta_storage_options(plan.uri),
            commit_properties=properties,
        )
        return
    # Appends and partition overwrites keep the table's schema (column order included).
    new_schema = plan.full_overwrite and overwrite_schema
    table.create_write_transaction(
        actions,
        plan.mode,
        DeltaSchema.from_arrow(plan.schema) if new_schema else table.schema(),
        partition_by=plan.partition_by or None,
        partition_filters=_partition_filters(plan.replace_where),
        commit_properties=properties,
    )


def _find_commit(uri: str, store: ObjectStore, commit_id: str, start: int) -> int | None:
    """The version whose commitInfo carries `commit_id`, looking from version `start` on.

    Read from the log entries themselves, by version: an entry's version is its file name,
    and the store's conditional put makes each entry immutable once written, so the answer
    cannot be confused by commits that land meanwhile (delta-rs 1.6's `history()` labels
    versions by counting down from the snapshot it was loaded at, which is wrong as soon as
    anyone commits after that load). Usually one read: the commit lands at `start`.
    """
    fs, root = store.filesystem(uri)
    version = max(start, 0)
    while True:
        try:
            info = _read_commit_info(fs, root, version)
        except FileNotFoundError:
            break
        if info is not None and info.get(COMMIT_ID_KEY) == commit_id:
            return version
        version += 1
    # The end of the log, or a gap (entries cleaned up): check whatever is listed beyond.
    for later in _log_versions(fs, root):
        if later > version:
            info = _read_commit_info(fs, root, later)
            if info is not None and info.get(COMMIT_ID_KEY) == commit_id:
                return later
    return None
