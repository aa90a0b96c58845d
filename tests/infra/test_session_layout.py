"""Session settings per profile: only `local` binds loopback, parallelism follows the cores,
written files are capped, and the cluster profile's master is what infra/spark_cluster starts."""

from __future__ import annotations

import os

import pytest

from infra.spark_cluster import StandaloneCluster, cluster_from_args
from orchestration.settings import load_settings
from spark_jobs.session import SessionLayout, local_cores, session_conf


def _settings(monkeypatch, profile: str):
    # The product's own settings, not the test session's (tests/conftest.py sets the shuffle
    # partitions per core for every session the tests start).
    for name in (
        "PILEHOUSE_SPARK_MASTER",
        "PILEHOUSE_SPARK_DRIVER_HOST",
        "PILEHOUSE_SPARK_CORES",
        "PILEHOUSE_SPARK_SHUFFLE_PARTITIONS_PER_CORE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PILEHOUSE_PROFILE", profile)
    return load_settings()


def test_the_local_profile_keeps_the_driver_on_loopback(monkeypatch):
    settings = _settings(monkeypatch, "local")
    conf = session_conf("local[2]", settings.spark_conf, settings.spark_layout)
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    # Two cores: 2 tasks and 4 shuffle partitions per core.
    assert conf["spark.default.parallelism"] == "4"
    assert conf["spark.sql.shuffle.partitions"] == "8"
    assert conf["spark.sql.files.maxRecordsPerFile"] == "500000"


def test_the_cluster_profile_forces_no_loopback_address(monkeypatch):
    settings = _settings(monkeypatch, "cluster")
    conf = session_conf(settings.spark_master, settings.spark_conf, settings.spark_layout)
    assert "spark.driver.host" not in conf
    assert "spark.driver.bindAddress" not in conf
    assert not any("127.0.0.1" in value for key, value in conf.items() if key != "spark.master")
    # Cores unknown in advance: Spark derives the parallelism from the registered executors.
    assert "spark.default.parallelism" not in conf
    assert conf["spark.sql.files.maxRecordsPerFile"] == "250000"
    assert conf["spark.sql.files.maxPartitionBytes"] == "256m"


def test_cluster_parallelism_follows_the_executors_cores(monkeypatch):
    settings = _settings(monkeypatch, "cluster")
    cluster = StandaloneCluster(
        "/nonexistent", worker_hosts=["127.0.0.3", "127.0.0.4"], worker_cores=8
    )
    conf = session_conf(
        cluster.master_url,
        {**settings.spark_conf, **cluster.application_conf()},
        settings.spark_layout,
    )
    assert conf["spark.cores.max"] == "16"
    assert conf["spark.default.parallelism"] == str(16 * settings.spark_tasks_per_core)
    assert conf["spark.sql.shuffle.partitions"] == str(
        16 * settings.spark_shuffle_partitions_per_core
    )


def test_a_driver_address_setting_reaches_the_session(monkeypatch):
    monkeypatch.setenv("PILEHOUSE_SPARK_DRIVER_HOST", "10.0.0.7")
    monkeypatch.setenv("PILEHOUSE_PROFILE", "cluster")
    settings = load_settings()
    conf = session_conf(settings.spark_master, settings.spark_conf, settings.spark_layout)
    assert conf["spark.driver.host"] == "10.0.0.7"


def test_explicit_spark_conf_wins_over_the_layout():
    conf = session_conf(
        "local[3]", {"spark.sql.shuffle.partitions": "5"}, SessionLayout(tasks_per_core=3)
    )
    assert conf["spark.sql.shuffle.partitions"] == "5"
    assert conf["spark.default.parallelism"] == "9"


@pytest.mark.parametrize(
    ("master", "cores"), [("local", 1), ("local[3]", 3), ("local[5,2]", 5), ("local[*]", None)]
)
def test_local_cores(master, cores):
    import os

    assert local_cores(master) == (cores or os.cpu_count())


def test_the_cluster_profile_master_is_what_the_infra_helper_starts(monkeypatch):
    settings = _settings(monkeypatch, "cluster")
    assert cluster_from_args([]).master_url == settings.spark_master


@pytest.mark.spark
def test_the_session_applies_the_layout(spark):
    from spark_jobs.session import max_records_per_file

    # local[2] x the tests' partitions per core (tests/conftest.py; the product's default is 4).
    per_core = int(os.environ["PILEHOUSE_SPARK_SHUFFLE_PARTITIONS_PER_CORE"])
    assert spark.conf.get("spark.sql.shuffle.partitions") == str(2 * per_core)
    assert spark.sparkContext.defaultParallelism == 4
    assert max_records_per_file(spark) == 500_000
