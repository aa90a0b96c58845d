"""The write API: a Spark DataFrame or an Arrow table to a Delta table, in one commit."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    replace_where: Mapping[str, str | Sequence[str]] | None = None,
    metadata: Mapping[str, object] | None = None,
    store: ObjectStore = LOCAL,
    overwrite_schema: bool = False,
    max_rows_per_file: int | None = None,
    max_bytes_per_file: int | None = None,
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
            subset of the partition columns, values as Delta stores them (strings), or a
            list of values to replace several partitions in one commit, e.g. {"source":
            ["a", "b"]}. Every written row must fall inside it. Re-running the same write
            is idempotent.
        metadata: lineage for the commit (run id, asset key, partition, code version);
            values are stringified. `pilehouse.*` keys are added (rows, files, bytes,
            mode, replace_where, commit_id).
        store: how to reach s3:// URIs.
        overwrite_schema: allow a full overwrite to change the table's columns.
        max_rows_per_file: start a new file after this many rows (default: one file per
            Spark partition and table partition).
        max_bytes_per_file: start a new file before one would hold more than this many
            bytes of Arrow data (the rows' uncompressed size; the Parquet file is smaller).
            Stages pass the session's `spark_jobs.session.max_bytes_per_file`.
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
            max_bytes_per_file=max_bytes_per_file,
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
    replace_where: Mapping[str, str | Sequence[str]] | None = None,
    metadata: Mapping[str, object] | None = None,
    store: ObjectStore = LOCAL,
    overwrite_schema: bool = False,
    max_rows_per_file: int | None = None,
    max_bytes_per_file: int | None = None,
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
            store, uri, plan.schema, plan.partition_by, max_rows_per_file, max_bytes_per_file
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


@dataclass(frozen=True)
class StagedWrite:
    """A write whose files are written by tasks and committed by the driver later, in as many
    commits as it likes: for a stage that commits parts of one job's output as they finish
    (the synthetic generation stage commits each chunk while the next is requested).

    Files written and not (yet) committed are invisible to readers; vacuum_orphans removes
    the ones never committed. Picklable: tasks call `write_files`, the driver `commit`.
    """

    uri: str
    schema: pa.Schema  # as the files store it (nullable fields, like write_table's)
    partition_by: tuple[str, ...]
    store: ObjectStore = LOCAL
    max_rows_per_file: int | None = None
    max_bytes_per_file: int | None = None

    @classmethod
    def prepare(
        cls,
        uri: str,
        schema: pa.Schema,
        *,
        partition_by: Sequence[str] = (),
        store: ObjectStore = LOCAL,
        max_rows_per_file: int | None = None,
        max_bytes_per_file: int | None = None,
    ) -> StagedWrite:
        """Check the write against the table (if it exists) before any file is written; the
        errors are those of `write_table`."""
        with _s3_failures(uri, store, "writing"):
            plan = _plan_write(
                uri,
                schema,
                mode="append",
                partition_by=partition_by,
                replace_where=None,
                overwrite_schema=False,
                store=store,
            )
        return cls(
            uri,
            plan.schema,
            tuple(plan.partition_by),
            store,
            max_rows_per_file,
            max_bytes_per_file,
        )

    def write_files(self, table: pa.Table) -> list[dict[str, Any]]:
        """Write `table`'s rows as Parquet files (anywhere: a task, the driver); what
        `commit` needs of each file."""
        writer = _PartitionedFileWriter(
            self.store,
            self.uri,
            self.schema,
            list(self.partition_by),
            self.max_rows_per_file,
            self.max_bytes_per_file,
        )
        try:
            for batch in table.select(self.schema.names).cast(self.schema).to_batches():
                writer.write(batch)
            return writer.close()
        except BaseException:
            writer.abort()
            raise

    def commit(
        self,
        files: list[dict[str, Any]],
        *,
        mode: WriteMode,
        replace_where: Mapping[str, str | Sequence[str]] | None = None,
        metadata: Mapping[str, object] | None = None,
    ) -> CommitResult:
        """Commit files from `write_files` in one Delta commit (the modes of `write_table`)."""
        with _s3_failures(self.uri, self.store, "writing") as state:
            plan = _plan_write(
                self.uri,
                self.schema,
                mode=mode,
                partition_by=self.partition_by,
                replace_where=replace_where,
                overwrite_schema=False,
                store=self.store,
            )
            return _commit(plan, files, metadata, None, overwrite_schema=False, state=state)
