"""MLflow lineage: a run that records exactly which Delta table versions it consumed."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import mlflow
from mlflow.data.delta_dataset_source import DeltaDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.utils.file_utils import local_file_uri_to_path

from spark_jobs.delta import open_table
from spark_jobs.storage import LOCAL, ObjectStore

log = logging.getLogger(__name__)


class DeltaSnapshotSource(DeltaDatasetSource):
    """MLflow's Delta source, keeping version 0: MLflow 3.17 drops it with a truthiness test."""

    def to_dict(self) -> dict:
        info = super().to_dict()
        if self._delta_table_version is not None:
            info["delta_table_version"] = self._delta_table_version
        return info


@dataclass(frozen=True)
class TableSnapshot:
    """One input of a run: a lake table at a version."""

    name: str
    uri: str
    version: int
    rows: int

    @property
    def digest(self) -> str:
        return f"v{self.version}"


def default_artifact_location(tracking_uri: str) -> str | None:
    """Where a new experiment's artifacts go when the caller names no place.

    MLflow's own default for a database store is `./mlruns` in the working directory; for
    a SQLite store Pilehouse keeps them next to the database instead.
    """
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri.removeprefix("sqlite:///"))
        return str(database.parent / "mlflow-artifacts")
    return None


def artifact_root(tracking_uri: str, artifact_location: str | None = None) -> str | None:
    """The platform's artifact root for `tracking_uri`: the caller's, else beside SQLite."""
    return artifact_location or default_artifact_location(tracking_uri)


def ensure_experiment(
    tracking_uri: str, experiment: str, artifact_location: str | None = None
) -> str:
    """The id of `experiment`, created (with its artifact root) if it does not exist yet."""
    client = mlflow.MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    location = artifact_root(tracking_uri, artifact_location)
    return client.create_experiment(experiment, artifact_location=location)


def _local_path(uri: str) -> Path | None:
    """The local directory of a plain path or file: URI; None for a remote URI."""
    scheme = urlparse(uri).scheme
    if scheme == "file":
        return Path(local_file_uri_to_path(uri)).resolve()
    if scheme == "":
        return Path(uri).resolve()
    return None


def _outside_root(run_artifact_uri: str, root: str | None) -> bool:
    """Whether a run's artifacts would land on local disk outside the platform's root.

    An experiment Pilehouse did not create (an external job's, or one made with MLflow's
    defaults) keeps its artifacts in `./mlruns` of whichever working directory created it;
    the takedown purge, which scans the lake and the MLflow store, never sees them there.
    """
    if root is None:
        return False
    path, base = _local_path(run_artifact_uri), _local_path(root)
    if path is None or base is None:
        return False
    return path != base and base not in path.parents


def log_dataset_run(
    tracking_uri: str,
    experiment: str,
    run_name: str,
    datasets: Sequence[TableSnapshot],
    *,
    params: Mapping[str, object] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    artifact_location: str | None = None,
) -> str:
    """Open an MLflow run, log each table snapshot as a dataset input, return the run id."""
    mlflow.set_tracking_uri(tracking_uri)
    ensure_experiment(tracking_uri, experiment, artifact_location)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name, tags=dict(tags or {})) as run:
        for snapshot in datasets:
            source = DeltaSnapshotSource(path=snapshot.uri, delta_table_version=snapshot.version)
            dataset = MetaDataset(source=source, name=snapshot.name, digest=snapshot.digest)
            mlflow.log_input(dataset, context="training")
            mlflow.log_param(f"table.{snapshot.name}.version", snapshot.version)
            mlflow.log_metric(f"table.{snapshot.name}.rows", snapshot.rows)
        if params:
            mlflow.log_params({k: str(v) for k, v in params.items()})
        if metrics:
            mlflow.log_metrics(dict(metrics))
        return run.info.run_id


# --- Mixture runs: proxy training and external training jobs -------------------------------

MIXTURE_TAG = "pilehouse.mixture"
MANIFEST_TAG = "pilehouse.manifest_uri"
MIXTURE_SOURCE_CONTEXT = "mixture_source"
# MLflow rejects longer param values.
_PARAM_LIMIT = 6000


ARTIFACTS_TAG = "pilehouse.artifacts_uri"
# Where the artifacts of the run open_run yielded go, when not in the run's own artifact root.
_ARTIFACTS_URI: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pilehouse_artifacts_uri", default=None
)


@contextlib.contextmanager
def open_run(
    tracking_uri: str,
    experiment: str,
    *,
    run_id: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    artifact_location: str | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """Start a run in `experiment`, or attach to an existing run by id (external jobs).

    Artifacts logged with `log_artifact`/`log_dict` below stay under the platform's artifact
    root (`artifact_location`, else beside the SQLite store): when the run's own root is a
    local directory elsewhere (an experiment Pilehouse did not create), they go to
    `<root>/external-runs/<run id>/artifacts` instead, named by the run tag `ARTIFACTS_TAG`.
    """
    mlflow.set_tracking_uri(tracking_uri)
    root = artifact_root(tracking_uri, artifact_location)
    if run_id is None:
        ensure_experiment(tracking_uri, experiment, artifact_location)
        mlflow.set_experiment(experiment)
        with (
            mlflow.start_run(run_name=run_name, tags=dict(tags or {})) as run,
            _artifacts_beside_store(root),
        ):
            yield run
        return
    # An attached run belongs to the job that opened it: leave its status as it was.
    info = mlflow.MlflowClient(tracking_uri).get_run(run_id).info
    status = info.status
    # The fluent API refuses a run of another experiment than the active one.
    mlflow.set_experiment(experiment_id=info.experiment_id)
    run = mlflow.start_run(run_id=run_id, tags=dict(tags or {}))
    try:
        with _artifacts_beside_store(root):
            yield run
    finally:
        mlflow.end_run(status=status)


@contextlib.contextmanager
def _artifacts_beside_store(root: str | None) -> Iterator[None]:
    """Route the active run's artifacts under `root` while the block runs."""
    run = mlflow.active_run()
    redirect = None
    if _outside_root(run.info.artifact_uri, root):
        redirect = f"{root.rstrip('/')}/external-runs/{run.info.run_id}/artifacts"
        log.warning(
            "run %s keeps its artifacts outside %s (%s); Pilehouse logs its own to %s",
            run.info.run_id,
            root,
            run.info.artifact_uri,
            redirect,
        )
        mlflow.set_tag(ARTIFACTS_TAG, redirect)
    token = _ARTIFACTS_URI.set(redirect)
    try:
        yield
    finally:
        _ARTIFACTS_URI.reset(token)


def log_artifact(local_path: str, artifact_path: str | None = None) -> None:
    """`mlflow.log_artifact` into the active run, kept under the platform's artifact root."""
    redirect = _ARTIFACTS_URI.get()
    if redirect is None:
        mlflow.log_artifact(local_path, artifact_path)
    else:
        get_artifact_repository(redirect).log_artifact(local_path, artifact_path)


def log_dict(data: Mapping, artifact_file: str) -> None:
    """`mlflow.log_dict` (JSON) into the active run, kept under the platform's artifact root."""
    if _ARTIFACTS_URI.get() is None:
        mlflow.log_dict(dict(data), artifact_file)
        return
    directory, _, name = artifact_file.rpartition("/")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / name
        path.write_text(json.dumps(dict(data), indent=2))
        log_artifact(str(path), directory or None)


def manifest_snapshots(manifest: Mapping, store: ObjectStore = LOCAL) -> list[TableSnapshot]:
    """The Delta tables a mixture export was cut from: its curated inputs and the mixture."""
    snapshots = []
    tables = [*manifest["inputs"], {**manifest["mixture"], "table": manifest["mixture"]["table"]}]
    for entry in tables:
        table = open_table(entry["uri"], version=entry["version"], store=store)
        records = table.get_add_actions(flatten=True).column("num_records").to_pylist()
        rows = sum(int(n) for n in records)
        snapshots.append(TableSnapshot(entry["table"], entry["uri"], entry["version"], rows))
    return snapshots


def log_manifest(manifest: Mapping, manifest_uri: str, snapshots: Sequence[TableSnapshot]) -> None:
    """Log a mixture manifest into the active run: datasets, params, tags, manifest.json."""
    mixture = manifest["mixture"]
    for snapshot in snapshots:
        source = DeltaSnapshotSource(path=snapshot.uri, delta_table_version=snapshot.version)
        dataset = MetaDataset(source=source, name=snapshot.name, digest=snapshot.digest)
        # The mixture is what the run trained on; the curated tables are what it was drawn
        # from (the UI shows the context next to each dataset).
        context = "training" if snapshot.name == mixture["table"] else MIXTURE_SOURCE_CONTEXT
        mlflow.log_input(dataset, context=context)
    recipe = json.dumps(manifest["recipe"], sort_keys=True)
    mlflow.log_params(
        {
            "mixture.name": mixture["name"],
            "mixture.version": mixture["version"],
            "mixture.recipe_hash": manifest["recipe_hash"],
            "mixture.recipe": recipe[:_PARAM_LIMIT],
            "mixture.tokens": manifest["totals"]["tokens"],
            "mixture.sequence_length": manifest["sequence_length"],
            "tokenizer.version": manifest["tokenizer"]["version"],
            "tokenizer.vocab_size": manifest["tokenizer"]["vocab_size"],
            **{f"table.{s.name}.version": s.version for s in snapshots},
        }
    )
    mlflow.set_tags({MIXTURE_TAG: mixture["name"], MANIFEST_TAG: manifest_uri})
    log_dict(manifest, "manifest.json")


@dataclass(frozen=True)
class RunInput:
    """A Delta dataset input read back from an MLflow run."""

    name: str
    uri: str
    version: int | None
    context: str | None


def run_inputs(client: mlflow.MlflowClient, run_id: str) -> list[RunInput]:
    """The Delta table snapshots a run logged as dataset inputs."""
    run = client.get_run(run_id)
    found = []
    for dataset_input in run.inputs.dataset_inputs or []:
        dataset = dataset_input.dataset
        if dataset.source_type != "delta_table":
            continue
        source = json.loads(dataset.source)
        version = source.get("delta_table_version")
        context = next(
            (t.value for t in dataset_input.tags if t.key == "mlflow.data.context"), None
        )
        found.append(
            RunInput(
                dataset.name,
                source.get("path") or source.get("delta_table_name") or "",
                int(version) if version is not None else None,
                context,
            )
        )
    return found
