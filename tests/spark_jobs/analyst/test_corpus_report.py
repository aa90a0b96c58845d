"""The corpus report covers the whole lake: every family, the duplicate clusters across them and
the mixtures in tokens; and says what `word_count` is in the same words everywhere."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from spark_jobs.analyst.corpus_report import write_corpus_report
from spark_jobs.analyst.sql import LakeSQL
from spark_jobs.delta import write_arrow as _write_arrow
from spark_jobs.lake import TABLES, WORD_COUNT_DEFINITION, Lake

REPO = Path(__file__).parents[3]
SIGNALS = pa.struct([("word_count", pa.int64()), ("alpha_words_ratio", pa.float64())])


def write_arrow(table: pa.Table, uri: str) -> None:
    _write_arrow(table, uri, mode="overwrite")


def _documents(corpus: str, ids: list[str], words: list[int]) -> pa.Table:
    return pa.table(
        {
            "id": ids,
            "corpus": [corpus] * len(ids),
            "source": [f"{corpus}-src"] * len(ids),
            "license": ["CC-BY-4.0"] * len(ids),
            "language": ["en"] * len(ids),
            "language_score": [0.9] * len(ids),
            "byte_length": [6 * w for w in words],
            "quality_signals": pa.array(
                [{"word_count": w, "alpha_words_ratio": 0.8} for w in words], SIGNALS
            ),
        }
    )


def _lake(root: Path) -> Lake:
    lake = Lake(str(root))
    web = _documents("web", ["w1", "w2", "w3", "w4"], [100, 200, 300, 400])
    code = _documents("code", ["c1", "c2", "c3"], [10, 20, 30])
    write_arrow(web.select(["id", "corpus", "source", "license"]), lake.uri("raw.web"))
    write_arrow(web, lake.uri("annotated.web"))
    write_arrow(web.slice(0, 3), lake.uri("curated.web"))
    write_arrow(code.select(["id", "corpus", "source", "license"]), lake.uri("raw.code"))
    write_arrow(code, lake.uri("annotated.code"))
    write_arrow(code.slice(0, 2), lake.uri("curated.code"))
    write_arrow(
        pa.table(
            {
                "id": ["w1", "w2", "w3", "w4"],
                "quality_score": [0.9, 0.8, 0.7, 0.1],
                "edu_score": [3.5, 2.0, 1.5, 0.2],
                "topic": ["science", "science", "howto", "spam"],
            }
        ),
        lake.uri("classified.web"),
    )
    write_arrow(
        pa.table({"id": ["s1", "s2", "s3"], "status": ["ok", "ok", "failed"]}),
        lake.uri("synthetic.rephrase"),
    )
    write_arrow(
        pa.table(
            {
                "id": ["w3", "w4", "c2", "c3", "c4"],
                "corpus": ["web", "web", "code", "code", "code"],
                "source": ["web-src", "web-src", "code-src", "code-src", "code-src"],
                "cluster_id": ["w3", "w3", "c2", "c2", "c2"],
                "kind": ["exact", "exact", "fuzzy", "fuzzy", "fuzzy"],
                "keeper_id": ["w3", "w3", "c2", "c2", "c2"],
                "is_keeper": [True, False, True, False, False],
                "cluster_size": [2, 2, 3, 3, 3],
            }
        ),
        lake.uri("dedup.clusters"),
    )
    write_arrow(
        pa.table(
            {
                "position": [0, 1, 2, 3],
                "id": ["w1", "w2", "c1", "w1"],
                "corpus": ["web", "web", "code", "web"],
                "component": ["web", "web", "code", "web"],
                "repetition": [0, 0, 0, 1],
                "token_count": [130, 260, 15, 130],
            }
        ),
        lake.uri("mixtures.tiny"),
    )
    return lake


def test_the_report_covers_every_family_the_clusters_and_the_mixtures_in_tokens(tmp_path):
    lake = _lake(tmp_path / "lake")
    report = write_corpus_report(lake)

    charts = {chart.file: chart for chart in report.charts}
    assert {"families.png", "dedup_clusters.png", "mixtures.png", "classifier_scores.png"} <= set(
        charts
    )
    topics = {r["topic"]: (r.get("kept", 0), r.get("removed", 0))
              for r in charts["classifier_scores.png"].data.to_dict("records")}  # fmt: skip
    assert topics == {"science": (2, 0), "howto": (1, 0), "spam": (0, 1)}
    directory = Path(report.directory_uri)
    for name in charts:
        assert (directory / name).read_bytes().startswith(b"\x89PNG")

    families = {row["family"]: row for row in charts["families.png"].data.to_dict("records")}
    assert set(families) == {"web", "code", "synthetic"}
    assert (families["web"]["ingested"], families["web"]["annotated"]) == (4, 4)
    assert (families["web"]["curated"], families["web"]["curated words"]) == (3, 600)
    assert families["web"]["curated bytes"] == 3600
    assert (families["code"]["curated"], families["code"]["curated words"]) == (2, 30)
    assert families["synthetic"]["ingested"] == 2  # the failed request is not a sample

    clusters = charts["dedup_clusters.png"].data.to_dict("records")
    assert {(r["corpus"], r["kind"]): (r["clusters"], r["removed"]) for r in clusters} == {
        ("web", "exact"): (1, 1),
        ("code", "fuzzy"): (1, 2),
    }

    tokens = {
        (r["mixture"], r["component"]): (r["documents"], r["tokens"], r["repeats"])
        for r in charts["mixtures.png"].data.to_dict("records")
    }
    assert tokens == {("tiny", "web"): (3, 520, 1), ("tiny", "code"): (1, 15, 0)}

    page = (directory / "index.html").read_text()
    assert WORD_COUNT_DEFINITION in page
    assert "no tokenizer" not in page and "not built yet." not in page
    # Tables a chart needs but the lake lacks are named, not silently left out.
    assert "rejects" in report.missing and "raw.papers" in report.missing


def test_the_report_without_mixtures_says_so(tmp_path):
    lake = _lake(tmp_path / "lake")
    (tmp_path / "lake" / "mixtures").rename(tmp_path / "elsewhere")
    report = write_corpus_report(lake)
    assert "mixtures.png" not in {chart.file for chart in report.charts}
    assert "mixtures.*" in report.missing
    with LakeSQL(lake) as sql:  # the lake itself still answers
        assert sql.arrow("SELECT count(*) FROM curated.code")[0][0].as_py() == 2


def test_word_count_means_the_same_in_code_catalog_readme_docs_and_report():
    from spark_jobs.analyst import corpus_report
    from spark_jobs.annotators.quality import SIGNALS

    [signal] = [s for s in SIGNALS if s.name == "word_count"]
    assert WORD_COUNT_DEFINITION in signal.doc
    assert WORD_COUNT_DEFINITION in TABLES["annotated.web"].columns["quality_signals"]
    assert WORD_COUNT_DEFINITION in corpus_report.WORDS_NOTE
    for document in ("README.md", "docs/curation.md"):
        text = " ".join((REPO / document).read_text().split())  # line breaks as spaces
        assert WORD_COUNT_DEFINITION in text, document
    examples = (REPO / "spark_jobs/analyst/examples.sql").read_text()
    assert WORD_COUNT_DEFINITION in " ".join(examples.replace("--", " ").split())
