"""The quality gates end to end: a clean pipeline passes; each planted violation fails its check,
names the offending rows, and keeps downstream assets from materializing, in manual and in
automation-requested runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from great_expectations.util import convert_to_json_serializable

from assets import web
from assets.automation import EAGER_AFTER_GATES
from assets.checks import corpus_checks
from assets.corpus import source_partitions
from assets.dedup import curated_corpora
from assets.training import CURATED_RUN
from assets.web import ANNOTATED_WEB, CURATED_WEB
from orchestration.definitions import defs
from orchestration.instance import prepare_dagster_home
from orchestration.jobs import CURATE_JOB, ingest_job_name
from orchestration.resources import LakehouseResource
from orchestration.settings import load_settings
from quality import validation
from quality.history import VALIDATIONS
from quality.suites import (
    CONSERVATION,
    CURATED_DISTRIBUTION,
    CURATED_DOCUMENTS,
    RAW_DOCUMENTS,
    SUITES,
    Subject,
)
from quality.validation import ValidationReport, validate_suite
from spark_jobs.delta import open_table, read_arrow, write_arrow
from spark_jobs.lake import Lake
from spark_jobs.samples.web import generate_web_sample

pytestmark = [pytest.mark.slow, pytest.mark.spark]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "var" / "test-artifacts"
CURATED_SUITES = {CURATED_DOCUMENTS, CURATED_DISTRIBUTION, CONSERVATION}
TRAINING_NODE = "training__curated_corpora_run"
AUTOMATION_TAG = "dagster/from_automation_condition"
PLANTED_EMAIL = "jane.roe@example.org"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, spark):
    """The web sample source ingested and curated once (as the sensor and curation job do),
    on a fresh 80-page sample crawl."""
    root = tmp_path_factory.mktemp("gates-home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PILEHOUSE_HOME", str(root))
        env.delenv("DAGSTER_HOME", raising=False)
        settings = load_settings()
        prepare_dagster_home(settings)
        generate_web_sample(
            Path(settings.landing_uri) / "web" / "sample-crawl", pages=80, files=2, seed=11
        )
        instance = dg.DagsterInstance.get()
        instance.add_dynamic_partitions(source_partitions("web").name, ["sample-crawl"])
        ingest = defs.resolve_job_def(ingest_job_name("web")).execute_in_process(
            instance=instance, partition_key="sample-crawl"
        )
        curate = defs.resolve_job_def(CURATE_JOB).execute_in_process(
            instance=instance, asset_selection=[CURATED_WEB, CURATED_RUN]
        )
        yield settings, instance, [ingest, curate]


def _lake(settings) -> Lake:
    return Lake(settings.lake_uri, settings.store)


def _checks(result: dg.ExecuteInProcessResult, asset_key: dg.AssetKey) -> dict:
    return {
        c.check_name: c for c in result.get_asset_check_evaluations() if c.asset_key == asset_key
    }


def _failures(check) -> dict[str, dict]:
    """A failed check's failures keyed by the promise that broke."""
    return {f["promise"]: f for f in check.metadata["failures"].value}


def test_clean_pipeline_passes_every_gate_and_records_it(pipeline):
    settings, _, results = pipeline
    assert all(r.success for r in results)
    evaluations = [c for r in results for c in r.get_asset_check_evaluations()]
    passed = {(c.asset_key, c.check_name): c.passed for c in evaluations}
    assert passed[(web.RAW_WEB, RAW_DOCUMENTS)]
    assert {
        name for (key, name), ok in passed.items() if key == CURATED_WEB and ok
    } == CURATED_SUITES
    assert results[-1].asset_materializations_for_node(TRAINING_NODE)

    history = read_arrow(_lake(settings).uri(VALIDATIONS))
    web_rows = history.filter(pc.equal(history["table"], "curated.web"))
    assert set(web_rows["suite"].to_pylist()) == CURATED_SUITES
    assert all(web_rows["success"].to_pylist())
    assert set(web_rows["run_id"].to_pylist()) == {results[-1].run_id}
    curated = _checks(results[-1], CURATED_WEB)
    index = Path(curated[CURATED_DOCUMENTS].metadata["data docs path"].value)
    assert index.is_file()


def _curated_uri(settings) -> str:
    return _lake(settings).uri("curated.web")


def _restore(uri: str, version: int) -> None:
    """Write a table's content at `version` back as its newest version."""
    write_arrow(read_arrow(uri, version=version), uri, mode="overwrite", partition_by=("source",))


def _gate_run(instance) -> dg.ExecuteInProcessResult:
    """The curated.web gates and the training run after them, as the curation job runs them."""
    job = dg.define_asset_job(
        "gate_then_train",
        selection=dg.AssetSelection.checks_for_assets(CURATED_WEB)
        | dg.AssetSelection.assets(CURATED_RUN),
    )
    gated = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    return gated.resolve_job_def("gate_then_train").execute_in_process(
        instance=instance, raise_on_error=False
    )


def _set(table: pa.Table, column: str, values: list) -> pa.Table:
    index = table.schema.get_field_index(column)
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )


GERMAN = (
    "Dies ist ein Beispieltext über die Programmiersprache Python. Funktionen, Klassen und "
    "Module werden in der Dokumentation ausführlich beschrieben, damit Entwickler schnell "
    "verstehen, wie die Sprache funktioniert und wie man sie richtig verwendet. "
)


def _plant_violations(uri: str) -> dict:
    """Write a bad version of curated.web at `uri` with a violation for every suite.

    Planted: an unlicensed document, an unredacted email, a duplicated id, 20 German
    documents (a drifted language share) and a lost record (a curated row deleted).
    """
    curated = read_arrow(uri).sort_by("id")
    ids = curated["id"].to_pylist()
    lost, unlicensed, emailed, duplicated = ids[0], ids[1], ids[2], ids[3]
    kept = curated.slice(1)
    licenses = kept["license"].to_pylist()
    licenses[0] = "LicenseRef-All-Rights-Reserved"
    texts = kept["text"].to_pylist()
    texts[1] = f"Questions about this page? Write to {PLANTED_EMAIL}. " + texts[1]
    kept = _set(_set(kept, "license", licenses), "text", texts)
    german = curated.slice(0, 20)
    german = _set(german, "id", [f"planted-de-{i:02d}" for i in range(20)])
    german = _set(german, "language", ["de"] * 20)
    german = _set(german, "text", [GERMAN * (i + 2) for i in range(20)])
    german = _set(german, "text_hash", [f"planted-de-{i:02d}" for i in range(20)])
    bad = pa.concat_tables([kept, curated.slice(3, 1), german])
    write_arrow(bad, uri, mode="overwrite", partition_by=("source",))
    return {
        "lost": lost,
        "unlicensed": unlicensed,
        "emailed": emailed,
        "duplicated": duplicated,
        "german": german["id"].to_pylist(),
    }


@pytest.fixture(scope="module")
def planted(pipeline):
    """One bad curated.web version (`_plant_violations`), gated once."""
    settings, instance, _ = pipeline
    uri = _curated_uri(settings)
    good = open_table(uri).version()
    ids = _plant_violations(uri)
    result = _gate_run(instance)
    _restore(uri, good)
    return result, ids


def test_planted_violations_fail_their_checks_and_block_training(planted):
    result, _ = planted
    checks = _checks(result, CURATED_WEB)
    assert {name: check.passed for name, check in checks.items()} == dict.fromkeys(
        CURATED_SUITES, False
    )
    assert not result.asset_materializations_for_node(TRAINING_NODE)


def test_unlicensed_document_is_named(planted):
    result, ids = planted
    failures = _failures(_checks(result, CURATED_WEB)[CURATED_DOCUMENTS])
    [failure] = [f for p, f in failures.items() if p.startswith("every license is allowed")]
    assert failure["sample_ids"] == [ids["unlicensed"]]


def test_unredacted_email_is_named_without_publishing_the_text(planted):
    result, ids = planted
    check = _checks(result, CURATED_WEB)[CURATED_DOCUMENTS]
    failure = _failures(check)["no email in any document's text"]
    assert failure["sample_ids"] == [ids["emailed"]]
    assert PLANTED_EMAIL not in str(check.metadata)


def test_duplicate_id_is_named(planted):
    result, ids = planted
    failure = _failures(_checks(result, CURATED_WEB)[CURATED_DOCUMENTS])[
        "no two documents share an id"
    ]
    assert failure["sample_ids"] == [ids["duplicated"]] * 2


def test_drifted_language_share_is_named_with_its_shares(planted):
    """The clean first version taught sample-crawl's shares (all English); 20 planted German
    documents move both shares outside the learned bounds."""
    result, _ = planted
    check = _checks(result, CURATED_WEB)[CURATED_DISTRIBUTION]
    failures = _failures(check)
    above = failures["every source's language shares are at most the bounds its history sets"]
    assert above["sample_ids"] == ["sample-crawl: language_share de"]
    below = failures["every source's language shares are at least the bounds its history sets"]
    assert below["sample_ids"] == ["sample-crawl: language_share en"]
    shown = check.metadata["distribution by source"].value
    assert "| sample-crawl: language_share de |" in shown
    assert "learned from 1 accepted version(s)" in shown


def test_lost_record_is_named_and_the_source_does_not_balance(planted):
    result, ids = planted
    failures = _failures(_checks(result, CURATED_WEB)[CONSERVATION])
    by_source = failures["per source: input records = kept + rejected + quarantined"]
    assert by_source["sample_ids"] == ["sample-crawl"]
    once = failures["every ingested document is either kept or rejected, exactly once"]
    assert ids["lost"] in once["sample_ids"] and ids["duplicated"] in once["sample_ids"]
    appeared = failures["every kept or rejected document was ingested"]
    assert set(appeared["sample_ids"]) == set(ids["german"])


def test_every_outcome_is_queryable_in_quality_validations(planted, pipeline):
    result, ids = planted
    settings, _, _ = pipeline
    history = read_arrow(_lake(settings).uri(VALIDATIONS))
    rows = history.filter(pc.equal(history["run_id"], result.run_id)).to_pylist()
    assert {r["suite"] for r in rows} == CURATED_SUITES
    failed = [r for r in rows if not r["success"]]
    assert all(not r["suite_success"] for r in rows)
    assert any(
        ids["emailed"] in r["sample_ids"]
        and r["expectation"] == "expect_column_values_to_hold_no_pii"
        for r in failed
    )
    assert all(r["table"] == "curated.web" and r["version"] > 0 for r in rows)


# --- engines: GX's pandas engine on collected frames reports what its Spark engine reports ---


@pytest.fixture(scope="module")
def lakes(pipeline, tmp_path_factory) -> dict[str, Lake]:
    """Two copies of the pipeline's lake: as curated, and with violations planted in raw.web
    (a duplicated id, an empty document) and in curated.web (`_plant_violations`). Copies,
    because a suite reads the tables around its subject at their latest version."""
    settings, _, _ = pipeline
    root = tmp_path_factory.mktemp("engines")
    lakes = {}
    for state in ("clean", "planted"):
        shutil.copytree(settings.lake_uri, root / state)
        lakes[state] = Lake(str(root / state), settings.store)
    planted = lakes["planted"]
    _plant_violations(planted.uri("curated.web"))
    raw = read_arrow(planted.uri("raw.web")).sort_by("id")
    duplicate = _set(raw.slice(6, 1), "id", [raw["id"][5].as_py()])
    empty = _set(_set(raw.slice(7, 1), "text", [""]), "byte_length", [0])
    write_arrow(
        pa.concat_tables([raw, duplicate, empty]),
        planted.uri("raw.web"),
        mode="overwrite",
        partition_by=("source",),
    )
    return lakes


def _verdicts(report: ValidationReport) -> dict[tuple[str, str], tuple]:
    """Per promise: expectation, column, verdict, count, observed text, and every offending id
    and value as sorted lists (engines list them in different orders)."""
    values = {
        r.expectation_config.description: sorted(
            map(repr, convert_to_json_serializable(r.result.get("partial_unexpected_list") or []))
        )
        for _, result in report.gx_results
        for r in result.results
    }
    return {
        (o.batch, o.description): (
            o.expectation,
            o.column,
            o.success,
            o.unexpected_count,
            o.observed.split(", e.g.")[0],
            sorted(o.sample_ids),
            values[o.description],
        )
        for o in report.outcomes
    }


@pytest.mark.parametrize("state", ["clean", "planted"])
def test_pandas_engine_reports_what_the_spark_engine_reports(spark, lakes, state, monkeypatch):
    """Every suite on the same table versions: the old path (Spark reads, GX's Spark engine)
    and the pandas path pass and fail the same promises, name the same offending ids and
    values (all of them: the sample size is raised past every count), show the same rows."""
    monkeypatch.setattr(validation, "SAMPLE_IDS", 1000)
    lake = lakes[state]
    checks = [
        ("raw.web", RAW_DOCUMENTS, "sample-crawl"),
        *[("curated.web", suite, None) for suite in sorted(CURATED_SUITES)],
    ]
    for table, name, source in checks:
        suite = SUITES[name]
        version = open_table(lake.uri(table)).version()
        # Drift is measured from the table's first version, which passed.
        baseline = 0 if suite.uses_baseline else None
        subject = Subject(spark, lake, table, version, baseline_version=baseline, source=source)
        old = validate_suite(suite, subject, engine="spark")
        new = validate_suite(suite, subject, engine="pandas")
        assert (old.engine, new.engine) == ("spark", "pandas")
        assert new.success == old.success == (state == "clean"), (name, new.failures)
        assert _verdicts(new) == _verdicts(old), name
        assert new.tables == old.tables, name
        assert [len(r.results) for _, r in new.gx_results] == [
            len(r.results) for _, r in old.gx_results
        ]


@pytest.mark.browser
def test_data_docs_list_the_suites_in_a_browser(pipeline, planted, chromium, tmp_path):
    result, _ = planted
    index = Path(_checks(result, CURATED_WEB)[CURATED_DOCUMENTS].metadata["data docs path"].value)
    shot = tmp_path / "data-docs.png"
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    text = page.inner_text("body")
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "data-docs.png")
    for suite in [*CURATED_SUITES, RAW_DOCUMENTS]:
        assert suite in text, f"suite {suite} not listed in {index}"
    assert "curated.web-v1-run-" in text  # the failed validation of the planted version


# Stand-in consumers of curated.web: one gated like every Pilehouse asset, one with plain
# eager(), to show the gap the gate condition closes.
SHARDS = dg.AssetKey(["shards", "web"])
UNGATED_SHARDS = dg.AssetKey(["shards", "web_ungated"])


@dg.asset(key=SHARDS, deps=[CURATED_WEB], automation_condition=EAGER_AFTER_GATES)
def web_shards() -> None:
    """Training shards of curated.web."""


@dg.asset(
    key=UNGATED_SHARDS, deps=[CURATED_WEB], automation_condition=dg.AutomationCondition.eager()
)
def web_shards_ungated() -> None:
    """The same, with eager() alone."""


def _run_requested(
    auto_defs: dg.Definitions, instance, evaluation
) -> dg.ExecuteInProcessResult | None:
    """Launch what an automation tick requested, as the daemon would: one run, checks riding along."""
    keys = [
        k
        for k in auto_defs.resolve_asset_graph().get_all_asset_keys()
        if evaluation.get_num_requested(k)
    ]
    if not keys:
        return None
    job = dg.define_asset_job("automation_run", selection=dg.AssetSelection.assets(*keys))
    merged = dg.Definitions.merge(auto_defs, dg.Definitions(jobs=[job]))
    return merged.resolve_job_def("automation_run").execute_in_process(
        instance=instance, raise_on_error=False, tags={AUTOMATION_TAG: "true"}
    )


def test_automation_does_not_run_past_a_failed_gate(pipeline):
    """A bad page reaches raw.web; re-annotation triggers curation under automation; the
    integrity gate fails and no consumer of curated.web runs, neither in that automation-requested run
    nor on a later tick after the bad data is curated again outside automation."""
    settings, instance, _ = pipeline
    auto_defs = dg.Definitions(
        # curated/web is one spec of the cross-family curation multi-asset.
        assets=[*web.web_assets, curated_corpora, web_shards, web_shards_ungated],
        asset_checks=corpus_checks("web", web.RAW_WEB, CURATED_WEB),
        resources={"lakehouse": LakehouseResource()},
    )
    tick = dg.evaluate_automation_conditions(defs=auto_defs, instance=instance)
    _run_requested(auto_defs, instance, tick)  # the consumers' first materialization
    tick = dg.evaluate_automation_conditions(defs=auto_defs, instance=instance, cursor=tick.cursor)
    assert tick.total_requested == 0

    raw_uri = _lake(settings).uri("raw.web")
    raw_good = open_table(raw_uri).version()
    annotated_good = open_table(_lake(settings).uri("annotated.web")).version()
    raw = read_arrow(raw_uri).sort_by("id")
    # A bad ingest: another page lands under an id that is already taken. Curation keeps both
    # (their texts differ), so only the gate can stop it. (A planted email would not do here:
    # annotation counts it and the recipe drops the page before the gate sees it.)
    duplicated = raw["id"][5].as_py()
    copy = _set(raw.slice(6, 1), "id", [duplicated])
    write_arrow(pa.concat_tables([raw, copy]), raw_uri, mode="overwrite", partition_by=("source",))
    annotate = dg.define_asset_job("annotate", selection=dg.AssetSelection.assets(ANNOTATED_WEB))
    dg.Definitions.merge(auto_defs, dg.Definitions(jobs=[annotate])).resolve_job_def(
        "annotate"
    ).execute_in_process(instance=instance, partition_key="sample-crawl")

    # The tick asks for curated.web (its input updated) and its eager consumers in one run;
    # the gated consumer only if curated.web's last gate results passed.
    tick = dg.evaluate_automation_conditions(defs=auto_defs, instance=instance, cursor=tick.cursor)
    assert tick.get_num_requested(CURATED_WEB) == 1
    assert tick.get_num_requested(UNGATED_SHARDS) == 1
    run = _run_requested(auto_defs, instance, tick)
    assert [m.asset_key for m in run.asset_materializations_for_node("curated_corpora")] == [
        CURATED_WEB
    ]
    documents = _checks(run, CURATED_WEB)[CURATED_DOCUMENTS]
    assert not documents.passed
    assert duplicated in _failures(documents)["no two documents share an id"]["sample_ids"]
    assert not run.asset_materializations_for_node("shards__web")
    assert not run.asset_materializations_for_node("shards__web_ungated")

    # The same bad data curated again by a run that is not automation's (by hand, or by
    # the curation job): its gate fails again. eager() alone would now run the consumer in a
    # run of its own, past the failed gate; the gated condition does not.
    curate = dg.define_asset_job("curate", selection=dg.AssetSelection.assets(CURATED_WEB))
    curate_defs = dg.Definitions.merge(auto_defs, dg.Definitions(jobs=[curate]))
    tick = dg.evaluate_automation_conditions(defs=auto_defs, instance=instance, cursor=tick.cursor)
    again = curate_defs.resolve_job_def("curate").execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert not _checks(again, CURATED_WEB)[CURATED_DOCUMENTS].passed
    tick = dg.evaluate_automation_conditions(defs=auto_defs, instance=instance, cursor=tick.cursor)
    assert tick.get_num_requested(UNGATED_SHARDS) == 1
    assert tick.get_num_requested(SHARDS) == 0

    # Fixed upstream and re-curated: the gate passes, and the next tick runs the consumer.
    _restore(raw_uri, raw_good)
    _restore(_lake(settings).uri("annotated.web"), annotated_good)
    fixed = curate_defs.resolve_job_def("curate").execute_in_process(instance=instance)
    assert all(c.passed for c in fixed.get_asset_check_evaluations())
    tick = dg.evaluate_automation_conditions(defs=auto_defs, instance=instance, cursor=tick.cursor)
    assert tick.get_num_requested(SHARDS) == 1
