"""The interactive `pilehouse sql` shell: statements end with `;`, dot-commands list what there is."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TextIO

import pyarrow as pa

from spark_jobs.analyst.sql import LakeSQL, example_queries

HISTORY_LINES = 1000
HELP = """statements end with ';'. Tables by name (raw.web, curated.web, rejects, ...);
time travel: curated.web@v3, curated.web@2026-11-23T10:00:00Z; history('curated.web').
.tables      the tables with version, rows and size (the lake_tables relation)
.examples    the documented example queries (spark_jobs/analyst/examples.sql)
.help        this text
.quit        leave (or Ctrl-D)"""


def format_table(table: pa.Table, max_width: int = 60) -> str:
    if table.num_columns == 0:
        return "(no columns)"
    count = f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})"
    if table.num_rows == 0:
        return f"{', '.join(table.column_names)}\n{count}"
    return f"{table.to_pandas().to_string(index=False, max_colwidth=max_width)}\n{count}"


def run_shell(
    session: LakeSQL,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    max_width: int = 60,
    history: Path | None = None,
) -> int:
    """Read statements from `stdin` until EOF or `.quit`; print each result or error.

    On a terminal: line editing, history kept in `history` across sessions, and Ctrl-C
    clears the line being typed (or stops the running statement) instead of leaving.
    """
    interactive = stdin.isatty()
    if interactive:
        _load_history(history)
        print("pilehouse sql (read-only, DuckDB). .help for help.", file=stdout)
    try:
        return _read_statements(session, stdin, stdout, max_width, interactive)
    finally:
        if interactive:
            _save_history(history)


def _load_history(history: Path | None) -> None:
    import readline  # line editing and history for input()

    if history is not None and history.exists():
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
    readline.set_history_length(HISTORY_LINES)


def _save_history(history: Path | None) -> None:
    import readline

    if history is not None:
        with contextlib.suppress(OSError):
            history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)


def _read_statements(
    session: LakeSQL, stdin: TextIO, stdout: TextIO, max_width: int, interactive: bool
) -> int:
    buffer: list[str] = []
    while True:
        prompt = "...> " if buffer else "sql> "
        if interactive:
            try:
                line = input(prompt)
            except EOFError:
                break
            except KeyboardInterrupt:  # Ctrl-C: drop what was typed, as psql and duckdb do
                print("^C", file=stdout)
                buffer = []
                continue
        else:
            line = stdin.readline()
            if not line:
                break
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            if stripped in (".quit", ".exit"):
                break
            print(_dot_command(session, stripped, max_width), file=stdout)
            continue
        buffer.append(line.rstrip("\n"))
        if not stripped.endswith(";"):
            continue
        statement, buffer = "\n".join(buffer), []
        try:
            print(format_table(session.arrow(statement), max_width), file=stdout)
        except KeyboardInterrupt:
            if not interactive:
                raise
            print("interrupted", file=stdout)
        except Exception as error:  # a bad statement must not end the session
            print(f"error: {error}", file=stdout)
    return 0


def _dot_command(session: LakeSQL, command: str, max_width: int) -> str:
    if command == ".tables":
        return format_table(
            session.arrow("SELECT table_name, version, rows, bytes, description FROM lake_tables"),
            max_width,
        )
    if command == ".examples":
        return "\n\n".join(
            f"-- {q.name}: {q.description}\n{q.sql};" for q in example_queries().values()
        )
    if command == ".help":
        return HELP
    return f"unknown command {command}; .help lists them"
