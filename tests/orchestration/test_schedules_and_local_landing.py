"""Schedules and jobs the UI shows, the Spark pool limit of the instance, and the landing
sensor on the embedded default's local landing directory."""

from __future__ import annotations

import os
import time

import dagster as dg

from assets.corpus import SPARK_POOL
from orchestration.definitions import defs
from orchestration.instance import prepare_dagster_home
from orchestration.sensors import build_landing_sensor
from orchestration.settings import load_settings
from spark_jobs.lake import CORPORA
from spark_jobs.landing import LandingCursor


def test_nightly_mixtures_and_weekly_quality_report_are_scheduled_and_stopped_by_default():
    schedules = {s.name: defs.resolve_schedule_def(s.name) for s in defs.schedules}
    nightly, weekly = schedules["nightly_mixtures"], schedules["weekly_quality_report"]
    assert (nightly.cron_schedule, weekly.cron_schedule) == ("0 2 * * *", "0 4 * * 0")
    assert nightly.default_status == weekly.default_status == dg.DefaultScheduleStatus.STOPPED
    graph = defs.resolve_asset_graph()
    mixtures = defs.resolve_job_def(nightly.job_name).asset_layer.selected_asset_keys
    assert all(graph.get(k).group_name == "mixtures" or k.path[0] == "mixtures" for k in mixtures)
    quality = defs.resolve_job_def(weekly.job_name)
    assert quality.asset_layer.selected_asset_keys == {dg.AssetKey(["reports", "corpus"])}
    checked = {k.asset_key for k in quality.asset_layer.asset_graph.asset_check_keys}
    assert {dg.AssetKey(["curated", c]) for c in CORPORA} <= checked


def test_sensors_run_by_default_and_spark_assets_share_a_pool_limited_to_one(tmp_path, monkeypatch):
    sensors = {s.name: defs.resolve_sensor_def(s.name) for s in defs.sensors}
    assert {"landing_sensor", "source_registry_sensor", "run_failure_sensor"} <= set(sensors)
    assert sensors["landing_sensor"].default_status == dg.DefaultSensorStatus.RUNNING
    # Downstream stages follow by automation without anyone switching it on.
    assert sensors["automation_sensor"].default_status == dg.DefaultSensorStatus.RUNNING
    automated = sensors["automation_sensor"].asset_selection.resolve(defs.resolve_asset_graph())
    assert {dg.AssetKey(["annotated", c]) for c in CORPORA} <= automated
    assert {dg.AssetKey(["curated", c]) for c in CORPORA} <= automated
    graph = defs.resolve_asset_graph()
    for corpus in CORPORA:
        for stage in ("raw", "annotated", "curated"):
            assert graph.get(dg.AssetKey([stage, corpus])).pools == {SPARK_POOL}
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    prepare_dagster_home(load_settings())
    with dg.DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.get_concurrency_config().pool_config.pool_granularity.value == "run"
        assert instance.run_retries_max_retries == 1


def test_local_landing_directory_waits_for_growing_files_and_skips_temp_names(
    tmp_path, monkeypatch
):
    landing = tmp_path / "landing" / "books"
    landing.mkdir(parents=True)
    registry = tmp_path / "sources.yaml"
    registry.write_text(
        "sources:\n  books:\n    corpus: licensed\n    format: text\n"
        '    location: "{landing}/books"\n    license: PublicDomain\n'
    )
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(registry))
    old = time.time() - 120
    for name, body in [
        ("a.txt", "A settled book."),
        ("b.txt.part", "half a book"),
        (".c.txt", "hidden"),
        ("empty.txt", ""),
    ]:
        (landing / name).write_text(body)
        os.utime(landing / name, (old, old))
    (landing / "growing.txt").write_text("still being written")  # modified just now
    sensor = build_landing_sensor(settle_seconds=60)
    instance = dg.DagsterInstance.ephemeral()

    first = sensor(dg.build_sensor_context(instance=instance))
    [run] = first.run_requests
    assert (run.job_name, run.partition_key) == ("ingest_licensed", "books")
    assert run.run_config["ops"]["raw__licensed"]["config"]["files"] == ["a.txt"]
    [add] = first.dynamic_partitions_requests
    assert list(add.partition_keys) == ["books"]
    instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))

    # Once the growing file has been quiet for the settle time it is requested, alone.
    os.utime(landing / "growing.txt", (old, old))
    second = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    [run2] = second.run_requests
    assert run2.run_config["ops"]["raw__licensed"]["config"]["files"] == ["growing.txt"]
    assert not second.dynamic_partitions_requests
    assert len(LandingCursor.parse(second.cursor).sources["books"].seen) == 2
    third = sensor(dg.build_sensor_context(instance=instance, cursor=second.cursor))
    assert not third.run_requests
