"""Web crawl corpus: WARC landing files -> raw.web -> annotated.web -> curated.web."""

import dagster as dg

from assets.metadata import stage_metadata
from orchestration.resources import LakehouseResource
from spark_jobs import stages

RAW_WEB = dg.AssetKey(["raw", "web"])
ANNOTATED_WEB = dg.AssetKey(["annotated", "web"])
CURATED_WEB = dg.AssetKey(["curated", "web"])


@dg.asset(key=RAW_WEB, group_name="web", kinds={"spark", "delta"}, code_version="1")
def raw_web(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Pages extracted from the web sources' WARC files; bad records go to quarantine."""
    report = stages.ingest_web(
        lakehouse.spark,
        lakehouse.lake,
        lakehouse.sources("web"),
        run_id=context.run.run_id,
        metadata=lakehouse.commit_metadata(context),
    )
    return dg.MaterializeResult(metadata=stage_metadata(report))


@dg.asset(
    key=ANNOTATED_WEB, deps=[RAW_WEB], group_name="web", kinds={"spark", "delta"}, code_version="1"
)
def annotated_web(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """raw.web with language (fastText lid.176), Gopher quality signals and exact-dedup key."""
    report = stages.annotate_web(
        lakehouse.spark, lakehouse.lake, metadata=lakehouse.commit_metadata(context)
    )
    return dg.MaterializeResult(metadata=stage_metadata(report))


@dg.asset(
    key=CURATED_WEB,
    deps=[ANNOTATED_WEB],
    group_name="web",
    kinds={"spark", "delta"},
    code_version="1",
)
def curated_web(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Web documents kept by the recipe: allowed language, Gopher-clean, one per exact duplicate."""
    recipe = lakehouse.recipe()
    report = stages.curate_web(
        lakehouse.spark,
        lakehouse.lake,
        recipe,
        run_id=context.run.run_id,
        metadata=lakehouse.commit_metadata(context),
    )
    return dg.MaterializeResult(
        metadata={**stage_metadata(report), "recipe hash": recipe.fingerprint}
    )
