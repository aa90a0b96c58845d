"""Read-only SQL over the lake's tables by name (DuckDB over delta-rs snapshots), with time travel.

`curated.web` is the current snapshot, `curated.web@v3` version 3, `curated.web@2026-11-23T10:00:00Z`
the snapshot current at that time; `history('curated.web')` is the table's commit log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from spark_jobs.delta import open_table, register_duckdb, table_exists, table_history
from spark_jobs.lake import TABLES, Lake

ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
EXAMPLES_FILE = Path(__file__).with_name("examples.sql")

# `name@v12`, `name@2026-11-23`, `name@2026-11-23T10:00:00Z` (seconds, fraction, offset optional).
_AT = re.compile(
    r"(?<![\w.\"])(?P<table>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)"
    r"@(?P<at>v\d+|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:\d{2})?)"
    r"(?![\w:.-])"
)
# Literals, quoted identifiers and comments: time travel is never rewritten inside them.
_NOT_CODE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_HISTORY_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("version", pa.int64()),
        ("committed_at", pa.timestamp("ms", tz="UTC")),
        ("operation", pa.string()),
        ("mode", pa.string()),
        ("rows", pa.int64()),
        ("files", pa.int64()),
        ("bytes", pa.int64()),
        ("dagster_run_id", pa.string()),
        ("asset_key", pa.string()),
        ("partition", pa.string()),
        ("code_version", pa.string()),
        ("recipe", pa.string()),
        ("recipe_hash", pa.string()),
        ("inputs", pa.map_(pa.string(), pa.int64())),
        ("metadata", pa.map_(pa.string(), pa.string())),
    ]
)


class ReadOnlyError(ValueError):
    """Raised for SQL that would change something: analysts' SQL is read-only."""


@dataclass(frozen=True)
class SnapshotRef:
    """A table at a version or at a moment, as written in SQL (`curated.web@v3`)."""

    table: str
    version: int | None = None
    timestamp: str | None = None

    @property
    def label(self) -> str:
        return (
            f"{self.table}@v{self.version}"
            if self.version is not None
            else f"{self.table}@{self.timestamp}"
        )


def parse_snapshot(table: str, at: str) -> SnapshotRef:
    """`v3` or `3` is a version; anything else must be an ISO 8601 date or time (UTC if no offset)."""
    if table not in TABLES:
        raise ValueError(
            f"unknown lake table {table!r} in {table}@{at}; known: {', '.join(TABLES)}"
        )
    if re.fullmatch(r"v?\d+", at):
        return SnapshotRef(table, version=int(at.lstrip("v")))
    try:
        datetime.fromisoformat(at)
    except ValueError:
        raise ValueError(
            f"{table}@{at}: expected a version (v3) or an ISO 8601 time (2026-11-23T10:00:00Z)"
        ) from None
    return SnapshotRef(table, timestamp=at)


def rewrite_time_travel(sql: str) -> tuple[str, list[SnapshotRef]]:
    """Replace `name@v3` / `name@<ISO time>` with a quoted view name; return the snapshots needed."""
    refs: list[SnapshotRef] = []

    def replace(match: re.Match[str]) -> str:
        ref = parse_snapshot(match["table"], match["at"])
        refs.append(ref)
        return '"' + ref.label + '"'

    pieces, last = [], 0
    for literal in _NOT_CODE.finditer(sql):
        pieces.append(_AT.sub(replace, sql[last : literal.start()]))
        pieces.append(literal.group())
        last = literal.end()
    pieces.append(_AT.sub(replace, sql[last:]))
    return "".join(pieces), refs


def check_read_only(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as error:
        raise ValueError(f"could not parse SQL: {error}") from None
    for statement in statements:
        if statement.type not in ALLOWED_STATEMENTS:
            raise ReadOnlyError(
                f"refused: {statement.type.name} statements are not allowed; the lake's SQL "
                "interface is read-only (SELECT, WITH ... SELECT, EXPLAIN, DESCRIBE, SHOW). "
                "Tables change only through Dagster materializations."
            )


def existing_tables(lake: Lake) -> list[str]:
    """Names of the TABLES that exist in this lake, in catalog order."""
    return [name for name in TABLES if table_exists(lake.uri(name), lake.store)]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def history_arrow(lake: Lake, tables: list[str] | None = None) -> pa.Table:
    """Every commit of the given (default: all existing) tables, newest first, as one relation."""
    rows = []
    for name in existing_tables(lake) if tables is None else tables:
        for entry in table_history(lake.uri(name), store=lake.store):
            metadata = {
                k: v if isinstance(v, str) else json.dumps(v)
                for k, v in entry.items()
                if k not in ("version", "timestamp", "operation")
            }
            rows.append(
                {
                    "table_name": name,
                    "version": int(entry["version"]),
                    "committed_at": datetime.fromtimestamp(entry["timestamp"] / 1000, UTC),
                    "operation": entry.get("operation"),
                    "mode": entry.get("pilehouse.mode"),
                    "rows": _int(entry.get("pilehouse.rows")),
                    "files": _int(entry.get("pilehouse.files")),
                    "bytes": _int(entry.get("pilehouse.bytes")),
                    "dagster_run_id": entry.get("dagster.run_id"),
                    "asset_key": entry.get("dagster.asset_key"),
                    "partition": entry.get("dagster.partition") or None,
                    "code_version": entry.get("lineage.code_version"),
                    "recipe": entry.get("lineage.recipe"),
                    "recipe_hash": entry.get("lineage.recipe_hash"),
                    "inputs": [
                        (k.removeprefix("lineage.input."), _int(v))
                        for k, v in entry.items()
                        if k.startswith("lineage.input.")
                    ],
                    "metadata": sorted(metadata.items()),
                }
            )
    return pa.Table.from_pylist(rows, schema=_HISTORY_SCHEMA)


def _register_table(con: duckdb.DuckDBPyConnection, lake: Lake, name: str) -> None:
    schema, _, table = name.rpartition(".")
    # DuckDB registers Arrow datasets in the main schema only; a view gives the dotted name.
    snapshot = f"_snapshot_{name.replace('.', '_')}"
    register_duckdb(con, snapshot, lake.uri(name), store=lake.store)
    if schema:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
    con.execute(f'CREATE OR REPLACE VIEW {qualified} AS SELECT * FROM "{snapshot}"')


def connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per existing lake table (`raw.web`, `rejects`, ...).

    Also `lake_history` (every table's commits), the table macro `history('name')`, and
    `lake_tables` / `lake_columns` (the catalog).
    """
    from orchestration.catalog import catalog_arrow, describe_lake

    con = duckdb.connect()
    for name in existing_tables(lake):
        _register_table(con, lake, name)
    con.register("lake_history", history_arrow(lake))
    con.execute(
        "CREATE MACRO history(name) AS TABLE "
        "SELECT * EXCLUDE (table_name) FROM lake_history WHERE table_name = name ORDER BY version DESC"
    )
    tables, columns = catalog_arrow(describe_lake(lake))
    con.register("lake_tables", tables)
    con.register("lake_columns", columns)
    # From here on the session may read only what was registered above (and snapshots
    # registered through the Python API), and cannot switch that off again: no local
    # files, no extensions, no ATTACH.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


class LakeSQL:
    """A read-only DuckDB session over the lake: tables by name, time travel, history.

    >>> with LakeSQL(lake) as sql:
    ...     sql.df("SELECT license, count(*) FROM curated.web GROUP BY 1")
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.con = connect(lake)
        self._snapshots: set[str] = set()

    def _prepare(self, sql: str) -> str:
        sql, refs = rewrite_time_travel(sql)
        check_read_only(sql)
        for ref in refs:
            self.register_snapshot(ref)
        return sql

    def register_snapshot(self, ref: SnapshotRef) -> str:
        """Make `ref` queryable (once per session); return its quoted view name."""
        if ref.label not in self._snapshots:
            uri = self.lake.uri(ref.table)
            if not table_exists(uri, self.lake.store):
                raise ValueError(f"{ref.label}: table {ref.table} does not exist in this lake yet")
            register_duckdb(
                self.con,
                ref.label,
                uri,
                version=ref.version,
                timestamp=ref.timestamp,
                store=self.lake.store,
            )
            self._snapshots.add(ref.label)
        return f'"{ref.label}"'

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run read-only SQL (`$name` parameters from `params`); refuses anything that writes."""
        prepared = self._prepare(sql)
        return self.con.execute(prepared, dict(params) if params else None)

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self.execute(sql, params).to_arrow_table()

    def df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.execute(sql, params).df()

    def snapshot_version(self, ref: SnapshotRef) -> int:
        """The Delta version a reference resolves to."""
        return open_table(
            self.lake.uri(ref.table),
            version=ref.version,
            timestamp=ref.timestamp,
            store=self.lake.store,
        ).version()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> LakeSQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def query(lake: Lake, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
    """Run a read-only query and return its result as Arrow (`.to_pandas()` for pandas)."""
    check_read_only(rewrite_time_travel(sql)[0])
    with LakeSQL(lake) as session:
        return session.arrow(sql, params)


@dataclass(frozen=True)
class ExampleQuery:
    """A documented example from orchestration/examples.sql (the README quotes them; tests run them)."""

    name: str
    description: str
    sql: str
    params: tuple[str, ...]

    @property
    def spark_sql(self) -> str:
        """The same query for Spark SQL, whose named parameters are `:name` instead of `$name`."""
        return re.sub(r"\$(\w+)", r":\1", self.sql)


def _split_examples(text: str) -> Iterator[ExampleQuery]:
    for block in re.split(r"^-- name: ", text, flags=re.MULTILINE)[1:]:
        name, _, body = block.partition("\n")
        lines = body.strip().splitlines()
        description = " ".join(
            line.removeprefix("--").strip() for line in lines if line.startswith("--")
        )
        sql = "\n".join(line for line in lines if not line.startswith("--")).strip().rstrip(";")
        params = tuple(dict.fromkeys(re.findall(r"\$(\w+)", _NOT_CODE.sub("", sql))))
        yield ExampleQuery(name.strip(), description, sql, params)


def example_queries() -> dict[str, ExampleQuery]:
    """The documented example queries, by name."""
    return {q.name: q for q in _split_examples(EXAMPLES_FILE.read_text())}
