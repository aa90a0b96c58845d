import json

import mlflow
import pytest

from spark_jobs.mixtures.build import materialize_mixture
from spark_jobs.mixtures.proxy import ProxyConfig, run_proxy_training
from spark_jobs.mixtures.recipe import MixtureRecipe

SMALL = ProxyConfig(d_model=32, n_layers=2, n_heads=2, context=32, batch_size=8, steps=40)


def test_proxy_runs_of_two_mixtures_land_in_mlflow_with_inputs_and_per_source_loss(
    sample_lake, recipe, tmp_path
):
    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    artifacts = str(tmp_path / "artifacts")
    code_heavy = MixtureRecipe.from_dict(
        {**recipe.with_weights(web=1, code=3).to_dict(), "name": "test-mix-code-heavy"}
    )
    run_ids = {}
    for mix in (recipe, code_heavy):
        exported = materialize_mixture(sample_lake, mix, tracking_uri=tracking)
        run_id, result = run_proxy_training(
            exported.manifest_uri,
            tracking_uri=tracking,
            experiment="proxy-test",
            config=SMALL,
            artifact_location=artifacts,
        )
        run_ids[mix.name] = (run_id, exported.manifest)
        assert result.train_losses[-1] < result.train_losses[0]

    # One tokenizer for both recipes (drawn from all curated text), so losses compare.
    manifests = [manifest for _, manifest in run_ids.values()]
    assert manifests[0]["tokenizer"]["version"] == manifests[1]["tokenizer"]["version"]
    assert [i["table"] for i in manifests[0]["tokenizer"]["sample_inputs"]] == [
        "curated.code",
        "curated.web",
    ]

    client = mlflow.MlflowClient(tracking)
    experiment = client.get_experiment_by_name("proxy-test")
    compared = client.search_runs([experiment.experiment_id])
    assert {r.info.run_id for r in compared} == {run_id for run_id, _ in run_ids.values()}

    for name, (run_id, manifest) in run_ids.items():
        run = client.get_run(run_id)
        inputs = {d.dataset.name: json.loads(d.dataset.source) for d in run.inputs.dataset_inputs}
        assert set(inputs) == {"curated.web", "curated.code", f"mixtures.{name}"}
        assert inputs["curated.web"]["delta_table_version"] == 0
        assert inputs[f"mixtures.{name}"]["delta_table_version"] == manifest["mixture"]["version"]
        assert inputs["curated.web"]["path"] == sample_lake.uri("curated.web")
        metrics = run.data.metrics
        per_source = {k for k in metrics if k.startswith("val_loss.")}
        assert per_source == {"val_loss.crawl-a", "val_loss.crawl-b", "val_loss.repos"}
        assert all(0 < metrics[k] < 10 for k in per_source)
        assert run.data.params["mixture.recipe_hash"] == manifest["recipe_hash"]
        assert run.data.params["tokenizer.version"] == manifest["tokenizer"]["version"]
        assert "manifest.json" in {a.path for a in client.list_artifacts(run_id)}
    # The code-heavy mixture's validation set holds more code tokens.
    code_tokens = {
        name: client.get_run(run_id).data.metrics["val_tokens.repos"]
        for name, (run_id, _) in run_ids.items()
    }
    assert code_tokens["test-mix-code-heavy"] > code_tokens["test-mix"]
    # The tokenizer is versioned once in MLflow, as an artifact.
    tokenizer_runs = client.search_runs(
        [client.get_experiment_by_name("pilehouse-tokenizers").experiment_id]
    )
    assert tokenizer_runs and all(r.data.tags["tokenizer.version"] for r in tokenizer_runs)
    assert [a.path for a in client.list_artifacts(tokenizer_runs[0].info.run_id)] == [
        "tokenizer.json"
    ]


@pytest.mark.gpu
def test_proxy_trains_on_the_gpu(sample_lake, recipe, tmp_path):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    exported = materialize_mixture(sample_lake, recipe, export_uri=str(tmp_path / "g"))
    from spark_jobs.mixtures.proxy import train_proxy

    result = train_proxy(exported.manifest, exported.directory, SMALL)
    assert result.device.startswith("cuda") and result.val_loss > 0
