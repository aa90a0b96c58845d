"""One table registry (spark_jobs.lake): a table that appears in storage is seen alike by analyst
SQL, the catalog, takedown and lineage, whether the registry describes it or not."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pytest

from spark_jobs.analyst.catalog import describe_lake
from spark_jobs.analyst.sql import LakeSQL, query
from spark_jobs.delta import read_arrow, write_arrow
from spark_jobs.lake import MIXTURE_COLUMNS, QUARANTINE_COLUMNS, TABLES, Lake
from spark_jobs.lineage import tables_holding
from spark_jobs.takedown import TakedownRequest, document_tables_in, takedown

# Not among the shipped recipes (orchestration/mixtures/*.yaml), so not listed in TABLES.
NEW_MIXTURE = "mixtures.fresh_mix"
# No family the registry knows: a table some later stage wrote.
UNDESCRIBED = "synthetic.qa"


def docs(ids: list[str], source: str = "s1") -> pa.Table:
    return pa.table(
        {
            "id": ids,
            "source": [source] * len(ids),
            "url": [f"https://example.org/{i}" for i in ids],
            "text": [f"text of {i}" for i in ids],
        }
    )


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    write_arrow(docs(["a", "b", "c"]), lake.uri("raw.web"), mode="append", partition_by=["source"])
    mixture = pa.table({"position": [0, 1], "id": ["a", "b"], "source": ["s1", "s1"]})
    write_arrow(mixture, lake.uri(NEW_MIXTURE), mode="append")
    write_arrow(docs(["b", "d"], "gen"), lake.uri(UNDESCRIBED), mode="append")
    return lake


def test_the_registry_lists_known_tables_first_then_what_storage_holds(lake: Lake) -> None:
    assert NEW_MIXTURE not in TABLES and UNDESCRIBED not in TABLES
    assert lake.tables() == ["raw.web", NEW_MIXTURE, UNDESCRIBED]
    assert lake.spec(NEW_MIXTURE).columns == MIXTURE_COLUMNS
    assert lake.spec(UNDESCRIBED).partition_by == ()
    with pytest.raises(KeyError, match=r"unknown lake table 'synthetic\.nothing'"):
        lake.spec("synthetic.nothing")


def test_sql_and_the_catalog_see_a_new_mixture_and_an_undescribed_table(lake: Lake) -> None:
    assert query(lake, f"SELECT id FROM {NEW_MIXTURE} ORDER BY position")["id"].to_pylist() == [
        "a",
        "b",
    ]
    assert query(lake, f"SELECT count(*) AS n FROM {UNDESCRIBED}")["n"].to_pylist() == [2]
    with LakeSQL(lake) as sql:
        old = sql.arrow(f"SELECT count(*) AS n FROM {NEW_MIXTURE}@v0")
        catalog = sql.arrow("SELECT table_name FROM lake_tables")["table_name"].to_pylist()
    assert old["n"].to_pylist() == [2]
    assert catalog == lake.tables()

    described = {info.name: info for info in describe_lake(lake)}
    assert list(described) == lake.tables()
    assert "fresh_mix training mixture" in described[NEW_MIXTURE].description
    assert described[UNDESCRIBED].rows == 2
    assert "does not describe" in described[UNDESCRIBED].description


def test_takedown_and_lineage_reach_the_same_tables(lake: Lake) -> None:
    assert document_tables_in(lake) == sorted(lake.tables())
    assert set(tables_holding(lake, ["b"])) == {"raw.web", NEW_MIXTURE, UNDESCRIBED}

    report = takedown(lake, TakedownRequest(ids=("b",), reason="opt-out"))

    assert {d.table for d in report.deletions} == {"raw.web", NEW_MIXTURE, UNDESCRIBED}
    assert sorted(read_arrow(lake.uri(UNDESCRIBED))["id"].to_pylist()) == ["d"]
    assert sorted(read_arrow(lake.uri("raw.web"))["id"].to_pylist()) == ["a", "c"]
    # The request itself is a table now, and the registry lists it like any other.
    assert "ops.takedowns" in lake.tables()
    assert tables_holding(lake, ["b"]) == {}


def test_a_folder_that_cannot_be_a_table_name_is_skipped_with_a_warning(
    lake: Lake, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = f'{lake.root_uri}/mixtures/x"; DROP'
    write_arrow(docs(["z"]), hostile, mode="append")
    with caplog.at_level(logging.WARNING, logger="spark_jobs.lake"):
        assert lake.tables() == ["raw.web", NEW_MIXTURE, UNDESCRIBED]
    assert "cannot be part of a table name" in caplog.text
    assert any('x"; DROP' in record.getMessage() for record in caplog.records)


def test_quarantine_columns_are_one_definition_in_the_table_order() -> None:
    from spark_jobs import stages

    assert stages.QUARANTINE_COLUMNS is QUARANTINE_COLUMNS
    assert list(QUARANTINE_COLUMNS) == [
        *("id", "corpus", "source", "locator", "stage", "reason", "detail", "excerpt", "run_id")
    ]
