"""Servers the infra tests start: PostgreSQL (both stores' databases) on a loopback address."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from infra.postgres import LocalPostgres, find_pg_bin


@pytest.fixture(scope="module")
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
