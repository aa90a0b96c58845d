"""The classifier stage on a real Spark standalone cluster whose worker advertises GPUs
(a fake address list on machines without one): tasks get GPU addresses through stage-level
scheduling, other stages get none, and the scores equal those of a local run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.spark_cluster import StandaloneCluster
from spark_jobs.classifiers import registry
from spark_jobs.classifiers.fasttext_quality import (
    QUALITY_MODEL_NAME,
    QualityTrainingConfig,
    train_quality_model,
)
from spark_jobs.classifiers.heads import HeadTrainingConfig, load_seed_set
from spark_jobs.classifiers.scoring import ClassifierSet, classify_documents, resolve_classifiers
from spark_jobs.classifiers.training import MlflowTarget, train_embedding_heads

pytestmark = pytest.mark.spark

FAKE_GPUS = ("0", "1")
ROOT = Path(__file__).resolve().parents[1]

# Runs in its own process: one JVM holds one SparkContext, and the test session's is local.
CLUSTER_RUN = """
import json, sys
import pyarrow as pa
from spark_jobs.classifiers.gpu import assigned_gpus, classifier_profile
from spark_jobs.classifiers.registry import ModelRef
from spark_jobs.classifiers.scoring import ClassifierSet, classify_documents
from spark_jobs.session import get_spark

args = json.load(open(sys.argv[1]))
spark = get_spark(args["master"], app_name="gpu-scheduling-test", conf=args["conf"])
classifiers = ClassifierSet(
    {k: ModelRef(**v) for k, v in args["refs"].items()}, args["paths"], args["max_tokens"]
)
documents = spark.createDataFrame(args["documents"], "id string, source string, text string")
scored = classify_documents(documents.repartition(4), classifiers, profile=classifier_profile())
rows = [r.asDict() for r in scored.drop("embedding").collect()]

def addresses(batches):
    seen = ",".join(assigned_gpus())
    for batch in batches:
        yield pa.RecordBatch.from_pydict({"gpus": [seen] * batch.num_rows})

plain = documents.repartition(2).mapInArrow(addresses, "gpus string").collect()
json.dump({"scored": rows, "plain_stage_gpus": sorted({r.gpus for r in plain})},
          open(sys.argv[2], "w"))
spark.stop()
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Master + worker with two (fake) GPUs; stopped by the finalizer even if a test fails."""
    instance = StandaloneCluster(
        tmp_path_factory.mktemp("spark-cluster"),
        worker_cores=2,
        worker_memory="2g",
        gpus_per_worker=len(FAKE_GPUS),
        fake_gpus=",".join(FAKE_GPUS),
    )
    instance.start()
    yield instance
    instance.stop()
    assert not instance.running


@pytest.fixture(scope="module")
def classifiers(tmp_path_factory) -> ClassifierSet:
    root = tmp_path_factory.mktemp("gpu-models")
    target = MlflowTarget(f"sqlite:///{root}/mlflow.db", "test", str(root / "artifacts"))
    seed = load_seed_set()
    reference = [r["text"] for r in seed if r["topic"] in {"language_reference", "api_reference"}]
    junk = [r["text"] for r in seed if r["topic"] in {"commerce_spam", "log_output"}]
    train_quality_model(reference, junk, QualityTrainingConfig(), root / "quality")
    registry.log_and_register(
        target.tracking_uri, target.experiment, QUALITY_MODEL_NAME, root / "quality",
        params={}, metrics={}, artifact_location=target.artifact_location,
    )  # fmt: skip
    train_embedding_heads(target, HeadTrainingConfig(epochs=50), limit_per_topic=3)
    return resolve_classifiers(target.tracking_uri, root / "cache", max_tokens=64)


def _documents() -> list[dict]:
    seed = load_seed_set()
    picked = seed[::15]  # 24 documents across the topics
    return [{"id": r["id"], "source": "seed", "text": r["text"]} for r in picked]


def test_classifier_tasks_get_gpu_addresses_and_score_like_the_local_run(
    spark, cluster, classifiers, tmp_path
):
    documents = _documents()
    frame = spark.createDataFrame(documents, "id string, source string, text string")
    local = classify_documents(frame, classifiers)
    local_rows = {r.id: r.asDict() for r in local.drop("embedding").collect()}

    args = {
        "master": cluster.master_url,
        "conf": {
            **cluster.application_conf(driver_host="127.0.0.1"),
            "spark.driver.memory": "1g",
            "spark.ui.enabled": "false",
        },
        "refs": {k: {"name": v.name, "version": v.version} for k, v in classifiers.refs.items()},
        "paths": dict(classifiers.paths),
        "max_tokens": classifiers.max_tokens,
        "documents": documents,
    }
    (tmp_path / "args.json").write_text(json.dumps(args))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SPARK_LOCAL_IP", None)  # the child's driver binds what application_conf says
    run = subprocess.run(
        [sys.executable, "-c", CLUSTER_RUN, str(tmp_path / "args.json"), str(tmp_path / "out.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads((tmp_path / "out.json").read_text())

    scored = {r["id"]: r for r in result["scored"]}
    assert set(scored) == set(local_rows)
    for doc_id, row in scored.items():
        # Each task held exactly one of the worker's GPUs; without CUDA it ran on the CPU.
        assert len(row["gpu_addresses"]) == 1 and row["gpu_addresses"][0] in FAKE_GPUS
        assert row["device"] == ("cpu" if not _cuda() else f"cuda:{row['gpu_addresses'][0]}")
        expected = local_rows[doc_id]
        assert expected["gpu_addresses"] == []
        assert row["topic"] == expected["topic"]
        assert row["quality_score"] == pytest.approx(expected["quality_score"], abs=1e-6)
        assert row["edu_score"] == pytest.approx(expected["edu_score"], abs=1e-3)
        assert (row["quality_model_version"], row["edu_model_version"]) == (1, 1)
    # Stages without the resource profile are not given GPUs.
    assert result["plain_stage_gpus"] == [""]


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
