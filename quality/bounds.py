"""The tunable bounds of the quality suites (bounds.yaml), read when a check runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

BOUNDS_FILE = Path(__file__).with_name("bounds.yaml")


def load_bounds(table: str, path: str | Path = BOUNDS_FILE) -> dict[str, Any]:
    """The bounds for one table: defaults with the table's own overrides applied.

    Read on every call, so a tuned bound applies to the next check without a restart.
    """
    raw = yaml.safe_load(Path(path).read_text())
    distribution = raw["distribution"]
    pii = raw["pii"]
    return {
        "documents": raw["documents"],
        "distribution": {**distribution["default"], **distribution.get(table, {})},
        "pii": pii.get(table, pii["default"]),
    }


def pandas_max_bytes(path: str | Path = BOUNDS_FILE) -> int:
    """The biggest table (bytes of its Delta files) whose checks run on GX's pandas engine."""
    return int(yaml.safe_load(Path(path).read_text())["engine"]["pandas_max_bytes"])
