"""Spark SQL over the lake: a Spark Connect server on loopback with every table registered by name.

Each table is a permanent view (`curated.web`, `rejects`, ...) over the Parquet files of its
current Delta snapshot, re-pointed when a new version is committed. Start it with
`pilehouse sql-server`; query it from `SparkSession.builder.remote("sc://127.0.0.1:15002")`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from types import FrameType
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from spark_jobs.delta import open_table
from spark_jobs.lake import Lake
from spark_jobs.session import get_spark
from spark_jobs.storage import is_s3

log = logging.getLogger(__name__)

DEFAULT_PORT = 15002
READY_LINE = "pilehouse sql-server ready"
# Hadoop glob metacharacters; our writer percent-encodes them in partition directories, but
# another Delta writer might not.
_GLOB_SPECIAL = "\\{}[]*?,"


def server_conf(host: str, port: int) -> dict[str, str]:
    return {
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
        # Views live in Spark's in-memory catalog: every Connect session shares it, and
        # nothing (no Hive metastore, no derby directory) is left behind.
        "spark.sql.catalogImplementation": "in-memory",
    }


def _quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _string_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in _GLOB_SPECIAL else c for c in text)


def _qualified(name: str) -> tuple[str, str]:
    schema, _, table = name.rpartition(".")
    return schema or "default", table


def view_sql(lake: Lake, name: str) -> tuple[str, int]:
    """`CREATE OR REPLACE VIEW` for a table's current snapshot, and the version it shows.

    Spark reads the snapshot's data files directly (no delta-spark jars here): files that
    share partition values and columns become one `parquet.\\`dir/{a,b}\\`` scan, partition
    columns come from the log as typed constants, columns a file predates become NULLs.
    """
    if is_s3(lake.uri(name)):
        raise NotImplementedError(
            f"{lake.uri(name)}: the Spark SQL server reads local lakes only (Spark's s3a "
            "connector, hadoop-aws, is not installable here); query s3:// lakes with `pilehouse sql`"
        )
    uri = lake.uri(name)
    table = open_table(uri, store=lake.store)
    schema = pa.schema(table.schema().to_arrow())
    spark_types = {f.name: f.dataType.simpleString() for f in from_arrow_schema(schema).fields}
    partition_by = list(table.metadata().partition_columns)
    adds = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    root = os.path.abspath(uri)

    groups: dict[tuple, list[str]] = defaultdict(list)
    for add in adds:
        path = os.path.join(root, unquote(add["path"]))
        present = tuple(n for n in pq.read_schema(path).names if n not in partition_by)
        values = tuple(add.get(f"partition.{c}") for c in partition_by)
        groups[(os.path.dirname(path), values, present)].append(os.path.basename(path))

    def columns(values: Sequence[str | None], present: Sequence[str]) -> str:
        exprs = []
        for field in schema:
            column, kind = _quote_ident(field.name), spark_types[field.name]
            if field.name in partition_by:
                value = values[partition_by.index(field.name)]
                literal = "NULL" if value is None else _string_literal(str(value))
                exprs.append(f"CAST({literal} AS {kind}) AS {column}")
            elif field.name in present:
                exprs.append(column)
            else:
                exprs.append(f"CAST(NULL AS {kind}) AS {column}")
        return ", ".join(exprs)

    scans = []
    for (directory, values, present), files in sorted(groups.items()):
        names = [_glob_escape(f) for f in sorted(files)]
        pattern = names[0] if len(names) == 1 else "{" + ",".join(names) + "}"
        location = _glob_escape(directory) + "/" + pattern
        scans.append(f"SELECT {columns(values, present)} FROM parquet.{_quote_ident(location)}")
    if not scans:
        scans = [f"SELECT {columns([None] * len(partition_by), [])} WHERE false"]
    schema_name, table_name = _qualified(name)
    body = "\nUNION ALL\n".join(scans)
    statement = (
        f"CREATE OR REPLACE VIEW {_quote_ident(schema_name)}.{_quote_ident(table_name)} "
        f"COMMENT {_string_literal(lake.spec(name).description)} AS\n{body}"
    )
    return statement, table.version()


def register_tables(
    spark: SparkSession, lake: Lake, registered: dict[str, int] | None = None
) -> dict[str, int]:
    """Create or re-point one view per existing table; returns table -> version shown.

    Tables whose version is already in `registered` are left alone.
    """
    registered = dict(registered or {})
    for name in lake.tables():
        version = open_table(lake.uri(name), store=lake.store).version()
        if registered.get(name) == version:
            continue
        statement, version = view_sql(lake, name)
        schema_name, _ = _qualified(name)
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {_quote_ident(schema_name)}")
        spark.sql(statement)
        registered[name] = version
        log.info("registered %s at version %d", name, version)
    return registered


def serve(
    lake: Lake,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    master: str = "local[*]",
    refresh_seconds: float = 10.0,
) -> int:
    """Run the Spark Connect server until SIGINT/SIGTERM, keeping the views on current versions."""
    spark = get_spark(master, app_name="pilehouse-sql-server", conf=server_conf(host, port))
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _quiet_path_warnings(spark)
    registered = register_tables(spark, lake)
    tables = ", ".join(f"{n} (v{v})" for n, v in registered.items()) or "none yet"
    print(f"{READY_LINE} on sc://{host}:{port}; tables: {tables}", flush=True)
    last = time.monotonic()
    while not stopping:
        time.sleep(0.2)
        if time.monotonic() - last >= refresh_seconds:
            last = time.monotonic()
            try:
                registered = register_tables(spark, lake, registered)
            except Exception:  # a half-written table must not take the server down
                log.exception("refreshing the table views failed; keeping the previous ones")
    # Ctrl-C or a process-group signal may have taken the JVM down already.
    with contextlib.suppress(Exception):
        spark.stop()
    return 0


def _quiet_path_warnings(spark: SparkSession) -> None:
    # Every `parquet.\`dir/{a,b}\`` scan makes Spark look for a streaming-sink metadata
    # directory at the glob and log a stack trace when there is none; that is expected here.
    with contextlib.suppress(Exception):
        jvm = spark.sparkContext._jvm
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.spark.sql.execution.streaming.sinks.FileStreamSink",
            jvm.org.apache.logging.log4j.Level.ERROR,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lake", required=True, help="lake root directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--refresh-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if is_s3(args.lake):
        parser.error(
            f"{args.lake}: the Spark SQL server reads local lakes only; query s3:// lakes "
            "with `pilehouse sql`"
        )
    logging.basicConfig(level=logging.INFO)
    return serve(
        Lake(args.lake),
        host=args.host,
        port=args.port,
        master=args.master,
        refresh_seconds=args.refresh_seconds,
    )


if __name__ == "__main__":
    sys.exit(main())
