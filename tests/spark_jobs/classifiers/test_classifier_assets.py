"""The classifier assets' place in the Dagster graph: models upstream of every classified table."""

import dagster as dg

from assets.classifiers import EDU_HEAD, MODEL_KEYS, QUALITY_MODEL, TOPIC_HEAD
from orchestration.definitions import defs
from spark_jobs.lake import CORPORA, TABLES


def test_each_family_is_classified_per_source_by_the_three_registered_models():
    graph = defs.resolve_asset_graph()
    for corpus in CORPORA:
        key = dg.AssetKey(["classified", corpus])
        node = graph.get(key)
        # A new model version (the models' data version) makes every partition stale.
        assert node.parent_keys == {dg.AssetKey(["annotated", corpus]), *MODEL_KEYS}
        assert node.partitions_def.name == f"{corpus}_sources"
        assert node.automation_condition is not None
        checks = {c.name for c in graph.asset_check_keys if c.asset_key == key}
        assert checks == {"scored_by_latest_models"}
        assert f"classified.{corpus}" in TABLES and f"embeddings.{corpus}" in TABLES
    assert graph.get(QUALITY_MODEL).parent_keys == {
        dg.AssetKey(["curated", "papers"]),
        dg.AssetKey(["curated", "licensed"]),
        dg.AssetKey(["annotated", "web"]),
    }
    assert {graph.get(k).group_name for k in (QUALITY_MODEL, EDU_HEAD, TOPIC_HEAD)} == {
        "classifiers"
    }


def test_no_existing_job_runs_the_classifiers():
    """Classifiers are opt-in: ingest and curate jobs do not pull the models in."""
    for job in defs.resolve_all_job_defs():
        if job.name.startswith("__"):  # the implicit all-assets job
            continue
        selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
        assert not any(k.startswith(("classifiers/", "classified/")) for k in selected), job.name
