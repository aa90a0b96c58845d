import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.definitions import DOMAINS, defs
from spark_jobs.lake import CORPORA

STAGES = ("raw", "annotated", "curated")

REPO = Path(__file__).resolve().parents[2]


def test_dagster_definitions_validate(tmp_path):
    """The code location loads the way the webserver and daemon load it."""
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_every_family_is_an_asset_group_partitioned_by_source_with_a_blocking_gate():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for corpus in CORPORA:
        raw, annotated, curated = (dg.AssetKey([stage, corpus]) for stage in STAGES)
        assert {k.to_user_string() for k in (raw, annotated, curated)} <= keys
        assert {graph.get(k).group_name for k in (raw, annotated, curated)} == {corpus}
        assert graph.get(annotated).parent_keys == {raw}
        assert graph.get(curated).parent_keys == {annotated}
        partitions = graph.get(raw).partitions_def
        assert isinstance(partitions, dg.DynamicPartitionsDefinition)
        assert partitions.name == f"{corpus}_sources"
        assert graph.get(curated).partitions_def is None
        gates = [c for c in graph.asset_check_keys if c.asset_key == curated]
        assert {c.name for c in gates} == {
            "curated_documents",
            "curated_distribution",
            "conservation",
        }
        assert [c.name for c in graph.asset_check_keys if c.asset_key == raw] == ["raw_documents"]
        assert all(graph.get_check_spec(c).blocking for c in gates)
    assert "training/curated_corpora_run" in keys
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {f"ingest_{c}" for c in CORPORA} | {"curate_corpora"} <= jobs


def test_corpus_report_follows_curated_web_in_the_reports_group():
    graph = defs.resolve_asset_graph()
    report = graph.get(dg.AssetKey(["reports", "corpus"]))
    assert report.group_name == "reports"
    assert report.parent_keys == {dg.AssetKey(["curated", "web"])}


def test_every_asset_check_and_job_is_declared_in_exactly_one_domain():
    """orchestration/defs/: each asset, check, job, schedule and sensor has one domain."""
    graph = defs.resolve_asset_graph()
    owners: dict[str, list[str]] = {}
    for domain, domain_defs in DOMAINS.items():
        for assets in domain_defs.assets or []:
            for key in assets.keys:
                owners.setdefault(key.to_user_string(), []).append(domain)
            for check in assets.check_keys:  # checks declared with their asset
                owners.setdefault(f"{check.asset_key.to_user_string()}:{check.name}", []).append(
                    domain
                )
        for checks in domain_defs.asset_checks or []:
            for check in checks.check_keys:
                owners.setdefault(f"{check.asset_key.to_user_string()}:{check.name}", []).append(
                    domain
                )
        for job in [*(domain_defs.jobs or []), *(domain_defs.schedules or [])]:
            owners.setdefault(f"job/schedule {job.name}", []).append(domain)
        for sensor in domain_defs.sensors or []:
            owners.setdefault(f"sensor {sensor.name}", []).append(domain)
    assert {name: where for name, where in owners.items() if len(where) > 1} == {}
    declared = {name for name in owners if not name.startswith(("job", "sensor"))}
    assert declared == {key.to_user_string() for key in graph.get_all_asset_keys()} | {
        f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys
    }
    assert {n.split(" ", 1)[1] for n in owners if n.startswith("job")} == {
        *(job.name for job in defs.jobs),
        *(schedule.name for schedule in defs.schedules),
    }
    # Each family's domain holds its raw and annotated assets and the gates on its tables.
    for corpus in CORPORA:
        raw, annotated, curated = (f"{stage}/{corpus}" for stage in STAGES)
        assert owners[raw] == owners[annotated] == [corpus]
        assert owners[f"{curated}:conservation"] == [corpus]
        assert owners[curated] == ["curation"]
