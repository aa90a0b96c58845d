"""A run that really fails ends up in ops.run_failures, with its job, partition, step and error."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.sensors import RUN_FAILURES_TABLE, run_failure_sensor
from orchestration.settings import load_settings
from spark_jobs.delta import read_arrow
from spark_jobs.lake import Lake

pytestmark = [pytest.mark.spark]


def test_a_failed_ingest_run_is_written_to_the_failures_table(tmp_path, monkeypatch, spark):
    registry = tmp_path / "sources.yaml"
    registry.write_text(
        "sources:\n  vanished-crawl:\n    corpus: web\n    format: warc\n"
        f'    location: "{tmp_path}/no/such/dir"\n    license: CC-BY-4.0\n'
    )
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(registry))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("web_sources", ["vanished-crawl"])

    result = defs.resolve_job_def("ingest_web").execute_in_process(
        instance=instance,
        partition_key="vanished-crawl",
        op_selection=["raw__web"],
        raise_on_error=False,
    )
    assert not result.success
    # A missing location is not worth retrying: one attempt, no retry scheduled.
    assert [e.event_type_value for e in result.all_events if e.is_step_failure] == ["STEP_FAILURE"]
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]

    run = instance.get_run_by_id(result.run_id)
    [failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name=run_failure_sensor.name,
        dagster_event=failure.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()
    run_failure_sensor(context)

    settings = load_settings()
    rows = read_arrow(Lake(settings.lake_uri, settings.store).uri(RUN_FAILURES_TABLE)).to_pylist()
    [row] = rows
    assert row["run_id"] == result.run_id
    assert (row["job"], row["partition"], row["step"]) == (
        "ingest_web",
        "vanished-crawl",
        "raw__web",
    )
    assert row["error_class"] == "FileNotFoundError"
    assert "no/such/dir does not exist" in row["message"]
    assert row["failed_at"] is not None
