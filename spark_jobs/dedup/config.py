"""Dedup settings as data: MinHash parameters, text normalization, keep policy, paragraph dedup.

The YAML form is orchestration/recipes/dedup.yaml. Everything that changes a document's band
keys goes into `DedupConfig.fingerprint`; signatures computed under another fingerprint are
refused by `near_duplicate_pairs`, so a stored signatures table can never be silently mixed
with signatures of another configuration.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from spark_jobs.config_files import ConfigFile, ConfigModel, KeyProblem, read_config, suggestion

# Bumped when the shingling/hashing code changes in a way that changes band keys.
ALGORITHM_VERSION = 1


@dataclass(frozen=True)
class Normalization:
    """Text normalization before shingling (datatrove's TextNormConfig defaults)."""

    lowercase: bool = True
    norm_numbers: bool = True
    remove_punctuation: bool = True
    norm_whitespace: bool = True
    norm_unicode_diacritics: bool = True


@dataclass(frozen=True)
class KeepRule:
    """One step of the keep policy, mapped to a Spark sort expression.

    kind "column": sort by the first present column of `columns` (coalesced in order).
    kind "license_rank": documents of the licensed corpus first, then by license class
    (public domain, permissive, weak copyleft, copyleft, unknown) from license_class or license.
    """

    columns: tuple[str, ...]
    order: str = "asc"  # asc | desc; nulls always sort last
    kind: str = "column"  # column | license_rank

    def __post_init__(self) -> None:
        if self.order not in ("asc", "desc"):
            raise ValueError(f"keep rule order must be asc or desc, not {self.order!r}")
        if self.kind not in ("column", "license_rank"):
            raise ValueError(f"keep rule kind must be column or license_rank, not {self.kind!r}")
        if not self.columns:
            raise ValueError("a keep rule needs at least one column")


DEFAULT_KEEP_RULES: dict[str, KeepRule] = {
    "licensed_first": KeepRule(("corpus", "license_class", "license"), kind="license_rank"),
    "quality_desc": KeepRule(("quality_score", "classifier_score"), order="desc"),
    "oldest": KeepRule(("published_date", "fetch_date"), order="asc"),
    "id": KeepRule(("id",), order="asc"),
}


@dataclass(frozen=True)
class DedupConfig:
    """MinHash-LSH and keep-policy settings (defaults: FineWeb's 5-grams, 14 bands x 8 rows)."""

    shingle_size: int = 5
    bands: int = 14
    rows: int = 8
    seed: int = 1
    normalization: Normalization = field(default_factory=Normalization)
    # Candidate pairs from LSH buckets are kept only when the signatures' estimated Jaccard
    # similarity reaches this (None: keep every bucket collision, as datatrove does). Needs the
    # 16-bit signature sketch stored next to the band keys (224 bytes per document at 112 hashes).
    verify_threshold: float | None = 0.8
    keep_policy: tuple[str, ...] = ("licensed_first", "quality_desc", "oldest", "id")
    keep_rules: tuple[tuple[str, KeepRule], ...] = tuple(DEFAULT_KEEP_RULES.items())
    paragraph_min_chars: int = 40
    paragraph_min_count: int = 2

    def __post_init__(self) -> None:
        for name in ("shingle_size", "bands", "rows"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.verify_threshold is not None and not 0.0 <= self.verify_threshold <= 1.0:
            raise ValueError("verify_threshold must be between 0 and 1 (or null)")
        rules = dict(self.keep_rules)
        unknown = [name for name in self.keep_policy if name not in rules]
        if unknown:
            raise ValueError(f"keep policy names unknown rules {unknown}; rules: {sorted(rules)}")

    @property
    def num_hashes(self) -> int:
        return self.bands * self.rows

    @property
    def threshold(self) -> float:
        """Jaccard similarity at which a pair is found with probability ~1/2: (1/b)^(1/r)."""
        return (1.0 / self.bands) ** (1.0 / self.rows)

    def rule(self, name: str) -> KeepRule:
        return dict(self.keep_rules)[name]

    @property
    def fingerprint(self) -> str:
        """Hash of everything that determines band keys; equal fingerprints, comparable keys."""
        content = {
            "algorithm": ALGORITHM_VERSION,
            "shingle_size": self.shingle_size,
            "bands": self.bands,
            "rows": self.rows,
            "seed": self.seed,
            "normalization": asdict(self.normalization),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    def with_(self, **changes: Any) -> DedupConfig:
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None, origin: str = "dedup config") -> DedupConfig:
        """Settings built in code; a mistake raises ConfigError naming `origin` and the key."""
        return ConfigFile.of(raw, origin).validate(DedupFile).to_config()

    @classmethod
    def from_yaml(cls, path: str | Path) -> DedupConfig:
        """The settings in a YAML file; a mistake raises ConfigError naming the file, line, key."""
        return read_config(path).validate(DedupFile).to_config()


# --- the YAML form (orchestration/recipes/dedup.yaml) ----------------------------------------


class NormalizationSection(ConfigModel):
    lowercase: bool = Field(True, description="true or false")
    norm_numbers: bool = Field(True, description="true or false")
    remove_punctuation: bool = Field(True, description="true or false")
    norm_whitespace: bool = Field(True, description="true or false")
    norm_unicode_diacritics: bool = Field(True, description="true or false")


class MinhashSection(ConfigModel):
    shingle_size: int = Field(5, ge=1, description="a whole number >= 1 (words per shingle)")
    bands: int = Field(14, ge=1, description="a whole number >= 1")
    rows: int = Field(8, ge=1, description="a whole number >= 1 (hashes per band)")
    seed: int = Field(1, description="a whole number")
    verify_threshold: float | None = Field(
        0.8, ge=0, le=1, description="a number from 0 to 1, or null (keep every collision)"
    )
    normalization: NormalizationSection | None = Field(
        None, description=", ".join(NormalizationSection.model_fields)
    )


class KeepRuleSection(ConfigModel):
    columns: list[str] = Field(min_length=1, description="a list of column names")
    order: Literal["asc", "desc"] = Field(
        "asc", title="a sort order", description="asc, desc (nulls always sort last)"
    )
    kind: Literal["column", "license_rank"] = Field(
        "column", title="a keep rule kind", description="column, license_rank"
    )


class ParagraphsSection(ConfigModel):
    min_chars: int = Field(40, ge=0, description="a whole number >= 0")
    min_count: int = Field(2, ge=1, description="a whole number >= 1")


class DedupFile(ConfigModel):
    """orchestration/recipes/dedup.yaml as written."""

    minhash: MinhashSection | None = Field(None, description=", ".join(MinhashSection.model_fields))
    keep_policy: list[str] | None = Field(
        None, description="a list of keep rules, the first deciding first"
    )
    keep_rules: dict[str, KeepRuleSection] | None = Field(
        None, description="a mapping from rule name to {columns, order, kind}"
    )
    paragraphs: ParagraphsSection | None = Field(None, description="min_chars, min_count")

    @model_validator(mode="after")
    def _known_keep_rules(self) -> DedupFile:
        rules = [
            *DEFAULT_KEEP_RULES,
            *(r for r in self.keep_rules or {} if r not in DEFAULT_KEEP_RULES),
        ]
        for index, name in enumerate(self.keep_policy or []):
            if name not in rules:
                raise KeyProblem(
                    f"{name!r} is not a keep rule{suggestion(name, rules)}; allowed: "
                    f"{', '.join(rules)} (or define it under keep_rules)",
                    "keep_policy",
                    index,
                )
        return self

    def to_config(self) -> DedupConfig:
        given = self.model_fields_set
        kwargs: dict[str, Any] = {}
        minhash = self.minhash or MinhashSection()
        for key in minhash.model_fields_set & {"shingle_size", "bands", "rows", "seed"}:
            kwargs[key] = getattr(minhash, key)
        if "verify_threshold" in minhash.model_fields_set:
            kwargs["verify_threshold"] = minhash.verify_threshold
        normalization = minhash.normalization or NormalizationSection()
        kwargs["normalization"] = Normalization(**normalization.model_dump())
        if "keep_policy" in given and self.keep_policy is not None:
            kwargs["keep_policy"] = tuple(self.keep_policy)
        rules = dict(DEFAULT_KEEP_RULES)
        for name, rule in (self.keep_rules or {}).items():
            rules[name] = KeepRule(tuple(rule.columns), order=rule.order, kind=rule.kind)
        kwargs["keep_rules"] = tuple(rules.items())
        paragraphs = self.paragraphs or ParagraphsSection()
        if "min_chars" in paragraphs.model_fields_set:
            kwargs["paragraph_min_chars"] = paragraphs.min_chars
        if "min_count" in paragraphs.model_fields_set:
            kwargs["paragraph_min_count"] = paragraphs.min_count
        return DedupConfig(**kwargs)


class ConfigMismatchError(ValueError):
    """Signatures were computed under another dedup configuration than the one in use."""
