"""The asset trio every corpus family has: raw and annotated per source partition, curated whole."""

import dagster as dg
import pydantic

from assets.automation import EAGER_AFTER_GATES
from assets.metadata import stage_metadata
from assets.resources import LakehouseResource

# The engine (pyspark, the annotators) is imported in the asset bodies: loading the
# definitions stays light (tests/orchestration/test_fast_start.py).

# Spark-heavy steps share this pool so two big jobs do not fight over a small machine.
SPARK_POOL = "spark"

# Retrying ingest is safe: the whole-source mode overwrites the source's partitions, the
# files mode skips ids already present. What a retry cannot fix (a missing landing
# location, an unknown source) fails at once with allow_retries=False.
INGEST_RETRY = dg.RetryPolicy(
    max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


class RawIngestConfig(dg.Config):
    """Landing files to ingest (relative to the source's location); none: all of them."""

    files: list[str] = pydantic.Field(default_factory=list)


def source_partitions(corpus: str) -> dg.DynamicPartitionsDefinition:
    """One partition per registered source of the family, added without a deploy."""
    return dg.DynamicPartitionsDefinition(name=f"{corpus}_sources")


def corpus_keys(corpus: str) -> tuple[dg.AssetKey, dg.AssetKey, dg.AssetKey]:
    return (
        dg.AssetKey(["raw", corpus]),
        dg.AssetKey(["annotated", corpus]),
        dg.AssetKey(["curated", corpus]),
    )


def corpus_assets(corpus: str) -> list[dg.AssetsDefinition]:
    """raw/<corpus> and annotated/<corpus>, partitioned by source."""
    partitions = source_partitions(corpus)
    raw_key, annotated_key, _ = corpus_keys(corpus)
    common = {"group_name": corpus, "kinds": {"spark", "delta"}, "pool": SPARK_POOL}

    @dg.asset(
        key=raw_key,
        partitions_def=partitions,
        description=f"{corpus} documents read from one source's landing files; "
        "bad records go to quarantine, out-of-scope ones to rejects.",
        code_version="1",
        retry_policy=INGEST_RETRY,
        **common,
    )
    def raw(
        context: dg.AssetExecutionContext, config: RawIngestConfig, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        from spark_jobs import stages

        try:
            source = lakehouse.source(context.partition_key)
            if config.files:
                source = source.only(config.files)
            report = stages.ingest_source(
                lakehouse.spark,
                lakehouse.lake,
                source,
                run_id=context.run.run_id,
                metadata=lakehouse.commit_metadata(context),
            )
        except (KeyError, FileNotFoundError) as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error
        return dg.MaterializeResult(
            metadata={**stage_metadata(report), "landing files": len(config.files) or "all"}
        )

    @dg.asset(
        key=annotated_key,
        automation_condition=EAGER_AFTER_GATES,
        deps=[raw_key],
        partitions_def=partitions,
        description=f"raw.{corpus} with language (fastText lid.176), Gopher quality signals "
        "and exact-dedup key.",
        code_version="1",
        **common,
    )
    def annotated(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        from spark_jobs import stages

        report = stages.annotate_source(
            lakehouse.spark,
            lakehouse.lake,
            corpus,
            context.partition_key,
            metadata=lakehouse.commit_metadata(context),
        )
        return dg.MaterializeResult(metadata=stage_metadata(report))

    # curated/<corpus> is written by assets.dedup.curated_corpora together with every other
    # family's, since decontamination and dedup span all families.
    return [raw, annotated]
