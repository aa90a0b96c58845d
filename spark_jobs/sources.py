"""The source registry: which landing locations feed which corpus, with their license policy."""

from __future__ import annotations

import fnmatch
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from spark_jobs.config_files import ConfigModel, KeyProblem, describe, read_config, suggestion
from spark_jobs.lake import CORPORA
from spark_jobs.licenses.spdx import NOASSERTION, UNKNOWN, knowledge, license_class, license_ids
from spark_jobs.session import parse_bytes
from spark_jobs.untrusted import ReadLimits

# A Source.license value: the reader finds each document's or repository's license itself.
DETECT = "detect"
LICENSES_ALLOWED = (
    "an SPDX id or expression classified in spark_jobs/licenses/classes.yaml (MIT, "
    "CC-BY-4.0, PublicDomain, ...), or detect"
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
    # Parts of the source whose license differs from the declared one (a mixed crawl).
    license_overrides: tuple[LicenseOverride, ...] = ()
    # Only these files (relative to location) instead of everything there: the new files a
    # landing-sensor run was asked to ingest. Empty means the whole location.
    files: tuple[str, ...] = ()

    def only(self, files: Sequence[str]) -> Source:
        """This source restricted to `files` (relative to its location)."""
        return replace(self, files=tuple(files))


@dataclass(frozen=True)
class LicenseOverride:
    """Documents of one domain (and its subdomains) and/or under one path glob carry this
    license instead of the source's declared one. Web: the path is the URL's path; other
    families: the record's locator (its file path under the location)."""

    license: str
    domain: str | None = None
    path: str | None = None
    evidence: str = "declared:override"

    def matches(self, *, domain: str | None, path: str | None) -> bool:
        if self.domain is not None:
            host = (domain or "").lower().removeprefix("www.")
            if host != self.domain and not host.endswith("." + self.domain):
                return False
        if self.path is not None:
            return path is not None and fnmatch.fnmatchcase(path, self.path)
        return True


def license_override(
    overrides: Sequence[LicenseOverride], *, domain: str | None, path: str | None
) -> LicenseOverride | None:
    """The first override that matches a record, if any."""
    return next((o for o in overrides if o.matches(domain=domain, path=path)), None)


def declared_license_problem(value: str, *, overridden: bool = False) -> str | None:
    """Why `value` cannot be a source's declared license, or None when it can.

    Every id of an expression must be classified: a license of class `unknown` (a typo, an id
    nobody classified, LicenseRef-..., NOASSERTION) lets no document into any curated table,
    so the source is refused rather than rejected document by document. NOASSERTION is
    accepted for a source with license_overrides: the parts they name are known.
    """
    if value == DETECT or (value == NOASSERTION and overridden):
        return None
    if not value.strip():
        return f"empty; allowed: {LICENSES_ALLOWED}"
    if value == NOASSERTION:
        return (
            "NOASSERTION has license class unknown: no document of this source could reach a "
            "curated table; declare the license, use detect, or add license_overrides for the "
            "parts whose license you know"
        )
    try:
        ids = license_ids(value)
    except ValueError as error:
        return f"{value!r} is not an SPDX expression ({error}); allowed: {LICENSES_ALLOWED}"
    for spdx in ids:
        if license_class(spdx) != UNKNOWN:
            continue
        if spdx.startswith("LicenseRef-"):
            return (
                f"{spdx!r} has license class unknown: no document of this source could reach a "
                f"curated table; allowed: {LICENSES_ALLOWED} (classify it in classes.yaml)"
            )
        guess = suggestion(spdx, list(knowledge().classes))
        return f"{spdx!r} is not a classified license{guess}; allowed: {LICENSES_ALLOWED}"
    return None


class LicenseOverrideEntry(ConfigModel):
    """One item of a source's `license_overrides`."""

    license: str = Field(description=LICENSES_ALLOWED.removesuffix(", or detect"))
    domain: str | None = Field(None, description="a domain; its subdomains match too")
    path: str | None = Field(None, description="a glob over the URL path or file path (/docs/*)")
    evidence: str = Field("declared:override", description="how the license is known (text)")

    @field_validator("license")
    @classmethod
    def _classified(cls, value: str) -> str:
        problem = "detect is a source setting" if value == DETECT else None
        problem = problem or declared_license_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _says_where(self) -> LicenseOverrideEntry:
        if self.domain is None and self.path is None:
            raise ValueError("an override needs a domain, a path, or both")
        if self.domain is not None:
            self.domain = self.domain.lower().removeprefix("www.")
        return self


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
    license_overrides: list[LicenseOverrideEntry] | None = Field(
        None, description="a list of {domain and/or path, license}: parts licensed otherwise"
    )

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

    @model_validator(mode="after")
    def _classified_license(self) -> SourceEntry:
        problem = declared_license_problem(self.license, overridden=bool(self.license_overrides))
        if problem:
            raise KeyProblem(problem, "license")
        return self

    @field_validator("options")
    @classmethod
    def _read_limits(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        split_bytes = (value or {}).get("split_bytes")
        if split_bytes is not None:
            try:
                parse_bytes(split_bytes)
            except ValueError as error:
                raise KeyProblem(f"{error}; 0 reads every file whole", "split_bytes") from None
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
            license_overrides=tuple(
                LicenseOverride(o.license, o.domain, o.path, o.evidence)
                for o in entry.license_overrides or []
            ),
        )
    return sources
