"""Analysts' SQL on the embedded default: tables by name, read-only, time travel, history, diff."""

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.cli import main
from spark_jobs.analyst.catalog import describe_lake, render_catalog
from spark_jobs.analyst.sql import (
    LakeSQL,
    ReadOnlyError,
    check_read_only,
    example_queries,
    query,
    rewrite_time_travel,
)
from spark_jobs.analyst.sql_shell import run_shell
from spark_jobs.analyst.table_diff import diff_snapshots
from spark_jobs.delta import read_arrow, table_history, write_arrow
from spark_jobs.lake import Lake


@pytest.fixture
def small_lake(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    rejects = pa.table(
        {
            "id": ["a", "b", "c"],
            "corpus": ["web"] * 3,
            "source": ["s"] * 3,
            "locator": ["u1", "u2", "u3"],
            "stage": ["curate"] * 3,
            "reason": ["exact_duplicate", "gopher_short_doc", "exact_duplicate"],
            "detail": ["", "", ""],
            "run_id": ["r"] * 3,
        }
    )
    write_arrow(
        rejects, lake.uri("rejects"), mode="overwrite", partition_by=("corpus", "stage", "source")
    )
    return lake


def test_queries_tables_by_name(small_lake):
    result = query(
        small_lake, "SELECT reason, count(*) AS n FROM rejects GROUP BY 1 ORDER BY 2 DESC"
    )
    assert result.to_pylist() == [
        {"reason": "exact_duplicate", "n": 2},
        {"reason": "gopher_short_doc", "n": 1},
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM rejects",
        "CREATE TABLE x AS SELECT 1",
        "COPY (SELECT 1) TO '/tmp/out.csv'",
        "ATTACH 'other.db'",
        "SELECT 1; DROP VIEW rejects",
    ],
)
def test_statements_that_write_are_refused(small_lake, sql):
    with pytest.raises(ReadOnlyError, match="read-only"):
        query(small_lake, sql)


def test_local_files_cannot_be_read_through_sql(small_lake):
    with pytest.raises(ReadOnlyError, match=r"read_csv\(\) reads files"):
        query(small_lake, "SELECT * FROM read_csv('/etc/passwd')")
    # Behind the check, the session itself cannot open files or change its settings back.
    with LakeSQL(small_lake) as session:
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            session.con.execute("SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
            session.con.execute("SET enable_external_access = true")


def test_select_and_explain_are_allowed():
    check_read_only("WITH a AS (SELECT 1) SELECT * FROM a")
    check_read_only("EXPLAIN SELECT 1")
    check_read_only("EXPLAIN ANALYZE SELECT 1")


@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
        "EXPLAIN ANALYZE CREATE OR REPLACE VIEW rejects AS SELECT 'fake' AS reason",
        "EXPLAIN CREATE OR REPLACE VIEW rejects AS SELECT 'fake' AS reason",
    ],
)
def test_explain_analyze_of_a_write_is_refused_and_changes_nothing(small_lake, sql):
    """Issue 15: EXPLAIN ANALYZE ran the statement it explained."""
    with LakeSQL(small_lake) as session:
        with pytest.raises(ReadOnlyError, match=r"^refused: EXPLAIN (ANALYZE )?CREATE statements"):
            session.arrow(sql)
        assert session.arrow("SELECT count(*) AS n FROM rejects").to_pylist() == [{"n": 3}]
        tables = session.arrow("SELECT table_name FROM duckdb_tables()")
        assert tables.num_rows == 0


def test_a_crafted_time_travel_suffix_cannot_inject_sql(small_lake):
    crafted = 'SELECT * FROM rejects@v0"; DROP VIEW rejects; --"'
    # Next to a quote a reference is not rewritten, so its quotes cannot merge with the text's.
    assert rewrite_time_travel(crafted) == (crafted, [])
    with LakeSQL(small_lake) as session:
        with pytest.raises(ValueError, match="could not parse SQL"):
            session.arrow(crafted)
        with pytest.raises(ReadOnlyError, match="DROP statements are not allowed"):
            session.arrow("SELECT * FROM rejects@v0; DROP VIEW rejects")
        assert session.arrow("SELECT count(*) AS n FROM rejects").to_pylist() == [{"n": 3}]


# --- time travel, history, diff, catalog, shell, examples -------------------------------

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture
def two_versions(small_lake):
    """rejects v0 as in small_lake; v1 drops one duplicate and adds a new removal."""
    uri = small_lake.uri("rejects")
    rows = read_arrow(uri).filter(pc.not_equal(read_arrow(uri)["id"], "c"))
    extra = rows.slice(0, 1).to_pylist()[0] | {"id": "d", "reason": "language_not_allowed"}
    write_arrow(
        pa.concat_tables([rows, pa.Table.from_pylist([extra], schema=rows.schema)]),
        uri,
        mode="overwrite",
        partition_by=("corpus", "stage", "source"),
    )
    return small_lake


def test_time_travel_by_version_and_timestamp_returns_the_old_rows(two_versions):
    ids = "SELECT list(id ORDER BY id) FROM {}"
    v0_time = table_history(two_versions.uri("rejects"))[-1]["timestamp"]
    stamp = datetime.fromtimestamp(v0_time / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    with LakeSQL(two_versions) as sql:
        assert sql.arrow(ids.format("rejects"))[0][0].as_py() == ["a", "b", "d"]
        assert sql.arrow(ids.format("rejects@v0"))[0][0].as_py() == ["a", "b", "c"]
        assert sql.arrow(ids.format("rejects@v1"))[0][0].as_py() == ["a", "b", "d"]
        assert sql.arrow(ids.format(f"rejects@{stamp}Z"))[0][0].as_py() == ["a", "b", "c"]
        with pytest.raises(ValueError, match=r"versions 0\.\.1; version 7 does not exist"):
            sql.arrow(ids.format("rejects@v7"))


def test_time_travel_is_not_rewritten_inside_literals_and_unknown_tables_are_named():
    sql, refs = rewrite_time_travel("SELECT 'rejects@v0', \"a@v1\" FROM rejects@v2 -- x@v3")
    assert sql == 'SELECT \'rejects@v0\', "a@v1" FROM "rejects@v2" -- x@v3'
    assert [(r.table, r.version) for r in refs] == [("rejects", 2)]
    with pytest.raises(ValueError, match=r"unknown lake table 'nope\.web'"):
        rewrite_time_travel("SELECT * FROM nope.web@v1")


def test_writes_through_time_travel_names_are_refused_too(two_versions):
    with pytest.raises(ReadOnlyError):
        query(two_versions, "DELETE FROM rejects@v0")


def test_history_lists_every_commit_with_its_row_count(two_versions):
    result = query(two_versions, "SELECT version, rows, mode FROM history('rejects')")
    assert result.to_pylist() == [
        {"version": 1, "rows": 3, "mode": "overwrite"},
        {"version": 0, "rows": 3, "mode": "overwrite"},
    ]


def test_diff_counts_rows_added_and_removed_and_summarizes_columns(two_versions):
    diff = diff_snapshots(two_versions, "rejects", "0", "v1")
    assert (diff.old_version, diff.new_version) == (0, 1)
    assert (diff.added, diff.removed, diff.changed_keys) == (1, 1, 0)
    assert diff.sample_added["id"].to_pylist() == ["d"]
    assert diff.sample_removed["id"].to_pylist() == ["c"]
    reason = next(r for r in diff.columns.to_pylist() if r["column_name"] == "reason")
    assert (reason["old_max"], reason["new_max"]) == ("gopher_short_doc", "language_not_allowed")


def test_catalog_lists_tables_with_version_rows_and_column_meanings(two_versions):
    [rejects] = describe_lake(two_versions)
    assert (rejects.name, rejects.version, rejects.rows) == ("rejects", 1, 3)
    assert rejects.bytes > 0
    columns = {c.name: c for c in rejects.columns}
    assert columns["stage"].partition and "ingest or curate" in columns["stage"].meaning
    text = render_catalog([rejects])
    assert "Documents removed by a stage" in text and "why: e.g." in text
    in_sql = query(two_versions, "SELECT rows FROM lake_tables WHERE table_name = 'rejects'")
    assert in_sql.to_pylist() == [{"rows": 3}]


def test_shell_runs_statements_and_survives_refusals(small_lake):
    out = io.StringIO()
    statements = "SELECT count(*) AS n\nFROM rejects;\nDROP VIEW rejects;\n.tables\n"
    with LakeSQL(small_lake) as session:
        run_shell(session, io.StringIO(statements), out)
    text = out.getvalue()
    assert re.search(r"\bn\s*\n\s*3\b", text)
    assert "error: refused: DROP statements are not allowed" in text
    assert "rejects" in text.split("refused")[1]


def test_cli_refuses_writes_with_exit_code_2(small_lake, monkeypatch, capsys):
    monkeypatch.setenv("PILEHOUSE_LAKE_URI", small_lake.root_uri)
    assert main(["sql", "DELETE FROM rejects"]) == 2
    assert "read-only" in capsys.readouterr().err
    assert main(["sql", "SELECT count(*) AS n FROM rejects@v0"]) == 0
    assert "(1 row)" in capsys.readouterr().out


def test_examples_are_quoted_verbatim_in_the_readme():
    readme = README.read_text()
    examples = example_queries()
    assert {"words_by_license", "removal_reasons", "document_lineage"} <= set(examples)
    assert examples["document_lineage"].params == ("url",)
    for example in examples.values():
        assert example.sql in readme, f"README does not quote example {example.name}"
