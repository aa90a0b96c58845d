"""The write API: a Spark DataFrame or an Arrow table to a Delta table, in one commit."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
from deltalake.transaction import AddAction

from spark_jobs.delta.commit import CommitResult, WriteMode, _commit, _plan_write
from spark_jobs.delta.failures import _s3_failures
from spark_jobs.delta.files import _WRITTEN_FILE_SCHEMA, _PartitionedFileWriter, _write_files_task
from spark_jobs.storage import LOCAL, ObjectStore

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


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
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

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
        files = [
            row.asDict()
            for row in df.mapInArrow(task, from_arrow_schema(_WRITTEN_FILE_SCHEMA)).collect()
        ]
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
