"""Classifier models in MLflow: one run per training (params, metrics, the model files) and a
registered model version per run; scoring resolves a name + version back to the files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from spark_jobs.classifiers.annotator import ModelRef
from spark_jobs.tracking import ensure_experiment

LATEST = "latest"


def log_and_register(
    tracking_uri: str,
    experiment: str,
    model_name: str,
    model_dir: Path,
    *,
    params: Mapping[str, object],
    metrics: Mapping[str, float],
    tags: Mapping[str, str] | None = None,
    artifact_location: str | None = None,
) -> tuple[ModelRef, str]:
    """Log a training run with `model_dir` as its `model` artifact; register it as a new
    version of `model_name`. Returns the version and the run id."""
    mlflow.set_tracking_uri(tracking_uri)
    ensure_experiment(tracking_uri, experiment, artifact_location)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=model_name, tags=dict(tags or {})) as run:
        mlflow.log_params({k: str(v) for k, v in params.items()})
        mlflow.log_metrics(dict(metrics))
        mlflow.log_artifacts(str(model_dir), artifact_path="model")
        artifact_uri = run.info.artifact_uri
    client = MlflowClient(tracking_uri)
    try:
        client.create_registered_model(model_name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(
        model_name, source=f"{artifact_uri}/model", run_id=run.info.run_id, tags=dict(tags or {})
    )
    return ModelRef(model_name, int(version.version)), run.info.run_id


def resolve(tracking_uri: str, name: str, version: int | str = LATEST) -> ModelRef:
    """A concrete version of a registered model: `version` itself, or the newest one."""
    client = MlflowClient(tracking_uri)
    if str(version) != LATEST:
        client.get_model_version(name, str(version))  # raises if it does not exist
        return ModelRef(name, int(version))
    found = client.search_model_versions(
        f"name='{name}'", order_by=["version_number DESC"], max_results=1
    )
    if not found:
        raise LookupError(
            f"no version of model {name!r} is registered in MLflow at {tracking_uri}; "
            "materialize its training asset first (group classifiers)"
        )
    return ModelRef(name, int(found[0].version))


def download(tracking_uri: str, ref: ModelRef, cache_dir: Path) -> Path:
    """The model version's files in a local directory (downloaded once per version)."""
    target = cache_dir / ref.name / f"v{ref.version}"
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.artifacts.download_artifacts(artifact_uri=ref.uri, dst_path=str(target))
        (target / ".complete").touch()
    return target


def files_uri(tracking_uri: str, ref: ModelRef) -> str:
    """Where the version's files are stored (its artifact location: a local path, s3://...),
    which executors read without asking the tracking store."""
    return MlflowClient(tracking_uri).get_model_version(ref.name, str(ref.version)).source


def version_metrics(tracking_uri: str, ref: ModelRef) -> dict[str, float]:
    """The metrics of the run that produced a model version."""
    client = MlflowClient(tracking_uri)
    run_id = client.get_model_version(ref.name, str(ref.version)).run_id
    return dict(client.get_run(run_id).data.metrics)
