"""End to end: the whole asset graph materialized through Dagster on a small generated crawl."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import mlflow
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from assets.training import CURATED_RUN
from assets.web import CURATED_WEB
from orchestration.definitions import defs
from orchestration.pipeline import materialize_all
from orchestration.run_summary import render_summary
from orchestration.sensors import source_registry_sensor
from spark_jobs.delta import read_arrow, table_history, write_arrow
from spark_jobs.lake import Lake
from spark_jobs.licenses import license_allowed
from spark_jobs.samples.web import generate_web_sample
from tests.sample_lake import use_home

pytestmark = [pytest.mark.slow, pytest.mark.spark]

TABLES = ["raw.web", "annotated.web", "curated.web", "rejects", "quarantine"]
FAMILIES = ("web", "code", "papers", "licensed")
# Each family's sample manifest (what was planted), filled by the `home` fixture.
FAMILY_MANIFESTS: dict[str, object] = {}


@pytest.fixture(scope="module")
def home(sample_home):
    """PILEHOUSE_HOME at the session's sample lake (tests/sample_lake.py): its own registry and
    the four families' samples; this module runs after the modules that only read it."""
    with use_home(sample_home.root) as settings:
        FAMILY_MANIFESTS.update(sample_home.manifests)
        yield settings, sample_home.manifests["web"]


@pytest.fixture(scope="module")
def first_run(home, sample_home):
    """The ingest run(s) for the registered sources, then the curation run, that built it."""
    results = sample_home.results
    assert [r.success for r in results] == [True] * len(results)
    return dg.DagsterInstance.get(), results[-1]


def _lake(settings) -> Lake:
    return Lake(settings.lake_uri, settings.store)


def _rows(settings, name: str) -> int:
    return read_arrow(_lake(settings).uri(name)).num_rows


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_accounts_for_each_input_record_once(home, first_run, family):
    settings, _ = home
    expected = FAMILY_MANIFESTS[family].expected_dispositions
    lake = _lake(settings)
    rejects, quarantine = read_arrow(lake.uri("rejects")), read_arrow(lake.uri("quarantine"))
    ingest_rejects = rejects.filter(
        pc.and_(pc.equal(rejects["corpus"], family), pc.equal(rejects["stage"], "ingest"))
    )
    assert _rows(settings, f"raw.{family}") == expected["kept"]
    assert ingest_rejects.num_rows == expected["skipped"]
    assert (
        quarantine.filter(pc.equal(quarantine["corpus"], family)).num_rows
        == expected["quarantined"]
    )
    curate_rejects = rejects.filter(
        pc.and_(pc.equal(rejects["corpus"], family), pc.equal(rejects["stage"], "curate"))
    )
    assert _rows(settings, f"raw.{family}") == (
        _rows(settings, f"curated.{family}") + curate_rejects.num_rows
    )


def test_curated_tables_hold_only_licenses_the_platform_allows(home, first_run):
    settings, _ = home
    lake = _lake(settings)
    for family in FAMILIES:
        licenses = set(read_arrow(lake.uri(f"curated.{family}"))["license"].to_pylist())
        assert licenses and all(license_allowed(lic, "platform") for lic in licenses), licenses
    rejects = read_arrow(lake.uri("rejects"))
    refused = rejects.filter(pc.equal(rejects["reason"], "license_not_allowed"))
    # The code sample's unlicensed repository, the papers' non-commercial record and the
    # licensed sample's proprietary record are planted; each is refused at curation.
    assert {"code", "papers", "licensed"} <= set(refused["corpus"].to_pylist())
    curated_code = read_arrow(lake.uri("curated.code"))
    assert "NOASSERTION" not in curated_code["license"].to_pylist()
    assert {"permissive", "copyleft"} <= set(curated_code["license_class"].to_pylist())


@pytest.mark.parametrize("family", FAMILIES)
def test_quarantine_and_ingest_rejects_carry_the_planted_reasons(home, first_run, family):
    settings, _ = home
    lake = _lake(settings)
    quarantine, rejects = read_arrow(lake.uri("quarantine")), read_arrow(lake.uri("rejects"))
    reasons = quarantine.filter(pc.equal(quarantine["corpus"], family))["reason"].to_pylist()
    ingest = pc.and_(pc.equal(rejects["corpus"], family), pc.equal(rejects["stage"], "ingest"))
    reasons += rejects.filter(ingest)["reason"].to_pylist()
    expected = FAMILY_MANIFESTS[family].expected_reasons
    assert {r: reasons.count(r) for r in set(reasons)} == expected


def test_curated_web_has_no_duplicates_no_foreign_pages_and_a_license_on_every_row(home, first_run):
    settings, manifest = home
    curated = read_arrow(_lake(settings).uri("curated.web"))
    urls = set(curated["url"].to_pylist())
    assert curated.num_rows > 0.8 * manifest.counts["clean"]
    assert len(set(curated["text_hash"].to_pylist())) == curated.num_rows
    assert len(set(curated["id"].to_pylist())) == curated.num_rows
    for duplicate, original in manifest.duplicate_of.items():
        assert not {duplicate, original} <= urls, f"both copies kept: {duplicate} {original}"
    assert urls.isdisjoint(manifest.languages)
    assert set(curated["language"].to_pylist()) == {"en"}
    assert set(curated["license"].to_pylist()) == {"PSF-2.0"}
    assert set(curated["license_evidence"].to_pylist()) == {"declared"}
    assert all(text.strip() for text in curated["text"].to_pylist())


def test_quality_gate_passed_and_mlflow_run_records_the_table_version(home, first_run):
    settings, _ = home
    _, result = first_run
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    assert ("curated_documents", CURATED_WEB) in {(c.check_name, c.asset_key) for c in checks}

    curated_uri = _lake(settings).uri("curated.web")
    version = table_history(curated_uri)[0]["version"]
    materialization = result.asset_materializations_for_node("training__curated_corpora_run")[0]
    run_id = materialization.metadata["mlflow run id"].value
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    run = mlflow.get_run(run_id)
    inputs = {i.dataset.name: i for i in run.inputs.dataset_inputs}
    assert set(inputs) == {f"curated.{family}" for family in FAMILIES}
    dataset_input = inputs["curated.web"]
    assert curated_uri in dataset_input.dataset.source
    assert f'"delta_table_version": {version}' in dataset_input.dataset.source
    assert run.data.params["table.curated.web.version"] == str(version)


def test_commits_carry_dagster_lineage(home, first_run):
    settings, _ = home
    _, result = first_run
    latest = table_history(_lake(settings).uri("curated.web"))[0]
    assert latest["dagster.run_id"] == result.run_id
    assert latest["dagster.asset_key"] == "curated/web"
    assert latest["lineage.recipe"] == "web-default"
    assert int(latest["pilehouse.rows"]) == _rows(settings, "curated.web")


def test_summary_reports_stages_reasons_and_versions(home, first_run):
    settings, _ = home
    summary = render_summary(_lake(settings))
    assert "input records: " in summary
    for expected in ["curated.web", "exact_duplicate", "language_not_allowed", "gzip_corrupt"]:
        assert expected in summary


def test_running_again_adds_versions_not_rows(home, first_run):
    settings, _ = home
    instance, _ = first_run
    before = {name: _rows(settings, name) for name in TABLES}
    versions = {name: table_history(_lake(settings).uri(name))[0]["version"] for name in TABLES}
    assert all(r.success for r in materialize_all(instance, settings))
    assert {name: _rows(settings, name) for name in TABLES} == before
    for name in TABLES:
        assert table_history(_lake(settings).uri(name))[0]["version"] > versions[name]


def test_a_failing_gate_blocks_the_training_run(home, first_run):
    """A bad curated.web version (a copied row with no license) must not reach MLflow."""
    settings, _ = home
    instance, _ = first_run
    uri = _lake(settings).uri("curated.web")
    bad_row = read_arrow(uri).slice(0, 1)
    bad_row = bad_row.set_column(
        bad_row.schema.get_field_index("license"), "license", pa.nulls(1, pa.string())
    )
    write_arrow(bad_row, uri, mode="append", partition_by=("source",))
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    runs_before = len(mlflow.search_runs(experiment_names=[settings.mlflow_experiment]))

    gate = dg.define_asset_job(
        "gate_then_train",
        selection=dg.AssetSelection.checks_for_assets(CURATED_WEB)
        | dg.AssetSelection.assets(CURATED_RUN),
    )
    gated = dg.Definitions.merge(defs, dg.Definitions(jobs=[gate]))
    result = gated.resolve_job_def("gate_then_train").execute_in_process(
        instance=instance, raise_on_error=False
    )
    [check] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "curated_documents"
    ]
    assert not check.passed
    failures = check.metadata["failures"].value
    assert {(f["expectation"], f["column"]) for f in failures} == {
        ("expect_column_values_to_be_unique", "id"),
        ("expect_column_values_to_not_be_null", "license"),
        ("expect_column_values_to_be_in_set", "license_class"),
    }
    assert all(bad_row["id"][0].as_py() in f["sample_ids"] for f in failures)
    assert not result.asset_materializations_for_node("training__curated_corpora_run")
    assert len(mlflow.search_runs(experiment_names=[settings.mlflow_experiment])) == runs_before


def test_a_new_registry_entry_becomes_a_partition_and_materializes(home, first_run):
    """Registering a second crawl adds a partition (no deploy) and ingests only that source."""
    settings, _ = home
    instance, _ = first_run
    landing = Path(settings.landing_uri) / "web" / "second-crawl"
    second = generate_web_sample(landing, pages=40, files=1, seed=11)
    registry = Path(settings.sources_file)
    registry.write_text(
        registry.read_text()
        + "  second-crawl:\n    corpus: web\n    format: warc\n"
        + '    location: "{landing}/web/second-crawl"\n    license: CC-BY-4.0\n'
    )
    uri = _lake(settings).uri("raw.web")
    first_source = read_arrow(uri).num_rows

    result = source_registry_sensor(dg.build_sensor_context(instance=instance))
    [request] = result.run_requests
    assert (request.job_name, request.partition_key) == ("ingest_web", "second-crawl")
    [add] = result.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("web_sources", ["second-crawl"])
    instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
    run = defs.resolve_job_def("ingest_web").execute_in_process(
        instance=instance, partition_key=request.partition_key
    )
    assert run.success
    raw = read_arrow(uri)
    by_source = pc.value_counts(raw["source"]).to_pylist()
    assert {d["values"]: d["counts"] for d in by_source} == {
        "sample-crawl": first_source,
        "second-crawl": second.expected_dispositions["kept"],
    }
    assert set(
        pc.unique(raw.filter(pc.equal(raw["source"], "second-crawl"))["license"]).to_pylist()
    ) == {"CC-BY-4.0"}
    # A second tick finds nothing new.
    again = source_registry_sensor(dg.build_sensor_context(instance=instance))
    assert not again.run_requests and not again.dynamic_partitions_requests
