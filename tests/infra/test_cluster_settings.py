"""Cluster-profile settings that need no server: MLflow's artifact root follows the lake onto
S3, the infra servers refuse non-loopback addresses, and an executor without the driver's model
directory copies the version's files from where MLflow stores them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.seaweedfs import SeaweedS3
from orchestration.settings import load_settings
from spark_jobs.classifiers.registry import ModelRef
from spark_jobs.classifiers.scoring import ClassifierSet


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("PILEHOUSE_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("MLFLOW_S3_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path / "home"))
    return monkeypatch


def test_local_artifacts_stay_beside_the_sqlite_store(env, tmp_path):
    settings = load_settings()
    assert settings.mlflow_artifacts_uri == str(tmp_path / "home" / "mlflow-artifacts")
    assert "MLFLOW_S3_ENDPOINT_URL" not in os.environ


def test_a_lake_on_s3_puts_mlflow_artifacts_in_its_bucket(env):
    env.setenv("PILEHOUSE_PROFILE", "cluster")
    env.setenv("PILEHOUSE_LAKE_URI", "s3://corpus-lake/tables/v1")
    env.setenv("PILEHOUSE_S3_ENDPOINT_URL", "http://10.1.2.3:8333")
    settings = load_settings()
    assert settings.mlflow_artifacts_uri == "s3://corpus-lake/mlflow"
    # MLflow's boto3 client reads its endpoint from this variable only.
    assert os.environ["MLFLOW_S3_ENDPOINT_URL"] == "http://10.1.2.3:8333"


def test_an_explicit_artifact_root_wins(env):
    env.setenv("PILEHOUSE_LAKE_URI", "s3://corpus-lake/tables")
    env.setenv("PILEHOUSE_MLFLOW_ARTIFACTS_URI", "s3://models/mlflow")
    assert load_settings().mlflow_artifacts_uri == "s3://models/mlflow"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.2"])
def test_the_test_s3_server_binds_loopback_only(host, tmp_path):
    with pytest.raises(ValueError, match="loopback"):
        SeaweedS3(tmp_path, host=host)


def test_an_executor_copies_a_model_it_does_not_have(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "executor-tmp"))
    (tmp_path / "executor-tmp").mkdir()
    stored = tmp_path / "artifacts" / "run" / "model"
    stored.mkdir(parents=True)
    (stored / "quality.bin").write_bytes(b"model bytes")
    ref = ModelRef("quality-classifier", 3)
    on_driver = str(tmp_path / "driver-only" / "v3")  # does not exist on this "machine"
    models = ClassifierSet(
        {"quality": ref}, {"quality": on_driver}, sources={"quality": str(stored)}
    )

    local = Path(models.local_dir("quality"))
    assert local == tmp_path / "executor-tmp" / "pilehouse-models" / "quality-classifier" / "v3"
    assert (local / "quality.bin").read_bytes() == b"model bytes"
    # Fetched once: a second call uses the copy, even when the source is gone.
    (stored / "quality.bin").unlink()
    assert models.local_dir("quality") == str(local)
    assert not list(local.parent.glob(".v3-*"))  # no scratch directory left behind


def test_the_drivers_directory_is_used_where_it_exists(tmp_path):
    on_driver = tmp_path / "cache" / "v1"
    on_driver.mkdir(parents=True)
    models = ClassifierSet(
        {"quality": ModelRef("q", 1)}, {"quality": str(on_driver)}, sources={"quality": "s3://x/y"}
    )
    assert models.local_dir("quality") == str(on_driver)
