"""No surprise work: on a home that `make run` ingested, the Dagster UI's sensors start with
nothing to do. The landing sensor, on a fresh cursor, knows every file already in raw.*,
rejects or quarantine (each family names its landing files differently) and requests
none of them; a new file still gets exactly one run of its own; automation requests
nothing on the first ticks."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from assets.corpus import corpus_keys
from orchestration.definitions import defs
from orchestration.instance import prepare_dagster_home
from orchestration.jobs import ingest_job_name
from orchestration.pipeline import QUIET_LOGS, sync_source_partitions
from orchestration.sensors import build_landing_sensor
from orchestration.settings import load_settings
from spark_jobs.landing import LandingCursor, key_digest
from spark_jobs.samples.bundled import ensure_samples

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def ingested_home(tmp_path_factory, spark) -> Iterator[dg.DagsterInstance]:
    """A home as `make run` leaves its landing zone and raw tables: the bundled sample corpus
    (every family, small), every registered source ingested whole, on the instance in
    DAGSTER_HOME that `pilehouse ui` opens."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PILEHOUSE_HOME", str(tmp_path_factory.mktemp("made") / "home"))
        env.delenv("PILEHOUSE_SOURCES_FILE", raising=False)
        env.delenv("DAGSTER_HOME", raising=False)
        settings = load_settings()
        prepare_dagster_home(settings)
        env.setenv("DAGSTER_HOME", str(settings.dagster_home))  # undone with the rest
        ensure_samples(Path(settings.landing_uri), pages=40, seed=0, regenerate=False)
        with dg.DagsterInstance.get() as instance:
            for corpus, names in sync_source_partitions(instance, settings).items():
                job = defs.resolve_job_def(ingest_job_name(corpus))
                for name in names:
                    result = job.execute_in_process(
                        instance=instance,
                        partition_key=name,
                        asset_selection=[corpus_keys(corpus)[0]],  # raw: what the sensor reads
                        run_config=QUIET_LOGS,
                    )
                    assert result.success
            yield instance


def test_the_landing_sensor_requests_nothing_already_ingested_and_a_new_file_once(
    ingested_home,
):
    instance = ingested_home
    settings = load_settings()
    sensor = build_landing_sensor(settle_seconds=0)

    first = sensor(dg.build_sensor_context(instance=instance))  # a fresh cursor, as in the UI
    assert first.run_requests == [], first.skip_reason
    seen = LandingCursor.parse(first.cursor).sources
    landing = Path(settings.landing_uri)
    for folder, source in [
        ("web/sample-crawl", "sample-crawl"),
        ("code/sample-repos", "sample-repos"),
        ("papers/sample-papers", "sample-papers"),
        ("licensed/sample/books", "public-domain-books"),
    ]:
        files = [
            p.relative_to(landing / folder).as_posix()
            for p in (landing / folder).rglob("*")
            if p.is_file() and not any(part.startswith((".", "_")) for part in p.parts)
        ]
        # Every file of the source counts as seen (code: each repository's files).
        assert files
        assert {key_digest(f) for f in files} <= seen[source].seen, source

    book = landing / "licensed" / "sample" / "books" / "new-book.txt"
    book.write_text("A book that landed after make run. " * 50)
    old = time.time() - 60
    os.utime(book, (old, old))
    second = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    [run] = second.run_requests
    assert (run.job_name, run.partition_key) == ("ingest_licensed", "public-domain-books")
    assert run.run_config["ops"]["raw__licensed"]["config"]["files"] == ["new-book.txt"]
    third = sensor(dg.build_sensor_context(instance=instance, cursor=second.cursor))
    assert third.run_requests == []


def test_automation_requests_nothing_when_the_ui_starts(ingested_home):
    instance = ingested_home
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.total_requested == 0
