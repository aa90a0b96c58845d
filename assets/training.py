"""Training lineage: MLflow runs tied to the exact table versions they consumed."""

import dagster as dg

from assets.web import CURATED_WEB
from orchestration.resources import LakehouseResource
from spark_jobs.delta import open_table
from spark_jobs.tracking import TableSnapshot, log_dataset_run

CURATED_WEB_RUN = dg.AssetKey(["training", "curated_web_run"])


@dg.asset(key=CURATED_WEB_RUN, deps=[CURATED_WEB], group_name="training", kinds={"mlflow"})
def curated_web_run(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """An MLflow run whose dataset input is curated.web at the version just validated."""
    settings, lake = lakehouse.settings, lakehouse.lake
    table = open_table(lake.uri("curated.web"), store=lake.store)
    rows = sum(
        int(n) for n in table.get_add_actions(flatten=True).column("num_records").to_pylist()
    )
    snapshot = TableSnapshot("curated.web", lake.uri("curated.web"), table.version(), rows)
    run_id = log_dataset_run(
        settings.mlflow_tracking_uri,
        settings.mlflow_experiment,
        run_name=f"curated-web-v{snapshot.version}",
        datasets=[snapshot],
        params={"recipe": lakehouse.recipe().name, "recipe_hash": lakehouse.recipe().fingerprint},
        tags={"dagster.run_id": context.run.run_id},
        artifact_location=settings.mlflow_artifacts_uri,
    )
    return dg.MaterializeResult(
        metadata={
            "mlflow run id": run_id,
            "mlflow experiment": settings.mlflow_experiment,
            "curated.web version": snapshot.version,
            "curated.web rows": snapshot.rows,
        }
    )
