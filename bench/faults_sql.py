"""Fault cases for analysts' SQL: every attack of the corpus must be refused and change nothing.

    python -m bench.faults_sql              # every attack, printed as a table
    python -m bench.faults_sql --keep DIR   # work in DIR and keep the lake

`cases(workdir)` builds a small lake in `workdir` (written with delta-rs, no JVM), runs each
`-- refuse:` entry of tests/orchestration/sql_attacks.sql in one shared `LakeSQL` session
with `workdir` as the working directory, and returns one dict per attack (group "sql") for
bench/faults.py. An attack counts as refused only if it raised ReadOnlyError and afterwards
the session still saw the real curated.web, every table kept its Delta version and row
count, and no file appeared or vanished under `workdir`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

GROUP = "sql"
REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "orchestration" / "sql_attacks.sql"
# `-- refuse: name` or `-- allow: name` starts an entry; its SQL runs to the next header.
_HEADER = re.compile(r"^-- (refuse|allow): (.+)$", re.MULTILINE)
# What curated.web holds: v0 three documents, v1 a fourth appended.
CURATED_IDS = ["d1", "d2", "d3", "d4"]
FINGERPRINT_SQL = (
    "SELECT list(id ORDER BY id) AS ids, list(text ORDER BY id) AS texts FROM curated.web"
)


@dataclass(frozen=True)
class SqlEntry:
    """One corpus entry: an attack to refuse, or a read that must still work."""

    name: str
    sql: str
    allowed: bool


def load_corpus(path: Path = CORPUS, lake_root: str = "/nonexistent-lake") -> list[SqlEntry]:
    """The corpus entries in file order, with `$LAKE` replaced by `lake_root`."""
    parts = _HEADER.split(path.read_text())
    return [
        SqlEntry(name.strip(), body.strip().replace("$LAKE", lake_root), kind == "allow")
        for kind, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True)
    ]


def _web_rows(ids: list[str], prefix: str) -> pa.Table:
    return pa.table(
        {
            "id": ids,
            "corpus": ["web"] * len(ids),
            "source": ["sample-crawl"] * len(ids),
            "url": [f"https://example.org/{i}" for i in ids],
            "license": ["PSF-2.0"] * len(ids),
            "text": [f"{prefix} page {i}" for i in ids],
            "byte_length": pa.array([len(f"{prefix} page {i}") for i in ids], pa.int64()),
        }
    )


def build_lake(root: Path) -> Any:
    """A small lake: raw.web (5 rows), curated.web (v0: 3 rows, v1: 4 rows), rejects (3 rows)."""
    from spark_jobs.delta import write_arrow
    from spark_jobs.lake import Lake

    lake = Lake(str(root))
    write_arrow(
        _web_rows([f"d{i}" for i in range(1, 6)], "raw"), lake.uri("raw.web"), mode="overwrite"
    )
    curated = lake.uri("curated.web")
    write_arrow(
        _web_rows(CURATED_IDS[:3], "real"), curated, mode="overwrite", partition_by=("source",)
    )
    write_arrow(
        _web_rows(CURATED_IDS[3:], "real"), curated, mode="append", partition_by=("source",)
    )
    rejects = pa.table(
        {
            "id": ["d5", "x1", "x2"],
            "corpus": ["web"] * 3,
            "source": ["sample-crawl"] * 3,
            "locator": ["u5", "u6", "u7"],
            "stage": ["curate", "curate", "ingest"],
            "reason": ["exact_duplicate", "gopher_short_doc", "http_status_404"],
            "detail": ["d1", "", ""],
            "run_id": ["r"] * 3,
        }
    )
    write_arrow(
        rejects, lake.uri("rejects"), mode="overwrite", partition_by=("corpus", "stage", "source")
    )
    return lake


def lake_state(lake: Any, workdir: Path) -> dict[str, Any]:
    """Every table's Delta version and row count, and every file under `workdir`."""
    from spark_jobs.analyst.sql import existing_tables
    from spark_jobs.delta import open_table

    tables = {}
    for name in existing_tables(lake):
        table = open_table(lake.uri(name), store=lake.store)
        tables[name] = (table.version(), table.to_pyarrow_dataset().count_rows())
    files = sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*"))
    return {"tables": tables, "files": files}


def fingerprint(session: Any) -> list[dict] | str:
    """What curated.web shows in `session`: its ids and texts (or why it shows nothing)."""
    try:
        return session.arrow(FINGERPRINT_SQL).to_pylist()
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run with `path` as the working directory, so relative file names land there."""
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def attempt(session: Any, sql: str) -> str:
    """Run `sql`; "refused" for a ReadOnlyError, else what happened."""
    from spark_jobs.analyst.sql import ReadOnlyError

    try:
        result = session.arrow(sql)
    except ReadOnlyError:
        return "refused"
    except Exception as error:
        first = str(error).splitlines()[0] if str(error) else ""
        return f"failed, not refused: {type(error).__name__}: {first}"[:160]
    return f"ran: {result.num_rows} rows"


def _damage(session: Any, real: list[dict] | str, before: dict, after: dict) -> str:
    """What an attack changed: the session's curated.web, a table, files; "" for nothing."""
    changed = []
    seen = fingerprint(session)
    if seen != real:
        changed.append(f"curated.web now shows {str(seen)[:60]}")
    if after["tables"] != before["tables"]:
        changed.append(f"tables now {after['tables']}")
    if after["files"] != before["files"]:
        new = sorted(set(after["files"]) ^ set(before["files"]))
        changed.append(f"files appeared or vanished: {new[:3]}")
    return "; ".join(changed)


def cases(workdir: Path) -> list[dict]:
    """The SQL attack cases, each {group, attack, expected, observed, ok, seconds}."""
    from spark_jobs.analyst.sql import LakeSQL

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    lake = build_lake(workdir / "lake")
    attacks = [e for e in load_corpus(lake_root=lake.root_uri) if not e.allowed]
    results = []
    with working_directory(workdir):
        session = LakeSQL(lake)
        real, before = fingerprint(session), lake_state(lake, workdir)
        try:
            for entry in attacks:
                start = time.perf_counter()
                observed = attempt(session, entry.sql)
                seconds = time.perf_counter() - start
                damage = _damage(session, real, before, lake_state(lake, workdir))
                if damage:
                    observed = f"{observed}; {damage}"
                    # Judge the next attack on a clean session and the lake as it now is.
                    session.close()
                    session = LakeSQL(lake)
                    before = lake_state(lake, workdir)
                results.append(
                    {
                        "group": GROUP,
                        "attack": f"{entry.name}: {' '.join(entry.sql.split())}"[:120],
                        "expected": "refused",
                        "observed": observed,
                        "ok": observed == "refused",
                        "seconds": round(seconds, 4),
                    }
                )
        finally:
            session.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="work here and keep the files")
    args = parser.parse_args(argv)
    if args.keep:
        results = cases(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="faults-sql-") as scratch:
            results = cases(Path(scratch))
    width = max(len(c["attack"]) for c in results)
    for case in results:
        mark = "ok  " if case["ok"] else "FAIL"
        print(f"{mark} {case['attack']:<{width}}  {case['observed']}  ({case['seconds']} s)")
    refused = sum(c["ok"] for c in results)
    print(f"SQL attacks refused {refused}/{len(results)}")
    print(json.dumps({"cases": len(results), "failed": len(results) - refused}))
    return 0 if refused == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
