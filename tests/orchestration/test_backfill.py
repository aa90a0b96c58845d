"""`pilehouse backfill`: a Dagster backfill over chosen source partitions, for the daemon and UI."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.cli import main


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """Two licensed sources (their files are never read: the daemon is not running)."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        + "".join(
            f"  {name}:\n    corpus: licensed\n    format: text\n"
            f'    location: "{tmp_path}/landing/{name}"\n    license: PublicDomain\n'
            for name in ("books", "letters")
        )
    )
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(sources))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return tmp_path


def test_backfill_launch_submits_one_dagster_backfill_over_the_chosen_sources(registry):
    assert main(["backfill", "licensed", "--partitions", "books,letters", "--launch"]) == 0
    with dg.DagsterInstance.get() as instance:
        assert set(instance.get_dynamic_partitions("licensed_sources")) == {"books", "letters"}
        [backfill] = instance.get_backfills()
        assert sorted(backfill.partition_names) == ["books", "letters"]
        # One queued run per source, tagged with the backfill: the daemon dequeues them one
        # at a time (pool "spark") and the UI lists them under the backfill.
        runs = instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill.backfill_id))
        assert sorted(r.tags["dagster/partition"] for r in runs) == ["books", "letters"]
        assert {r.job_name for r in runs} == {"ingest_licensed"}
        assert {r.status for r in runs} == {dg.DagsterRunStatus.QUEUED}


def test_backfill_refuses_sources_that_are_not_registered(registry, capsys):
    assert main(["backfill", "licensed", "--partitions", "books,nope"]) == 2
    assert "nope: not registered licensed sources" in capsys.readouterr().err
