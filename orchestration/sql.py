"""Read-only SQL over the lake's tables by name (DuckDB over delta-rs snapshots)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from spark_jobs.delta import register_duckdb, table_exists
from spark_jobs.lake import TABLES, Lake

ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class ReadOnlyError(ValueError):
    """Raised for SQL that would change something: analysts' SQL is read-only."""


def connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per existing lake table (`raw.web`, `rejects`, ...)."""
    con = duckdb.connect()
    for name in TABLES:
        uri = lake.uri(name)
        if not table_exists(uri, lake.store):
            continue
        schema, _, table = name.rpartition(".")
        # DuckDB registers Arrow datasets in the main schema only; a view gives the dotted name.
        snapshot = f"_snapshot_{name.replace('.', '_')}"
        register_duckdb(con, snapshot, uri, store=lake.store)
        if schema:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
        con.execute(f'CREATE VIEW {qualified} AS SELECT * FROM "{snapshot}"')
    # From here on the session may read only what was registered above, and cannot
    # switch that off again: no local files, no extensions, no ATTACH.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


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


def query(lake: Lake, sql: str) -> pa.Table:
    """Run a read-only query and return its result as Arrow."""
    check_read_only(sql)
    con = connect(lake)
    try:
        return con.execute(sql).to_arrow_table()
    finally:
        con.close()
