"""The one Delta table layer: Spark (or Arrow) writes Parquet files, delta-rs commits them once.

Snapshots (latest, a version, a timestamp) read back into Spark, Arrow or DuckDB, local or s3://.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from deltalake.schema import Schema as DeltaSchema
from deltalake.transaction import AddAction, create_table_with_add_actions
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.types import LongType, StringType, StructField, StructType

from spark_jobs.storage import (
    LOCAL,
    ObjectStore,
    S3EndpointUnreachable,
    UnsafeS3CommitsError,
    is_s3,
)

WriteMode = Literal["append", "overwrite"]

# Delta's (and Hive's) directory name for a null partition value.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# Rows of one file are buffered up to this many bytes and written as one row group: Spark
# hands Python ~2000-row batches, and a row group per batch would make scans seek a lot.
ROW_GROUP_BYTES = 32 << 20
# read_spark cuts big files into row ranges of at least this many rows: below that, a task's
# start-up costs more than the rows it would take over.
SPLIT_MIN_ROWS = 1000
COMPRESSION = "zstd"
RESERVED_METADATA_PREFIX = "pilehouse."
# Commits lost to concurrent writers are retried on a fresh snapshot; the files stay valid.
COMMIT_ATTEMPTS = 5
# The commitInfo key holding each write's unique id: how a writer finds its own version.
COMMIT_ID_KEY = "pilehouse.commit_id"
_LOG_ENTRY = re.compile(r"^(\d{20})\.json$")

# What each write task reports per file it wrote; the driver turns these into add actions.
_WRITTEN_FILE_SCHEMA = StructType(
    [
        StructField("path", StringType(), False),
        StructField("size", LongType(), False),
        StructField("partition_values", StringType(), False),
        StructField("modification_time", LongType(), False),
        StructField("num_records", LongType(), False),
        StructField("stats", StringType(), False),
    ]
)
# Delta reader features whose semantics this reader does not implement (it would return
# deleted rows or wrong column names).
_UNSUPPORTED_READER_FEATURES = {"deletionVectors", "columnMapping"}


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


# ---------------------------------------------------------------------------------------
# Writing files (runs in Spark tasks, or on the driver for write_arrow)
# ---------------------------------------------------------------------------------------


def _partition_string(value: Any) -> str | None:
    """Serialize a partition value the way the Delta protocol stores it in partitionValues."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _partition_dir(partition_by: Sequence[str], values: Sequence[str | None]) -> str:
    # Percent-encode every reserved character, like delta-rs and Spark, so a value such as
    # "a/b" or "x=y" cannot create extra directory levels or look like another column.
    return "/".join(
        f"{column}={NULL_PARTITION if value is None else quote(value, safe='')}"
        for column, value in zip(partition_by, values, strict=True)
    )


def _is_minmax_type(dtype: pa.DataType) -> bool:
    # Strings are left out on purpose: writers truncate long string stats, and a truncated
    # max is smaller than the real one, which would make readers skip files wrongly.
    return (
        pa.types.is_integer(dtype)
        or (pa.types.is_floating(dtype) and not pa.types.is_float16(dtype))
        or pa.types.is_boolean(dtype)
        or pa.types.is_date32(dtype)
        or (pa.types.is_timestamp(dtype) and dtype.tz is not None)
    )


def _timestamp_ms(value: int, unit: str, *, round_up: bool) -> int:
    per_ms = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}[unit]
    if per_ms is None:
        return value * 1000
    return -((-value) // per_ms) if round_up else value // per_ms


def _format_timestamp_ms(ms: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _FileStats:
    """Delta file statistics (numRecords, nullCount, minValues, maxValues), built batch by batch."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.num_records = 0
        self.null_count = {f.name: 0 for f in schema if not pa.types.is_nested(f.type)}
        self.minmax_columns = {f.name for f in schema if _is_minmax_type(f.type)}
        self.low: dict[str, Any] = {}
        self.high: dict[str, Any] = {}

    def update(self, batch: pa.RecordBatch) -> None:
        self.num_records += batch.num_rows
        for field, column in zip(batch.schema, batch.columns, strict=True):
            if field.name in self.null_count:
                self.null_count[field.name] += column.null_count
            if field.name not in self.minmax_columns:
                continue
            if pa.types.is_floating(field.type) and pc.any(pc.is_nan(column)).as_py():
                # NaN orders differently across engines; no bounds is always safe.
                self.minmax_columns.discard(field.name)
                self.low.pop(field.name, None)
                self.high.pop(field.name, None)
                continue
            if pa.types.is_timestamp(field.type):
                column = column.cast(pa.int64())
            bounds = pc.min_max(column)
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            if low is None:
                continue
            previous_low = self.low.get(field.name)
            previous_high = self.high.get(field.name)
            self.low[field.name] = low if previous_low is None else min(previous_low, low)
            self.high[field.name] = high if previous_high is None else max(previous_high, high)

    def _encode(self, name: str, value: Any, *, is_max: bool) -> Any:
        dtype = self.schema.field(name).type
        if pa.types.is_timestamp(dtype):
            # Delta stores millisecond bounds; round the max up so a file whose max is
            # 12:00:00.000500 is not skipped by a filter ts >= 12:00:00.000400.
            return _format_timestamp_ms(_timestamp_ms(value, dtype.unit, round_up=is_max))
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and math.isinf(value):
            return None  # JSON has no infinity
        return value

    def to_json(self) -> str:
        min_values, max_values = {}, {}
        for name in self.minmax_columns:
            if name not in self.low:
                continue
            low = self._encode(name, self.low[name], is_max=False)
            high = self._encode(name, self.high[name], is_max=True)
            if low is not None and high is not None:
                min_values[name], max_values[name] = low, high
        return json.dumps(
            {
                "numRecords": self.num_records,
                "minValues": min_values,
                "maxValues": max_values,
                "nullCount": self.null_count,
            },
            separators=(",", ":"),
        )


class _PartFile:
    """One Parquet data file being written, with its statistics."""

    def __init__(
        self,
        fs: pafs.FileSystem,
        root: str,
        partition_dir: str,
        partition_values: dict[str, str | None],
        schema: pa.Schema,
    ) -> None:
        name = f"part-{uuid.uuid4()}.parquet"
        self.relative_path = f"{partition_dir}/{name}" if partition_dir else name
        self.full_path = f"{root}/{self.relative_path}"
        self.partition_values = partition_values
        if isinstance(fs, pafs.LocalFileSystem):
            # Object stores have no directories; creating markers there would only add
            # empty objects that vacuum later sees.
            fs.create_dir(self.full_path.rsplit("/", 1)[0], recursive=True)
        self._sink = fs.open_output_stream(self.full_path)
        self._writer = pq.ParquetWriter(self._sink, schema, compression=COMPRESSION)
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self.stats = _FileStats(schema)

    @property
    def num_rows(self) -> int:
        return self.stats.num_records

    def write(self, batch: pa.RecordBatch) -> None:
        self.stats.update(batch)
        self._pending.append(batch)
        self._pending_bytes += batch.nbytes
        if self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending))
        self._pending, self._pending_bytes = [], 0

    def close(self) -> dict[str, Any]:
        self._flush()
        self._writer.close()
        size = self._sink.tell()
        self._sink.close()
        return {
            # The path as it is in the store: delta-rs URI-encodes it (again) in the log.
            "path": self.relative_path,
            "size": size,
            "partition_values": json.dumps(self.partition_values),
            "modification_time": int(time.time() * 1000),
            "num_records": self.stats.num_records,
            "stats": self.stats.to_json(),
        }

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # already broken; the file is deleted next anyway
            self._writer.close()
            self._sink.close()


class _PartitionedFileWriter:
    """Writes a stream of batches as data files, one open file per partition-values tuple."""

    def __init__(
        self,
        store: ObjectStore,
        uri: str,
        schema: pa.Schema,
        partition_by: Sequence[str],
        max_rows_per_file: int | None = None,
    ) -> None:
        self._fs, self._root = store.filesystem(uri)
        self._schema = schema
        self._partition_by = list(partition_by)
        self._data_schema = pa.schema([f for f in schema if f.name not in self._partition_by])
        self._max_rows = max_rows_per_file
        self._open: dict[tuple[str | None, ...], _PartFile] = {}
        self._finished: list[dict[str, Any]] = []
        self._written_paths: list[str] = []

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        batch = _conform_batch(batch, self._schema)
        for key, rows in self._split(batch):
            part = self._open.get(key)
            if part is None:
                part = self._open[key] = _PartFile(
                    self._fs,
                    self._root,
                    _partition_dir(self._partition_by, key),
                    dict(zip(self._partition_by, key, strict=True)),
                    self._data_schema,
                )
                self._written_paths.append(part.full_path)
            part.write(rows.select(self._data_schema.names))
            if self._max_rows and part.num_rows >= self._max_rows:
                self._finished.append(self._open.pop(key).close())

    def _split(
        self, batch: pa.RecordBatch
    ) -> Iterator[tuple[tuple[str | None, ...], pa.RecordBatch]]:
        if not self._partition_by:
            yield (), batch
            return
        keys = (
            pa.Table.from_batches([batch.select(self._partition_by)])
            .group_by(self._partition_by, use_threads=False)
            .aggregate([])
        )
        for values in keys.to_pylist():
            key = tuple(_partition_string(values[c]) for c in self._partition_by)
            if keys.num_rows == 1:
                yield key, batch
                continue
            mask = None
            for column in self._partition_by:
                value = values[column]
                array = batch.column(column)
                match = (
                    pc.is_null(array)
                    if value is None
                    else pc.fill_null(pc.equal(array, pa.scalar(value, array.type)), False)
                )
                mask = match if mask is None else pc.and_(mask, match)
            yield key, batch.filter(mask)

    def close(self) -> list[dict[str, Any]]:
        """Close every open file; return one description per file written."""
        finished = self._finished + [part.close() for part in self._open.values()]
        self._open, self._finished = {}, []
        return finished

    def abort(self) -> None:
        """Delete what this writer wrote (best effort): it will never be committed."""
        for part in self._open.values():
            part.abort()
        self._open = {}
        for path in self._written_paths:
            with contextlib.suppress(OSError):  # vacuum_orphans removes whatever is left
                self._fs.delete_file(path)


def _conform_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    # Spark may hand over large_string or another timestamp zone; files get the table's types.
    batch = batch.select(schema.names)
    if batch.schema.equals(schema):
        return batch
    return batch.cast(schema)


def _write_files_task(
    batches: Iterable[pa.RecordBatch],
    *,
    store: ObjectStore,
    uri: str,
    schema: pa.Schema,
    partition_by: Sequence[str],
    max_rows_per_file: int | None,
) -> Iterator[pa.RecordBatch]:
    """The mapInArrow body: write this task's rows, yield one row per file written."""
    writer = _PartitionedFileWriter(store, uri, schema, partition_by, max_rows_per_file)
    try:
        for batch in batches:
            writer.write(batch)
        files = writer.close()
    except BaseException:
        # A failed attempt's files are never committed; Spark retries with new file names.
        writer.abort()
        raise
    if files:
        yield pa.RecordBatch.from_pylist(files, schema=_written_file_arrow_schema())


@functools.cache
def _written_file_arrow_schema() -> pa.Schema:
    return to_arrow_schema(_WRITTEN_FILE_SCHEMA, timezone="UTC")


# ---------------------------------------------------------------------------------------
# Planning and committing (driver)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WritePlan:
    uri: str
    store: ObjectStore
    mode: WriteMode
    schema: pa.Schema
    partition_by: list[str]
    replace_where: dict[str, str]

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
    replace_where: Mapping[str, str] | None,
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

    replace_where = {str(k): v for k, v in (replace_where or {}).items()}
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
            if not isinstance(value, str):
                raise ValueError(
                    f"replace_where[{column!r}] must be the partition value as a string "
                    f"(as Delta stores it, e.g. '2024-10-01' or '7'), got {value!r}"
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


def _open_existing(uri: str, store: ObjectStore) -> DeltaTable | None:
    options = store.delta_storage_options(uri)
    if not DeltaTable.is_deltatable(uri, storage_options=options):
        return None
    return DeltaTable(uri, storage_options=options)


def _check_replace_where(plan: _WritePlan, files: list[dict[str, Any]]) -> None:
    if not plan.replace_where:
        return
    wrong = set()
    for file in files:
        values = json.loads(file["partition_values"])
        if any(values.get(c) != v for c, v in plan.replace_where.items()):
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


@dataclass
class _WriteState:
    """What a failing write had got to, for its error message."""

    # Set while a commit may be on the store without this process knowing (sent, no answer).
    commit_id: str | None = None


@contextlib.contextmanager
def _s3_failures(uri: str, store: ObjectStore, action: str) -> Iterator[_WriteState]:
    """Turn any failure of an S3 read or write whose endpoint does not answer into one line:
    "S3 endpoint <url> unreachable while <action> <uri>: <cause>; check ...".

    The original error is chained (`raise ... from`). Only when a TCP connection to the
    endpoint fails, or a request timed out: other errors pass through as they are.
    """
    state = _WriteState()
    try:
        yield state
    except (ValueError, TypeError, S3EndpointUnreachable, UnsafeS3CommitsError):
        raise
    except Exception as error:
        if not is_s3(uri):
            raise
        cause = store.unreachable_cause()
        if cause is None and isinstance(error, OSError) and "timed out" in str(error):
            cause = (
                "it accepts connections but did not answer within "
                f"request_timeout_s={store.request_timeout_s:g}"
            )
        if cause is None:
            raise
        note = ""
        if action == "writing":
            note = (
                "; nothing was committed"
                if state.commit_id is None
                else f"; whether commit {state.commit_id} landed is unknown: look for "
                f"{COMMIT_ID_KEY}={state.commit_id} in the table history once it answers"
            )
        raise store.unreachable_error(uri, action, cause, note) from error


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
        partition_filters=[(c, "=", v) for c, v in plan.replace_where.items()] or None,
        commit_properties=properties,
    )


def _log_entry_path(root: str, version: int) -> str:
    return f"{root}/_delta_log/{version:020d}.json"


def _read_commit_info(fs: pafs.FileSystem, root: str, version: int) -> dict[str, Any] | None:
    """The commitInfo action of one version's log entry (None: the entry has none).

    Reads only up to that action (delta-rs writes it first). Raises FileNotFoundError when
    the version has no log entry.
    """
    with fs.open_input_stream(_log_entry_path(root, version)) as stream:
        pending = b""
        while True:
            chunk = stream.read(1 << 16)
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop() if chunk else b""
            for line in lines:
                if b'"commitInfo"' in line:
                    action = json.loads(line)
                    if "commitInfo" in action:
                        return action["commitInfo"]
            if not chunk:
                return None


def _log_versions(fs: pafs.FileSystem, root: str) -> list[int]:
    """The versions that have a JSON log entry, ascending, from a listing of _delta_log."""
    listing = fs.get_file_info(pafs.FileSelector(f"{root}/_delta_log", allow_not_found=True))
    found = (_LOG_ENTRY.match(info.base_name) for info in listing)
    return sorted(int(match.group(1)) for match in found if match)


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


# ---------------------------------------------------------------------------------------
# Public write API
# ---------------------------------------------------------------------------------------


def write_table(
    df: DataFrame,
    uri: str,
    *,
    mode: WriteMode,
    partition_by: Sequence[str] = (),
    replace_where: Mapping[str, str] | None = None,
    metadata: Mapping[str, object] | None = None,
    store: ObjectStore = LOCAL,
    overwrite_schema: bool = False,
    max_rows_per_file: int | None = None,
    _before_commit: Callable[[list[AddAction]], None] | None = None,
) -> CommitResult:
    """Write a Spark DataFrame to a Delta table in one commit.

    Spark tasks write Parquet files (partition columns only in the hive-style directory
    names, as Delta does); the driver then commits all of them in a single transaction,
    so readers see either the previous version or the whole write.

    Args:
        df: the rows to write.
        uri: table root, a local path or s3://bucket/prefix.
        mode: "append" adds rows; "overwrite" replaces the table, or only the partition
            named by `replace_where`.
        partition_by: partition columns; must match an existing table's partitioning.
        replace_where: overwrite one partition, e.g. {"source": "cc-2024-10"}; keys are a
            subset of the partition columns, values as Delta stores them (strings). Every
            written row must fall inside it. Re-running the same write is idempotent.
        metadata: lineage for the commit (run id, asset key, partition, code version);
            values are stringified. `pilehouse.*` keys are added (rows, files, bytes,
            mode, replace_where, commit_id).
        store: how to reach s3:// URIs.
        overwrite_schema: allow a full overwrite to change the table's columns.
        max_rows_per_file: start a new file after this many rows (default: one file per
            Spark partition and table partition).
        _before_commit: test seam called with the add actions after the files are written
            and before the commit; raising there leaves the table untouched.

    Returns:
        The committed version (read from the log entry that holds this write's commit id,
        so concurrent writers never get each other's version) and what it added.

    Raises:
        ValueError: bad mode/partitioning, a schema that does not match the table, or rows
            outside `replace_where` (then nothing is committed).
        S3EndpointUnreachable: the S3 endpoint did not answer (one line: endpoint, table,
            cause, and whether anything may have been committed).
        UnsafeS3CommitsError: the S3 store does not honour conditional put, so concurrent
            commits would be unsafe (see ObjectStore.allow_unsafe_rename).
    """
    schema = to_arrow_schema(df.schema, timezone="UTC")
    with _s3_failures(uri, store, "writing") as state:
        plan = _plan_write(
            uri,
            schema,
            mode=mode,
            partition_by=partition_by,
            replace_where=replace_where,
            overwrite_schema=overwrite_schema,
            store=store,
        )
        task = functools.partial(
            _write_files_task,
            store=store,
            uri=uri,
            schema=plan.schema,
            partition_by=plan.partition_by,
            max_rows_per_file=max_rows_per_file,
        )
        files = [row.asDict() for row in df.mapInArrow(task, _WRITTEN_FILE_SCHEMA).collect()]
        return _commit(
            plan, files, metadata, _before_commit, overwrite_schema=overwrite_schema, state=state
        )


def write_arrow(
    table: pa.Table,
    uri: str,
    *,
    mode: WriteMode,
    partition_by: Sequence[str] = (),
    replace_where: Mapping[str, str] | None = None,
    metadata: Mapping[str, object] | None = None,
    store: ObjectStore = LOCAL,
    overwrite_schema: bool = False,
    max_rows_per_file: int | None = None,
    _before_commit: Callable[[list[AddAction]], None] | None = None,
) -> CommitResult:
    """Write a small Arrow table from the driver, through the same files-then-commit path.

    Arguments and errors are those of `write_table`; use this for manifests, reject
    samples and other tables small enough for one process.
    """
    with _s3_failures(uri, store, "writing") as state:
        plan = _plan_write(
            uri,
            table.schema,
            mode=mode,
            partition_by=partition_by,
            replace_where=replace_where,
            overwrite_schema=overwrite_schema,
            store=store,
        )
        writer = _PartitionedFileWriter(
            store, uri, plan.schema, plan.partition_by, max_rows_per_file
        )
        try:
            for batch in table.to_batches():
                writer.write(batch)
            files = writer.close()
        except BaseException:
            writer.abort()
            raise
        return _commit(
            plan, files, metadata, _before_commit, overwrite_schema=overwrite_schema, state=state
        )


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def table_exists(uri: str, store: ObjectStore = LOCAL) -> bool:
    """Whether `uri` holds a Delta table (a readable _delta_log)."""
    return DeltaTable.is_deltatable(uri, storage_options=store.delta_storage_options(uri))


def open_table(
    uri: str,
    *,
    version: int | None = None,
    timestamp: datetime | str | None = None,
    store: ObjectStore = LOCAL,
) -> DeltaTable:
    """Open a snapshot of a Delta table: the latest, a version, or the one current at a time.

    Args:
        uri: table root, a local path or s3://bucket/prefix.
        version: a commit version (0 is the first).
        timestamp: a datetime (naive means UTC) or an ISO 8601 string; the snapshot is the
            last commit at or before it.
        store: how to reach s3:// URIs.

    Raises:
        FileNotFoundError: no Delta table at `uri`.
        ValueError: both version and timestamp given, a version that does not exist, or a
            timestamp before the table's first commit.
        S3EndpointUnreachable: the S3 endpoint did not answer.
    """
    if version is not None and timestamp is not None:
        raise ValueError("pass either version or timestamp, not both")
    with _s3_failures(uri, store, "reading"):
        return _open_snapshot(uri, version, timestamp, store)


def _open_snapshot(
    uri: str, version: int | None, timestamp: datetime | str | None, store: ObjectStore
) -> DeltaTable:
    options = store.delta_storage_options(uri)
    try:
        table = DeltaTable(uri, storage_options=options)
    except TableNotFoundError as error:
        raise FileNotFoundError(
            f"no Delta table at {uri} ({error}); write it first with write_table or write_arrow"
        ) from error
    latest = table.version()
    if version is not None:
        if not 0 <= version <= latest:
            raise ValueError(f"{uri} has versions 0..{latest}; version {version} does not exist")
        table.load_as_version(version)
    elif timestamp is not None:
        moment = _utc(timestamp)
        table.load_as_version(moment)
        # delta-rs answers a time before the first commit with version 0 instead of an error.
        if table.version() == 0:
            fs, root = store.filesystem(uri)
            versions = _log_versions(fs, root)
            first = _read_commit_info(fs, root, versions[0]) if versions else None
            if first is not None and "timestamp" in first:
                created = datetime.fromtimestamp(first["timestamp"] / 1000, UTC)
                if moment < created:
                    raise ValueError(
                        f"{moment.isoformat()} is before the first commit of {uri} "
                        f"({created.isoformat()}); there is no snapshot that old"
                    )
    return table


def _utc(timestamp: datetime | str) -> datetime:
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp)
        except ValueError as error:
            raise ValueError(
                f"timestamp {timestamp!r} is not ISO 8601 (e.g. 2024-10-01T12:00:00Z)"
            ) from error
    return timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp


def table_history(uri: str, store: ObjectStore = LOCAL) -> list[dict[str, Any]]:
    """Commit history, newest first, with our commit metadata as top-level keys.

    Each entry has `version`, `timestamp` (ms since epoch), `operation`, and the
    metadata passed at write time plus the `pilehouse.*` counters.

    Read from the log entries, each labelled with the version in its file name: delta-rs
    1.6's `DeltaTable.history()` labels entries by counting down from the version its
    snapshot was loaded at, which mislabels every entry once someone commits between the
    load and the listing (and on a time-travelled table).
    """
    open_table(uri, store=store)  # FileNotFoundError (or unreachable) before listing
    with _s3_failures(uri, store, "reading"):
        fs, root = store.filesystem(uri)
        versions = _log_versions(fs, root)[::-1]

        def commit_info(version: int) -> dict[str, Any] | None:
            try:
                return _read_commit_info(fs, root, version)
            except FileNotFoundError:  # cleaned up since the listing
                return None

        with ThreadPoolExecutor(max_workers=8) as pool:
            infos = list(pool.map(commit_info, versions))
    return [{**info, "version": v} for v, info in zip(versions, infos, strict=True) if info]


def _arrow_schema(table: DeltaTable) -> pa.Schema:
    return pa.schema(table.schema().to_arrow())


def _projected_schema(table: DeltaTable, uri: str, columns: Sequence[str] | None) -> pa.Schema:
    schema = _arrow_schema(table)
    if columns is None:
        return schema
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise ValueError(f"columns {unknown} are not in {uri}; it has {schema.names}")
    return pa.schema([schema.field(c) for c in columns])


def snapshot_dataset(
    uri: str,
    *,
    version: int | None = None,
    timestamp: datetime | str | None = None,
    store: ObjectStore = LOCAL,
) -> ds.Dataset:
    """A snapshot as a lazy pyarrow Dataset (partition columns and pruning included).

    Arguments are those of `open_table`.
    """
    table = open_table(uri, version=version, timestamp=timestamp, store=store)
    return _snapshot_dataset(table, uri, store)


def _snapshot_dataset(table: DeltaTable, uri: str, store: ObjectStore) -> ds.Dataset:
    # Built from the add actions ourselves rather than with DeltaTable.to_pyarrow_dataset():
    # delta-rs 1.6.6 turns a column with a null count but no min/max (our string columns)
    # into `col >= null` guarantees, so any filter on such a column matched no file; and
    # its default Python-bridged filesystem often aborts the interpreter at exit.
    _check_supported_features(table, uri)
    fs, root = store.filesystem(uri)
    schema = _arrow_schema(table)
    partition_by = list(table.metadata().partition_columns)
    files = _file_table(table, schema, partition_by)
    parquet = ds.ParquetFileFormat()
    fragments = []
    for i in range(files.num_rows):
        path = files.column("path")[i].as_py()
        file_fs, full = store.filesystem(path) if "://" in path else (fs, f"{root}/{unquote(path)}")
        expression = ds.scalar(True)
        for j, column in enumerate(partition_by):
            value = files.column(f"p{j}")[i]
            expression &= (
                ds.field(column).is_null() if not value.is_valid else ds.field(column) == value
            )
        fragments.append(
            parquet.make_fragment(full, filesystem=file_fs, partition_expression=expression)
        )
    return ds.FileSystemDataset(fragments, schema=schema, format=parquet, filesystem=fs)


def read_arrow(
    uri: str,
    *,
    version: int | None = None,
    timestamp: datetime | str | None = None,
    columns: Sequence[str] | None = None,
    store: ObjectStore = LOCAL,
) -> pa.Table:
    """Read a snapshot into one Arrow table in this process (small tables, tests, manifests).

    Arguments are those of `open_table`, plus `columns` to read only some columns.
    """
    table = open_table(uri, version=version, timestamp=timestamp, store=store)
    schema = _projected_schema(table, uri, columns)
    return _snapshot_dataset(table, uri, store).to_table(columns=list(schema.names))


def register_duckdb(
    con: Any,
    name: str,
    uri: str,
    *,
    version: int | None = None,
    timestamp: datetime | str | None = None,
    store: ObjectStore = LOCAL,
) -> None:
    """Make a snapshot queryable in DuckDB as `name` (lazily scanned, filters pushed down).

    Args:
        con: a duckdb connection.
        name: the view name to register.
        uri: table root, a local path or s3://bucket/prefix.
        version: a commit version.
        timestamp: the snapshot current at this time.
        store: how to reach s3:// URIs.
    """
    con.register(name, snapshot_dataset(uri, version=version, timestamp=timestamp, store=store))


def _check_supported_features(table: DeltaTable, uri: str) -> None:
    protocol = table.protocol()
    features = set(protocol.reader_features or [])
    if protocol.min_reader_version == 2:
        features.add("columnMapping")
    unsupported = sorted(features & _UNSUPPORTED_READER_FEATURES)
    if unsupported:
        raise NotImplementedError(
            f"{uri} uses Delta reader features {unsupported}, which this table layer does "
            "not implement; rewrite the table with write_table, or read it with delta-rs "
            "(deltalake.DeltaTable(uri).to_pyarrow_table) where it supports them"
        )


def _file_table(table: DeltaTable, schema: pa.Schema, partition_by: Sequence[str]) -> pa.Table:
    """One row per data file: path, rows (null where the log has no stats), p0.. partitions."""
    adds = pa.table(table.get_add_actions(flatten=True))
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "path": adds.column("path"),
        "rows": (
            adds.column("num_records").cast(pa.int64())
            if "num_records" in adds.column_names
            else pa.nulls(adds.num_rows, pa.int64())
        ),
    }
    for i, column in enumerate(partition_by):
        name = f"partition.{column}"
        dtype = schema.field(column).type
        columns[f"p{i}"] = (
            adds.column(name).cast(dtype)
            if name in adds.column_names
            else pa.nulls(adds.num_rows, dtype)
        )
    return pa.table(columns)


def _read_files_task(
    batches: Iterable[pa.RecordBatch],
    *,
    store: ObjectStore,
    uri: str,
    output: pa.Schema,
    partition_by: Sequence[str],
) -> Iterator[pa.RecordBatch]:
    """The mapInArrow body: read the listed data files, add partition columns as constants."""
    fs, root = store.filesystem(uri)
    partition_slot = {column: f"p{i}" for i, column in enumerate(partition_by)}
    data_columns = [name for name in output.names if name not in partition_slot]
    for files in batches:
        for i in range(files.num_rows):
            # The log holds URI-encoded paths, relative to the root or (rarely) absolute.
            path = files.column("path")[i].as_py()
            file_fs, full = (
                store.filesystem(path) if "://" in path else (fs, f"{root}/{unquote(path)}")
            )
            constants = {column: files.column(slot)[i] for column, slot in partition_slot.items()}
            start, stop = files.column("start")[i].as_py(), files.column("stop")[i].as_py()
            with file_fs.open_input_file(full) as handle:
                parquet = pq.ParquetFile(handle)
                present = set(parquet.schema_arrow.names)
                to_read = [c for c in data_columns if c in present]
                for batch in _row_range(parquet, to_read, start, stop):
                    yield _output_batch(batch, output, constants)


def _row_range(
    parquet: pq.ParquetFile, columns: list[str], start: int | None, stop: int | None
) -> Iterator[pa.RecordBatch]:
    """The batches of rows [start, stop) of a file (all of it when start is None), reading only
    the row groups that hold them."""
    if start is None:
        yield from parquet.iter_batches(columns=columns)
        return
    offset = 0
    for group in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(group).num_rows
        if offset + rows > start and offset < stop:
            position = offset
            for batch in parquet.iter_batches(columns=columns, row_groups=[group]):
                lo, hi = max(start - position, 0), min(stop - position, batch.num_rows)
                if hi > lo:
                    yield batch.slice(lo, hi - lo)
                position += batch.num_rows
        offset += rows
        if offset >= stop:
            return


def _task_groups(files: pa.Table, tasks: int, min_rows: int) -> list[list[tuple]]:
    """`files` rows (plus start, stop) grouped into at most `tasks` groups of about equal rows.

    Files with more than total/tasks rows (and more than `min_rows`) are cut into row ranges
    of at most that size, so one big file does not keep a stage on one core; the pieces
    then go, largest first, to the group with the fewest rows. A file whose row count the log
    does not hold is read whole and counted as an average piece.
    """
    rows = files.column("rows").to_pylist()
    known = [n for n in rows if n is not None]
    chunk = max(min_rows, -(-sum(known) // tasks)) if known else 0
    average = sum(known) / len(known) if known else 1
    pieces: list[tuple[float, tuple]] = []
    for row, n in zip(
        zip(*(column.to_pylist() for column in files.columns), strict=True), rows, strict=True
    ):
        count = 1 if n is None or n <= chunk else -(-n // chunk)
        if count == 1:
            pieces.append((average if n is None else n, (*row, None, None)))
            continue
        for k in range(count):
            lo, hi = n * k // count, n * (k + 1) // count
            pieces.append((hi - lo, (*row, lo, hi)))
    groups: list[list[tuple]] = [[] for _ in range(min(tasks, len(pieces)))]
    heap = [(0.0, i) for i in range(len(groups))]
    for size, piece in sorted(pieces, key=lambda p: -p[0]):
        load, i = heapq.heappop(heap)
        groups[i].append(piece)
        heapq.heappush(heap, (load + size, i))
    return groups


def _output_batch(
    batch: pa.RecordBatch, output: pa.Schema, constants: Mapping[str, pa.Scalar]
) -> pa.RecordBatch:
    rows = batch.num_rows
    arrays = []
    for field in output:
        if field.name in constants:
            value = constants[field.name]
            arrays.append(
                pa.array([value.as_py()] * rows, type=field.type)
                if value.is_valid
                else pa.nulls(rows, field.type)
            )
        elif field.name in batch.schema.names:
            column = batch.column(field.name)
            arrays.append(column if column.type == field.type else column.cast(field.type))
        else:
            # Files written before a column was added to the table have no such column.
            arrays.append(pa.nulls(rows, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=output)


def read_spark(
    spark: SparkSession,
    uri: str,
    *,
    version: int | None = None,
    timestamp: datetime | str | None = None,
    columns: Sequence[str] | None = None,
    store: ObjectStore = LOCAL,
    num_partitions: int | None = None,
    partitions: Mapping[str, str] | None = None,
) -> DataFrame:
    """Read a snapshot as a Spark DataFrame, for local paths and s3:// alike.

    The driver resolves the snapshot's file list with delta-rs; Spark tasks read the files
    with pyarrow (no hadoop-aws needed) and add the partition columns.

    Args:
        spark: the session.
        uri, version, timestamp, store: as for `open_table`.
        columns: read only these columns, in this order.
        num_partitions: Spark tasks to spread the rows over (default: four per core);
            big files are cut into row ranges and the pieces balanced by rows over the
            tasks (see _task_groups), never more tasks than pieces.
        partitions: read only the files of these partition values, e.g. {"source": "x"}.

    Raises:
        NotImplementedError: the table uses deletion vectors or column mapping.
    """
    table = open_table(uri, version=version, timestamp=timestamp, store=store)
    _check_supported_features(table, uri)
    schema = _arrow_schema(table)
    output = _projected_schema(table, uri, columns)
    partition_by = list(table.metadata().partition_columns)
    files = _file_table(table, schema, partition_by)
    for column, value in (partitions or {}).items():
        if column not in partition_by:
            raise ValueError(f"{column!r} is not a partition column of {uri} ({partition_by})")
        slot = files.column(f"p{partition_by.index(column)}").cast(pa.string())
        files = files.filter(pc.fill_null(pc.equal(slot, value), False))
    if num_partitions is None:
        num_partitions = max(1, spark.sparkContext.defaultParallelism) * 4
    groups = _task_groups(files, max(1, num_partitions), SPLIT_MIN_ROWS)
    task = functools.partial(
        _read_files_task, store=store, uri=uri, output=output, partition_by=partition_by
    )
    ranges = files.schema.append(pa.field("start", pa.int64())).append(pa.field("stop", pa.int64()))
    # One Spark partition per group, exactly (a repartition of a few rows lands them unevenly).
    listed = spark.sparkContext.parallelize(groups or [[]], max(1, len(groups))).flatMap(
        lambda group: group
    )
    file_rows = spark.createDataFrame(listed, schema=from_arrow_schema(ranges))
    return file_rows.mapInArrow(task, from_arrow_schema(output))


# ---------------------------------------------------------------------------------------
# Maintenance
# ---------------------------------------------------------------------------------------


def vacuum_orphans(
    uri: str,
    store: ObjectStore = LOCAL,
    *,
    retention_hours: int = 0,
    keep_history: bool = True,
    dry_run: bool = False,
) -> list[str]:
    """Delete data files that no commit references (left by failed or interrupted writes).

    delta-rs's default vacuum only deletes files that a commit removed; files never
    committed need its "full" mode, used here.

    Args:
        uri: table root.
        store: how to reach s3:// URIs.
        retention_hours: only delete files older than this. The default 0 also deletes
            files that a write running right now has not committed yet: run it when no
            writer is active, or pass the longest write's duration.
        keep_history: keep files of every version still in the log, so time travel keeps
            working (only never-committed files go). False also deletes files that older
            versions need (a classic vacuum with zero retention).
        dry_run: only list what would be deleted.

    Returns:
        Paths of the deleted files, relative to the table root, sorted.
    """
    table = open_table(uri, store=store)
    keep = None
    if keep_history:
        fs, root = store.filesystem(uri)
        keep = [v for v in _log_versions(fs, root) if v <= table.version()]
    removed = table.vacuum(
        retention_hours=retention_hours,
        dry_run=dry_run,
        enforce_retention_duration=False,
        full=True,
        keep_versions=keep,
    )
    return sorted(_relative_to_root(path, uri, store) for path in removed)


def _relative_to_root(path: str, uri: str, store: ObjectStore) -> str:
    # delta-rs returns some paths relative and some absolute (file paths or URIs).
    _, root = store.filesystem(uri)
    for prefix in (uri.rstrip("/") + "/", "file://" + root + "/", root + "/"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path
