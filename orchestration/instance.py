"""The Dagster instance home: SQLite under the data directory, or Postgres in the cluster profile."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.settings import Settings

INFRA_DAGSTER = Path(__file__).resolve().parent.parent / "infra" / "dagster"


def prepare_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with the right dagster.yaml and export it for this process and its children."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    variant = "dagster-postgres.yaml" if settings.dagster_postgres_url else "dagster.yaml"
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != (INFRA_DAGSTER / variant).read_text():
        shutil.copyfile(INFRA_DAGSTER / variant, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
