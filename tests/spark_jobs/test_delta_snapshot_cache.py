"""The commit path's cached snapshots (spark_jobs/delta/commit.py): brought up to date with the
commits of other writers, and never reused for a table deleted and written anew."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from spark_jobs.delta import commit as commit_module
from spark_jobs.delta import read_arrow, write_arrow


def rows(*ids: str) -> pa.Table:
    return pa.table({"id": list(ids), "source": ["s"] * len(ids)})


def ids(uri: str) -> list[str]:
    return sorted(read_arrow(uri).column("id").to_pylist())


def append_elsewhere(uri: str, *names: str) -> None:
    """Appends from another process, which this process's cache knows nothing of."""
    other = (
        "import pyarrow as pa; from spark_jobs.delta import write_arrow\n"
        f"for name in {list(names)!r}:\n"
        f"    write_arrow(pa.table({{'id': [name], 'source': ['s']}}), {uri!r}, mode='append', "
        "partition_by=['source'])"
    )
    subprocess.run([sys.executable, "-c", other], check=True, cwd=Path(__file__).parents[3])


def test_commits_of_another_process_are_seen(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    write_arrow(rows("a"), uri, mode="append", partition_by=["source"])
    assert write_arrow(rows("b"), uri, mode="append", partition_by=["source"]).version == 1
    append_elsewhere(uri, "c")
    result = write_arrow(rows("d"), uri, mode="overwrite", partition_by=["source"],
                         replace_where={"source": "s"})  # fmt: skip
    assert result.version == 3
    assert ids(uri) == ["d"]  # the other process's file was removed too: the snapshot saw it


def test_a_table_written_anew_at_the_same_place_is_loaded_afresh(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    for name in ("a", "b", "c"):
        write_arrow(rows(name), uri, mode="append", partition_by=["source"])
    assert any(key.startswith(uri) for key in commit_module._snapshots)
    shutil.rmtree(uri)
    append_elsewhere(uri, "x", "y", "z", "w")
    # A stale snapshot (the old table's three files) would leave files behind or fail.
    result = write_arrow(rows("only"), uri, mode="overwrite", partition_by=["source"])
    assert result.version == 4
    assert ids(uri) == ["only"]
