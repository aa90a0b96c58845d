"""Training entry points: the quality classifier from lake tables, the heads from the seed
set; each logs an MLflow run and registers a new model version."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark_jobs.classifiers import registry
from spark_jobs.classifiers.embeddings import (
    ENCODER_NAME,
    MAX_TOKENS,
    encoder_version,
    load_encoder,
)
from spark_jobs.classifiers.fasttext_quality import (
    QUALITY_MODEL_NAME,
    QualityTrainingConfig,
    train_quality_model,
)
from spark_jobs.classifiers.heads import (
    EDU_MODEL_NAME,
    SEED_FILE,
    TOPIC_MODEL_NAME,
    HeadTrainingConfig,
    load_seed_set,
    train_heads,
)
from spark_jobs.classifiers.registry import ModelRef
from spark_jobs.delta import open_table, read_spark, table_exists


@dataclass(frozen=True)
class MlflowTarget:
    """Where training runs are logged and models registered."""

    tracking_uri: str
    experiment: str = "pilehouse-classifiers"
    artifact_location: str | None = None


@dataclass
class TrainedModel:
    ref: ModelRef
    run_id: str
    metrics: dict[str, float]
    inputs: dict[str, int]  # table name -> Delta version read ({} for the seed set)


def sample_texts(
    spark: SparkSession, lake, tables: tuple[str, ...], limit: int, seed: int
) -> tuple[list[str], dict[str, int]]:
    """Up to `limit` texts drawn uniformly (by a seeded hash of the id) from `tables`."""
    frames, versions = [], {}
    for name in tables:
        uri = lake.uri(name)
        if not table_exists(uri, lake.store):
            continue
        versions[name] = open_table(uri, store=lake.store).version()
        frames.append(
            read_spark(spark, uri, version=versions[name], columns=["id", "text"], store=lake.store)
        )
    if not frames:
        return [], versions
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    picked = union.orderBy(F.xxhash64(F.lit(seed), "id")).limit(limit).select("text").collect()
    return [row.text for row in picked if row.text], versions


def train_quality_classifier(
    spark: SparkSession,
    lake,
    target: MlflowTarget,
    config: QualityTrainingConfig | None = None,
    tags: Mapping[str, str] | None = None,
) -> TrainedModel:
    """Positives from `config.positive_tables`, negatives from `config.negative_tables`."""
    config = config or QualityTrainingConfig()
    positives, pos_versions = sample_texts(
        spark, lake, config.positive_tables, config.max_per_class, config.seed
    )
    negatives, neg_versions = sample_texts(
        spark, lake, config.negative_tables, config.max_per_class, config.seed
    )
    inputs = {**pos_versions, **neg_versions}
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(scratch) / "model"
        metrics = train_quality_model(positives, negatives, config, model_dir)
        params = {
            **config.params(),
            "positives": len(positives),
            "negatives": len(negatives),
            **{f"table.{name}.version": version for name, version in inputs.items()},
        }
        ref, run_id = registry.log_and_register(
            target.tracking_uri,
            target.experiment,
            QUALITY_MODEL_NAME,
            model_dir,
            params=params,
            metrics=metrics,
            tags=tags,
            artifact_location=target.artifact_location,
        )
    return TrainedModel(ref, run_id, metrics, inputs)


def _first_per_topic(rows: list[dict], limit: int) -> list[dict]:
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        seen[row["topic"]] = seen.get(row["topic"], 0) + 1
        if seen[row["topic"]] <= limit:
            kept.append(row)
    return kept


def train_embedding_heads(
    target: MlflowTarget,
    config: HeadTrainingConfig | None = None,
    *,
    seed_file: Path = SEED_FILE,
    limit_per_topic: int | None = None,
    max_tokens: int = MAX_TOKENS,
    tags: Mapping[str, str] | None = None,
) -> tuple[TrainedModel, TrainedModel]:
    """Embed the seed set with MiniLM, train the edu and topic heads, register both."""
    config = config or HeadTrainingConfig()
    rows = load_seed_set(seed_file)
    if limit_per_topic is not None:
        rows = _first_per_topic(rows, limit_per_topic)
    embedded = load_encoder("cpu", max_tokens).embed([r["text"] for r in rows])
    edu, topic = train_heads(
        embedded.vectors, [r["edu_score"] for r in rows], [r["topic"] for r in rows], config
    )
    trained = []
    for head, name in ((edu, EDU_MODEL_NAME), (topic, TOPIC_MODEL_NAME)):
        with tempfile.TemporaryDirectory() as scratch:
            model_dir = Path(scratch) / "model"
            head.save(model_dir)
            params = {
                **config.__dict__,
                "encoder": ENCODER_NAME,
                "encoder_version": encoder_version(),
                "seed_file": seed_file.name,
                "seed_documents": len(rows),
                "max_tokens": max_tokens,
                "classes": ",".join(head.classes),
            }
            ref, run_id = registry.log_and_register(
                target.tracking_uri,
                target.experiment,
                name,
                model_dir,
                params=params,
                metrics=head.metrics,
                tags=tags,
                artifact_location=target.artifact_location,
            )
        trained.append(TrainedModel(ref, run_id, head.metrics, {}))
    return trained[0], trained[1]


def main(argv: list[str] | None = None) -> None:
    """Train and register all three classifiers outside Dagster; print the held-out figures.

    python -m spark_jobs.classifiers.training --lake var/lake --tracking-uri sqlite:///var/mlflow.db
    """
    import argparse

    from spark_jobs.lake import Lake
    from spark_jobs.session import get_spark

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, help="lake root (local path or s3:// URI)")
    parser.add_argument("--tracking-uri", required=True, help="MLflow tracking URI")
    parser.add_argument("--experiment", default="pilehouse-classifiers")
    parser.add_argument("--skip-heads", action="store_true", help="train the quality model only")
    args = parser.parse_args(argv)
    target = MlflowTarget(args.tracking_uri, args.experiment)
    quality = train_quality_classifier(get_spark(), Lake(args.lake), target)
    print(f"{quality.ref}: inputs {quality.inputs}")
    print("  held-out " + ", ".join(f"{k}={v:.3f}" for k, v in quality.metrics.items()))
    if not args.skip_heads:
        for head in train_embedding_heads(target):
            print(
                f"{head.ref}: held-out "
                + ", ".join(f"{k}={v:.3f}" for k, v in head.metrics.items())
            )


if __name__ == "__main__":
    main()
