"""Writing Parquet data files with their Delta statistics (in Spark tasks, or on the driver)."""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from spark_jobs.storage import ObjectStore

# Delta's (and Hive's) directory name for a null partition value.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# Rows of one file are buffered up to this many bytes and written as one row group: Spark
# hands Python ~2000-row batches, and a row group per batch would make scans seek a lot.
ROW_GROUP_BYTES = 32 << 20
COMPRESSION = "zstd"
# What each write task reports per file it wrote; the driver turns these into add actions.
# Plain Arrow, so writing files needs no pyspark (write_table converts it for mapInArrow).
_WRITTEN_FILE_SCHEMA = pa.schema(
    [
        pa.field("path", pa.string(), False),
        pa.field("size", pa.int64(), False),
        pa.field("partition_values", pa.string(), False),
        pa.field("modification_time", pa.int64(), False),
        pa.field("num_records", pa.int64(), False),
        pa.field("stats", pa.string(), False),
    ]
)


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
        self.arrow_bytes = 0  # Arrow (uncompressed) bytes of the rows written so far
        self.stats = _FileStats(schema)

    @property
    def num_rows(self) -> int:
        return self.stats.num_records

    def write(self, batch: pa.RecordBatch) -> None:
        self.stats.update(batch)
        self._pending.append(batch)
        self._pending_bytes += batch.nbytes
        self.arrow_bytes += batch.nbytes
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
    """Writes a stream of batches as data files, one open file per partition-values tuple.

    A file is closed and the next one started before it would hold more than
    `max_rows_per_file` rows or `max_bytes_per_file` bytes of Arrow data (the rows'
    uncompressed in-memory size, counted as batches arrive; the Parquet file, encoded and
    compressed, is smaller). A single row over the byte cap gets a file of its own.
    """

    def __init__(
        self,
        store: ObjectStore,
        uri: str,
        schema: pa.Schema,
        partition_by: Sequence[str],
        max_rows_per_file: int | None = None,
        max_bytes_per_file: int | None = None,
    ) -> None:
        self._fs, self._root = store.filesystem(uri)
        self._schema = schema
        self._partition_by = list(partition_by)
        self._data_schema = pa.schema([f for f in schema if f.name not in self._partition_by])
        self._max_rows = max_rows_per_file
        self._max_bytes = max_bytes_per_file
        self._open: dict[tuple[str | None, ...], _PartFile] = {}
        self._finished: list[dict[str, Any]] = []
        self._written_paths: list[str] = []

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        batch = _conform_batch(batch, self._schema)
        for key, rows in self._split(batch):
            rows = rows.select(self._data_schema.names)
            while rows.num_rows:
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
                take = self._rows_that_fit(part, rows)
                if take:
                    part.write(rows.slice(0, take))
                    rows = rows.slice(take)
                if not take or (self._max_rows and part.num_rows >= self._max_rows):
                    self._finished.append(self._open.pop(key).close())

    def _rows_that_fit(self, part: _PartFile, rows: pa.RecordBatch) -> int:
        """How many of `rows` (from the first) the open file takes without going over a cap;
        0 means it is full. An empty file takes at least one row."""
        take = rows.num_rows
        if self._max_rows:
            take = min(take, self._max_rows - part.num_rows)
        if self._max_bytes and take:
            room = self._max_bytes - part.arrow_bytes
            if rows.slice(0, take).nbytes > room:
                # Estimate from the average row, then shrink until the slice fits.
                take = min(take, max(0, int(room * rows.num_rows / max(rows.nbytes, 1))))
                while take and rows.slice(0, take).nbytes > room:
                    take //= 2
        if take == 0 and part.num_rows == 0:
            return 1
        return take

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
    max_bytes_per_file: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """The mapInArrow body: write this task's rows, yield one row per file written."""
    writer = _PartitionedFileWriter(
        store, uri, schema, partition_by, max_rows_per_file, max_bytes_per_file
    )
    try:
        for batch in batches:
            writer.write(batch)
        files = writer.close()
    except BaseException:
        # A failed attempt's files are never committed; Spark retries with new file names.
        writer.abort()
        raise
    if files:
        yield pa.RecordBatch.from_pylist(files, schema=_WRITTEN_FILE_SCHEMA)
