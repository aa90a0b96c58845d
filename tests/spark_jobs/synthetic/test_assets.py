"""synthetic/<recipe>, annotated/synthetic and curated/synthetic materialize through Dagster
against the real test server, with the generation figures as asset metadata; the generation
stage asks for the classifier stage's GPU profile when the recipe's endpoint runs on the
cluster."""

from __future__ import annotations

import dagster as dg
import yaml

from assets.synthetic import synthetic_family
from orchestration.resources import LakehouseResource
from spark_jobs.classifiers.gpu import GPU
from spark_jobs.delta import read_arrow, table_history
from spark_jobs.synthetic.generate import generation_profile
from spark_jobs.synthetic.recipe import SyntheticRecipe
from spark_jobs.synthetic.server import MODEL_NAME


def test_assets_materialize_against_the_test_server(
    spark, sources, make_recipe, endpoint, tmp_path, monkeypatch
):
    spec = make_recipe(requests={"concurrency": 2, "retries": 3, "backoff_s": 0.01, "chunks": 2})
    path = tmp_path / "rephrase-test.yaml"  # as a user writes it: YAML, name = file stem
    path.write_text(yaml.safe_dump(spec.spec.model_dump(mode="json", exclude={"name"})))
    recipe = SyntheticRecipe.from_yaml(path)
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_LAKE_URI", sources.root_uri)
    endpoint.faults(queue=[{"status": 429, "retry_after": 0}, {"status": 500}])

    assets = synthetic_family({recipe.name: recipe})
    assert [a.key.to_user_string() for a in assets] == [
        "synthetic/rephrase-test",
        "annotated/synthetic",
        "curated/synthetic",
    ]
    assert assets[1].asset_deps[assets[1].key] == {assets[0].key}
    result = dg.materialize(assets, resources={"lakehouse": LakehouseResource()})
    assert result.success
    built = result.asset_materializations_for_node("synthetic__rephrase_test")[0].metadata
    assert built["ok"].value == 8 and built["failed requests"].value == 0
    assert built["completion tokens"].value > 0
    assert built["model reported"].value == MODEL_NAME
    assert built["endpoint"].value == endpoint.base_url
    assert built["input curated.web version"].value == 0
    # Both injected failures were retried: 8 answers took 10 requests.
    assert endpoint.stats()["requests"] == 10
    history = table_history(sources.uri("synthetic.rephrase-test"))
    assert {h["dagster.asset_key"] for h in history} == {"synthetic/rephrase-test"}
    assert {h["dagster.run_id"] for h in history} == {result.run_id}

    annotated = result.asset_materializations_for_node("annotated__synthetic")[0].metadata
    assert annotated["rephrase-test: annotated"].value == 8
    curated = result.asset_materializations_for_node("curated__synthetic")[0].metadata
    rejected = curated["rejected"].value
    assert curated["kept"].value + rejected == 8
    kept = read_arrow(sources.uri("curated.synthetic"))
    assert kept.num_rows == curated["kept"].value


def test_generation_asks_for_gpu_executors_when_the_endpoint_runs_on_the_cluster():
    def recipe(gpu: bool) -> SyntheticRecipe:
        return SyntheticRecipe.from_dict(
            {
                "name": "on-cluster",
                "source": {"table": "curated.web"},
                "transformation": {"kind": "qa", "template": "q"},
                "templates": {"q": "Questions about: {text}"},
                "generator": {"base_url": "http://vllm:8000/v1", "model": "m", "gpu": gpu},
            }
        )

    profile = generation_profile(recipe(gpu=True), local=False)
    assert profile.taskResources[GPU].amount == 1.0
    assert GPU not in profile.executorResources
    # Local mode has no stage-level scheduling; a separate serving cluster needs no GPU here.
    assert generation_profile(recipe(gpu=True), local=True) is None
    assert generation_profile(recipe(gpu=False), local=False) is None
