"""The source registry: which landing locations feed which corpus, with their license policy."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from spark_jobs.config_files import ConfigModel, KeyProblem, describe, read_config, suggestion
from spark_jobs.lake import CORPORA
from spark_jobs.licenses.spdx import NOASSERTION, UNKNOWN, knowledge, license_class, license_ids
from spark_jobs.untrusted import ReadLimits

# A Source.license value: the reader finds each document's or repository's license itself.
DETECT = "detect"
LICENSES_ALLOWED = (
    "an SPDX id or expression classified in spark_jobs/licenses/classes.yaml (MIT, "
    "CC-BY-4.0, PublicDomain, ...), LicenseRef-..., NOASSERTION or detect"
)


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


def declared_license_problem(value: str) -> str | None:
    """Why `value` cannot be a source's declared license, or None when it can.

    Every id of an expression must be classified (a license nobody classified reaches no
    curated table, so it is most likely a typo), or be a deliberate LicenseRef-… or NOASSERTION.
    """
    if value in (DETECT, NOASSERTION):
        return None
    if not value.strip():
        return f"empty; allowed: {LICENSES_ALLOWED}"
    try:
        ids = license_ids(value)
    except ValueError as error:
        return f"{value!r} is not an SPDX expression ({error}); allowed: {LICENSES_ALLOWED}"
    for spdx in ids:
        if spdx.startswith("LicenseRef-") or spdx == NOASSERTION or license_class(spdx) != UNKNOWN:
            continue
        guess = suggestion(spdx, list(knowledge().classes))
        return f"{spdx!r} is not a classified license{guess}; allowed: {LICENSES_ALLOWED}"
    return None


class SourceEntry(ConfigModel):
    """One entry under `sources:` as written in the registry."""

    corpus: str = Field(description=", ".join(CORPORA))
    format: str = Field(description="what the files are (warc, jsonl, ...), for people")
    location: str = Field(
        description="a local directory or s3://bucket/prefix; {landing} is the landing URI"
    )
    license: str = Field(description=LICENSES_ALLOWED)
    license_evidence: str = Field("declared", description="how the license is known (text)")
    options: dict[str, Any] | None = Field(None, description="a mapping of reader options")

    @field_validator("corpus")
    @classmethod
    def _known_corpus(cls, value: str) -> str:
        if value not in CORPORA:
            raise ValueError(
                f"{value!r} is not a corpus family{suggestion(value, CORPORA)}; "
                f"allowed: {', '.join(CORPORA)}"
            )
        return value

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        allowed = "a local directory or s3://bucket/prefix; {landing} is the landing URI"
        if not value.strip():
            raise ValueError(f"empty; allowed: {allowed}")
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as error:
            raise ValueError(f"{value!r}: {error}; write {{{{ }}}} for a literal brace") from None
        for name in names:
            if name != "landing":
                raise ValueError(f"unknown placeholder {{{name}}}; allowed: {allowed}")
        return value

    @field_validator("license")
    @classmethod
    def _classified_license(cls, value: str) -> str:
        problem = declared_license_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("options")
    @classmethod
    def _read_limits(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        limits = (value or {}).get("limits")
        if limits is None:
            return value
        if not isinstance(limits, Mapping):
            raise KeyProblem(f"{describe(limits)} is not a mapping of read limits", "limits")
        for name, limit in limits.items():
            try:
                ReadLimits.from_options({"limits": {name: limit}})
            except ValueError as error:
                raise KeyProblem(str(error), "limits", name) from None
        return value


class SourceRegistryFile(ConfigModel):
    """orchestration/sources.yaml (or PILEHOUSE_SOURCES_FILE)."""

    opt_out_domains: list[str] | None = Field(
        None, description="a list of domains whose owners opted out of training use"
    )
    sources: dict[str, SourceEntry] | None = Field(
        None, description="a mapping from source name to its corpus, format, location, license"
    )


def load_sources(path: str | Path, *, landing_uri: str) -> dict[str, Source]:
    """Read the registry; `{landing}` in a location expands to the configured landing URI.

    A mistake in the file raises ConfigError: one line with the file, line, key and what is
    allowed."""
    registry = read_config(path).validate(SourceRegistryFile)
    # The opt-out list (domains whose owners asked to be left out) applies to every web source.
    opt_out = [d.lower().removeprefix("www.") for d in registry.opt_out_domains or []]
    sources: dict[str, Source] = {}
    for name, entry in (registry.sources or {}).items():
        options = dict(entry.options or {})
        if entry.corpus == "web" and opt_out:
            options["opt_out_domains"] = sorted({*options.get("opt_out_domains", []), *opt_out})
        sources[name] = Source(
            name=name,
            corpus=entry.corpus,
            location=entry.location.format(landing=landing_uri.rstrip("/")),
            format=entry.format,
            license=entry.license,
            license_evidence=entry.license_evidence,
            options=options,
        )
    return sources
