"""The same Delta table layer against a real S3 server (SeaweedFS)."""

from __future__ import annotations

import socket
import time

import duckdb
import pyarrow as pa
import pytest
from pyspark.sql import types as T

from spark_jobs import delta
from spark_jobs.storage import ObjectStore, S3EndpointUnreachable

pytestmark = [pytest.mark.spark, pytest.mark.s3]

SCHEMA = T.StructType(
    [
        T.StructField("doc_id", T.LongType()),
        T.StructField("text", T.StringType()),
        T.StructField("source", T.StringType()),
    ]
)


@pytest.fixture(scope="module")
def store(s3) -> ObjectStore:
    s3.create_bucket("lake")
    return ObjectStore(endpoint_url=s3.endpoint_url)


def docs(spark, source: str, ids: range):
    return spark.createDataFrame([(i, f"doc {i}", source) for i in ids], SCHEMA)


def pairs(table: pa.Table) -> list[tuple[str, int]]:
    return sorted(zip(table["source"].to_pylist(), table["doc_id"].to_pylist(), strict=True))


def test_write_overwrite_partition_and_read_on_s3(spark, store):
    uri = "s3://lake/web/docs"
    first = delta.write_table(
        docs(spark, "cc-2024-06", range(3)).union(docs(spark, "cc 2024/10", range(3, 5))),
        uri,
        mode="append",
        partition_by=["source"],
        store=store,
        metadata={"asset_key": "web/raw"},
    )
    second = delta.write_table(
        docs(spark, "cc 2024/10", range(10, 12)),
        uri,
        mode="overwrite",
        partition_by=["source"],
        replace_where={"source": "cc 2024/10"},
        store=store,
    )

    assert (first.version, second.version) == (0, 1)
    assert delta.table_exists(uri, store) and not delta.table_exists("s3://lake/nothing", store)
    expected = [("cc 2024/10", 10), ("cc 2024/10", 11)] + [("cc-2024-06", i) for i in range(3)]
    assert pairs(delta.read_arrow(uri, store=store)) == expected
    assert pairs(delta.read_arrow(uri, version=0, store=store)) == sorted(
        [("cc-2024-06", i) for i in range(3)] + [("cc 2024/10", 3), ("cc 2024/10", 4)]
    )

    by_spark = delta.read_spark(spark, uri, store=store).collect()
    assert sorted((r.source, r.doc_id) for r in by_spark) == expected

    con = duckdb.connect()
    delta.register_duckdb(con, "docs", uri, store=store)
    counts = con.sql("SELECT source, count(*) FROM docs GROUP BY 1 ORDER BY 1").fetchall()
    assert counts == [("cc 2024/10", 2), ("cc-2024-06", 3)]

    history = delta.table_history(uri, store)
    assert [h["version"] for h in history] == [1, 0]
    assert history[1]["asset_key"] == "web/raw"


def test_uncommitted_files_on_s3_are_invisible_and_vacuumed(spark, store):
    uri = "s3://lake/web/atomic"
    delta.write_table(
        docs(spark, "a", range(2)), uri, mode="append", partition_by=["source"], store=store
    )
    written: list[str] = []

    def crash_before_commit(actions):
        written.extend(action.path for action in actions)
        raise RuntimeError("driver lost before the commit")

    with pytest.raises(RuntimeError):
        delta.write_table(
            docs(spark, "b", range(5, 7)),
            uri,
            mode="append",
            partition_by=["source"],
            store=store,
            _before_commit=crash_before_commit,
        )

    assert pairs(delta.read_arrow(uri, store=store)) == [("a", 0), ("a", 1)]
    assert sorted(delta.vacuum_orphans(uri, store)) == sorted(written)
    assert pairs(delta.read_arrow(uri, store=store)) == [("a", 0), ("a", 1)]


def test_a_write_to_an_unreachable_endpoint_commits_nothing(spark, store, s3):
    uri = "s3://lake/web/unreachable"
    delta.write_table(docs(spark, "a", range(2)), uri, mode="append", store=store)
    objects_before = s3.client().list_objects_v2(Bucket="lake", Prefix="web/unreachable/")
    with socket.socket() as sock:  # a port that nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = ObjectStore(endpoint_url=f"http://127.0.0.1:{port}")

    started = time.monotonic()
    with pytest.raises(S3EndpointUnreachable) as caught:
        delta.write_table(docs(spark, "a", range(5, 7)), uri, mode="append", store=down)
    elapsed = time.monotonic() - started

    message = str(caught.value)
    assert message.startswith(
        f"S3 endpoint http://127.0.0.1:{port} unreachable while writing {uri}: "
    )
    assert "Connection refused" in message and "nothing was committed" in message
    assert "\n" not in message
    assert elapsed < 60  # a hang guard; with the default settings it takes about a second
    assert delta.open_table(uri, store=store).version() == 0
    objects_after = s3.client().list_objects_v2(Bucket="lake", Prefix="web/unreachable/")
    assert objects_after["KeyCount"] == objects_before["KeyCount"]
