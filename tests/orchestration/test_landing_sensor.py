"""The landing sensor on a real S3 server: new WARC files become a partition and an ingest run
of only those files; ticks page through thousands of keys; nothing is ingested twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest
from botocore.exceptions import ClientError

from orchestration.definitions import defs
from orchestration.sensors import build_landing_sensor
from orchestration.settings import load_settings
from spark_jobs.delta import read_arrow
from spark_jobs.lake import Lake
from spark_jobs.landing import LandingCursor, key_digest
from spark_jobs.samples.web import generate_web_sample

pytestmark = [pytest.mark.s3, pytest.mark.spark]

PREFIX = "landing/web/drop-crawl"


def _registry(bucket: str, source: str) -> str:
    return (
        "sources:\n"
        f"  {source}:\n    corpus: web\n    format: warc\n"
        f'    location: "s3://{bucket}/landing/web/{source}"\n    license: CC-BY-4.0\n'
    )


@pytest.fixture
def landing_home(tmp_path: Path, s3, monkeypatch, request):
    """A PILEHOUSE_HOME whose registry has one web source on the S3 server, its own bucket."""
    bucket = f"landing-{request.node.name.lower().replace('_', '-')[:40]}"
    s3.create_bucket(bucket)
    registry = tmp_path / "sources.yaml"
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(registry))
    monkeypatch.setenv("PILEHOUSE_S3_ENDPOINT_URL", s3.endpoint_url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return bucket, registry, s3.client()


@pytest.fixture(scope="module")
def warcs(tmp_path_factory) -> list[Path]:
    """Two small real WARC files (40 pages, every kind of plant the sample crawl has)."""
    out = tmp_path_factory.mktemp("warcs")
    manifest = generate_web_sample(out, pages=40, files=2, seed=5)
    return [out / name for name in manifest.files]


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None):
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def _files(request: dg.RunRequest) -> list[str]:
    return request.run_config["ops"]["raw__web"]["config"]["files"]


def test_new_warc_files_become_a_partition_and_a_run_of_only_those_files(
    landing_home, warcs, spark
):
    bucket, registry, client = landing_home
    registry.write_text(_registry(bucket, "drop-crawl"))
    first, second = warcs
    client.upload_file(str(first), bucket, f"{PREFIX}/2026/11/{first.name}")
    # What must never be ingested: uploads in progress, temp and hidden names, empty objects.
    for key, body in [
        (f"{PREFIX}/2026/11/{second.name}.part", second.read_bytes()[:1000]),
        (f"{PREFIX}/2026/11/{second.name}.tmp", b"WARC/1.0"),
        (f"{PREFIX}/_tmp/{second.name}", b"WARC/1.0"),
        (f"{PREFIX}/.staging/{second.name}", b"WARC/1.0"),
        (f"{PREFIX}/2026/11/empty.warc.gz", b""),
    ]:
        client.put_object(Bucket=bucket, Key=key, Body=body)
    sensor = build_landing_sensor(page_size=2, settle_seconds=0)
    instance = dg.DagsterInstance.ephemeral()

    tick = _tick(sensor, instance, None)
    [add] = tick.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("web_sources", ["drop-crawl"])
    [run] = tick.run_requests
    assert (run.job_name, run.partition_key) == ("ingest_web", "drop-crawl")
    assert _files(run) == [f"2026/11/{first.name}"]
    assert run.run_key.startswith("landing:drop-crawl:")
    cursor = LandingCursor.parse(tick.cursor)
    assert cursor.sources["drop-crawl"].seen == {key_digest(f"2026/11/{first.name}")}
    assert cursor.sources["drop-crawl"].after == ""  # the listing finished (6 keys, pages of 2)

    # A second tick with nothing new requests nothing and adds no partition.
    instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
    quiet = _tick(sensor, instance, tick.cursor)
    assert not quiet.run_requests and not quiet.dynamic_partitions_requests

    # Materialize the requested run: raw.web gets exactly the first file's pages.
    ingest = defs.resolve_job_def("ingest_web")
    raw_only = ["raw__web"]  # the raw step alone: no annotation, no raw gate (tested elsewhere)
    result = ingest.execute_in_process(
        instance=instance,
        partition_key=run.partition_key,
        run_config=run.run_config,
        op_selection=raw_only,
    )
    assert result.success
    settings = load_settings()
    raw_uri = Lake(settings.lake_uri, settings.store).uri("raw.web")
    raw = read_arrow(raw_uri)
    assert raw.num_rows > 0
    landing = f"s3://{bucket}/{PREFIX}"
    assert set(raw["warc_file"].to_pylist()) == {f"{landing}/2026/11/{first.name}"}
    first_rows = raw.num_rows

    # A new upload: the next tick requests only it; its run appends without duplicating.
    client.upload_file(str(second), bucket, f"{PREFIX}/2026/12/{second.name}")
    later = _tick(sensor, instance, quiet.cursor)
    assert not later.dynamic_partitions_requests
    [run2] = later.run_requests
    assert _files(run2) == [f"2026/12/{second.name}"]
    assert run2.run_key != run.run_key
    result2 = ingest.execute_in_process(
        instance=instance,
        partition_key=run2.partition_key,
        run_config=run2.run_config,
        op_selection=raw_only,
    )
    assert result2.success
    raw = read_arrow(raw_uri)
    by_file = {d["values"]: d["counts"] for d in pc.value_counts(raw["warc_file"]).to_pylist()}
    assert by_file[f"{landing}/2026/11/{first.name}"] == first_rows
    assert by_file[f"{landing}/2026/12/{second.name}"] > 0
    assert pc.count_distinct(raw["id"]).as_py() == raw.num_rows

    # Running the first request again (a manual re-execution) adds nothing.
    again = ingest.execute_in_process(
        instance=instance,
        partition_key=run.partition_key,
        run_config=run.run_config,
        op_selection=raw_only,
    )
    assert again.success
    materialization = again.asset_materializations_for_node("raw__web")[0]
    assert materialization.metadata["kept"].value == 0
    assert materialization.metadata["already_present"].value >= first_rows
    assert read_arrow(raw_uri).num_rows == raw.num_rows


def test_thousands_of_objects_are_paged_across_ticks_each_requested_once(landing_home):
    bucket, registry, client = landing_home
    registry.write_text(_registry(bucket, "bulk"))
    keys = [f"landing/web/bulk/{i // 500:02d}/f{i:05d}.warc.gz" for i in range(2500)]

    def put(key: str) -> None:
        # SeaweedFS on a busy machine answers an occasional InternalError: try again.
        for attempt in range(5):
            try:
                client.put_object(Bucket=bucket, Key=key, Body=b"x")
                return
            except ClientError:
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, keys))
    sensor = build_landing_sensor(
        page_size=100, max_keys_per_tick=1000, settle_seconds=0, max_files_per_run=400
    )
    instance = dg.DagsterInstance.ephemeral()
    cursor, requested, ticks = None, [], 0
    while True:
        tick = _tick(sensor, instance, cursor)
        ticks += 1
        if tick.dynamic_partitions_requests:
            for add in tick.dynamic_partitions_requests:
                instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
        files = [f for run in tick.run_requests for f in _files(run)]
        assert all(len(_files(run)) <= 400 for run in tick.run_requests)
        assert len(files) <= 1000
        cursor = tick.cursor
        if not files:
            break
        requested += files
        assert ticks < 10
    expected = sorted(k.removeprefix("landing/web/bulk/") for k in keys)
    assert sorted(requested) == expected  # every object once, none twice
    assert ticks == 4  # 1000 + 1000 + 500 keys, then a tick with nothing new
    # The quiet tick began the next pass (new keys may sort anywhere) and stopped at its budget.
    assert LandingCursor.parse(cursor).sources["bulk"].after == "01/f00999.warc.gz"

    # An object younger than the settle time waits for a later tick.
    patient = build_landing_sensor(settle_seconds=3600)
    client.put_object(Bucket=bucket, Key="landing/web/bulk/late.warc.gz", Body=b"x")
    assert not _tick(patient, instance, cursor).run_requests
    settled = build_landing_sensor(settle_seconds=0)
    [late] = _tick(settled, instance, cursor).run_requests
    assert _files(late) == ["late.warc.gz"]
