"""Reliable checkpoints of intermediate DataFrames, written to the lake's own storage.

Iterative jobs (connected components) cut their lineage every few rounds. A `localCheckpoint`
keeps the blocks on the executors that computed them, so losing one executor loses the job;
Spark's reliable `checkpoint` needs a Hadoop file system that every node reaches, and the
cluster images carry no hadoop-aws for s3://. `FrameCheckpoints` writes the rows as Parquet
files through the same pyarrow file writer the Delta layer uses (local paths and s3:// alike,
spark_jobs/delta/files.py) under a scratch folder of the lake, and reads them back through the
Delta reader's file tasks (spark_jobs/delta/read.py). Nothing is committed: the files are
scratch, deleted by `clear()` (and ignored by `Lake.tables()`: the folder starts with '_').

The driver holds one row per written file (path, rows), never the rows themselves.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from spark_jobs.delta.files import _WRITTEN_FILE_SCHEMA, _write_files_task
from spark_jobs.delta.read import SPLIT_MIN_ROWS, _read_files_task, _task_groups
from spark_jobs.storage import LOCAL, ObjectStore

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# The lake folder that holds every run's scratch checkpoints.
SCRATCH_FOLDER = "_scratch/checkpoints"


class NoCheckpointLocation(RuntimeError):
    """A cluster session was given no shared place to checkpoint to."""


@dataclass
class FrameCheckpoints:
    """Checkpoints of DataFrames under `uri` (a local path or s3:// prefix) reached by `store`.

    Each `save` writes one numbered folder; `clear` deletes everything under `uri`.
    """

    uri: str
    store: ObjectStore = LOCAL
    _saved: list[str] = field(default_factory=list)
    _rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def under_lake(
        cls, root_uri: str, store: ObjectStore = LOCAL, name: str = ""
    ) -> FrameCheckpoints:
        """A fresh folder for one run under the lake's `_scratch/checkpoints/`."""
        run = f"{name}-{uuid.uuid4().hex[:12]}" if name else uuid.uuid4().hex[:12]
        return cls(f"{root_uri.rstrip('/')}/{SCRATCH_FOLDER}/{run}", store)

    def save(self, df: DataFrame, *, num_partitions: int | None = None) -> DataFrame:
        """Write `df`'s rows now and return a DataFrame that reads them back (lineage cut).

        `num_partitions`: tasks of the read-back (default: the session's shuffle partitions).
        """
        return self.save_with_folder(df, num_partitions=num_partitions)[0]

    def save_with_folder(
        self, df: DataFrame, *, num_partitions: int | None = None
    ) -> tuple[DataFrame, str]:
        """`save`, and the folder the rows were written to (for `delete`)."""
        from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

        spark = df.sparkSession
        folder = f"{self.uri}/{len(self._saved):05d}"
        schema = to_arrow_schema(df.schema, timezone="UTC")
        task = functools.partial(
            _write_files_task,
            store=self.store,
            uri=folder,
            schema=schema,
            partition_by=[],
            max_rows_per_file=None,
        )
        written = df.mapInArrow(task, from_arrow_schema(_WRITTEN_FILE_SCHEMA)).select(
            "path", "num_records"
        )
        files = pa.Table.from_pylist(
            [{"path": r.path, "rows": r.num_records} for r in written.collect()],
            schema=pa.schema([("path", pa.string()), ("rows", pa.int64())]),
        )
        self._saved.append(folder)
        self._rows[folder] = int(sum(files.column("rows").to_pylist()))
        if num_partitions is None:
            num_partitions = int(spark.conf.get("spark.sql.shuffle.partitions", "8"))
        groups = _task_groups(files, max(1, num_partitions), SPLIT_MIN_ROWS)
        read = functools.partial(
            _read_files_task, store=self.store, uri=folder, output=schema, partition_by=[]
        )
        ranges = files.schema.append(pa.field("start", pa.int64())).append(
            pa.field("stop", pa.int64())
        )
        listed = spark.sparkContext.parallelize(groups or [[]], max(1, len(groups))).flatMap(
            lambda group: group
        )
        rows = spark.createDataFrame(listed, schema=from_arrow_schema(ranges))
        return rows.mapInArrow(read, df.schema), folder

    def rows(self, folder: str) -> int:
        """Rows written to a saved folder (counted by the tasks that wrote it: no job)."""
        return self._rows[folder]

    def delete(self, folder: str) -> None:
        """Delete one saved folder (its DataFrame must no longer be read)."""
        fs, path = self.store.filesystem(folder)
        with contextlib.suppress(FileNotFoundError, OSError):
            fs.delete_dir(path)

    def clear(self) -> None:
        """Delete every checkpoint of this object (DataFrames from `save` become unreadable)."""
        fs, path = self.store.filesystem(self.uri)
        with contextlib.suppress(FileNotFoundError, OSError):
            fs.delete_dir(path)


def default_checkpoints(spark) -> FrameCheckpoints | None:
    """Where to checkpoint when the caller named no place.

    None when the SparkContext has a (reliable) checkpoint dir: then `DataFrame.checkpoint`
    is used. A local master gets a temporary folder on this machine. A cluster without either
    raises NoCheckpointLocation: a folder on the driver's disk is not shared with executors.
    """
    context = spark.sparkContext
    if context.getCheckpointDir():
        return None
    if context.master.startswith("local"):
        folder = tempfile.mkdtemp(prefix="pilehouse-checkpoints-")  # TMPDIR decides
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return FrameCheckpoints(folder)
    raise NoCheckpointLocation(
        "connected components on a cluster need a shared checkpoint location: pass "
        "checkpoints=FrameCheckpoints.under_lake(lake.root_uri, lake.store) or call "
        "spark.sparkContext.setCheckpointDir('hdfs://...')"
    )
