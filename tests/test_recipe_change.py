"""Changing a recipe threshold re-runs selection only: through Dagster, on a tiny crawl, the
annotated table gets no new materialization and no new Delta version; curated gets one, and
its rows follow the new threshold."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest
import yaml

from assets.dedup import BENCHMARK_ITEMS, DECONTAMINATION_FLAGS, DEDUP_CLUSTERS
from assets.web import ANNOTATED_WEB, CURATED_WEB
from orchestration.definitions import defs
from orchestration.settings import CONFIG_DIR, load_settings
from spark_jobs.delta import open_table, read_arrow
from spark_jobs.lake import Lake
from spark_jobs.samples.web import generate_web_sample

pytestmark = [pytest.mark.slow, pytest.mark.spark]

REGISTRY = """
sources:
  tiny-crawl:
    corpus: web
    format: warc
    location: "{landing}/web/tiny-crawl"
    license: CC-BY-4.0
    license_evidence: declared
"""
# The curation step alone, without the quality gates: this test is about what re-runs.
CURATE_ONLY = dg.define_asset_job(
    "curate_web_only",
    selection=dg.AssetSelection.assets(
        BENCHMARK_ITEMS, CURATED_WEB, DEDUP_CLUSTERS, DECONTAMINATION_FLAGS
    ).without_checks(),
)


def _materializations(instance: dg.DagsterInstance, key: dg.AssetKey) -> list:
    return instance.fetch_materializations(key, limit=100).records


def _set_min_doc_words(recipe: Path, words: int) -> None:
    raw = yaml.safe_load(recipe.read_text())
    rules = raw["rules"]["gopher_quality"] if "rules" in raw else raw["gopher_quality"]
    rules["min_doc_words"] = words
    recipe.write_text(yaml.safe_dump(raw, sort_keys=False))


def test_a_recipe_threshold_change_reruns_selection_not_annotation(spark, tmp_path):
    home = tmp_path / "home"
    recipes = tmp_path / "recipes"
    shutil.copytree(CONFIG_DIR / "recipes", recipes)
    home.mkdir()
    (home / "sources.yaml").write_text(REGISTRY)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PILEHOUSE_HOME", str(home))
        env.setenv("PILEHOUSE_SOURCES_FILE", str(home / "sources.yaml"))
        env.setenv("PILEHOUSE_RECIPES_DIR", str(recipes))
        settings = load_settings()
        generate_web_sample(Path(settings.landing_uri) / "web" / "tiny-crawl", pages=40, files=1)
        lake = Lake(settings.lake_uri, settings.store)
        instance = dg.DagsterInstance.ephemeral()
        instance.add_dynamic_partitions("web_sources", ["tiny-crawl"])
        jobs = dg.Definitions.merge(defs, dg.Definitions(jobs=[CURATE_ONLY]))

        ingest = jobs.resolve_job_def("ingest_web").execute_in_process(
            instance=instance, partition_key="tiny-crawl"
        )
        first = jobs.resolve_job_def("curate_web_only").execute_in_process(instance=instance)
        assert ingest.success and first.success
        annotated_version = open_table(lake.uri("annotated.web")).version()
        before = read_arrow(lake.uri("curated.web"))
        words = sorted(pc.struct_field(before["quality_signals"], "word_count").to_pylist())
        # A stricter minimum that removes the shortest fifth of what was kept.
        threshold = words[len(words) // 5] + 1
        _set_min_doc_words(recipes / "web-default.yaml", threshold)

        second = jobs.resolve_job_def("curate_web_only").execute_in_process(instance=instance)
        assert second.success

    # Dagster: curated got a new materialization, annotated did not; only curation ran.
    assert len(_materializations(instance, ANNOTATED_WEB)) == 1
    assert len(_materializations(instance, CURATED_WEB)) == 2
    steps = {e.step_key for e in second.get_step_success_events()}
    assert "curated_corpora" in steps
    assert not [s for s in steps if "annotated" in s or "raw" in s], steps
    hashes = [
        r.asset_materialization.metadata["recipe hash"].value
        for r in _materializations(instance, CURATED_WEB)
    ]
    assert hashes[0] != hashes[1]
    # Delta: the annotated table is untouched, the curated table follows the new threshold.
    assert open_table(lake.uri("annotated.web")).version() == annotated_version
    after = read_arrow(lake.uri("curated.web"))
    kept_words = pc.struct_field(after["quality_signals"], "word_count").to_pylist()
    assert min(kept_words) >= threshold
    assert 0 < after.num_rows < before.num_rows
    assert {
        row["id"] for row in before.to_pylist() if row["quality_signals"]["word_count"] >= threshold
    } <= set(after["id"].to_pylist())
    rejects = read_arrow(lake.uri("rejects"))
    short = rejects.filter(pc.equal(rejects["reason"], "gopher_short_doc"))
    assert set(before["id"].to_pylist()) - set(after["id"].to_pylist()) <= set(
        short["id"].to_pylist()
    )
