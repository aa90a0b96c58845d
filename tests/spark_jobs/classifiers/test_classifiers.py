"""Train the three classifiers from real lake tables and the seed set, register them in a real
MLflow store, load them back by version, and score a source partition into classified.web."""

from pathlib import Path

import pyarrow as pa
import pytest

from spark_jobs.classifiers import registry
from spark_jobs.classifiers.fasttext_quality import QUALITY_MODEL_NAME, QualityScorer
from spark_jobs.classifiers.heads import (
    EDU_MODEL_NAME,
    TOPIC_MODEL_NAME,
    HeadTrainingConfig,
    load_head,
    load_seed_set,
)
from spark_jobs.classifiers.scoring import (
    CLASSIFIED_COLUMNS,
    classify_source,
    recorded_versions,
    resolve_classifiers,
    stale_families,
)
from spark_jobs.classifiers.training import (
    MlflowTarget,
    train_embedding_heads,
    train_quality_classifier,
)
from spark_jobs.delta import read_arrow, table_history, write_arrow
from spark_jobs.lake import Lake

pytestmark = pytest.mark.spark

MAX_TOKENS = 64  # the MiniLM forward on CPU is the slow part; tests embed short prefixes

REFERENCE_TOPICS = {"language_reference", "api_reference"}
WEB_JUNK_TOPICS = {"commerce_spam", "contact_listing", "log_output", "data_table", "email_message"}


def _documents(rows: list[dict], source: str) -> pa.Table:
    return pa.table(
        {
            "id": [r["id"] for r in rows],
            "source": [source] * len(rows),
            "text": [r["text"] for r in rows],
        }
    )


@pytest.fixture(scope="module")
def trained(spark, tmp_path_factory):
    """A lake whose papers are reference docs and whose web is junk; all three models trained."""
    root = tmp_path_factory.mktemp("classifiers")
    lake = Lake(str(root / "lake"))
    seed = load_seed_set()
    reference = [r for r in seed if r["topic"] in REFERENCE_TOPICS]
    junk = [r for r in seed if r["topic"] in WEB_JUNK_TOPICS]
    write_arrow(_documents(reference, "docs"), lake.uri("curated.papers"), mode="overwrite")
    write_arrow(
        _documents(junk, "crawl"),
        lake.uri("annotated.web"),
        mode="overwrite",
        partition_by=("source",),
    )
    # The classifier stage scores one source of annotated.code: a few documents of every
    # seed topic, and one with no text (it must be scored as null, not dropped).
    sample = seed[::10]
    empty = pa.table({"id": ["empty"], "source": ["sample"], "text": [""]})
    write_arrow(
        pa.concat_tables([_documents(sample, "sample"), empty]),
        lake.uri("annotated.code"),
        mode="overwrite",
        partition_by=("source",),
    )
    target = MlflowTarget(f"sqlite:///{root}/mlflow.db", "test", str(root / "artifacts"))
    quality = train_quality_classifier(spark, lake, target)
    edu, topic = train_embedding_heads(
        target, HeadTrainingConfig(epochs=150), limit_per_topic=6, max_tokens=MAX_TOKENS
    )
    return {
        "lake": lake,
        "target": target,
        "cache": root / "models",
        "models": (quality, edu, topic),
        "sample": {r["id"]: r for r in sample},
    }


def test_quality_classifier_separates_held_out_reference_text_from_web_junk(trained):
    quality, _, _ = trained["models"]
    assert quality.inputs == {"curated.papers": 0, "annotated.web": 0}
    assert quality.metrics["holdout_documents"] > 10
    assert quality.metrics["precision"] >= 0.8
    assert quality.metrics["recall"] >= 0.8


def test_all_three_models_load_back_by_version_with_their_metrics(trained):
    tracking = trained["target"].tracking_uri
    quality, edu, topic = trained["models"]
    assert quality.ref == registry.ModelRef(QUALITY_MODEL_NAME, 1)
    for model in (quality, edu, topic):
        ref = registry.resolve(tracking, model.ref.name, model.ref.version)
        assert registry.version_metrics(tracking, ref) == pytest.approx(model.metrics)
    cache = trained["cache"]
    scorer = QualityScorer.load(registry.download(tracking, quality.ref, cache))
    scores = scorer.score(["Return a new list containing all items from the iterable.", "BUY NOW"])
    assert scores.min() >= 0.0 and scores.max() <= 1.0
    edu_head = load_head(str(registry.download(tracking, edu.ref, cache)))
    topic_head = load_head(str(registry.download(tracking, topic.ref, cache)))
    assert edu_head.kind == "edu" and topic_head.kind == "topic"
    assert len(topic_head.classes) == 12
    assert edu.ref.name == EDU_MODEL_NAME and topic.ref.name == TOPIC_MODEL_NAME
    assert {"spearman", "mae"} <= set(edu.metrics) and "accuracy" in topic.metrics


def test_classified_table_records_scores_and_model_versions_per_row(spark, trained):
    lake, target = trained["lake"], trained["target"]
    classifiers = resolve_classifiers(target.tracking_uri, trained["cache"], max_tokens=MAX_TOKENS)
    report = classify_source(spark, lake, "code", "sample", classifiers, metadata={})
    classified = read_arrow(lake.uri("classified.code")).to_pylist()
    source_rows = len(trained["sample"]) + 1
    assert report.counts["classified"] == len(classified) == source_rows
    assert set(classified[0]) == set(CLASSIFIED_COLUMNS)
    by_id = {row["id"]: row for row in classified}
    empty = by_id.pop("empty")
    assert empty["quality_score"] is None and empty["topic"] is None
    for row in by_id.values():
        assert 0.0 <= row["quality_score"] <= 1.0 and 0.0 <= row["edu_score"] <= 5.0
        assert (row["quality_model_version"], row["edu_model_version"]) == (1, 1)
        assert row["device"] == "cpu" and row["gpu_addresses"] == []
    # Scores follow the seed labels: reference documents beat junk on quality and edu.
    labels = trained["sample"]
    reference = [r for i, r in by_id.items() if labels[i]["topic"] in REFERENCE_TOPICS]
    junk = [r for i, r in by_id.items() if labels[i]["topic"] in WEB_JUNK_TOPICS]
    assert min(r["quality_score"] for r in reference) > max(r["quality_score"] for r in junk)
    assert _mean(r["edu_score"] for r in reference) > _mean(r["edu_score"] for r in junk) + 1
    embeddings = read_arrow(lake.uri("embeddings.code")).to_pylist()
    assert len(embeddings) == source_rows
    assert all(len(row["embedding"]) == 384 for row in embeddings)
    assert stale_families(lake, "code", classifiers) == {}


def test_a_new_model_version_marks_the_table_stale_until_it_is_reclassified(spark, trained):
    lake, target, cache = trained["lake"], trained["target"], trained["cache"]
    # The quality family alone: no encoder pass, so re-classifying is cheap.
    current = resolve_classifiers(target.tracking_uri, cache, families=("quality",))
    classify_source(spark, lake, "code", "sample", current, metadata={})
    assert stale_families(lake, "code", current) == {}
    retrained = train_quality_classifier(spark, lake, target)
    assert retrained.ref.version == current.refs["quality"].version + 1
    newest = resolve_classifiers(target.tracking_uri, cache, families=("quality",))
    assert set(stale_families(lake, "code", newest)) == {"quality"}
    classify_source(spark, lake, "code", "sample", newest, metadata={})
    assert recorded_versions(lake, "code")["quality"] == {retrained.ref.version}
    assert stale_families(lake, "code", newest) == {}
    # Pinning an older version is possible, and is what the table then records.
    pinned = resolve_classifiers(target.tracking_uri, cache, {"quality": 1}, families=("quality",))
    classify_source(spark, lake, "code", "sample", pinned, metadata={})
    assert recorded_versions(lake, "code")["quality"] == {1}
    history = table_history(lake.uri("classified.code"), lake.store)
    assert history[0]["lineage.model.quality"] == f"{QUALITY_MODEL_NAME}/v1"


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def test_asking_for_a_model_that_was_never_registered_says_what_to_do(tmp_path: Path):
    with pytest.raises(LookupError, match="materialize its training asset"):
        registry.resolve(f"sqlite:///{tmp_path}/mlflow.db", "no-such-model")
