"""The one Delta table layer: Spark (or Arrow) writes Parquet files, delta-rs commits them once.

Snapshots (latest, a version, a timestamp) read back into Spark, Arrow or DuckDB, local or s3://.
One module per job: `files` writes data files, `commit` plans a write and commits it, `write`
is the write API, `snapshot` opens snapshots and history, `read` reads them into Arrow, DuckDB
or Spark, `vacuum` deletes unreferenced files; `log` and `failures` serve them all. Importing
this package does not import pyspark: only `write_table` and `read_spark` do, when called.
"""

from spark_jobs.delta.commit import (
    COMMIT_ATTEMPTS,
    RESERVED_METADATA_PREFIX,
    CommitResult,
    WriteMode,
)
from spark_jobs.delta.files import COMPRESSION, NULL_PARTITION, ROW_GROUP_BYTES
from spark_jobs.delta.log import COMMIT_ID_KEY
from spark_jobs.delta.read import (
    SPLIT_MIN_ROWS,
    _row_range,
    read_arrow,
    read_spark,
    register_duckdb,
    snapshot_dataset,
)
from spark_jobs.delta.snapshot import open_table, table_exists, table_history
from spark_jobs.delta.vacuum import _relative_to_root, vacuum_orphans
from spark_jobs.delta.write import StagedWrite, write_arrow, write_table

__all__ = [
    "COMMIT_ATTEMPTS",
    "COMMIT_ID_KEY",
    "COMPRESSION",
    "NULL_PARTITION",
    "RESERVED_METADATA_PREFIX",
    "ROW_GROUP_BYTES",
    "SPLIT_MIN_ROWS",
    "CommitResult",
    "StagedWrite",
    "WriteMode",
    "_relative_to_root",
    "_row_range",
    "open_table",
    "read_arrow",
    "read_spark",
    "register_duckdb",
    "snapshot_dataset",
    "table_exists",
    "table_history",
    "vacuum_orphans",
    "write_arrow",
    "write_table",
]
