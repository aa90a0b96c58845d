"""Classifier models (trained, logged and registered in MLflow) and the classified/<corpus>
tables they score, partitioned by source like the annotated tables they read."""

from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from assets.automation import EAGER_AFTER_GATES
from assets.corpus import SPARK_POOL, corpus_keys, source_partitions
from assets.metadata import stage_metadata
from assets.resources import LakehouseResource
from spark_jobs.classifiers.fasttext_quality import QualityTrainingConfig
from spark_jobs.classifiers.gpu import classifier_profile
from spark_jobs.lake import CORPORA

if TYPE_CHECKING:
    from spark_jobs.classifiers.scoring import ClassifierSet
    from spark_jobs.classifiers.training import MlflowTarget

# Training and scoring (torch, MLflow, pyspark) are imported in the asset bodies, so that
# loading the definitions does not import them.
LATEST = "latest"  # spark_jobs.classifiers.registry.LATEST (a test keeps the two equal)

GROUP = "classifiers"
QUALITY_MODEL = dg.AssetKey(["classifiers", "quality_fasttext"])
EDU_HEAD = dg.AssetKey(["classifiers", "edu_head"])
TOPIC_HEAD = dg.AssetKey(["classifiers", "topic_head"])
MODEL_KEYS = (QUALITY_MODEL, EDU_HEAD, TOPIC_HEAD)
EXPERIMENT = "pilehouse-classifiers"


def _target(lakehouse: LakehouseResource) -> "MlflowTarget":
    from spark_jobs.classifiers.training import MlflowTarget

    settings = lakehouse.settings
    return MlflowTarget(settings.mlflow_tracking_uri, EXPERIMENT, settings.mlflow_artifacts_uri)


def _model_metadata(ref, metrics: dict[str, float]) -> dict[str, object]:
    return {
        "model": ref.name,
        "model version": dg.MetadataValue.int(ref.version),
        "model uri": ref.uri,
        **{k: dg.MetadataValue.float(float(v)) for k, v in metrics.items()},
    }


class QualityModelConfig(dg.Config):
    positive_tables: list[str] = Field(
        default_factory=lambda: list(QualityTrainingConfig.positive_tables)
    )
    negative_tables: list[str] = Field(
        default_factory=lambda: list(QualityTrainingConfig.negative_tables)
    )
    max_per_class: int = QualityTrainingConfig.max_per_class
    epoch: int = QualityTrainingConfig.epoch


@dg.asset(
    key=QUALITY_MODEL,
    deps=[corpus_keys("papers")[2], corpus_keys("licensed")[2], corpus_keys("web")[1]],
    group_name=GROUP,
    kinds={"fasttext", "mlflow"},
    pool=SPARK_POOL,
)
def quality_fasttext(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, config: QualityModelConfig
) -> dg.MaterializeResult:
    """DCLM-style bigram fastText quality classifier: reference tables vs web, a new MLflow version."""
    from spark_jobs.classifiers.training import train_quality_classifier

    trained = train_quality_classifier(
        lakehouse.spark,
        lakehouse.lake,
        _target(lakehouse),
        QualityTrainingConfig(
            positive_tables=tuple(config.positive_tables),
            negative_tables=tuple(config.negative_tables),
            max_per_class=config.max_per_class,
            epoch=config.epoch,
        ),
        tags={"dagster.run_id": context.run.run_id},
    )
    return dg.MaterializeResult(
        metadata={
            **_model_metadata(trained.ref, trained.metrics),
            **{f"input {n} version": v for n, v in trained.inputs.items()},
        },
        data_version=dg.DataVersion(str(trained.ref)),
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(EDU_HEAD, description="Educational-value head (0-5) on MiniLM embeddings."),
        dg.AssetSpec(TOPIC_HEAD, description="Topic/format taxonomy head on MiniLM embeddings."),
    ],
    group_name=GROUP,
)
def embedding_heads(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Train both heads from the labelled seed set (spark_jobs/classifiers/seed/seed.jsonl)."""
    from spark_jobs.classifiers.heads import HeadTrainingConfig
    from spark_jobs.classifiers.training import train_embedding_heads

    edu, topic = train_embedding_heads(
        _target(lakehouse), HeadTrainingConfig(), tags={"dagster.run_id": context.run.run_id}
    )
    for key, trained in ((EDU_HEAD, edu), (TOPIC_HEAD, topic)):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata=_model_metadata(trained.ref, trained.metrics),
            data_version=dg.DataVersion(str(trained.ref)),
        )


class ClassifyConfig(dg.Config):
    """Which registered version of each model scores the documents ("latest" or a number)."""

    quality_version: str = LATEST
    edu_version: str = LATEST
    topic_version: str = LATEST


def _classifiers(lakehouse: LakehouseResource, config: ClassifyConfig) -> "ClassifierSet":
    from spark_jobs.classifiers.scoring import resolve_classifiers

    settings = lakehouse.settings
    return resolve_classifiers(
        settings.mlflow_tracking_uri,
        settings.home / "models",
        {
            "quality": config.quality_version,
            "edu": config.edu_version,
            "topic": config.topic_version,
        },
        store=settings.store,  # executors on other machines copy the files from S3
    )


def classified_asset(corpus: str) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    @dg.asset(
        key=dg.AssetKey(["classified", corpus]),
        deps=[corpus_keys(corpus)[1], *MODEL_KEYS],
        partitions_def=source_partitions(corpus),
        automation_condition=EAGER_AFTER_GATES,
        group_name=GROUP,
        kinds={"spark", "delta", "pytorch"},
        pool=SPARK_POOL,
        code_version="1",
    )
    def classified(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource, config: ClassifyConfig
    ) -> dg.MaterializeResult:
        """Quality, edu and topic scores of one source, with the model version of each score."""
        from spark_jobs.classifiers.scoring import classify_source

        classifiers = _classifiers(lakehouse, config)
        # Stage-level GPU scheduling needs a cluster manager; local mode scores on the CPU.
        local = lakehouse.settings.spark_master.startswith("local")
        report = classify_source(
            lakehouse.spark,
            lakehouse.lake,
            corpus,
            context.partition_key,
            classifiers,
            metadata=lakehouse.commit_metadata(context),
            profile=None if local else classifier_profile(),
        )
        return dg.MaterializeResult(
            metadata={
                **stage_metadata(report),
                **{f"model {family}": str(ref) for family, ref in classifiers.refs.items()},
            },
            # A new model version is new data even when the input table did not change.
            data_version=dg.DataVersion(",".join(str(ref) for ref in classifiers.refs.values())),
        )

    @dg.asset_check(asset=classified, name="scored_by_latest_models", blocking=False)
    def scored_by_latest_models(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
        """Every row's scores come from the newest registered version of each model."""
        from spark_jobs.classifiers.scoring import stale_families

        classifiers = _classifiers(lakehouse, ClassifyConfig())
        stale = stale_families(lakehouse.lake, corpus, classifiers)
        return dg.AssetCheckResult(
            passed=not stale,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"stale": "; ".join(stale.values()) or "none"},
        )

    return classified, scored_by_latest_models


classifier_model_assets = [quality_fasttext, embedding_heads]
_classified = {corpus: classified_asset(corpus) for corpus in CORPORA}
classified_assets = [assets for assets, _ in _classified.values()]
classified_checks = [check for _, check in _classified.values()]
