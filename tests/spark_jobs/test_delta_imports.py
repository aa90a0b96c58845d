"""A DuckDB or Arrow read does not load Spark: importing the Delta layer, the table registry,
analyst SQL and the catalog leaves pyspark unimported (it costs seconds and a JVM's worth
of dependencies), while write_table and read_spark still import from spark_jobs.delta."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_after(modules: list[str]) -> dict[str, bool]:
    """Import `modules` in a fresh interpreter; say which heavy libraries they loaded."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "from spark_jobs.delta import read_spark, write_table\n"
        "print(json.dumps({m: m in sys.modules for m in ('pyspark', 'py4j')}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "module",
    [
        "spark_jobs.delta",
        "spark_jobs.lake",
        "spark_jobs.analyst.sql",
        "spark_jobs.analyst.catalog",
    ],
)
def test_importing_the_arrow_and_duckdb_paths_does_not_load_pyspark(module: str) -> None:
    assert imported_after([module]) == {"pyspark": False, "py4j": False}


def test_a_duckdb_query_over_a_delta_table_does_not_load_pyspark(tmp_path: Path) -> None:
    code = (
        "import sys, duckdb, pyarrow as pa\n"
        "from spark_jobs.delta import read_arrow, register_duckdb, write_arrow\n"
        f"uri = {str(tmp_path / 'docs')!r}\n"
        "write_arrow(pa.table({'id': [1, 2, 3]}), uri, mode='append')\n"
        "con = duckdb.connect()\n"
        "register_duckdb(con, 'docs', uri)\n"
        "total = con.execute('SELECT sum(id) FROM docs').fetchone()[0]\n"
        "print(total, read_arrow(uri).num_rows, 'pyspark' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6", "3", "False"]
