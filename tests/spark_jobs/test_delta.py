"""The Delta table layer on a local lake: atomic commits, partition overwrite, time travel, interop."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs import delta

pytestmark = pytest.mark.spark

DOC_SCHEMA = T.StructType(
    [
        T.StructField("doc_id", T.LongType()),
        T.StructField("text", T.StringType()),
        T.StructField("n_tokens", T.IntegerType()),
        T.StructField("stage", T.StringType()),
        T.StructField("source", T.StringType()),
    ]
)


def docs(spark, source: str, ids: range, stage: str = "raw"):
    rows = [(i, f"document {i} from {source}", 10 * i, stage, source) for i in ids]
    return spark.createDataFrame(rows, DOC_SCHEMA)


def ids_by_source(table: pa.Table) -> dict[str | None, list[int]]:
    grouped: dict[str | None, list[int]] = {}
    for row in table.select(["source", "doc_id"]).to_pylist():
        grouped.setdefault(row["source"], []).append(row["doc_id"])
    return {source: sorted(ids) for source, ids in grouped.items()}


def data_files(uri: Path) -> set[str]:
    return {str(p.relative_to(uri)) for p in uri.rglob("*.parquet")}


def referenced_files(uri: Path) -> set[str]:
    return {str(Path(p).relative_to(uri)) for p in DeltaTable(str(uri)).file_uris()}


def test_append_adds_rows_in_a_new_version(spark, lake):
    uri = str(lake / "docs")
    first = delta.write_table(
        docs(spark, "cc-2024-10", range(3)), uri, mode="append", partition_by=["source"]
    )
    second = delta.write_table(
        docs(spark, "cc-2024-10", range(3, 5)), uri, mode="append", partition_by=["source"]
    )

    assert (first.version, first.num_rows) == (0, 3)
    assert (second.version, second.num_rows) == (1, 2)
    assert second.num_files >= 1 and second.num_bytes > 0
    assert ids_by_source(delta.read_arrow(uri)) == {"cc-2024-10": [0, 1, 2, 3, 4]}
    assert sorted(r.doc_id for r in delta.read_spark(spark, uri).collect()) == [0, 1, 2, 3, 4]


def test_failed_commit_leaves_previous_version_and_vacuum_removes_orphans(spark, lake):
    uri = lake / "docs"
    delta.write_table(docs(spark, "a", range(2)), str(uri), mode="append", partition_by=["source"])
    written: list[str] = []

    def crash_before_commit(actions):
        written.extend(action.path for action in actions)
        raise RuntimeError("driver lost before the commit")

    with pytest.raises(RuntimeError, match="driver lost"):
        delta.write_table(
            docs(spark, "b", range(10, 14)),
            str(uri),
            mode="append",
            partition_by=["source"],
            _before_commit=crash_before_commit,
        )

    assert written and set(written) <= data_files(uri)  # files were written ...
    assert delta.open_table(str(uri)).version() == 0  # ... but not committed
    assert ids_by_source(delta.read_arrow(str(uri))) == {"a": [0, 1]}

    removed = delta.vacuum_orphans(str(uri))

    assert set(removed) == set(written)
    assert data_files(uri) == referenced_files(uri)
    assert ids_by_source(delta.read_arrow(str(uri))) == {"a": [0, 1]}
    assert ids_by_source(delta.read_arrow(str(uri), version=0)) == {"a": [0, 1]}


def test_overwrite_partition_is_idempotent_and_leaves_other_partitions(spark, lake):
    uri = str(lake / "docs")
    delta.write_table(
        docs(spark, "cc-2024-06", range(3)), uri, mode="append", partition_by=["source"]
    )
    versions = []
    for _ in range(2):  # a re-materialization of the same partition
        result = delta.write_table(
            docs(spark, "cc-2024-10", range(100, 104)),
            uri,
            mode="overwrite",
            partition_by=["source"],
            replace_where={"source": "cc-2024-10"},
        )
        versions.append(result.version)

    assert versions == [1, 2]
    assert ids_by_source(delta.read_arrow(uri)) == {
        "cc-2024-06": [0, 1, 2],
        "cc-2024-10": [100, 101, 102, 103],
    }

    delta.write_table(
        docs(spark, "cc-2024-10", range(200, 201)),
        uri,
        mode="overwrite",
        partition_by=["source"],
        replace_where={"source": "cc-2024-10"},
    )
    assert ids_by_source(delta.read_arrow(uri)) == {"cc-2024-06": [0, 1, 2], "cc-2024-10": [200]}


def test_parallel_overwrites_of_different_partitions_both_land(lake):
    uri = str(lake / "docs")
    initial = pa.table({"doc_id": [1, 2], "source": ["a", "b"]})
    delta.write_arrow(initial, uri, mode="append", partition_by=["source"])

    def another_backfill_commits_first(actions):
        delta.write_arrow(
            pa.table({"doc_id": [20], "source": ["b"]}),
            uri,
            mode="overwrite",
            partition_by=["source"],
            replace_where={"source": "b"},
        )

    result = delta.write_arrow(
        pa.table({"doc_id": [10], "source": ["a"]}),
        uri,
        mode="overwrite",
        partition_by=["source"],
        replace_where={"source": "a"},
        _before_commit=another_backfill_commits_first,
    )

    assert result.version == 2
    assert ids_by_source(delta.read_arrow(uri)) == {"a": [10], "b": [20]}


def test_overwrite_with_a_subset_of_partition_columns(spark, lake):
    uri = str(lake / "docs")
    both = docs(spark, "a", range(2), stage="raw").union(docs(spark, "b", range(2, 4), stage="raw"))
    both = both.union(docs(spark, "a", range(4, 6), stage="curate"))
    both = both.union(docs(spark, "b", range(6, 8), stage="curate"))
    delta.write_table(both, uri, mode="append", partition_by=["stage", "source"])

    delta.write_table(
        docs(spark, "c", range(50, 51), stage="curate"),
        uri,
        mode="overwrite",
        partition_by=["stage", "source"],
        replace_where={"stage": "curate"},
    )

    rows = delta.read_arrow(uri, columns=["stage", "source", "doc_id"]).to_pylist()
    assert sorted((r["stage"], r["source"], r["doc_id"]) for r in rows) == [
        ("curate", "c", 50),
        ("raw", "a", 0),
        ("raw", "a", 1),
        ("raw", "b", 2),
        ("raw", "b", 3),
    ]


def test_rows_outside_replace_where_raise_and_commit_nothing(spark, lake):
    uri = lake / "docs"
    delta.write_table(docs(spark, "a", range(2)), str(uri), mode="append", partition_by=["source"])
    files_before = data_files(uri)

    with pytest.raises(ValueError, match="outside replace_where"):
        delta.write_table(
            docs(spark, "a", range(5, 6)).union(docs(spark, "b", range(7, 8))),
            str(uri),
            mode="overwrite",
            partition_by=["source"],
            replace_where={"source": "a"},
        )

    assert delta.open_table(str(uri)).version() == 0
    assert ids_by_source(delta.read_arrow(str(uri))) == {"a": [0, 1]}
    assert data_files(uri) == files_before  # the rejected write cleaned up after itself


def test_writes_that_do_not_fit_the_table_are_refused(spark, lake):
    uri = str(lake / "docs")
    delta.write_table(docs(spark, "a", range(2)), uri, mode="append", partition_by=["source"])

    with pytest.raises(ValueError, match="partitioned by"):
        delta.write_table(docs(spark, "a", range(2)), uri, mode="append", partition_by=["stage"])
    with pytest.raises(ValueError, match='column \'n_tokens\' is "long", table has "integer"'):
        wider = docs(spark, "a", range(2)).withColumn("n_tokens", F.col("n_tokens").cast("bigint"))
        delta.write_table(wider, uri, mode="append", partition_by=["source"])
    with pytest.raises(ValueError, match="not partition columns"):
        delta.write_table(
            docs(spark, "a", range(2)),
            uri,
            mode="overwrite",
            partition_by=["source"],
            replace_where={"stage": "raw"},
        )
    assert delta.open_table(uri).version() == 0


def test_time_travel_by_version_and_timestamp(spark, lake):
    uri = str(lake / "docs")
    delta.write_table(docs(spark, "a", range(3)), uri, mode="append", partition_by=["source"])
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    delta.write_table(
        docs(spark, "a", range(10, 11)), uri, mode="overwrite", partition_by=["source"]
    )

    assert ids_by_source(delta.read_arrow(uri)) == {"a": [10]}
    assert ids_by_source(delta.read_arrow(uri, version=0)) == {"a": [0, 1, 2]}
    assert ids_by_source(delta.read_arrow(uri, timestamp=between)) == {"a": [0, 1, 2]}
    assert ids_by_source(delta.read_arrow(uri, timestamp=between.isoformat())) == {"a": [0, 1, 2]}
    old = delta.read_spark(spark, uri, timestamp=between).collect()
    assert sorted(r.doc_id for r in old) == [0, 1, 2]
    assert sorted(r.doc_id for r in delta.read_spark(spark, uri, version=1).collect()) == [10]

    with pytest.raises(ValueError, match="before the first commit"):
        delta.read_arrow(uri, timestamp=between - timedelta(days=1))
    with pytest.raises(ValueError, match="version 7 does not exist"):
        delta.read_arrow(uri, version=7)


def test_empty_writes(spark, lake):
    uri = str(lake / "docs")
    empty = spark.createDataFrame([], DOC_SCHEMA)

    created = delta.write_table(empty, uri, mode="append", partition_by=["source"])
    assert (created.version, created.num_rows, created.num_files) == (0, 0, 0)
    assert delta.read_arrow(uri).schema.names == DOC_SCHEMA.names
    assert delta.read_spark(spark, uri).count() == 0

    delta.write_table(
        docs(spark, "a", range(2)).union(docs(spark, "b", range(2, 3))),
        uri,
        mode="append",
        partition_by=["source"],
    )
    emptied = delta.write_table(
        empty, uri, mode="overwrite", partition_by=["source"], replace_where={"source": "a"}
    )
    assert emptied.version == 2
    assert ids_by_source(delta.read_arrow(uri)) == {"b": [2]}


def test_commit_metadata_is_in_history(spark, lake):
    uri = str(lake / "docs")
    lineage = {"dagster/run_id": "run-1234", "asset_key": "web/raw", "code_version": 3}
    delta.write_table(docs(spark, "a", range(4)), uri, mode="append", partition_by=["source"])
    delta.write_table(
        docs(spark, "a", range(2)),
        uri,
        mode="overwrite",
        partition_by=["source"],
        replace_where={"source": "a"},
        metadata=lineage,
    )

    latest, first = delta.table_history(uri)
    assert latest["version"] == 1 and first["version"] == 0
    assert latest["dagster/run_id"] == "run-1234"
    assert latest["asset_key"] == "web/raw"
    assert latest["code_version"] == "3"
    assert latest["pilehouse.rows"] == "2"
    assert int(latest["pilehouse.files"]) >= 1 and int(latest["pilehouse.bytes"]) > 0
    assert latest["pilehouse.mode"] == "overwrite"
    assert json.loads(latest["pilehouse.replace_where"]) == {"source": "a"}
    assert first["pilehouse.rows"] == "4"


def test_add_actions_carry_stats_without_string_bounds(spark, lake):
    uri = str(lake / "docs")
    df = docs(spark, "a", range(1, 4)).union(
        spark.createDataFrame([(9, None, None, "raw", "a")], DOC_SCHEMA)
    )
    delta.write_table(df.coalesce(1), uri, mode="append", partition_by=["source"])

    (add,) = pa.table(DeltaTable(uri).get_add_actions(flatten=True)).to_pylist()
    assert add["num_records"] == 4
    assert (add["min.doc_id"], add["max.doc_id"]) == (1, 9)
    assert (add["min.n_tokens"], add["max.n_tokens"]) == (10, 30)
    assert (add["null_count.text"], add["null_count.n_tokens"], add["null_count.doc_id"]) == (
        1,
        1,
        0,
    )
    assert add["min.text"] is None and add["max.text"] is None  # strings never get bounds
    assert add["partition.source"] == "a"


def test_table_is_standard_delta_for_other_readers(spark, lake):
    uri = lake / "docs"
    # Values that need escaping in directory names, a null partition, and typed columns.
    schema = T.StructType(
        [
            T.StructField("doc_id", T.LongType()),
            T.StructField("crawled", T.DateType()),
            T.StructField("fetched_at", T.TimestampType()),
            T.StructField("score", T.DoubleType()),
            T.StructField("english", T.BooleanType()),
            T.StructField("source", T.StringType()),
        ]
    )
    moment = datetime(2024, 10, 1, 12, 30, 0, 123456, tzinfo=UTC)
    sources = ["cc 2024/10", "gh=code", "café:%", None]
    rows = [
        (i, date(2024, 10, 1 + i), moment, i / 4, i % 2 == 0, source)
        for i, source in enumerate(sources)
    ]
    delta.write_table(
        spark.createDataFrame(rows, schema), str(uri), mode="append", partition_by=["source"]
    )
    expected = {source: [i] for i, source in enumerate(sources)}

    by_delta_rs = DeltaTable(str(uri)).to_pyarrow_table(
        filesystem=pafs.SubTreeFileSystem(str(uri), pafs.LocalFileSystem())
    )
    assert ids_by_source(by_delta_rs) == expected
    assert by_delta_rs.sort_by("doc_id").column("fetched_at")[0].as_py() == moment
    assert ids_by_source(delta.read_arrow(str(uri))) == expected

    by_spark = delta.read_spark(spark, str(uri)).orderBy("doc_id").collect()
    assert [r.source for r in by_spark] == sources
    assert by_spark[0].fetched_at.astimezone(UTC) == moment
    assert [r.crawled for r in by_spark] == [date(2024, 10, d) for d in range(1, 5)]
    assert [r.english for r in by_spark] == [True, False, True, False]
    projected = delta.read_spark(spark, str(uri), columns=["source", "score"])
    assert projected.columns == ["source", "score"]
    assert projected.filter("source = 'gh=code'").collect()[0].score == 0.25

    con = duckdb.connect()
    delta.register_duckdb(con, "docs", str(uri))
    assert con.sql("SELECT count(*) FROM docs WHERE source = 'café:%'").fetchone() == (1,)
    assert con.sql("SELECT count(*) FROM docs WHERE source IS NULL").fetchone() == (1,)
    assert con.sql("SELECT max(fetched_at) FROM docs").fetchone()[0] == moment


def test_a_fresh_delta_rs_process_reads_the_table(lake):
    uri = str(lake / "docs")
    table = pa.table({"doc_id": [1, 2, 3], "source": ["a b", "a b", "x/y"]})
    delta.write_arrow(table, uri, mode="append", partition_by=["source"])
    # Plain delta-rs, nothing of Pilehouse imported. os._exit skips interpreter teardown,
    # where delta-rs 1.6.6 often aborts ("terminate called without an active exception")
    # after reading through its default filesystem handler.
    reader = (
        "import json, os, sys\n"
        "from deltalake import DeltaTable\n"
        "t = DeltaTable(sys.argv[1]).to_pyarrow_table()\n"
        "print(json.dumps(sorted(zip(t['source'].to_pylist(), t['doc_id'].to_pylist()))))\n"
        "sys.stdout.flush()\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", reader, uri], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["a b", 1], ["a b", 2], ["x/y", 3]]


def test_one_big_file_is_read_by_several_balanced_tasks(spark, lake):
    uri = str(lake / "one-file")
    ids = pa.array(range(10_000), pa.int64())
    delta.write_arrow(pa.table({"doc_id": ids, "source": ["s"] * 10_000}), uri, mode="overwrite")
    assert len(DeltaTable(uri).file_uris()) == 1

    frame = delta.read_spark(spark, uri, num_partitions=4)
    sizes = frame.rdd.glom().map(len).collect()
    assert sizes == [2500] * 4
    assert sorted(r.doc_id for r in frame.collect()) == list(range(10_000))
    # Small files stay whole: a task per 1,000 rows at least.
    assert delta.read_spark(spark, uri, num_partitions=64).rdd.getNumPartitions() == 10


def test_files_are_spread_over_tasks_by_rows(spark, lake):
    uri = str(lake / "uneven")
    for n, source in ((6000, "big"), (1500, "a"), (1500, "b"), (1000, "c")):
        batch = pa.table({"doc_id": pa.array(range(n), pa.int64()), "source": [source] * n})
        delta.write_arrow(batch, uri, mode="append", partition_by=["source"])
    frame = delta.read_spark(spark, uri, num_partitions=4)
    per_task = frame.rdd.glom().map(len).collect()
    # Pieces of at most 2,500 rows (the big file in three), largest first to the emptiest task.
    assert len(per_task) == 4 and sum(per_task) == 10_000
    assert max(per_task) <= 3000
    counts = {r.source: r["count"] for r in frame.groupBy("source").count().collect()}
    assert counts == {"big": 6000, "a": 1500, "b": 1500, "c": 1000}


def test_a_small_table_is_read_by_few_tasks_and_partitions_by_a_list(spark, lake):
    uri = str(lake / "small")
    for n, source in ((1500, "a"), (300, "b"), (200, "c")):
        batch = pa.table({"doc_id": pa.array(range(n), pa.int64()), "source": [source] * n})
        delta.write_arrow(batch, uri, mode="append", partition_by=["source"])
    # 2,000 rows: two tasks of at least SPLIT_MIN_ROWS, not four per core.
    assert delta.read_spark(spark, uri).rdd.getNumPartitions() == 2
    two = delta.read_spark(spark, uri, partitions={"source": ["c", "b"]})
    counts = {r.source: r["count"] for r in two.groupBy("source").count().collect()}
    assert counts == {"b": 300, "c": 200}
    assert delta.read_spark(spark, uri, partitions={"source": "a"}).count() == 1500


def test_row_ranges_cross_row_groups_exactly(tmp_path):
    path = tmp_path / "groups.parquet"
    pq.write_table(pa.table({"n": pa.array(range(1000), pa.int64())}), path, row_group_size=128)
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 8
    for start, stop in ((0, 1000), (100, 300), (128, 256), (999, 1000), (250, 251)):
        got = [
            v
            for b in delta._row_range(parquet, ["n"], start, stop)
            for v in b.column(0).to_pylist()
        ]
        assert got == list(range(start, stop)), (start, stop)
