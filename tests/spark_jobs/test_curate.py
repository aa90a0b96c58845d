"""Cross-corpus curation on a tiny lake: decontamination, exact and near-duplicate removal
across families with the keep policy, dedup.clusters in SQL, incremental signatures."""

from __future__ import annotations

import datetime as dt
import pydoc_data.topics

import duckdb
import pyarrow.compute as pc
import pytest

from spark_jobs.annotate import annotate_documents
from spark_jobs.decontaminate import BUNDLED_BENCHMARKS, load_benchmark_items
from spark_jobs.dedup import DedupConfig
from spark_jobs.delta import read_arrow, register_duckdb, table_history, write_table
from spark_jobs.lake import Lake
from spark_jobs.recipe import CurationRecipe, DedupPolicy
from spark_jobs.stages import curate_corpora, register_benchmarks

pytestmark = pytest.mark.spark

TOPICS = pydoc_data.topics.topics
ITEMS = {r["item_id"]: r for r in load_benchmark_items([BUNDLED_BENCHMARKS]).to_pylist()}
# A page that quotes a benchmark question word for word inside otherwise clean prose.
CONTAMINATED = TOPICS["return"] + "\n" + ITEMS["geo-004"]["question"] + "\n" + TOPICS["pass"]
# The same page with a few words changed: a near duplicate, not an exact one.
NEAR_COPY = TOPICS["raise"].replace("exception", "error", 3).replace("The ", "A ", 2)
RECIPES = {
    corpus: CurationRecipe(
        name=f"{corpus}-test", corpus=corpus, rules={}, pii=None, keep_order=("id",)
    )
    for corpus in ("web", "licensed")
}


def _web(spark, source: str, rows: list[tuple[str, str, dt.datetime]]):
    return spark.createDataFrame(
        [(i, "web", source, f"https://x/{i}", "CC-BY-4.0", "declared", t, d) for i, t, d in rows],
        "id string, corpus string, source string, locator string, license string, "
        "license_evidence string, text string, fetch_date timestamp",
    )


def _write_annotated(lake: Lake, name: str, df, source: str) -> None:
    write_table(
        annotate_documents(df),
        lake.uri(name),
        mode="overwrite",
        partition_by=("source",),
        replace_where={"source": source},
        store=lake.store,
    )


@pytest.fixture(scope="module")
def tiny_lake(spark, tmp_path_factory):
    lake = Lake(str(tmp_path_factory.mktemp("curate") / "lake"))
    day = dt.datetime(2024, 1, 1)
    web = [
        ("w-copy", TOPICS["assert"], day),  # exact copy of licensed l-original
        ("w-clean", TOPICS["global"], day),
        ("w-near", NEAR_COPY, day),  # near copy of licensed l-raise
        ("w-bench", CONTAMINATED, day),
        ("w-del", TOPICS["del"], day),
    ]
    _write_annotated(lake, "annotated.web", _web(spark, "crawl-1", web), "crawl-1")
    licensed = spark.createDataFrame(
        [
            ("l-original", "licensed", "books", "book#1", "CC0-1.0", "declared", TOPICS["assert"]),
            ("l-raise", "licensed", "books", "book#2", "CC0-1.0", "declared", TOPICS["raise"]),
        ],
        "id string, corpus string, source string, locator string, license string, "
        "license_evidence string, text string",
    )
    _write_annotated(lake, "annotated.licensed", licensed, "books")
    register_benchmarks(lake, [BUNDLED_BENCHMARKS], metadata={})
    report = curate_corpora(
        spark, lake, RECIPES, DedupConfig(), run_id="run-1", metadata={"dagster.run_id": "run-1"}
    )
    return lake, report


def _rejects(lake: Lake) -> dict[str, tuple[str, str]]:
    rows = read_arrow(lake.uri("rejects")).to_pylist()
    return {r["id"]: (r["reason"], r["detail"]) for r in rows if r["stage"] == "curate"}


def _curated_ids(lake: Lake, corpus: str) -> set[str]:
    return set(read_arrow(lake.uri(f"curated.{corpus}"))["id"].to_pylist())


def test_a_cross_corpus_exact_duplicate_keeps_the_licensed_copy(tiny_lake):
    lake, _ = tiny_lake
    assert "l-original" in _curated_ids(lake, "licensed")
    assert "w-copy" not in _curated_ids(lake, "web")
    reason, detail = _rejects(lake)["w-copy"]
    assert reason == "exact_duplicate"
    assert detail == "same normalized text as kept document l-original (curated.licensed)"


def test_a_near_duplicate_is_removed_naming_its_keeper(tiny_lake):
    lake, _ = tiny_lake
    reason, detail = _rejects(lake)["w-near"]
    assert reason == "near_duplicate"
    assert detail == "near duplicate (MinHash-LSH) of kept document l-raise (curated.licensed)"
    assert "l-raise" in _curated_ids(lake, "licensed")


def test_a_benchmark_contaminated_page_is_dropped_with_the_benchmark_and_item(tiny_lake):
    lake, report = tiny_lake
    reason, detail = _rejects(lake)["w-bench"]
    assert reason == "benchmark_contamination"
    assert "geo-facts item geo-004" in detail and "13-word n-gram" in detail
    flags = read_arrow(lake.uri("decontamination.flags")).to_pylist()
    assert {(f["id"], f["benchmark"], f["item_id"]) for f in flags} == {
        ("w-bench", "geo-facts", "geo-004")
    }
    assert report.shared.counts["contaminated documents"] == 1
    # Every other page is clean and reaches a curated table.
    assert _curated_ids(lake, "web") == {"w-clean", "w-del"}


def test_every_document_has_exactly_one_outcome(tiny_lake):
    lake, report = tiny_lake
    kept = _curated_ids(lake, "web") | _curated_ids(lake, "licensed")
    removed = set(_rejects(lake))
    assert kept.isdisjoint(removed)
    assert kept | removed == {"w-copy", "w-clean", "w-near", "w-bench", "w-del"} | {
        "l-original",
        "l-raise",
    }
    assert report.families["web"].counts["rejected: exact_duplicate"] == 1


def test_dedup_clusters_answer_sql_and_commits_carry_recipe_and_config(tiny_lake):
    lake, _ = tiny_lake
    con = duckdb.connect()
    register_duckdb(con, "clusters", lake.uri("dedup.clusters"))
    rows = con.execute(
        "SELECT id, kind, keeper_id, is_keeper, cluster_size FROM clusters "
        "WHERE NOT is_keeper ORDER BY id"
    ).fetchall()
    assert ("w-copy", "exact", "l-original", False, 2) in rows
    assert ("w-near", "fuzzy", "l-raise", False, 2) in rows
    commit = table_history(lake.uri("curated.web"))[0]
    assert commit["lineage.recipe_hash"] == RECIPES["web"].fingerprint
    assert commit["lineage.dedup_config"] == DedupConfig().fingerprint
    assert commit["lineage.input.annotated.licensed"] == "0"


def test_a_recipe_without_dedup_or_decontamination_keeps_what_they_would_remove(spark, tiny_lake):
    lake, _ = tiny_lake
    loose = {
        "web": CurationRecipe(
            name="loose",
            rules={},
            pii=None,
            decontamination=None,
            dedup=DedupPolicy(exact=False, fuzzy=False),
        ),
        "licensed": RECIPES["licensed"],
    }
    report = curate_corpora(spark, lake, loose, run_id="run-loose", metadata={}, families=["web"])
    assert set(report.families) == {"web"}
    assert {"w-copy", "w-near", "w-bench"} <= _curated_ids(lake, "web")
    assert "l-original" in _curated_ids(lake, "licensed")


def test_a_paragraph_duplicate_threshold_drops_pages_made_of_shared_paragraphs(spark, tiny_lake):
    lake, _ = tiny_lake
    strict = dict(RECIPES)
    strict["web"] = CurationRecipe(
        name="web-paragraphs",
        rules={},
        pii=None,
        dedup=DedupPolicy(max_duplicate_paragraph_fraction=0.5),
    )
    report = curate_corpora(
        spark, lake, strict, run_id="run-paragraphs", metadata={}, families=["web"]
    )
    reason, detail = _rejects(lake)["w-near"]
    assert reason == "duplicate_paragraphs" and "web-paragraphs" in detail
    # An exact copy shares all its paragraphs too, but copies count once: exact dedup decides.
    assert _rejects(lake)["w-copy"][0] == "exact_duplicate"
    # Nothing was annotated since the first run: no signature was recomputed.
    assert report.shared.counts["signature partitions recomputed"] == 0
    assert report.shared.counts["signature partitions reused"] == 2


def test_a_new_source_is_deduplicated_against_stored_signatures_without_recomputing_them(
    spark, tiny_lake
):
    lake, first = tiny_lake
    assert first.shared.counts["signature partitions recomputed"] == 2
    signatures = lake.uri("dedup.signatures")
    before = read_arrow(signatures)
    day = dt.datetime(2024, 2, 1)
    second = [("w2-repost", TOPICS["global"] + "\n", day), ("w2-new", TOPICS["while"], day)]
    _write_annotated(lake, "annotated.web", _web(spark, "crawl-2", second), "crawl-2")

    report = curate_corpora(spark, lake, RECIPES, run_id="run-4", metadata={})
    counts = report.shared.counts
    assert counts["signature partitions recomputed"] == 1
    assert counts["signature partitions reused"] == 2
    after = read_arrow(signatures)
    old = after.filter(pc.equal(after["source"], "crawl-1"))
    # The first crawl's keys were not rewritten: same annotated version, same keys.
    assert (
        old.sort_by("id").to_pylist()
        == before.filter(pc.equal(before["source"], "crawl-1")).sort_by("id").to_pylist()
    )
    assert set(after.filter(pc.equal(after["source"], "crawl-2"))["id"].to_pylist()) == {
        "w2-repost",
        "w2-new",
    }
    reason, detail = _rejects(lake)["w2-repost"]
    assert reason == "exact_duplicate" and "w-clean" in detail
    assert "w2-new" in _curated_ids(lake, "web")
