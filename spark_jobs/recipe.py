"""Recipes: what a curated table keeps, as data (orchestration/recipes/<corpus>-default.yaml).

A recipe names the license policy, the language allowlist, the rule sets (with threshold
overrides) applied to stored quality signals, the PII policy, decontamination and dedup
settings and the keep order among duplicates. Changing a threshold re-runs selection only:
annotations are computed once (spark_jobs.annotate).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from spark_jobs.annotators.pii import PII_TYPES
from spark_jobs.annotators.rulesets import load_rulesets
from spark_jobs.config_files import (
    LEGACY,
    ConfigFile,
    ConfigModel,
    KeyProblem,
    Number,
    describe,
    read_config,
    suggestion,
)
from spark_jobs.lake import CORPORA
from spark_jobs.licenses import license_policies

PII_POLICIES = ("redact", "drop")


@dataclass(frozen=True)
class PiiPolicy:
    """`redact`: kept documents' PII spans are replaced by typed placeholders.
    `drop`: documents with more than `max_spans` spans are rejected (pii_above_threshold).
    `types`: the PII types the policy covers (None: all)."""

    policy: str = "redact"
    max_spans: int | None = None
    types: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.policy not in PII_POLICIES:
            raise ValueError(f"pii policy {self.policy!r}: expected one of {PII_POLICIES}")
        if self.policy == "drop" and self.max_spans is None:
            raise ValueError("pii policy drop needs max_spans (documents with more are dropped)")


@dataclass(frozen=True)
class DecontaminationPolicy:
    """Documents sharing an `ngram`-token n-gram with a registered benchmark are dropped.
    `benchmarks`: "all", a tuple of benchmark names, or None (no decontamination)."""

    benchmarks: str | tuple[str, ...] | None = "all"
    ngram: int = 13

    def __post_init__(self) -> None:
        if isinstance(self.benchmarks, str) and self.benchmarks != "all":
            raise ValueError(f"decontamination benchmarks {self.benchmarks!r}: 'all' or a list")
        if self.ngram < 1:
            raise ValueError(f"decontamination ngram must be >= 1, got {self.ngram}")


@dataclass(frozen=True)
class DedupPolicy:
    exact: bool = True
    fuzzy: bool = True
    # Documents whose fraction of paragraphs repeated across documents is above this are
    # dropped (None: no paragraph-level filter).
    max_duplicate_paragraph_fraction: float | None = None


def _default_rules() -> dict[str, dict[str, Any]]:
    return {"gopher_quality": {}}


@dataclass(frozen=True)
class CurationRecipe:
    """What a curated table keeps. Thresholds here, not in code: changing them re-runs selection only."""

    name: str = "default"
    corpus: str | None = None
    # Licenses outside this policy (spark_jobs/licenses/classes.yaml) never reach the table.
    license_policy: str | None = "platform"
    # None: no language filter (e.g. for code).
    languages: tuple[str, ...] | None = ("en",)
    min_language_score: float = 0.65
    # Rule sets (spark_jobs/annotators/rulesets.yaml) applied in this order, each with its
    # threshold overrides ({} keeps the reference defaults).
    rules: Mapping[str, Mapping[str, Any]] = field(default_factory=_default_rules)
    # None: PII is neither dropped nor redacted.
    pii: PiiPolicy | None = field(default_factory=PiiPolicy)
    # None: no decontamination.
    decontamination: DecontaminationPolicy | None = field(default_factory=DecontaminationPolicy)
    dedup: DedupPolicy = field(default_factory=DedupPolicy)
    # Among duplicates the first document in this order is kept.
    keep_order: tuple[str, ...] = ("fetch_date", "id")

    def __post_init__(self) -> None:
        sets = load_rulesets()
        for name, overrides in self.rules.items():
            if name not in sets:
                raise ValueError(
                    f"recipe {self.name}: unknown rule set {name!r}; known: {', '.join(sets)}"
                )
            sets[name].resolve(overrides)  # raises on unknown thresholds

    @classmethod
    def from_yaml(cls, path: str | Path) -> CurationRecipe:
        """The recipe in a YAML file; a mistake raises ConfigError naming the file, line and key."""
        return read_config(path).validate(RecipeFile).to_recipe()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], origin: str = "recipe") -> CurationRecipe:
        return ConfigFile.of(raw, origin).validate(RecipeFile).to_recipe()

    @property
    def fingerprint(self) -> str:
        """A short stable hash of the recipe's content, recorded in curated tables' commits."""
        content = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(content.encode()).hexdigest()[:16]


# --- the YAML form (orchestration/recipes/<corpus>-default.yaml) ------------------------------


def rule_overrides_problem(name: str, overrides: Any) -> KeyProblem | None:
    """Why `rules.<name>: overrides` is wrong (placed at the offending key), or None."""
    sets = load_rulesets()
    if name not in sets:
        return KeyProblem(
            f"{name!r} is not a rule set{suggestion(name, list(sets))}; allowed: {', '.join(sets)}"
        )
    if overrides is None:
        return None
    if not isinstance(overrides, Mapping):
        return KeyProblem(
            f"{describe(overrides)} is not a mapping of threshold overrides "
            f"({{}} keeps the defaults); allowed: {', '.join(sets[name].thresholds)}"
        )
    defaults = sets[name].thresholds
    for key, value in overrides.items():
        if key not in defaults:
            return KeyProblem(
                f"unknown threshold of rule set {name}{suggestion(key, list(defaults))}; "
                f"allowed: {', '.join(defaults)}",
                key,
            )
        if isinstance(defaults[key], bool):
            if not isinstance(value, bool):
                return KeyProblem(f"{describe(value)} is not true or false", key)
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return KeyProblem(
                f"{describe(value)} is not a number; allowed: a number, or null (rule off)", key
            )
    return None


class PiiSection(ConfigModel):
    policy: Literal["redact", "drop"] = Field(
        "redact", title="a PII policy", description=", ".join(PII_POLICIES)
    )
    max_spans: int | None = Field(
        None, ge=0, description="a whole number >= 0 (documents with more are dropped), or null"
    )
    types: list[str] | None = Field(
        None, description=f"a list of PII types ({', '.join(PII_TYPES)}), or null for all"
    )

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        for index, name in enumerate(value or []):
            if name not in PII_TYPES:
                raise KeyProblem(
                    f"{name!r} is not a PII type{suggestion(name, PII_TYPES)}; "
                    f"allowed: {', '.join(PII_TYPES)}",
                    index,
                )
        return value

    @model_validator(mode="after")
    def _drop_needs_max_spans(self) -> PiiSection:
        if self.policy == "drop" and self.max_spans is None:
            raise KeyProblem(
                "required when policy is drop; allowed: a whole number >= 0 (documents with "
                "more PII spans are dropped)",
                "max_spans",
            )
        return self


class DecontaminationSection(ConfigModel):
    benchmarks: Any = Field("all", description="all, a list of benchmark names, or null (off)")
    ngram: int = Field(13, ge=1, description="a whole number >= 1 (tokens per shared n-gram)")

    @field_validator("benchmarks")
    @classmethod
    def _all_or_names(cls, value: Any) -> Any:
        if value is None or value == "all":
            return value
        if isinstance(value, list) and all(isinstance(name, str) for name in value):
            return value
        raise ValueError(
            f"{describe(value)} is not all or a list of benchmark names; "
            "allowed: all, a list of benchmark names, or null (off)"
        )


class DedupSection(ConfigModel):
    exact: bool = Field(True, description="true or false")
    fuzzy: bool = Field(True, description="true or false")
    max_duplicate_paragraph_fraction: Number | None = Field(
        None, ge=0, le=1, description="a number from 0 to 1, or null (no paragraph filter)"
    )


class RecipeFile(ConfigModel):
    """A curation recipe as written in YAML; unset keys keep `CurationRecipe`'s defaults."""

    name: str = Field("default", description="text")
    corpus: str | None = Field(None, description=", ".join(CORPORA))
    license_policy: str | None = Field(
        "platform", description="a policy of spark_jobs/licenses/classes.yaml, or null"
    )
    languages: list[str] | None = Field(
        None, description="a list of language codes ([en, de]), or null (no language filter)"
    )
    min_language_score: Number = Field(
        0.65, ge=0, le=1, description="a number from 0 to 1 (the least language-ID score kept)"
    )
    rules: dict[str, Any] | None = Field(
        None, description="a mapping from rule set to its threshold overrides ({}: defaults)"
    )
    pii: PiiSection | None = Field(None, description="{policy, max_spans, types}, or null (off)")
    decontamination: DecontaminationSection | None = Field(
        None, description="{benchmarks, ngram}, or null (off)"
    )
    dedup: DedupSection | None = Field(
        None, description="{exact, fuzzy, max_duplicate_paragraph_fraction}, or null (off)"
    )
    keep_order: list[str] = Field(
        ["fetch_date", "id"], description="a list of columns; the first duplicate in it is kept"
    )
    # Older recipes: `gopher_quality: {...}` / null, `max_pii_spans`, `exact_dedup`.
    gopher_quality: dict[str, Any] | None = Field(None, json_schema_extra=LEGACY)
    max_pii_spans: int | None = Field(None, ge=0, json_schema_extra=LEGACY)
    exact_dedup: bool = Field(True, json_schema_extra=LEGACY)

    @field_validator("corpus")
    @classmethod
    def _known_corpus(cls, value: str | None) -> str | None:
        if value is not None and value not in CORPORA:
            raise ValueError(
                f"{value!r} is not a corpus family{suggestion(value, CORPORA)}; "
                f"allowed: {', '.join(CORPORA)}"
            )
        return value

    @field_validator("license_policy")
    @classmethod
    def _known_policy(cls, value: str | None) -> str | None:
        policies = list(license_policies())
        if value is not None and value not in policies:
            raise ValueError(
                f"{value!r} is not a license policy{suggestion(value, policies)}; "
                f"allowed: {', '.join(policies)} (spark_jobs/licenses/classes.yaml), or null"
            )
        return value

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for name, overrides in (value or {}).items():
            problem = rule_overrides_problem(name, overrides)
            if problem:
                raise KeyProblem(str(problem), name, *problem.at)
        return value

    @field_validator("gopher_quality")
    @classmethod
    def _gopher_thresholds(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        problem = rule_overrides_problem("gopher_quality", value)
        if problem:
            raise problem
        return value

    @model_validator(mode="after")
    def _one_pii_setting(self) -> RecipeFile:
        if {"pii", "max_pii_spans"} <= self.model_fields_set:
            raise KeyProblem("replaced by pii.max_spans; remove it", "max_pii_spans")
        return self

    def to_recipe(self) -> CurationRecipe:
        given = self.model_fields_set
        rules = {name: dict(overrides or {}) for name, overrides in (self.rules or {}).items()}
        if "gopher_quality" in given:
            if self.gopher_quality is not None and "gopher_quality" not in rules:
                rules = {"gopher_quality": dict(self.gopher_quality), **rules}
        elif "rules" not in given:
            rules = _default_rules()
        kwargs: dict[str, Any] = {
            key: getattr(self, key)
            for key in ("name", "corpus", "license_policy", "min_language_score")
            if key in given
        }
        for key in ("languages", "keep_order"):
            if key in given:
                value = getattr(self, key)
                kwargs[key] = None if value is None else tuple(value)
        if "pii" in given:
            pii = self.pii
            kwargs["pii"] = pii and PiiPolicy(
                pii.policy, pii.max_spans, None if pii.types is None else tuple(pii.types)
            )
        elif {"gopher_quality", "max_pii_spans", "exact_dedup"} & given:
            # Old recipes dropped documents with any PII span unless max_pii_spans said otherwise.
            spans = self.max_pii_spans if "max_pii_spans" in given else 0
            kwargs["pii"] = None if spans is None else PiiPolicy("drop", spans)
        if "decontamination" in given:
            section = self.decontamination
            benchmarks = section and section.benchmarks
            kwargs["decontamination"] = section and DecontaminationPolicy(
                tuple(benchmarks) if isinstance(benchmarks, list) else benchmarks, section.ngram
            )
        if "dedup" in given:
            section = self.dedup
            kwargs["dedup"] = (
                DedupPolicy(section.exact, section.fuzzy, section.max_duplicate_paragraph_fraction)
                if section
                else DedupPolicy(False, False)
            )
        elif "exact_dedup" in given:
            kwargs["dedup"] = DedupPolicy(exact=self.exact_dedup)
        return CurationRecipe(rules=rules, **kwargs)
