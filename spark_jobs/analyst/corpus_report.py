"""The corpus report: one HTML page with PNG charts of what the lake holds and what was removed.

Written under `<lake>/_reports/corpus/v<curated.web version>/`; every figure comes from SQL over
the tables' current snapshots (the same layer analysts use).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")  # no display: the report is rendered to files

import matplotlib.pyplot as plt
import pandas as pd
import pyarrow.fs as pafs

from spark_jobs.analyst.catalog import human_bytes
from spark_jobs.analyst.sql import LakeSQL, existing_tables
from spark_jobs.lake import Lake

REPORT_DIR = "_reports/corpus"
WORDS_NOTE = (
    "Words are quality_signals.word_count: whitespace-separated words that are not bare "
    "punctuation. There is no tokenizer in the pipeline yet, so no token counts are shown."
)


@dataclass
class Chart:
    file: str
    title: str
    caption: str
    data: pd.DataFrame


@dataclass
class CorpusReport:
    index_uri: str
    directory_uri: str
    curated_version: int
    charts: list[Chart] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _bar(ax: plt.Axes, labels: list[str], values: list[float], xlabel: str) -> None:
    positions = range(len(labels))
    ax.barh(list(positions), values, color="#3b6ea8")
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def _words_chart(sql: LakeSQL, column: str, label: str) -> tuple[Chart, bytes]:
    data = sql.df(
        f"SELECT {column} AS {label}, count(*) AS documents, "
        "CAST(sum(quality_signals.word_count) AS BIGINT) AS words, "
        "CAST(sum(byte_length) AS BIGINT) AS bytes "
        f"FROM curated.web GROUP BY 1 ORDER BY words DESC, 1 LIMIT 20"
    )
    figure, ax = plt.subplots(figsize=(7, 0.4 * len(data) + 1.6))
    _bar(ax, [str(v) for v in data[label]], list(data["words"]), "words")
    ax.set_title(f"curated.web: words by {label}")
    chart = Chart(
        f"words_by_{label}.png",
        f"Words by {label}",
        f"Curated words per {label} (top 20). {WORDS_NOTE}",
        data,
    )
    return chart, _png(figure)


def _length_chart(sql: LakeSQL) -> tuple[Chart, bytes]:
    lengths = sql.df("SELECT byte_length FROM curated.web")["byte_length"]
    figure, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(lengths, bins=40, color="#3b6ea8")
    ax.set_xlabel("document length (UTF-8 bytes of text)")
    ax.set_ylabel("documents")
    ax.set_title("curated.web: document length")
    summary = lengths.describe(percentiles=[0.1, 0.5, 0.9]).round(1).to_frame("byte_length")
    chart = Chart(
        "length_distribution.png",
        "Document lengths",
        "Distribution of curated document lengths in bytes.",
        summary.reset_index(names="statistic"),
    )
    return chart, _png(figure)


def _quality_chart(sql: LakeSQL) -> tuple[Chart, bytes]:
    scores = sql.df(
        "SELECT a.language_score, a.quality_signals.alpha_words_ratio AS alpha_words_ratio, "
        "c.id IS NOT NULL AS kept "
        "FROM annotated.web a LEFT JOIN curated.web c USING (id)"
    )
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, column, label in (
        (axes[0], "language_score", "fastText lid.176 language score"),
        (axes[1], "alpha_words_ratio", "Gopher alpha-words ratio"),
    ):
        for kept, color in ((True, "#3b6ea8"), (False, "#d9822b")):
            values = scores.loc[scores["kept"] == kept, column]
            if len(values):
                ax.hist(
                    values,
                    bins=30,
                    range=(0, 1),
                    alpha=0.7,
                    color=color,
                    label=f"{'kept' if kept else 'removed'}",
                )
        ax.set_xlabel(label)
        ax.set_ylabel("documents")
        ax.legend()
    figure.suptitle("annotated.web: quality scores, kept vs removed")
    summary = scores.groupby("kept")[["language_score", "alpha_words_ratio"]].mean().round(3)
    chart = Chart(
        "quality_scores.png",
        "Quality scores",
        "Language-ID confidence and the Gopher alpha-words ratio of every annotated document, "
        "split by whether the recipe kept it (no learned quality classifier yet).",
        summary.reset_index(),
    )
    return chart, _png(figure)


def _funnel_chart(sql: LakeSQL, tables: list[str]) -> tuple[Chart, bytes]:
    counts = {
        name: sql.arrow(f"SELECT count(*) AS n FROM {name}")[0][0].as_py()
        for name in ("raw.web", "annotated.web", "curated.web", "quarantine")
        if name in tables
    }
    reasons = sql.df(
        "SELECT stage, reason, count(*) AS documents FROM rejects GROUP BY 1, 2 "
        "UNION ALL SELECT 'quarantine', reason, count(*) FROM quarantine GROUP BY 2 "
        "ORDER BY documents DESC, stage, reason"
    )
    ingest_rejects = int(reasons.loc[reasons["stage"] == "ingest", "documents"].sum())
    steps = [
        ("input records", counts.get("raw.web", 0) + ingest_rejects + counts.get("quarantine", 0)),
        ("raw.web", counts.get("raw.web", 0)),
        ("annotated.web", counts.get("annotated.web", 0)),
        ("curated.web", counts.get("curated.web", 0)),
    ]
    figure, axes = plt.subplots(
        1, 2, figsize=(11, max(3.2, 0.3 * len(reasons) + 1.5)), width_ratios=[1, 1.4]
    )
    _bar(axes[0], [s for s, _ in steps], [n for _, n in steps], "records")
    axes[0].set_title("records per stage")
    _bar(
        axes[1],
        [f"{s}: {r}" for s, r in zip(reasons["stage"], reasons["reason"], strict=True)],
        list(reasons["documents"]),
        "records",
    )
    axes[1].set_title("removed or quarantined, by reason")
    chart = Chart(
        "removal_funnel.png",
        "Removal funnel",
        "Records surviving each stage, and why the others were removed (rejects) or could not "
        "be read (quarantine).",
        reasons,
    )
    return chart, _png(figure)


def paper_routes(sql: LakeSQL, tables: list[str]) -> pd.DataFrame:
    """Papers per route: those read (raw.papers) by route and parser, and those the ingest
    stage could not read (quarantine) or left out (rejects), by reason."""
    parts = [
        "SELECT 'read' AS outcome, route, parser, NULL AS reason, count(*) AS documents "
        "FROM raw.papers GROUP BY route, parser"
    ]
    for table, outcome in (("quarantine", "quarantined"), ("rejects", "skipped")):
        if table in tables:
            stage = " AND stage = 'ingest'" if table == "rejects" else ""
            parts.append(
                f"SELECT '{outcome}', NULL, NULL, reason, count(*) FROM {table} "
                f"WHERE corpus = 'papers'{stage} GROUP BY reason"
            )
    return sql.df(
        " UNION ALL ".join(parts) + " ORDER BY outcome, documents DESC, route, parser, reason"
    )


def _routes_chart(sql: LakeSQL, tables: list[str]) -> tuple[Chart, bytes]:
    routes = paper_routes(sql, tables)
    labels = [
        f"{route} ({parser})" if outcome == "read" else f"{outcome}: {reason}"
        for outcome, route, parser, reason in zip(
            routes["outcome"], routes["route"], routes["parser"], routes["reason"], strict=True
        )
    ]
    figure, ax = plt.subplots(figsize=(7, 0.4 * len(routes) + 1.6))
    _bar(ax, labels, list(routes["documents"]), "papers")
    ax.set_title("papers: route and parser, or why not read")
    chart = Chart(
        "paper_routes.png",
        "Paper routes",
        "Papers read per route (latex, text_layer, ocr, mixed: pages of both, record: a dump's "
        "text) and parser, and the papers the ingest stage quarantined or left out, by reason.",
        routes,
    )
    return chart, _png(figure)


def _dedup_chart(sql: LakeSQL) -> tuple[Chart, bytes]:
    sizes = sql.df(
        "SELECT size AS cluster_size, count(*) AS clusters FROM "
        "(SELECT text_hash, count(*) AS size FROM annotated.web GROUP BY 1) "
        "GROUP BY 1 ORDER BY 1"
    )
    figure, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar([str(s) for s in sizes["cluster_size"]], sizes["clusters"], color="#3b6ea8")
    ax.set_yscale("log")
    ax.set_xlabel("documents sharing one exact-dedup key (text_hash)")
    ax.set_ylabel("clusters (log)")
    ax.set_title("annotated.web: exact-duplicate cluster sizes")
    chart = Chart(
        "dedup_cluster_sizes.png",
        "Duplicate clusters",
        "Exact-duplicate clusters in annotated.web (documents with the same normalized-text "
        "hash); size 1 means unique. Near-duplicate (MinHash) clusters are not built yet.",
        sizes,
    )
    return chart, _png(figure)


def _html(report: CorpusReport, overview: pd.DataFrame, generated: datetime) -> str:
    def table(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False, border=0, classes="data", na_rep="")

    sections = []
    for chart in report.charts:
        sections.append(
            f"<section><h2>{html.escape(chart.title)}</h2>"
            f'<img src="{chart.file}" alt="{html.escape(chart.title)}">'
            f"<p>{html.escape(chart.caption)}</p>{table(chart.data)}</section>"
        )
    missing = (
        f"<p>Not shown (table not built yet): {html.escape(', '.join(report.missing))}</p>"
        if report.missing
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Pilehouse corpus report: curated.web v{report.curated_version}</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
table.data {{ border-collapse: collapse; margin: 0.5em 0 2em; font-size: 0.9em; }}
table.data td, table.data th {{ padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }}
</style></head><body>
<h1>Corpus report: curated.web v{report.curated_version}</h1>
<p>Generated {generated:%Y-%m-%d %H:%M:%S} UTC from the lake's current snapshots.</p>
{table(overview)}
{missing}
{"".join(sections)}
</body></html>
"""


def write_corpus_report(lake: Lake) -> CorpusReport:
    """Render the report for the lake's current snapshots and write it next to the tables."""
    tables = existing_tables(lake)
    if "curated.web" not in tables:
        raise FileNotFoundError(
            f"{lake.uri('curated.web')} does not exist yet; materialize curated/web first"
        )
    with LakeSQL(lake) as sql:
        overview = sql.df(
            'SELECT table_name AS "table", version, rows, bytes FROM lake_tables ORDER BY 1'
        )
        overview["bytes"] = [human_bytes(int(b)) for b in overview["bytes"]]
        version = int(overview.loc[overview["table"] == "curated.web", "version"].iloc[0])
        directory = f"{lake.root_uri.rstrip('/')}/{REPORT_DIR}/v{version}"
        report = CorpusReport(f"{directory}/index.html", directory, version)
        builders = [
            (["curated.web"], lambda: _words_chart(sql, "source", "source")),
            (["curated.web"], lambda: _words_chart(sql, "license", "license")),
            (["curated.web"], lambda: _words_chart(sql, "language", "language")),
            (["curated.web"], lambda: _length_chart(sql)),
            (["annotated.web", "curated.web"], lambda: _quality_chart(sql)),
            (["rejects", "quarantine"], lambda: _funnel_chart(sql, tables)),
            (["annotated.web"], lambda: _dedup_chart(sql)),
            (["raw.papers"], lambda: _routes_chart(sql, tables)),
        ]
        images: dict[str, bytes] = {}
        for needs, build in builders:
            absent = [n for n in needs if n not in tables]
            if absent:
                report.missing.extend(n for n in absent if n not in report.missing)
                continue
            chart, image = build()
            report.charts.append(chart)
            images[chart.file] = image
    fs, root = lake.store.filesystem(directory)
    if isinstance(fs, pafs.LocalFileSystem):
        fs.create_dir(root, recursive=True)
    for name, data in images.items():
        with fs.open_output_stream(f"{root}/{name}") as out:
            out.write(data)
    page = _html(report, overview, datetime.now(UTC))
    with fs.open_output_stream(f"{root}/index.html") as out:
        out.write(page.encode())
    return report
