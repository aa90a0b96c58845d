import pyarrow as pa
import pytest

from orchestration.sql import ReadOnlyError, check_read_only, query
from spark_jobs.delta import write_arrow
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
    with pytest.raises(Exception, match=r"(?i)external access|disabled"):
        query(small_lake, "SELECT * FROM read_csv('/etc/passwd')")


def test_select_and_explain_are_allowed():
    check_read_only("WITH a AS (SELECT 1) SELECT * FROM a")
    check_read_only("EXPLAIN SELECT 1")
