"""Incremental curation gives the tables a full rebuild gives: after a new source, a source
whose documents displace kept duplicates in another source, a changed source and a removed
one. Each step copies the lake and runs the full rebuild (stages.curate_corpora) on the copy,
then compares curated tables (ids and text hashes), curate rejects, clusters and flags."""

from __future__ import annotations

import datetime as dt
import hashlib
import pydoc_data.topics
import shutil

import pytest

from spark_jobs.annotate import annotate_documents
from spark_jobs.decontaminate import BUNDLED_BENCHMARKS, load_benchmark_items
from spark_jobs.dedup import DedupConfig
from spark_jobs.delta import read_arrow, read_spark, table_exists, table_history, write_table
from spark_jobs.incremental import (
    CANDIDATE_TABLE,
    curate_corpora_incremental,
)
from spark_jobs.lake import Lake
from spark_jobs.recipe import CurationRecipe, DedupPolicy
from spark_jobs.stages import curate_corpora, register_benchmarks

pytestmark = pytest.mark.spark

TOPICS = pydoc_data.topics.topics
ITEMS = {r["item_id"]: r for r in load_benchmark_items([BUNDLED_BENCHMARKS]).to_pylist()}
CONTAMINATED = TOPICS["return"] + "\n" + ITEMS["geo-004"]["question"] + "\n" + TOPICS["pass"]
NEAR_COPY = TOPICS["raise"].replace("exception", "error", 3).replace("The ", "A ", 2)
RECIPES = {
    corpus: CurationRecipe(
        name=f"{corpus}-test", corpus=corpus, rules={}, pii=None, keep_order=("id",)
    )
    for corpus in ("web", "licensed")
}
DAY = dt.datetime(2024, 1, 1)


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


def _snapshot(lake: Lake) -> dict[str, list[tuple]]:
    """What a user reads from the curation outputs, without run ids."""

    def rows(name: str, columns: list[str], where=None) -> list[tuple]:
        if not table_exists(lake.uri(name)):
            return []
        table = read_arrow(lake.uri(name)).to_pylist()
        return sorted(tuple(r[c] for c in columns) for r in table if where is None or where(r))

    out = {}
    for corpus in RECIPES:
        curated = read_arrow(lake.uri(f"curated.{corpus}")).to_pylist()
        out[f"curated.{corpus}"] = sorted(
            (r["id"], r["text_hash"], hashlib.sha256(r["text"].encode()).hexdigest())
            for r in curated
        )
    out["rejects"] = rows(
        "rejects",
        ["id", "corpus", "source", "reason", "detail"],
        lambda r: r["stage"] == "curate",
    )
    out["dedup.clusters"] = rows(
        "dedup.clusters", ["id", "kind", "cluster_id", "keeper_id", "is_keeper", "cluster_size"]
    )
    out["decontamination.flags"] = rows("decontamination.flags", ["id", "benchmark", "item_id"])
    return out


def _full_rebuild_of(spark, lake: Lake, tmp_path_factory) -> dict[str, list[tuple]]:
    copy = tmp_path_factory.mktemp("full") / "lake"
    shutil.copytree(lake.root_uri, copy)
    reference = Lake(str(copy))
    curate_corpora(spark, reference, RECIPES, DedupConfig(), run_id="full", metadata={})
    return _snapshot(reference)


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    lake = Lake(str(tmp_path_factory.mktemp("incremental") / "lake"))
    crawl = [
        ("w-copy", TOPICS["assert"], DAY),  # exact copy of licensed l-original
        ("w-clean", TOPICS["global"], DAY),
        ("w-near", NEAR_COPY, DAY),  # near copy of licensed l-raise
        ("w-bench", CONTAMINATED, DAY),
        ("w-del", TOPICS["del"], DAY),
        ("w-for", TOPICS["for"], DAY),
    ]
    _write_annotated(lake, "annotated.web", _web(spark, "crawl-1", crawl), "crawl-1")
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
    return lake


def _curate(spark, lake: Lake, run_id: str, recipes=RECIPES):
    return curate_corpora_incremental(
        spark, lake, recipes, DedupConfig(), run_id=run_id, metadata={"dagster.run_id": run_id}
    )


def test_the_first_run_builds_everything_and_matches_a_full_rebuild(spark, lake, tmp_path_factory):
    report = _curate(spark, lake, "run-1")
    assert report.mode == "full" and "no curation state" in report.reason
    assert report.recomputed == [("licensed", "books"), ("web", "crawl-1")]
    assert _snapshot(lake) == _full_rebuild_of(spark, lake, tmp_path_factory)
    assert ("w-bench", "web", "crawl-1") in {r[:3] for r in _snapshot(lake)["rejects"]}
    commit = table_history(lake.uri("curated.web"))[0]
    assert commit["curation.mode"] == "full"


def test_a_new_source_with_duplicates_of_another_source_recomputes_only_what_moved(
    spark, lake, tmp_path_factory
):
    later, earlier = dt.datetime(2024, 2, 1), dt.datetime(2023, 6, 1)
    second = [
        ("w2-repost", TOPICS["global"] + "\n", later),  # newer copy of kept w-clean: dropped
        ("w2-older", TOPICS["del"], earlier),  # older copy of kept w-del: displaces it
        ("w2-near", NEAR_COPY.replace("A ", "The ", 1), later),  # near copy of l-raise
        ("w2-new", TOPICS["while"], later),
    ]
    _write_annotated(lake, "annotated.web", _web(spark, "crawl-2", second), "crawl-2")
    candidates_before = read_arrow(lake.uri(CANDIDATE_TABLE))

    report = _curate(spark, lake, "run-2")
    assert report.mode == "incremental", report.reason
    assert report.recomputed == [("web", "crawl-2")]
    # w-del was kept and is now the duplicate of an older page: crawl-1 is rewritten.
    assert report.rewritten_for_dedup == [("web", "crawl-1")]
    assert report.shared.counts["partitions unchanged"] == 1  # licensed/books
    snapshot = _snapshot(lake)
    assert snapshot == _full_rebuild_of(spark, lake, tmp_path_factory)
    rejects = {r[0]: r[3:] for r in snapshot["rejects"]}
    assert rejects["w2-repost"][0] == "exact_duplicate" and "w-clean" in rejects["w2-repost"][1]
    assert rejects["w-del"] == (
        "exact_duplicate",
        "same normalized text as kept document w2-older (curated.web)",
    )
    assert rejects["w2-near"][0] == "near_duplicate" and "l-raise" in rejects["w2-near"][1]
    assert "w2-new" in {r[0] for r in snapshot["curated.web"]}
    # The licensed family was untouched: no new curated version, candidates kept as stored.
    assert report.families["licensed"].counts["kept"] == 2
    assert table_history(lake.uri("curated.licensed"))[0]["curation.mode"] == "full"
    after = read_arrow(lake.uri(CANDIDATE_TABLE))
    assert sorted(r["id"] for r in after.to_pylist() if r["corpus"] == "licensed") == sorted(
        r["id"] for r in candidates_before.to_pylist() if r["corpus"] == "licensed"
    )
    assert table_history(lake.uri("curated.web"))[0]["curation.partitions_recomputed"] == (
        '[["web", "crawl-2"]]'
    )


def test_a_changed_source_matches_a_full_rebuild(spark, lake, tmp_path_factory):
    changed = [
        ("w-copy", TOPICS["assert"], DAY),
        ("w-near", NEAR_COPY, DAY),
        ("w-bench", CONTAMINATED, DAY),
        ("w-for", TOPICS["for"], DAY),
        ("w-if", TOPICS["if"], DAY),  # w-clean and w-del are gone
    ]
    _write_annotated(lake, "annotated.web", _web(spark, "crawl-1", changed), "crawl-1")

    report = _curate(spark, lake, "run-3")
    assert report.mode == "incremental", report.reason
    assert report.recomputed == [("web", "crawl-1")]
    # w2-repost's keeper w-clean is gone: it is kept now, so crawl-2 is rewritten.
    assert report.rewritten_for_dedup == [("web", "crawl-2")]
    snapshot = _snapshot(lake)
    assert snapshot == _full_rebuild_of(spark, lake, tmp_path_factory)
    assert {"w2-repost", "w2-older", "w-if"} <= {r[0] for r in snapshot["curated.web"]}


def test_a_removed_source_and_a_run_with_nothing_changed(spark, lake, tmp_path_factory):
    empty = read_spark(spark, lake.uri("annotated.web")).limit(0)
    write_table(
        empty,
        lake.uri("annotated.web"),
        mode="overwrite",
        partition_by=("source",),
        replace_where={"source": "crawl-2"},
        store=lake.store,
    )
    report = _curate(spark, lake, "run-4")
    assert report.mode == "incremental", report.reason
    assert report.removed == [("web", "crawl-2")] and report.recomputed == []
    snapshot = _snapshot(lake)
    assert snapshot == _full_rebuild_of(spark, lake, tmp_path_factory)
    assert not any(r[2] == "crawl-2" for r in snapshot["rejects"])

    web_version = table_history(lake.uri("curated.web"))[0]["version"]
    again = _curate(spark, lake, "run-5")
    assert (again.recomputed, again.rewritten_for_dedup, again.removed) == ([], [], [])
    assert table_history(lake.uri("curated.web"))[0]["version"] == web_version
    assert _snapshot(lake) == snapshot


def test_a_table_written_by_someone_else_or_paragraph_dedup_means_a_full_rebuild(spark, lake):
    # A full rebuild by someone else: its outputs are what the incremental run must give.
    curate_corpora(spark, lake, RECIPES, DedupConfig(), run_id="other", metadata={})
    full = _snapshot(lake)
    report = _curate(spark, lake, "run-6")
    assert report.mode == "full" and "written since" in report.reason
    assert _snapshot(lake) == full

    paragraphs = dict(RECIPES)
    paragraphs["web"] = CurationRecipe(
        name="web-paragraphs",
        rules={},
        pii=None,
        dedup=DedupPolicy(max_duplicate_paragraph_fraction=0.5),
    )
    report = _curate(spark, lake, "run-7", paragraphs)
    assert report.mode == "full" and "paragraphs" in report.reason
    assert table_history(lake.uri("curated.web"))[0]["curation.mode"] == "full"
