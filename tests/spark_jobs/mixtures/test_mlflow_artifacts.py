"""Pilehouse writes MLflow artifacts beside its own store, never into ./mlruns, even into a run
of an experiment some other job created with MLflow's default artifact root (`./mlruns` of
that job's working directory)."""

from pathlib import Path

import mlflow
import pytest

from spark_jobs.lineage import start_training_run
from spark_jobs.mixtures.build import materialize_mixture
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.tracking import ARTIFACTS_TAG

RECIPE = {
    "name": "artifact-mix",
    "seed": 3,
    "token_budget": 20000,
    "license_policy": "permissive-only",
    "languages": ["en"],
    "sequence_length": 32,
    "sequences_per_shard": 128,
    "tokenizer": {"vocab_size": 300, "sample_docs": 100},
    "components": [{"name": "web", "corpus": "web", "weight": 1}],
}


@pytest.fixture(scope="module")
def exported(sample_lake):
    return materialize_mixture(sample_lake, MixtureRecipe.from_dict(RECIPE))


@pytest.mark.parametrize("attach", [True, False], ids=["attached-run", "foreign-experiment"])
def test_manifest_goes_beside_the_store_not_into_cwd(
    sample_lake, exported, tmp_path, monkeypatch, attach
):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    home = tmp_path / "home"
    home.mkdir()
    tracking = f"sqlite:///{home}/mlflow.db"
    client = mlflow.MlflowClient(tracking)
    # An external trainer's experiment, created with MLflow's default root: ./mlruns.
    foreign = client.create_experiment("my-trainer")
    own = client.create_run(foreign).info.run_id if attach else None

    run_id = start_training_run(
        sample_lake,
        "artifact-mix",
        tracking_uri=tracking,
        experiment="my-trainer",
        run_id=own,
        manifest_uri=exported.manifest_uri,
    )

    assert not (cwd / "mlruns").exists(), sorted(p for p in cwd.rglob("*"))
    stored = list((home / "mlflow-artifacts").rglob("manifest.json"))
    assert len(stored) == 1 and run_id in str(stored[0])
    run = client.get_run(run_id)
    assert Path(run.data.tags[ARTIFACTS_TAG]) == stored[0].parent
    assert {d.dataset.name for d in run.inputs.dataset_inputs} == {
        "curated.web",
        "mixtures.artifact-mix",
    }
    if attach:
        assert run.info.status == "RUNNING"
