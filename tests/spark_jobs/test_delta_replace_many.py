"""Several partitions replaced in one commit (replace_where with a list of values): no Spark."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from spark_jobs.delta import open_table, read_arrow, write_arrow


def rows(table: pa.Table) -> list[tuple]:
    return sorted((r["corpus"], r["source"], r["n"]) for r in table.to_pylist())


def table(*triples) -> pa.Table:
    return pa.Table.from_pylist(
        [{"corpus": c, "source": s, "n": n} for c, s, n in triples],
        schema=pa.schema([("corpus", pa.string()), ("source", pa.string()), ("n", pa.int64())]),
    )


@pytest.fixture()
def uri(tmp_path):
    uri = str(tmp_path / "t")
    start = table(("web", "a", 1), ("web", "b", 2), ("web", "c", 3), ("code", "a", 4))
    write_arrow(start, uri, mode="overwrite", partition_by=["corpus", "source"])
    return uri


def test_listed_partitions_are_replaced_or_emptied_in_one_commit(uri):
    commit = write_arrow(
        table(("web", "a", 10)),
        uri,
        mode="overwrite",
        partition_by=["corpus", "source"],
        replace_where={"corpus": "web", "source": ["b", "a"]},
    )
    assert commit.version == 1  # one commit for both partitions
    # web/a replaced, web/b emptied (no rows for it), web/c and code/a untouched.
    assert rows(read_arrow(uri)) == [("code", "a", 4), ("web", "a", 10), ("web", "c", 3)]
    info = open_table(uri).history(1)[0]
    assert json.loads(info["pilehouse.replace_where"]) == {"corpus": "web", "source": ["a", "b"]}


def test_rows_outside_the_listed_partitions_are_refused(uri):
    with pytest.raises(ValueError, match="outside replace_where"):
        write_arrow(
            table(("web", "c", 9)),
            uri,
            mode="overwrite",
            partition_by=["corpus", "source"],
            replace_where={"corpus": "web", "source": ["a", "b"]},
        )
    assert open_table(uri).version() == 0


@pytest.mark.parametrize("bad", [[], ["a", 7]])
def test_an_empty_or_non_string_list_is_refused(uri, bad):
    with pytest.raises(ValueError, match="non-empty list"):
        write_arrow(
            table(("web", "a", 1)),
            uri,
            mode="overwrite",
            partition_by=["corpus", "source"],
            replace_where={"source": bad},
        )
