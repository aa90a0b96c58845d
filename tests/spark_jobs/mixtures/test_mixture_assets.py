"""The mixtures/<name> and training/proxy/<name> assets materialize through Dagster."""

import dagster as dg
import mlflow
import yaml

from assets.mixtures import mixture_asset
from assets.training import proxy_training_asset
from orchestration.resources import LakehouseResource
from spark_jobs.mixtures.proxy import ProxyConfig
from spark_jobs.mixtures.recipe import MixtureRecipe


def test_mixture_then_proxy_assets(sample_lake, recipe, tmp_path, monkeypatch):
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_LAKE_URI", sample_lake.root_uri)
    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("PILEHOUSE_MLFLOW_TRACKING_URI", tracking)
    path = tmp_path / "asset-mix.yaml"
    path.write_text(yaml.safe_dump({**recipe.to_dict(), "name": "asset-mix"}))
    small = ProxyConfig(d_model=32, n_heads=2, context=32, batch_size=8, steps=10)
    result = dg.materialize(
        [mixture_asset(MixtureRecipe.from_yaml(path)), proxy_training_asset("asset-mix", small)],
        resources={"lakehouse": LakehouseResource()},
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("recipe_conformance", True)]
    built = result.asset_materializations_for_node("mixtures__asset_mix")[0].metadata
    assert built["tokens"].value > 0 and built["curated.web version"].value == 0
    proxy = result.asset_materializations_for_node("training__proxy__asset_mix")[0].metadata
    run = mlflow.MlflowClient(tracking).get_run(proxy["mlflow run id"].value)
    assert run.data.tags["dagster.run_id"] == result.run_id
    assert {d.dataset.name for d in run.inputs.dataset_inputs} >= {"mixtures.asset-mix"}
