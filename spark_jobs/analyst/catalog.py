"""The lake's catalog: each table's description, columns and their meaning, version, rows and size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from spark_jobs.delta import open_table
from spark_jobs.lake import TABLES, Lake


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    partition: bool
    meaning: str


@dataclass(frozen=True)
class TableInfo:
    name: str
    description: str
    uri: str
    version: int
    updated_at: datetime
    rows: int
    bytes: int
    files: int
    columns: list[ColumnInfo]


def describe_table(lake: Lake, name: str) -> TableInfo:
    """Catalog entry of one table, from its current snapshot's log (no data file is read)."""
    spec = lake.spec(name)
    table = open_table(lake.uri(name), store=lake.store)
    adds = pa.table(table.get_add_actions(flatten=True))
    partition_by = set(table.metadata().partition_columns)
    schema = pa.schema(table.schema().to_arrow())
    latest = table.history(limit=1)[0]
    return TableInfo(
        name=name,
        description=spec.description,
        uri=lake.uri(name),
        version=table.version(),
        updated_at=datetime.fromtimestamp(latest["timestamp"] / 1000, UTC),
        rows=int(pc.sum(adds.column("num_records")).as_py() or 0) if adds.num_rows else 0,
        bytes=int(pc.sum(adds.column("size_bytes")).as_py() or 0) if adds.num_rows else 0,
        files=adds.num_rows,
        columns=[
            ColumnInfo(f.name, str(f.type), f.name in partition_by, spec.columns.get(f.name, ""))
            for f in schema
        ],
    )


def describe_lake(lake: Lake) -> list[TableInfo]:
    """Catalog entries of every table this lake holds (the lake's registry)."""
    return [describe_table(lake, name) for name in lake.tables()]


def catalog_arrow(infos: list[TableInfo]) -> tuple[pa.Table, pa.Table]:
    """The catalog as two relations: tables (one row each) and columns (one row per column)."""
    tables = pa.Table.from_pylist(
        [
            {
                "table_name": i.name,
                "description": i.description,
                "version": i.version,
                "updated_at": i.updated_at,
                "rows": i.rows,
                "bytes": i.bytes,
                "files": i.files,
                "uri": i.uri,
            }
            for i in infos
        ],
        schema=pa.schema(
            [
                ("table_name", pa.string()),
                ("description", pa.string()),
                ("version", pa.int64()),
                ("updated_at", pa.timestamp("ms", tz="UTC")),
                ("rows", pa.int64()),
                ("bytes", pa.int64()),
                ("files", pa.int64()),
                ("uri", pa.string()),
            ]
        ),
    )
    columns = pa.Table.from_pylist(
        [
            {
                "table_name": i.name,
                "column_name": c.name,
                "type": c.type,
                "partition": c.partition,
                "meaning": c.meaning,
            }
            for i in infos
            for c in i.columns
        ],
        schema=pa.schema(
            [
                ("table_name", pa.string()),
                ("column_name", pa.string()),
                ("type", pa.string()),
                ("partition", pa.bool_()),
                ("meaning", pa.string()),
            ]
        ),
    )
    return tables, columns


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def render_catalog(infos: list[TableInfo], *, columns: bool = True) -> str:
    """The catalog as text: a table list, then each table's columns with their meaning."""
    if not infos:
        return f"no tables yet (known: {', '.join(TABLES)}); run `pilehouse run` first"
    line = "{:<16} {:>7} {:>10} {:>10} {:>6}  {}".format
    out = [line("table", "version", "rows", "size", "files", "description")]
    for i in infos:
        out.append(
            line(i.name, f"v{i.version}", i.rows, human_bytes(i.bytes), i.files, i.description)
        )
    if columns:
        for i in infos:
            out.append("")
            out.append(f"{i.name}  (v{i.version}, updated {i.updated_at:%Y-%m-%d %H:%M:%S} UTC)")
            for c in i.columns:
                kind = c.type if len(c.type) <= 28 else c.type[:25] + "..."
                tag = " [partition]" if c.partition else ""
                out.append(f"  {c.name:<18} {kind:<28} {c.meaning}{tag}")
    return "\n".join(out)
