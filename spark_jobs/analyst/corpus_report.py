"""The corpus report: one HTML page with PNG charts of what the lake holds and what was removed.

It covers every family (web, code, papers, licensed, synthetic), the duplicate clusters across
them and the training mixtures (in tokens, with each mixture's own tokenizer). Written under
`<lake>/_reports/corpus/v<curated.web version>/`; every figure comes from SQL over the tables'
current snapshots (the same layer analysts use).
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
from spark_jobs.lake import CORPORA, SYNTHETIC, WORD_COUNT_DEFINITION, Lake, document_tables

REPORT_DIR = "_reports/corpus"
WORDS_NOTE = (
    f"Words are quality_signals.word_count, the number of {WORD_COUNT_DEFINITION}. Curated "
    "tables are measured in words and bytes; tokens depend on a tokenizer, and each training "
    "mixture counts them with its own (the Mixtures section)."
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
        "split by whether the recipe kept it (the learned classifiers' scores: Classifier "
        "scores, once classified.web is built).",
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


def _classifier_chart(sql: LakeSQL) -> tuple[Chart, bytes]:
    scores = sql.df(
        "SELECT k.quality_score, k.edu_score, k.topic, c.id IS NOT NULL AS kept "
        "FROM classified.web k LEFT JOIN curated.web c USING (id)"
    )
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, column, label, bounds in (
        (axes[0], "quality_score", "fastText quality classifier: P(reference quality)", (0, 1)),
        (axes[1], "edu_score", "educational value (MiniLM + regression head)", (0, 5)),
    ):
        for kept, color in ((True, "#3b6ea8"), (False, "#d9822b")):
            values = scores.loc[scores["kept"] == kept, column].dropna()
            if len(values):
                ax.hist(values, bins=30, range=bounds, alpha=0.7, color=color,
                        label="kept" if kept else "removed")  # fmt: skip
        ax.set_xlabel(label)
        ax.set_ylabel("documents")
        ax.legend()
    figure.suptitle("classified.web: classifier scores, kept vs removed")
    topics = (
        scores.groupby(["topic", "kept"]).size().unstack(fill_value=0).reset_index()
        if len(scores)
        else pd.DataFrame()
    )
    chart = Chart(
        "classifier_scores.png",
        "Classifier scores",
        "Scores of the learned classifiers (spark_jobs/classifiers; models in MLflow) for every "
        "annotated web document, split by whether the recipe kept it; documents per topic.",
        topics.rename(columns={True: "kept", False: "removed"}),
    )
    return chart, _png(figure)


def _count(sql: LakeSQL, table: str, tables: list[str]) -> int | None:
    if table not in tables:
        return None
    return int(sql.arrow(f"SELECT count(*) FROM {table}")[0][0].as_py())


def family_sizes(sql: LakeSQL, tables: list[str]) -> pd.DataFrame:
    """One row per family with any table: documents at each stage, curated words and bytes
    (synthetic's first stage is every synthetic.<recipe> table's ok samples)."""
    rows = []
    for family in (*CORPORA, SYNTHETIC):
        raw, annotated, curated = document_tables(family)
        if family == SYNTHETIC:
            generated = [t for t in tables if t.startswith(f"{SYNTHETIC}.")]
            raw_docs = (
                sum(
                    int(sql.arrow(f"SELECT count(*) FROM {t} WHERE status = 'ok'")[0][0].as_py())
                    for t in generated
                )
                if generated
                else None
            )
        else:
            raw_docs = _count(sql, raw, tables)
        annotated_docs = _count(sql, annotated, tables)
        if raw_docs is None and annotated_docs is None and curated not in tables:
            continue
        words = size = curated_docs = None
        if curated in tables:
            curated_docs, words, size = (
                sql.arrow(
                    "SELECT count(*), CAST(coalesce(sum(quality_signals.word_count), 0) AS BIGINT), "
                    f"CAST(coalesce(sum(byte_length), 0) AS BIGINT) FROM {curated}"
                )
                .to_pylist()[0]
                .values()
            )
        rows.append(
            {
                "family": family,
                "ingested": raw_docs,
                "annotated": annotated_docs,
                "curated": curated_docs,
                "curated words": words,
                "curated bytes": size,
            }
        )
    return pd.DataFrame(rows).astype(
        {c: "Int64" for c in ("ingested", "annotated", "curated", "curated words", "curated bytes")}
    )


def _families_chart(sql: LakeSQL, tables: list[str]) -> tuple[Chart, bytes]:
    sizes = family_sizes(sql, tables)
    figure, axes = plt.subplots(1, 2, figsize=(11, 0.45 * len(sizes) + 1.8))
    families = list(sizes["family"])
    _bar(axes[0], families, list(sizes["curated words"].fillna(0)), "words")
    axes[0].set_title("curated words per family")
    _bar(axes[1], families, list(sizes["curated"].fillna(0)), "documents")
    axes[1].set_title("curated documents per family")
    chart = Chart(
        "families.png",
        "Every family",
        "Documents ingested (synthetic: samples the endpoint answered), annotated and curated "
        f"per corpus family, with the curated words and bytes. {WORDS_NOTE}",
        sizes,
    )
    return chart, _png(figure)


def _dedup_chart(sql: LakeSQL) -> tuple[Chart, bytes]:
    summary = sql.df(
        "SELECT corpus, kind, count(DISTINCT cluster_id) AS clusters, count(*) AS documents, "
        "CAST(sum(CASE WHEN is_keeper THEN 0 ELSE 1 END) AS BIGINT) AS removed "
        "FROM dedup.clusters GROUP BY 1, 2 ORDER BY 1, 2"
    )
    sizes = sql.df(
        "SELECT kind, cluster_size, count(DISTINCT cluster_id) AS clusters FROM dedup.clusters "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    )
    figure, axes = plt.subplots(1, 2, figsize=(11, max(3.2, 0.35 * len(summary) + 1.6)))
    _bar(
        axes[0],
        [f"{c} ({k})" for c, k in zip(summary["corpus"], summary["kind"], strict=True)],
        list(summary["removed"]),
        "documents removed as duplicates",
    )
    axes[0].set_title("duplicates removed, by family and kind")
    for kind, color in (("exact", "#3b6ea8"), ("fuzzy", "#c8553d")):
        part = sizes[sizes["kind"] == kind]
        if len(part):
            axes[1].plot(part["cluster_size"], part["clusters"], "o-", color=color, label=kind)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("documents in the cluster")
    axes[1].set_ylabel("clusters (log)")
    axes[1].legend()
    axes[1].set_title("cluster sizes")
    chart = Chart(
        "dedup_clusters.png",
        "Duplicate clusters",
        "Exact (same normalized-text hash) and fuzzy (MinHash-LSH near-duplicate) clusters across "
        "every family (dedup.clusters); each cluster keeps one member and removes the others.",
        summary,
    )
    return chart, _png(figure)


def mixture_tokens(sql: LakeSQL, mixtures: list[str]) -> pd.DataFrame:
    """Documents and tokens per mixture and component, counted with the mixture's tokenizer
    (token_count: end-of-text included; repeats counted each time they appear)."""
    return sql.df(
        " UNION ALL ".join(
            f"SELECT '{name.removeprefix('mixtures.')}' AS mixture, component, "
            "count(*) AS documents, CAST(sum(token_count) AS BIGINT) AS tokens, "
            "CAST(sum(CASE WHEN repetition > 0 THEN 1 ELSE 0 END) AS BIGINT) AS repeats "
            f"FROM {name} GROUP BY component"
            for name in mixtures
        )
        + " ORDER BY mixture, tokens DESC, component"
    )


def _mixtures_chart(sql: LakeSQL, tables: list[str]) -> tuple[Chart, bytes]:
    tokens = mixture_tokens(sql, [t for t in tables if t.startswith("mixtures.")])
    figure, ax = plt.subplots(figsize=(7, 0.4 * len(tokens) + 1.6))
    _bar(
        ax,
        [f"{m}: {c}" for m, c in zip(tokens["mixture"], tokens["component"], strict=True)],
        list(tokens["tokens"]),
        "tokens",
    )
    ax.set_title("mixtures: tokens per component")
    chart = Chart(
        "mixtures.png",
        "Mixtures",
        "Tokens per training mixture and recipe component, counted with the mixture's own "
        "tokenizer (end-of-text tokens included; a repeated document counts each time: repeats).",
        tokens,
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
<title>Pilehouse corpus report (curated.web v{report.curated_version})</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
table.data {{ border-collapse: collapse; margin: 0.5em 0 2em; font-size: 0.9em; }}
table.data td, table.data th {{ padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }}
</style></head><body>
<h1>Corpus report (curated.web v{report.curated_version})</h1>
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
        mixtures = [t for t in tables if t.startswith("mixtures.")]
        builders = [
            (["curated.web"], lambda: _families_chart(sql, tables)),
            (["curated.web"], lambda: _words_chart(sql, "source", "source")),
            (["curated.web"], lambda: _words_chart(sql, "license", "license")),
            (["curated.web"], lambda: _words_chart(sql, "language", "language")),
            (["curated.web"], lambda: _length_chart(sql)),
            (["annotated.web", "curated.web"], lambda: _quality_chart(sql)),
            (["classified.web", "curated.web"], lambda: _classifier_chart(sql)),
            (["rejects", "quarantine"], lambda: _funnel_chart(sql, tables)),
            (["dedup.clusters"], lambda: _dedup_chart(sql)),
            (["raw.papers"], lambda: _routes_chart(sql, tables)),
            (mixtures or ["mixtures.*"], lambda: _mixtures_chart(sql, tables)),
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
