"""Dagster's run, event-log and schedule storage on a real PostgreSQL server (the cluster profile)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from assets.ops import SOURCE_REGISTRY, source_registry
from infra.postgres import LocalPostgres, find_pg_bin
from orchestration.instance import prepare_dagster_home
from orchestration.resources import LakehouseResource
from orchestration.settings import load_settings


@pytest.fixture
def postgres():
    """A PostgreSQL cluster of its own on 127.0.0.1 (a free port), removed afterwards."""
    try:
        find_pg_bin()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    # Outside pytest's 0700 tmp tree: under root the server runs as `postgres` and must reach it.
    base = Path(tempfile.mkdtemp(prefix="pilehouse-pg-"))
    base.chmod(0o755)
    try:
        with LocalPostgres(base / "data") as server:
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_an_asset_materializes_with_dagster_storage_on_postgres(postgres, tmp_path, monkeypatch):
    landing = tmp_path / "landing" / "books"
    landing.mkdir(parents=True)
    (landing / "a.txt").write_text("A public domain book.\n")
    registry = tmp_path / "sources.yaml"
    registry.write_text(
        "sources:\n  books:\n    corpus: licensed\n    format: text\n"
        f'    location: "{landing}"\n    license: PublicDomain\n'
    )
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(registry))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("PILEHOUSE_DAGSTER_POSTGRES_URL", postgres.url)

    home = prepare_dagster_home(load_settings())
    assert "postgres_url" in (home / "dagster.yaml").read_text()
    instance = dg.DagsterInstance.get()
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"

        result = dg.materialize(
            [source_registry], instance=instance, resources={"lakehouse": LakehouseResource()}
        )
        assert result.success
        event = instance.get_latest_materialization_event(SOURCE_REGISTRY)
        assert event.run_id == result.run_id
        metadata = event.asset_materialization.metadata
        assert metadata["sources"].value == 1
        assert "| books | licensed |" in metadata["landing"].value
        assert "| 1 |" in metadata["landing"].value  # one ready file
    finally:
        instance.dispose()

    # The run is a row in the server's own tables, not in a SQLite file.
    with psycopg2.connect(postgres.dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,))
        assert cursor.fetchone() == ("SUCCESS",)
    assert not list((tmp_path / "dagster").glob("**/*.db"))
