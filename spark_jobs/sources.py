"""The source registry: which landing locations feed which corpus, with their license policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Source:
    """One registry entry. `license` is an SPDX id declared for the whole source, or
    `detect` where the reader determines it per document or repository."""

    name: str
    corpus: str
    location: str
    format: str
    license: str
    license_evidence: str = "declared"
    options: dict = field(default_factory=dict)
    # Only these files (relative to location) instead of everything there: the new files a
    # landing-sensor run was asked to ingest. Empty means the whole location.
    files: tuple[str, ...] = ()

    def only(self, files: Sequence[str]) -> Source:
        """This source restricted to `files` (relative to its location)."""
        return replace(self, files=tuple(files))


def load_sources(path: str | Path, *, landing_uri: str) -> dict[str, Source]:
    """Read the registry; `{landing}` in a location expands to the configured landing URI."""
    entries = yaml.safe_load(Path(path).read_text()) or {}
    # The opt-out list (domains whose owners asked to be left out) applies to every web source.
    opt_out = [d.lower().removeprefix("www.") for d in entries.get("opt_out_domains") or []]
    sources: dict[str, Source] = {}
    for name, entry in (entries.get("sources") or {}).items():
        missing = {"corpus", "location", "format", "license"} - set(entry)
        if missing:
            raise ValueError(f"source {name!r} in {path} is missing {sorted(missing)}")
        location = entry["location"].format(landing=landing_uri.rstrip("/"))
        options = dict(entry.get("options") or {})
        if entry["corpus"] == "web" and opt_out:
            options["opt_out_domains"] = sorted({*options.get("opt_out_domains", []), *opt_out})
        sources[name] = Source(name=name, **{**entry, "location": location, "options": options})
    return sources
