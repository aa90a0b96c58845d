"""Analysts' SQL is read-only in every statement form: each attack of sql_attacks.sql is refused,
the whole corpus changes nothing in the lake, the session or the working directory, and the
reads of the corpus still work. A small lake written with delta-rs; no JVM."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.faults_sql import (
    CURATED_IDS,
    build_lake,
    fingerprint,
    lake_state,
    load_corpus,
    working_directory,
)
from spark_jobs.analyst.sql import LakeSQL, ReadOnlyError
from spark_jobs.analyst.sql_shell import run_shell
from spark_jobs.lake import Lake

REPO = Path(__file__).resolve().parents[3]
PILEHOUSE = Path(sys.executable).with_name("pilehouse")
CORPUS = load_corpus(lake_root="$LAKE")
ATTACKS = [e for e in CORPUS if not e.allowed]
READS = [e for e in CORPUS if e.allowed]
REAL_CURATED = [{"ids": CURATED_IDS, "texts": [f"real page {i}" for i in CURATED_IDS]}]
# Delta version and row count of each table as build_lake writes them.
REAL_TABLES = {"raw.web": (0, 5), "curated.web": (1, 4), "rejects": (0, 3)}


def _sql(entry, workdir: Path) -> str:
    return entry.sql.replace("$LAKE", str(workdir / "lake"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A directory holding the lake (lake/) and serving as the working directory of attacks."""
    root = tmp_path_factory.mktemp("sql-attacks")
    build_lake(root / "lake")
    return root


@pytest.fixture(scope="module")
def session(workdir):
    """One session for every attack, so an attack that changed it shows in the next checks."""
    with working_directory(workdir), LakeSQL(Lake(str(workdir / "lake"))) as sql:
        yield sql


def test_the_corpus_covers_every_kind_of_attack():
    assert len(ATTACKS) >= 100 and len(READS) >= 5
    text = " ".join(e.sql.upper() for e in ATTACKS)
    for form in (
        "EXPLAIN ANALYZE",
        "WITH",
        "PRAGMA",
        "ATTACH",
        "COPY",
        "EXPORT DATABASE",
        "INSTALL",
        "CREATE MACRO",
        "READ_CSV",
        "CHECKPOINT",
        "@V0",
        "; DROP",
    ):
        assert form in text, f"no attack uses {form}"


@pytest.mark.parametrize("entry", ATTACKS, ids=[e.name for e in ATTACKS])
def test_attack_is_refused_and_the_session_still_sees_the_real_data(session, workdir, entry):
    with pytest.raises(ReadOnlyError, match=r"^refused: [^\n]*read-only[^\n]*$"):
        session.arrow(_sql(entry, workdir))
    assert fingerprint(session) == REAL_CURATED


@pytest.mark.parametrize("entry", READS, ids=[e.name for e in READS])
def test_reads_still_work(session, workdir, entry):
    assert session.arrow(_sql(entry, workdir)).num_columns > 0


def test_reads_answer_from_the_lake(session):
    assert session.arrow("SELECT count(*) AS n FROM curated.web@v0").to_pylist() == [{"n": 3}]
    plan = session.arrow("EXPLAIN ANALYZE SELECT count(*) FROM curated.web").to_pylist()
    assert "Total Time" in plan[0]["explain_value"]
    both = session.arrow("SELECT 1 AS a; SELECT count(*) AS n FROM rejects").to_pylist()
    assert both == [{"n": 3}]


def test_the_whole_corpus_changes_nothing(tmp_path):
    """Every attack in one fresh session; then the lake, the files and a new session are as before."""
    lake = build_lake(tmp_path / "lake")
    before = lake_state(lake, tmp_path)
    assert before["tables"] == REAL_TABLES
    outcomes = {}
    with working_directory(tmp_path), LakeSQL(lake) as sql:
        for entry in ATTACKS:
            try:
                sql.arrow(_sql(entry, tmp_path))
                outcomes[entry.name] = "ran"
            except ReadOnlyError:
                continue
            except Exception as error:  # reported below, with the attack
                outcomes[entry.name] = f"{type(error).__name__}: {error}"
        assert fingerprint(sql) == REAL_CURATED
    assert outcomes == {}
    assert lake_state(lake, tmp_path) == before
    with LakeSQL(lake) as fresh:
        assert fingerprint(fresh) == REAL_CURATED


def test_the_shell_keeps_seeing_the_real_data_after_an_attack(workdir):
    statements = (
        "EXPLAIN ANALYZE CREATE OR REPLACE VIEW curated.web AS SELECT 'fake' AS id;\n"
        "SELECT 1; CREATE OR REPLACE VIEW curated.web AS SELECT 'fake' AS id;\n"
        "SELECT string_agg(id, ',' ORDER BY id) AS ids FROM curated.web;\n"
    )
    out = io.StringIO()
    with working_directory(workdir), LakeSQL(Lake(str(workdir / "lake"))) as sql:
        run_shell(sql, io.StringIO(statements), out)
    text = out.getvalue()
    assert text.count("error: refused:") == 2
    assert "d1,d2,d3,d4" in text and "fake" not in text


# --- through the real CLI ------------------------------------------------------------------


def _pilehouse(workdir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILEHOUSE_", "DAGSTER_"))}
    # PYTHONPATH: the code under test, even where the console script was installed elsewhere.
    env |= {"PILEHOUSE_HOME": str(workdir), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [str(PILEHOUSE), "sql", *args],
        cwd=workdir,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
        "EXPLAIN ANALYZE CREATE OR REPLACE VIEW curated.web AS SELECT 'fake'",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM curated.web@v0; COPY (SELECT 1) TO 'stolen.csv'",
    ],
)
def test_cli_refuses_with_exit_code_2_and_one_line(workdir, sql):
    result = _pilehouse(workdir, sql)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: refused: ") and "read-only" in line
    assert not (workdir / "stolen.csv").exists() and not (workdir / "t").exists()


def test_cli_shell_keeps_seeing_the_real_data_after_an_attack(workdir):
    result = _pilehouse(
        workdir,
        stdin="EXPLAIN ANALYZE CREATE OR REPLACE VIEW curated.web AS SELECT 'fake' AS id;\n"
        "SELECT string_agg(id, ',' ORDER BY id) AS ids FROM curated.web;\n",
    )
    assert result.returncode == 0, result.stderr
    assert "error: refused: EXPLAIN ANALYZE CREATE statements are not allowed" in result.stdout
    assert "d1,d2,d3,d4" in result.stdout and "fake" not in result.stdout
