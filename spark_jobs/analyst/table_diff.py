"""Diff two snapshots of a lake table: rows added and removed, and a per-column summary of both."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from spark_jobs.analyst.sql import LakeSQL, parse_snapshot
from spark_jobs.lake import Lake

# Rows are compared on their full content; a table with this column also reports how many
# rows kept their key but changed content.
KEY_COLUMN = "id"
_SUMMARY = ["min", "max", "approx_unique", "avg", "null_percentage"]


@dataclass(frozen=True)
class TableDiff:
    table: str
    old_version: int
    new_version: int
    old_rows: int
    new_rows: int
    added: int  # rows only in the new snapshot (full-row comparison, duplicates counted)
    removed: int  # rows only in the old snapshot
    changed_keys: int | None  # ids present in both whose row changed (None: no id column)
    added_columns: list[str]
    dropped_columns: list[str]
    columns: pa.Table  # one row per common column: old_/new_ min, max, approx_unique, avg, null %
    sample_added: pa.Table
    sample_removed: pa.Table


def _column_summary(old: pa.Table, new: pa.Table) -> pa.Table:
    before = {row["column_name"]: row for row in old.to_pylist()}
    rows = []
    for row in new.to_pylist():
        was = before[row["column_name"]]
        summary = {"column_name": row["column_name"], "type": row["column_type"]}
        for stat in _SUMMARY:
            for label, source in (("old", was), ("new", row)):
                value = source[stat]
                summary[f"{label}_{stat}"] = (
                    None if value is None else " ".join(str(value).split())[:32]
                )
        rows.append(summary)
    return pa.Table.from_pylist(rows)


def diff_snapshots(lake: Lake, table: str, old: str, new: str, *, sample: int = 5) -> TableDiff:
    """Compare `table` at `old` and at `new` (each a version such as `3` / `v3`, or an ISO time)."""
    old_ref, new_ref = parse_snapshot(table, old), parse_snapshot(table, new)
    with LakeSQL(lake) as sql:
        old_view, new_view = sql.register_snapshot(old_ref), sql.register_snapshot(new_ref)
        old_cols = [r[0] for r in sql.con.execute(f"DESCRIBE {old_view}").fetchall()]
        new_cols = [r[0] for r in sql.con.execute(f"DESCRIBE {new_view}").fetchall()]
        common = [c for c in new_cols if c in old_cols]
        select = ", ".join(f'"{c}"' for c in common)
        only_new = f"SELECT {select} FROM {new_view} EXCEPT ALL SELECT {select} FROM {old_view}"
        only_old = f"SELECT {select} FROM {old_view} EXCEPT ALL SELECT {select} FROM {new_view}"
        con = sql.con
        added = con.execute(f"SELECT count(*) FROM ({only_new})").fetchone()[0]
        removed = con.execute(f"SELECT count(*) FROM ({only_old})").fetchone()[0]
        changed = None
        if KEY_COLUMN in common:
            changed = con.execute(
                f"SELECT count(*) FROM (SELECT {KEY_COLUMN} FROM ({only_new}) "
                f"INTERSECT SELECT {KEY_COLUMN} FROM ({only_old}))"
            ).fetchone()[0]
        shown = [c for c in common if c != "text"][:6]
        shown_sql = ", ".join(f'"{c}"' for c in shown)
        sample_added = con.execute(
            f"SELECT {shown_sql} FROM ({only_new}) ORDER BY ALL LIMIT {sample}"
        ).to_arrow_table()
        sample_removed = con.execute(
            f"SELECT {shown_sql} FROM ({only_old}) ORDER BY ALL LIMIT {sample}"
        ).to_arrow_table()
        columns = _column_summary(
            con.execute(f"SUMMARIZE SELECT {select} FROM {old_view}").to_arrow_table(),
            con.execute(f"SUMMARIZE SELECT {select} FROM {new_view}").to_arrow_table(),
        )
        old_rows = con.execute(f"SELECT count(*) FROM {old_view}").fetchone()[0]
        new_rows = con.execute(f"SELECT count(*) FROM {new_view}").fetchone()[0]
        return TableDiff(
            table=table,
            old_version=sql.snapshot_version(old_ref),
            new_version=sql.snapshot_version(new_ref),
            old_rows=old_rows,
            new_rows=new_rows,
            added=added,
            removed=removed,
            changed_keys=changed,
            added_columns=[c for c in new_cols if c not in old_cols],
            dropped_columns=[c for c in old_cols if c not in new_cols],
            columns=columns,
            sample_added=sample_added,
            sample_removed=sample_removed,
        )


def render_diff(diff: TableDiff) -> str:
    out = [
        f"{diff.table}: v{diff.old_version} ({diff.old_rows} rows) -> "
        f"v{diff.new_version} ({diff.new_rows} rows)",
        f"  rows added:   {diff.added}",
        f"  rows removed: {diff.removed}",
    ]
    if diff.changed_keys is not None:
        out.append(f"  of which the same {KEY_COLUMN} with changed content: {diff.changed_keys}")
    if diff.added_columns or diff.dropped_columns:
        out.append(f"  columns added: {diff.added_columns}; dropped: {diff.dropped_columns}")
    out.append("")
    out.append("per column (old -> new):")
    for row in diff.columns.to_pylist():
        if all(row[f"old_{s}"] == row[f"new_{s}"] for s in _SUMMARY):
            out.append(f"  {row['column_name']:<18} same")
            continue
        stats = "  ".join(
            f"{s}={row[f'old_{s}']}->{row[f'new_{s}']}"
            for s in _SUMMARY
            if row[f"old_{s}"] != row[f"new_{s}"]
        )
        out.append(f"  {row['column_name']:<18} {stats}")
    for label, rows in (("added", diff.sample_added), ("removed", diff.sample_removed)):
        if rows.num_rows:
            out.append("")
            out.append(f"sample of rows {label}:")
            out.append(rows.to_pandas().to_string(index=False, max_colwidth=40))
    return "\n".join(out)
