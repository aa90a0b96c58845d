"""The source registry: which landing locations feed which corpus, with their license policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Source:
    name: str
    corpus: str
    location: str
    format: str
    license: str
    license_evidence: str = "declared"
    options: dict = field(default_factory=dict)


def load_sources(path: str | Path, *, landing_uri: str) -> dict[str, Source]:
    """Read the registry; `{landing}` in a location expands to the configured landing URI."""
    entries = yaml.safe_load(Path(path).read_text()) or {}
    sources: dict[str, Source] = {}
    for name, entry in (entries.get("sources") or {}).items():
        missing = {"corpus", "location", "format", "license"} - set(entry)
        if missing:
            raise ValueError(f"source {name!r} in {path} is missing {sorted(missing)}")
        location = entry["location"].format(landing=landing_uri.rstrip("/"))
        sources[name] = Source(name=name, **{**entry, "location": location})
    return sources
