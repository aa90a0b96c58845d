"""Reading a snapshot into Arrow, DuckDB or Spark (Spark is imported only by read_spark)."""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable

from spark_jobs.delta.snapshot import open_table
from spark_jobs.storage import LOCAL, ObjectStore

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


# read_spark cuts big files into row ranges of at least this many rows: below that, a task's
# start-up costs more than the rows it would take over.
SPLIT_MIN_ROWS = 1000
# Delta reader features whose semantics this reader does not implement (it would return
# deleted rows or wrong column names).
_UNSUPPORTED_READER_FEATURES = {"deletionVectors", "columnMapping"}


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
    snapshot: DeltaTable | None = None,
) -> pa.Table:
    """Read a snapshot into one Arrow table in this process (small tables, tests, manifests).

    Arguments are those of `open_table`, plus `columns` to read only some columns, and
    `snapshot`: `uri` already opened by `open_table` (read as it is; version and timestamp
    are then not used).
    """
    table = snapshot or open_table(uri, version=version, timestamp=timestamp, store=store)
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


def _default_tasks(files: pa.Table, parallelism: int) -> int:
    """Four tasks per unit of parallelism, but no task of fewer than SPLIT_MIN_ROWS rows: a
    small table is read by one or two tasks, since every task pays a fixed cost (a Python
    worker round trip per UDF) that outweighs the rows it reads."""
    tasks = max(1, parallelism) * 4
    rows = files.column("rows").to_pylist()
    if not rows or any(n is None for n in rows):
        return tasks
    return max(1, min(tasks, -(-sum(rows) // SPLIT_MIN_ROWS)))


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
    pieces.sort(key=lambda p: -p[0])
    bins = largest_first([size for size, _ in pieces], min(tasks, len(pieces)))
    return [[pieces[i][1] for i in members] for members in bins]


def largest_first(weights: Sequence[float], bins: int) -> list[list[int]]:
    """Indexes of `weights` spread over `bins` lists, each next weight (largest first) to the
    lightest list: balanced tasks from uneven pieces (ties keep the given order)."""
    groups: list[list[int]] = [[] for _ in range(bins)]
    heap = [(0.0, i) for i in range(bins)]
    for index in sorted(range(len(weights)), key=lambda i: -weights[i]):
        load, i = heapq.heappop(heap)
        groups[i].append(index)
        heapq.heappush(heap, (load + weights[index], i))
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
    partitions: Mapping[str, str | Sequence[str]] | None = None,
) -> DataFrame:
    """Read a snapshot as a Spark DataFrame, for local paths and s3:// alike.

    The driver resolves the snapshot's file list with delta-rs; Spark tasks read the files
    with pyarrow (no hadoop-aws needed) and add the partition columns.

    Args:
        spark: the session.
        uri, version, timestamp, store: as for `open_table`.
        columns: read only these columns, in this order.
        num_partitions: Spark tasks to spread the rows over (default: four per core, but
            no task of fewer than SPLIT_MIN_ROWS rows when the log counts them); big files are cut into row ranges and the pieces balanced by rows over the
            tasks (see _task_groups), never more tasks than pieces.
        partitions: read only the files of these partition values, e.g. {"source": "x"}, or
            of any of several, e.g. {"source": ["x", "y"]}.

    Raises:
        NotImplementedError: the table uses deletion vectors or column mapping.
    """
    from pyspark.sql.pandas.types import from_arrow_schema

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
        if isinstance(value, str):
            match = pc.equal(slot, value)
        else:  # any of several values: one read of many partitions
            match = pc.is_in(slot, value_set=pa.array(list(value), pa.string()))
        files = files.filter(pc.fill_null(match, False))
    if num_partitions is None:
        num_partitions = _default_tasks(files, spark.sparkContext.defaultParallelism)
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
