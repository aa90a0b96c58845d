"""Read-only SQL over the lake's tables by name (DuckDB over delta-rs snapshots), with time travel.

`curated.web` is the current snapshot, `curated.web@v3` version 3, `curated.web@2026-11-23T10:00:00Z`
the snapshot current at that time; `history('curated.web')` is the table's commit log.
"""

from __future__ import annotations

import contextlib
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
from spark_jobs.lake import TABLES, Lake, known_spec

EXAMPLES_FILE = Path(__file__).with_name("examples.sql")

# `name@v12`, `name@2026-11-23`, `name@2026-11-23T10:00:00Z` (seconds, fraction, offset optional).
# Never next to a quote: the quoted view name must not run into a neighbouring quoted text.
_AT = re.compile(
    r"(?<![\w.\"'])(?P<table>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)"
    r"@(?P<at>v\d+|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:\d{2})?)"
    r"(?![\w:.\-\"'])"
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
    if known_spec(table) is None:
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
    # Matched over the whole text, so the lookarounds see a reference's real neighbours.
    literals = [m.span() for m in _NOT_CODE.finditer(sql)]

    def replace(match: re.Match[str]) -> str:
        if any(start <= match.start() < end for start, end in literals):
            return match.group()
        ref = parse_snapshot(match["table"], match["at"])
        refs.append(ref)
        return '"' + ref.label + '"'

    return _AT.sub(replace, sql), refs


# --- the read-only guard ------------------------------------------------------------------
# A statement runs only if DuckDB's own parser serializes it as a SELECT (json_serialize_sql
# refuses every other statement type, whatever hides in a CTE, a comment or after a `;`), every
# relation it names is a lake table, a view of this session or a plain name (never a path
# DuckDB would open itself), and every function it calls is one that only computes. EXPLAIN
# is rebuilt as `EXPLAIN [ANALYZE] ` + a statement that passed the same check, so what runs is
# what was checked. Behind that, `connect` locks the session: no files, no extensions.

# Table functions a query may call: generators and catalog readers. Everything else reads
# files (read_csv, read_text, glob, parquet_metadata, ...), runs other SQL (query,
# json_execute_serialized_sql) or changes the session (checkpoint, enable_logging, ...).
READABLE_TABLE_FUNCTIONS = frozenset(
    {
        "history",  # the lake's commit log, a macro over lake_history
        "range",
        "generate_series",
        "unnest",
        "repeat",
        "repeat_row",
        "json_each",
        "json_tree",
        "summary",
        "pg_timezone_names",
        "icu_calendar_names",
        "pragma_version",
        "pragma_platform",
        "pragma_table_info",
        "pragma_show",
        "duckdb_columns",
        "duckdb_constraints",
        "duckdb_databases",
        "duckdb_dependencies",
        "duckdb_functions",
        "duckdb_indexes",
        "duckdb_keywords",
        "duckdb_schemas",
        "duckdb_settings",
        "duckdb_tables",
        "duckdb_types",
        "duckdb_views",
    }
)
# Scalar functions whose effect outlives their result.
REFUSED_FUNCTIONS = frozenset({"write_log", "nextval", "currval", "setseed"})
# A relation name with one of these may be a file, a glob or a URL to DuckDB's replacement
# scans (`FROM 'data.csv'`, `FROM data.csv`, `FROM '/etc/*'`).
_PATH_LIKE = re.compile(r"[./\\:*?\[\]{}~%]")
_SESSION_LOCKS = (
    "SET python_enable_replacements = false",  # no scanning of Python variables by name
    "SET enable_external_access = false",  # no files, no URLs, no ATTACH
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET lock_configuration = true",  # last: nothing above can be switched back
)
_ALLOWED = (
    "the lake's SQL is read-only: SELECT (also WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE) "
    "and EXPLAIN [ANALYZE] SELECT, over the lake's tables (.tables lists them); tables change "
    "only through Dagster materializations"
)
_WORD = re.compile(r"\w+|\S")


def lock_session(con: duckdb.DuckDBPyConnection) -> None:
    """From here on `con` reads only what is registered in it, and cannot undo that."""
    for statement in _SESSION_LOCKS:
        con.execute(statement)


def _locked_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    lock_session(con)
    return con


def _split_statements(sql: str) -> list[str]:
    """The statements of `sql`, split at the `;` tokens DuckDB's tokenizer finds.

    A wrong split cannot let anything through: each piece is checked on its own and must
    parse as exactly one statement, and only checked pieces run.
    """
    try:
        tokens = duckdb.tokenize(sql)
    except Exception as error:
        raise ValueError(f"could not parse SQL: {error}") from None
    pieces, start = [], 0
    for offset, kind in tokens:
        if kind == duckdb.token_type.operator and sql.startswith(";", offset):
            pieces.append(sql[start:offset])
            start = offset + 1
    pieces.append(sql[start:])
    return [piece for piece in pieces if duckdb.tokenize(piece)]


def _words(sql: str, count: int) -> list[tuple[int, str]]:
    """The first `count` tokens of `sql` as (offset, lowercased text)."""
    return [(o, _WORD.match(sql, o).group().lower()) for o, _ in duckdb.tokenize(sql)[:count]]


def _statement_kind(sql: str) -> str:
    """What a refused statement is, for the message: INSERT, DROP, PRAGMA, ..."""
    words = [w for _, w in _words(sql, 2)]
    if words[0] == "pivot":
        return "PIVOT without an IN list (it creates a type)"
    if words[0] not in ("with", "("):
        return " ".join(words[: 2 if words[0] == "force" else 1]).upper()
    # WITH ... INSERT: ask DuckDB, in a throwaway session (extracting a PRAGMA or IMPORT runs
    # its handler, and a failure there leaves the connection in an aborted transaction).
    with contextlib.suppress(Exception), _locked_connection() as con:
        types = [s.type.name for s in con.extract_statements(sql)]
        return next(t for t in types if t != "SELECT")
    return words[0].upper()


def _explained(sql: str) -> tuple[str, str]:
    """Split `EXPLAIN [ANALYZE] statement` into ("EXPLAIN [ANALYZE] ", statement); else ("", sql).

    The caller runs the prefix + the statement it checked, so the two cannot disagree: a
    checked SELECT never starts with ANALYZE or `(`, which EXPLAIN would read as options.
    """
    words = _words(sql, 3)
    if words[0][1] != "explain":
        return "", sql
    analyze = len(words) > 1 and words[1][1] in ("analyze", "analyse")
    rest = words[2 if analyze else 1 :]
    if not rest or rest[0][1] == "(":
        raise ReadOnlyError(f"refused: EXPLAIN takes a SELECT without options here; {_ALLOWED}")
    return ("EXPLAIN ANALYZE " if analyze else "EXPLAIN "), sql[rest[0][0] :]


def _select_tree(con: duckdb.DuckDBPyConnection, sql: str) -> dict | None:
    """DuckDB's parse tree of `sql` if it is exactly one SELECT, else None."""
    result = json.loads(con.execute("SELECT json_serialize_sql($1)", [sql]).fetchone()[0])
    if result.get("error"):
        if result.get("error_type") == "parser":
            raise ValueError(f"could not parse SQL: {result.get('error_message')}")
        return None
    statements = result["statements"]
    return statements[0] if len(statements) == 1 else None


def _check_tree(tree: dict, relations: set[tuple[str, ...]]) -> None:
    """Refuse file paths, unknown qualified names and effectful functions in a parse tree."""
    stack: list[Any] = [tree]
    while stack:  # not recursive: a deep expression must not overflow Python's stack
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "BASE_TABLE":
            _check_relation(
                node["catalog_name"], node["schema_name"], node["table_name"], relations
            )
        elif kind == "SHOW_REF" and _PATH_LIKE.search(node.get("table_name", "")):
            _check_relation("", "", node["table_name"], relations)
        elif kind == "TABLE_FUNCTION":
            name = node["function"]["function_name"].lower()
            if name not in READABLE_TABLE_FUNCTIONS:
                raise ReadOnlyError(
                    f"refused: table function {name}() reads files, runs other SQL or changes "
                    f"the session; {_ALLOWED}"
                )
        if node.get("class") == "FUNCTION" and node["function_name"].lower() in REFUSED_FUNCTIONS:
            raise ReadOnlyError(
                f"refused: {node['function_name'].lower()}() changes the session; {_ALLOWED}"
            )
        stack.extend(node.values())


def _check_relation(catalog: str, schema: str, table: str, relations: set[tuple[str, ...]]) -> None:
    parts = tuple(part.lower() for part in (catalog, schema, table) if part)
    if parts in relations:
        return
    # A plain name that is no table can only fail to bind; DuckDB opens a file (replacement
    # scan) for a name with a path, an extension or a qualifier that names no schema.
    if len(parts) == 1 and not _PATH_LIKE.search(table):
        return
    raise ReadOnlyError(
        f"refused: {'.'.join(parts)!r} is not a table of this lake, and SQL here never reads "
        f"files; {_ALLOWED}"
    )


def _session_relations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, ...]]:
    """Every relation of `con` by each name that reaches it: name, schema.name, db.schema.name."""
    rows = con.execute(
        "SELECT database_name, schema_name, view_name FROM duckdb_views() "
        "UNION ALL SELECT database_name, schema_name, table_name FROM duckdb_tables()"
    ).fetchall()
    names = set()
    for database, schema, name in rows:
        database, schema, name = database.lower(), schema.lower(), name.lower()
        names |= {(name,), (schema, name), (database, schema, name)}
    return names


def read_only_statements(
    sql: str,
    con: duckdb.DuckDBPyConnection | None = None,
    relations: set[str] | frozenset[str] = frozenset(),
    parser: duckdb.DuckDBPyConnection | None = None,
) -> list[str]:
    """The statements of `sql` to run, one by one, if every one is read-only.

    Args:
        sql: one or more statements, time travel already rewritten (`rewrite_time_travel`).
        con: the session the statements will run in; its tables and views are the relations
            they may name (besides the lake's TABLES and `relations`). None: a fresh session.
        relations: more names to allow, e.g. the time-travel snapshots about to be registered.
        parser: a locked connection (`_locked_connection`) to parse with; None: a new one.

    Raises:
        ReadOnlyError: a statement is not a SELECT (or EXPLAIN of one), names a file, or calls
            a function that reads files or changes the session.
        ValueError: the SQL does not parse.
    """
    pieces = _split_statements(sql)
    if not pieces:
        raise ValueError("no SQL statement given")
    own_parser = parser is None
    parser = _locked_connection() if parser is None else parser
    try:
        known = {tuple(name.lower().split(".")) for name in TABLES}
        known |= {(name.lower(),) for name in relations}  # snapshot labels: one quoted name
        known |= _session_relations(con if con is not None else parser)
        statements = []
        for piece in pieces:
            prefix, select = _explained(piece)
            tree = _select_tree(parser, select)
            if tree is None:
                kind = prefix + _statement_kind(select)
                raise ReadOnlyError(f"refused: {kind} statements are not allowed; {_ALLOWED}")
            _check_tree(tree, known)
            statements.append(prefix + select)
        return statements
    finally:
        if own_parser:
            parser.close()


def check_read_only(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Raise ReadOnlyError unless every statement of `sql` only reads (see read_only_statements)."""
    read_only_statements(sql, con)


def existing_tables(lake: Lake) -> list[str]:
    """Names of the tables this lake holds, in catalog order (the lake's registry)."""
    return lake.tables()


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
    from spark_jobs.analyst.catalog import catalog_arrow, describe_lake

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
    # files, no extensions, no ATTACH. LakeSQL checks each statement before this matters.
    lock_session(con)
    return con


class LakeSQL:
    """A read-only DuckDB session over the lake: tables by name, time travel, history.

    >>> with LakeSQL(lake) as sql:
    ...     sql.df("SELECT license, count(*) FROM curated.web GROUP BY 1")
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.con = connect(lake)
        # The guard parses in a connection of its own, never in the one that runs the SQL.
        self._parser = _locked_connection()
        self._snapshots: set[str] = set()

    def _prepare(self, sql: str) -> list[str]:
        # Rewrite first, check second: the guard sees exactly the text that will run.
        sql, refs = rewrite_time_travel(sql)
        statements = read_only_statements(
            sql, self.con, {ref.label for ref in refs}, parser=self._parser
        )
        for ref in refs:
            self.register_snapshot(ref)
        return statements

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
        """Run read-only SQL (`$name` parameters from `params`); refuses anything that writes.

        Several statements run one after the other; the result is the last one's.
        """
        statements = self._prepare(sql)
        if params and len(statements) > 1:
            raise ValueError(f"parameters need a single statement; got {len(statements)}")
        for statement in statements[:-1]:
            self.con.execute(statement)
        return self.con.execute(statements[-1], dict(params) if params else None)

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
        self._parser.close()

    def __enter__(self) -> LakeSQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def query(lake: Lake, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
    """Run a read-only query and return its result as Arrow (`.to_pandas()` for pandas)."""
    with LakeSQL(lake) as session:
        return session.arrow(sql, params)


@dataclass(frozen=True)
class ExampleQuery:
    """A documented example from spark_jobs/analyst/examples.sql (the README quotes them; tests run them)."""

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
