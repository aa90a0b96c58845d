"""`pilehouse status`: ingested, curated, failing and queued, from the lake's Delta logs and the
Dagster instance, without Spark."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
import pytest

from orchestration.settings import load_settings
from orchestration.status import collect_status, render_status
from spark_jobs.delta import write_arrow

REGISTRY = """
sources:
  crawl-a:
    corpus: web
    format: warc
    location: "{landing}/web/crawl-a"
    license: PSF-2.0
  crawl-b:
    corpus: web
    format: warc
    location: "{landing}/web/crawl-b"
    license: PSF-2.0
"""


@dg.asset(key=["raw", "web"], partitions_def=dg.DynamicPartitionsDefinition(name="web_sources"))
def raw_web() -> None:
    raise RuntimeError("landing unreadable (on purpose)")


@dg.asset(key=["curated", "web"])
def curated_web() -> None:
    pass


@dg.asset_check(asset=curated_web, name="conservation")
def conservation() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, metadata={"missing": 3})


DEFS = dg.Definitions(
    assets=[raw_web, curated_web],
    asset_checks=[conservation],
    jobs=[
        dg.define_asset_job("ingest_web", selection=[raw_web]),
        dg.define_asset_job("curate_corpora", selection=[curated_web]),
    ],
    executor=dg.in_process_executor,
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    (tmp_path / "sources.yaml").write_text(REGISTRY)
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(tmp_path / "sources.yaml"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    return tmp_path


def test_status_names_tables_failures_and_queued_runs(home):
    settings = load_settings()
    rows = pa.table({"doc_id": ["a", "b", "c"], "text": ["x", "y", "z"]})
    write_arrow(rows, settings.table_uri("raw.web"), mode="append")
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        instance.add_dynamic_partitions("web_sources", ["crawl-a", "crawl-b"])
        failed = DEFS.resolve_job_def("ingest_web").execute_in_process(
            instance=instance, partition_key="crawl-b", raise_on_error=False
        )
        assert not failed.success
        DEFS.resolve_job_def("curate_corpora").execute_in_process(
            instance=instance, raise_on_error=False
        )
        running = instance.add_run(
            dg.DagsterRun(job_name="curate_corpora", status=dg.DagsterRunStatus.STARTED)
        )
        status = collect_status(settings, instance)
    text = render_status(status)
    assert status.tables["raw.web"].rows == 3, text
    assert "curated.web" not in status.tables
    sources = {s.name: s for s in status.sources}
    assert sources["crawl-a"].last_run is None and sources["crawl-a"].ingested_at is None
    assert sources["crawl-b"].last_run == "FAILURE"
    assert f"run {failed.run_id[:8]} ingest_web crawl-b FAILED" in text
    assert "check curated/web:conservation failed" in text
    assert f"run {running.run_id[:8]} curate_corpora STARTED" in text
    line = next(line for line in text.splitlines() if line.strip().startswith("raw.web "))
    assert line.split()[1:3] == ["v0", "3"], text
