"""Training lineage: MLflow runs tied to the exact table versions they consumed."""

from typing import TYPE_CHECKING

import dagster as dg

from assets.automation import EAGER_AFTER_GATES
from assets.corpus import corpus_keys
from assets.mixtures import mixture_recipes
from assets.resources import LakehouseResource
from spark_jobs.lake import CORPORA

# MLflow (spark_jobs.tracking) and the proxy model (torch) are imported when the asset runs.
if TYPE_CHECKING:
    from spark_jobs.mixtures.proxy import ProxyConfig

CURATED_RUN = dg.AssetKey(["training", "curated_corpora_run"])


@dg.asset(
    key=CURATED_RUN,
    automation_condition=EAGER_AFTER_GATES,
    deps=[corpus_keys(corpus)[2] for corpus in CORPORA],
    group_name="training",
    kinds={"mlflow"},
)
def curated_corpora_run(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """An MLflow run whose dataset inputs are the curated tables at the versions just validated."""
    from spark_jobs.delta import open_table, table_exists
    from spark_jobs.tracking import TableSnapshot, log_dataset_run

    settings, lake = lakehouse.settings, lakehouse.lake
    snapshots = []
    for corpus in CORPORA:
        name = f"curated.{corpus}"
        if not table_exists(lake.uri(name), lake.store):
            continue
        table = open_table(lake.uri(name), store=lake.store)
        records = table.get_add_actions(flatten=True).column("num_records").to_pylist()
        snapshots.append(
            TableSnapshot(name, lake.uri(name), table.version(), sum(int(n) for n in records))
        )
    run_id = log_dataset_run(
        settings.mlflow_tracking_uri,
        settings.mlflow_experiment,
        run_name="curated-" + "-".join(f"{s.name.split('.')[1]}-v{s.version}" for s in snapshots),
        datasets=snapshots,
        params={
            f"recipe.{s.name.split('.')[1]}": lakehouse.recipe(s.name.split(".")[1]).fingerprint
            for s in snapshots
        },
        tags={"dagster.run_id": context.run.run_id},
        artifact_location=settings.mlflow_artifacts_uri,
    )
    return dg.MaterializeResult(
        metadata={
            "mlflow run id": run_id,
            "mlflow experiment": settings.mlflow_experiment,
            **{f"{s.name} version": s.version for s in snapshots},
            **{f"{s.name} rows": s.rows for s in snapshots},
        }
    )


def proxy_key(mixture: str) -> dg.AssetKey:
    return dg.AssetKey(["training", "proxy", mixture])


# Enough steps to separate recipes on the sample lake; a few minutes on a CPU.
PROXY_STEPS = 200


def proxy_training_asset(mixture: str, config: "ProxyConfig | None" = None):
    """A proxy LM trained on a mixture's newest export, recorded as an MLflow run
    (`config`: the proxy's settings; default: ProxyConfig(steps=PROXY_STEPS))."""

    @dg.asset(
        key=proxy_key(mixture),
        deps=[dg.AssetKey(["mixtures", mixture])],
        automation_condition=EAGER_AFTER_GATES,
        group_name="training",
        kinds={"pytorch", "mlflow"},
        description=f"Proxy causal LM on mixtures.{mixture}: per-source validation loss in MLflow",
    )
    def _proxy(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        from spark_jobs.mixtures.build import latest_export
        from spark_jobs.mixtures.proxy import PROXY_EXPERIMENT, ProxyConfig, run_proxy_training

        settings, lake = lakehouse.settings, lakehouse.lake
        run_id, result = run_proxy_training(
            latest_export(lake, mixture),
            tracking_uri=settings.mlflow_tracking_uri,
            experiment=PROXY_EXPERIMENT,
            config=config or ProxyConfig(steps=PROXY_STEPS),
            store=lake.store,
            artifact_location=settings.mlflow_artifacts_uri,
            tags={"dagster.run_id": context.run.run_id},
        )
        return dg.MaterializeResult(
            metadata={
                "mlflow run id": run_id,
                "mlflow experiment": PROXY_EXPERIMENT,
                "device": result.device,
                "val_loss": result.val_loss,
                **{f"val_loss {k}": v for k, v in result.val_loss_by_source.items()},
            }
        )

    return _proxy


proxy_training_assets = [proxy_training_asset(name) for name in mixture_recipes]
