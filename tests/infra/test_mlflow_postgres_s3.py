"""The cluster profile's MLflow: tracking and model registry in the Postgres database the infra
helper creates, artifacts in s3://<lake bucket>/mlflow; a registered classifier loads back in
another process, and where the driver's copy does not exist (an executor on another machine)
from S3 itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from infra.postgres import DATABASES
from orchestration.settings import load_settings
from spark_jobs.classifiers import registry
from spark_jobs.classifiers.fasttext_quality import (
    MODEL_FILE,
    QUALITY_MODEL_NAME,
    QualityScorer,
    QualityTrainingConfig,
    train_quality_model,
)
from spark_jobs.classifiers.heads import load_seed_set
from spark_jobs.tracking import open_run

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "mlflow-cluster"
TEXTS = [
    "The for statement iterates over the items of any sequence, in the order they appear.",
    "BUY NOW cheap watches best price click here free shipping limited offer!!!",
    "",
]

# What an executor does with the model set it was handed (annotate_texts is the function the
# classifier stage's Spark tasks call), in a process that shares nothing with the test's.
LOAD_BACK = """
import json, sys
from pathlib import Path
from orchestration.settings import load_settings
from spark_jobs.classifiers.scoring import ClassifierSet, annotate_texts, resolve_classifiers

args = json.loads(sys.argv[1])
settings = load_settings()
resolved = resolve_classifiers(
    settings.mlflow_tracking_uri, Path(args["cache"]), families=("quality",), store=settings.store
)
on_driver = annotate_texts(args["texts"], resolved, "cpu")["quality_score"]
# As on another machine: the driver's download directory does not exist here.
elsewhere = ClassifierSet(
    resolved.refs, {"quality": "/nonexistent/driver-cache"}, resolved.max_tokens,
    resolved.sources, resolved.store,
)
on_executor = annotate_texts(args["texts"], elsewhere, "cpu")["quality_score"]
print(json.dumps({
    "ref": str(resolved.refs["quality"]),
    "source": resolved.sources["quality"],
    "executor_dir": elsewhere.local_dir("quality"),
    "driver": [float(x) for x in on_driver],
    "executor": [float(x) for x in on_executor],
}))
"""


@pytest.fixture
def cluster_settings(postgres, s3, tmp_path, monkeypatch):
    s3.create_bucket(BUCKET)
    monkeypatch.setenv("PILEHOUSE_PROFILE", "cluster")
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PILEHOUSE_LAKE_URI", f"s3://{BUCKET}/lake")
    monkeypatch.setenv("PILEHOUSE_S3_ENDPOINT_URL", s3.endpoint_url)
    monkeypatch.setenv("PILEHOUSE_MLFLOW_TRACKING_URI", postgres.mlflow_url)
    monkeypatch.delenv("PILEHOUSE_MLFLOW_ARTIFACTS_URI", raising=False)
    monkeypatch.delenv("MLFLOW_S3_ENDPOINT_URL", raising=False)
    return load_settings()


def test_the_infra_helper_creates_both_databases(postgres):
    with psycopg2.connect(postgres.dsn_of("postgres")) as connection, connection.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        names = {row[0] for row in cur.fetchall()}
    assert set(DATABASES) == {"dagster", "mlflow"} <= names
    assert postgres.url.endswith("/dagster") and postgres.mlflow_url.endswith("/mlflow")


def test_a_model_registered_on_postgres_and_s3_loads_in_another_process(
    cluster_settings, postgres, s3, tmp_path
):
    settings = cluster_settings
    assert settings.mlflow_artifacts_uri == f"s3://{BUCKET}/mlflow"
    assert os.environ["MLFLOW_S3_ENDPOINT_URL"] == s3.endpoint_url

    seed = load_seed_set()
    reference = [r["text"] for r in seed if r["topic"] in {"language_reference", "api_reference"}]
    junk = [r["text"] for r in seed if r["topic"] in {"commerce_spam", "log_output"}]
    model_dir = tmp_path / "quality"
    train_quality_model(reference, junk, QualityTrainingConfig(), model_dir)
    ref, run_id = registry.log_and_register(
        settings.mlflow_tracking_uri, "classifiers", QUALITY_MODEL_NAME, model_dir,
        params={"seed": 0}, metrics={"f1": 1.0},
        artifact_location=settings.mlflow_artifacts_uri,
    )  # fmt: skip
    with open_run(
        settings.mlflow_tracking_uri,
        "pilehouse",
        run_name="lineage",
        artifact_location=settings.mlflow_artifacts_uri,
    ) as run:
        from spark_jobs.tracking import log_dict

        log_dict({"tables": {"curated.web": 3}}, "manifest.json")
        lineage_run = run.info.run_id

    # Runs, the registered model and its version are rows of the mlflow database ...
    with psycopg2.connect(postgres.dsn_of("mlflow")) as connection, connection.cursor() as cur:
        cur.execute("SELECT run_uuid, artifact_uri FROM runs")
        runs = dict(cur.fetchall())
        cur.execute("SELECT name, version, source FROM model_versions")
        versions = cur.fetchall()
    assert set(runs) == {run_id, lineage_run}
    assert all(uri.startswith(f"s3://{BUCKET}/mlflow/") for uri in runs.values())
    assert versions == [(QUALITY_MODEL_NAME, ref.version, f"{runs[run_id]}/model")]
    # ... and the files are objects in the bucket, not files under PILEHOUSE_HOME.
    keys = {
        obj["Key"]
        for obj in s3.client().list_objects_v2(Bucket=BUCKET, Prefix="mlflow/")["Contents"]
    }
    assert f"mlflow/{run_id}/artifacts/model/{MODEL_FILE}" in keys
    assert f"mlflow/{lineage_run}/artifacts/manifest.json" in keys
    assert not (Path(settings.home) / "mlflow-artifacts").exists()

    # Another process, given only the environment (settings and S3 keys), loads the version.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MLFLOW_S3_ENDPOINT_URL")  # the settings export it, not the caller
    args = {"cache": str(tmp_path / "other-cache"), "texts": TEXTS}
    child = subprocess.run(
        [sys.executable, "-c", LOAD_BACK, json.dumps(args)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr[-4000:]
    loaded = json.loads(child.stdout.strip().splitlines()[-1])
    expected = [float(x) for x in QualityScorer.load(model_dir).score(TEXTS)]
    assert loaded["ref"] == str(ref)
    assert loaded["source"] == f"{runs[run_id]}/model"
    assert loaded["driver"] == pytest.approx(expected)
    assert loaded["executor"] == loaded["driver"]
    assert Path(loaded["executor_dir"]).is_dir()
    assert loaded["executor_dir"] != "/nonexistent/driver-cache"
