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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from spark_jobs.annotators.rulesets import load_rulesets

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
class Recipe:
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
    def from_yaml(cls, path: str | Path) -> Recipe:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        try:
            return cls.from_dict(raw)
        except (TypeError, ValueError) as error:
            raise ValueError(f"recipe {path}: {error}") from error

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Recipe:
        raw = dict(raw)
        has_rules = "rules" in raw
        legacy = bool({"gopher_quality", "max_pii_spans", "exact_dedup"} & set(raw))
        rules = {k: dict(v or {}) for k, v in (raw.pop("rules", None) or {}).items()}
        # Older recipes: `gopher_quality: {...}` / null, `max_pii_spans`, `exact_dedup`.
        if "gopher_quality" in raw:
            gopher = raw.pop("gopher_quality")
            if gopher is not None and "gopher_quality" not in rules:
                rules = {"gopher_quality": dict(gopher), **rules}
        elif not has_rules:
            rules = _default_rules()
        if legacy and "pii" not in raw:
            # Old recipes dropped documents with any PII span unless max_pii_spans said otherwise.
            spans = raw.pop("max_pii_spans", 0)
            raw["pii"] = None if spans is None else {"policy": "drop", "max_spans": spans}
        if "exact_dedup" in raw:
            raw.setdefault("dedup", {"exact": bool(raw.pop("exact_dedup"))})
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        for key in ("languages", "keep_order"):
            if raw.get(key) is not None:
                raw[key] = tuple(raw[key])
        if "pii" in raw:
            raw["pii"] = _sub(PiiPolicy, raw["pii"], "pii", tuples=("types",))
        if "decontamination" in raw:
            raw["decontamination"] = _sub(
                DecontaminationPolicy, raw["decontamination"], "decontamination"
            )
        if "dedup" in raw:
            raw["dedup"] = _sub(DedupPolicy, raw["dedup"], "dedup") or DedupPolicy(False, False)
        return cls(rules=rules, **raw)

    @property
    def fingerprint(self) -> str:
        """A short stable hash of the recipe's content, recorded in curated tables' commits."""
        content = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(content.encode()).hexdigest()[:16]


def _sub(cls: type, raw: Any, key: str, tuples: tuple[str, ...] = ()) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{key}: expected a mapping or null, got {raw!r}")
    raw = dict(raw)
    unknown = set(raw) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"{key}: unknown keys {sorted(unknown)}")
    for name in tuples:
        if raw.get(name) is not None:
            raw[name] = tuple(raw[name])
    if cls is DecontaminationPolicy and isinstance(raw.get("benchmarks"), list):
        raw["benchmarks"] = tuple(raw["benchmarks"])
    return cls(**raw)
