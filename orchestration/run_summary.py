"""The run summary: documents and bytes per stage, removals by reason, table versions, timings."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from spark_jobs.analyst.catalog import human_bytes
from spark_jobs.analyst.sql import connect
from spark_jobs.delta import open_table
from spark_jobs.lake import CORPORA, Lake, document_tables

STAGE_TABLES = [
    (stage, table)
    for corpus in CORPORA
    for stage, table in zip(("ingest", "annotate", "curate"), document_tables(corpus), strict=True)
]


@dataclass(frozen=True)
class StageLine:
    stage: str
    table: str
    version: int | None
    documents: int
    bytes: int


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def step_durations(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds per step of a run, keyed by step key (e.g. 'raw__web')."""
    return {
        s.step_key: (s.end_time or s.start_time or 0) - (s.start_time or 0)
        for s in instance.get_run_step_stats(run_id)
    }


def render_summary(lake: Lake, durations: dict[str, float] | None = None) -> str:
    """A plain-text summary of the lake's current state (and a run's step timings if given)."""
    durations = durations or {}
    con = connect(lake)
    tables = lake.tables()
    existing = set(tables)
    out: list[str] = []

    row = "{:<10} {:<32} {:>7} {:>10} {:>10} {:>8}".format
    out.append(row("stage", "table / step", "version", "documents", "bytes", "time"))
    table_steps = {table.replace(".", "__") for _, table in STAGE_TABLES}
    for stage, table in STAGE_TABLES:
        if table not in existing:
            continue
        sql = f"SELECT count(*), coalesce(sum(byte_length), 0) FROM {table}"
        documents, size = _rows(con, sql)[0]
        version = open_table(lake.uri(table), store=lake.store).version()
        step = table.replace(".", "__")
        took = f"{durations[step]:.1f} s" if step in durations else ""
        out.append(row(stage, table, version, documents, human_bytes(size), took))
    for step, seconds in durations.items():
        if step not in table_steps:
            out.append(row("", step.replace("__", "/"), "", "", "", f"{seconds:.1f} s"))

    if {"rejects", "quarantine"} <= existing:
        out.append("")
        for corpus in CORPORA:
            raw_table = document_tables(corpus)[0]
            if raw_table not in existing:
                continue
            kept = _rows(con, f"SELECT count(*) FROM {raw_table}")[0][0]
            where = f"corpus = '{corpus}'"
            skipped = _rows(con, f"SELECT count(*) FROM rejects WHERE {where} AND stage = 'ingest'")
            quarantined = _rows(con, f"SELECT count(*) FROM quarantine WHERE {where}")
            skipped, quarantined = skipped[0][0], quarantined[0][0]
            out.append(
                f"{corpus} input records: {kept + skipped + quarantined} = {kept} ingested + "
                f"{skipped} skipped + {quarantined} quarantined"
            )
    if "rejects" in existing:
        out.append("")
        out.append("removals by reason:")
        for corpus, stage, reason, n in _rows(
            con,
            "SELECT corpus, stage, reason, count(*) FROM rejects "
            "GROUP BY ALL ORDER BY 1, 2 DESC, 4 DESC, 3",
        ):
            out.append(f"  {corpus:<9} {stage:<8} {reason:<36} {n:>8}")
    if "quarantine" in existing:
        out.append("")
        out.append("quarantined by reason:")
        for corpus, reason, n in _rows(
            con,
            "SELECT corpus, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY 1, 3 DESC, 2",
        ):
            out.append(f"  {corpus:<9} {reason:<45} {n:>8}")
    out.append("")
    out.append("tables (Delta version):")
    for name in tables:
        version = open_table(lake.uri(name), store=lake.store).version()
        out.append(f"  {name:<15} v{version:<4} {lake.uri(name)}")
    con.close()
    return "\n".join(out)
