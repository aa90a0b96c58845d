"""Mixture recipes: which curated documents a training mixture takes, and how often.

A recipe is data (YAML): components with a weight (a share of the token budget) or a
number of epochs (passes over the component), a license policy, a language filter, the
tokenizer to count with, and the seed that fixes every sampling decision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from spark_jobs.config_files import (
    ConfigFile,
    ConfigModel,
    KeyProblem,
    Number,
    read_config,
    suggestion,
)
from spark_jobs.lake import CORPORA, SYNTHETIC
from spark_jobs.licenses import license_policies

# Families a component may draw from: curated.<family>; synthetic's sources are its recipes.
MIXABLE = (*CORPORA, SYNTHETIC)

# Keeping the default vocabulary small keeps uint16 shards and CPU proxy models small.
DEFAULT_VOCAB_SIZE = 2048


@dataclass(frozen=True)
class Component:
    """One slice of the mixture: a corpus family, optionally narrowed to some sources.

    Exactly one of `weight` (share of the token budget left after epoch components) and
    `epochs` (passes over the slice; 2.5 = two full passes and half of a third) is set.
    `languages` overrides the recipe's language filter (None in YAML as `languages: null`
    keeps every language, e.g. for code).
    """

    name: str
    corpus: str
    sources: tuple[str, ...] | None = None
    weight: float | None = None
    epochs: float | None = None
    languages: tuple[str, ...] | None = None
    inherit_languages: bool = True

    @property
    def table(self) -> str:
        return f"curated.{self.corpus}"

    def to_dict(self) -> dict[str, Any]:
        data = {
            k: v
            for k, v in asdict(self).items()
            if v is not None and k not in ("languages", "inherit_languages")
        }
        if not self.inherit_languages:
            data["languages"] = self.languages
        return data


@dataclass(frozen=True)
class TokenizerSpec:
    """Train a byte-level BPE on a sample of curated text, or use a tokenizer.json file.

    `sample: curated` (default) draws `sample_docs` documents from every curated table with
    the tokenizer's own seed, whatever the recipe's weights: recipes with the same spec get
    the same tokenizer, so their proxy losses are per token of one vocabulary and comparable.
    `sample: mixture` draws from the recipe's own candidates (after its license and
    language filters) with the recipe's seed.
    """

    vocab_size: int = DEFAULT_VOCAB_SIZE
    sample_docs: int = 2000
    sample: str = "curated"
    seed: int = 0
    path: str | None = None


@dataclass(frozen=True)
class SubstringDedup:
    """Exact-substring dedup of the mixture's documents before their tokens are exported
    (spark_jobs/indexes/substrings.py): spans of at least `min_tokens` tokens that occur more
    than once across the mixture's distinct documents are `remove`d from the exported tokens
    or only `mark`ed; `keep: one` keeps the first occurrence, `keep: none` none of them.
    Either way every span is a row of ops.substring_edits."""

    min_tokens: int = 50
    action: str = "remove"
    keep: str = "one"


@dataclass(frozen=True)
class MixtureRecipe:
    name: str
    components: tuple[Component, ...]
    seed: int = 0
    token_budget: int | None = None
    license_policy: str = "platform"
    languages: tuple[str, ...] | None = None
    tokenizer: TokenizerSpec = field(default_factory=TokenizerSpec)
    sequence_length: int = 256
    sequences_per_shard: int = 1024
    text_export: bool = False
    substring_dedup: SubstringDedup | None = None

    @property
    def table(self) -> str:
        return f"mixtures.{self.name}"

    def component_languages(self, component: Component) -> tuple[str, ...] | None:
        return self.languages if component.inherit_languages else component.languages

    def to_dict(self) -> dict[str, Any]:
        """The recipe as YAML would state it (for manifests, MLflow params, fingerprints)."""
        data = asdict(self)
        data["components"] = [c.to_dict() for c in self.components]
        if self.substring_dedup is None:  # recipes without it keep their fingerprints
            del data["substring_dedup"]
        return data

    @property
    def fingerprint(self) -> str:
        """Hash of everything that decides the mixture's contents."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, default=list)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def with_weights(self, **weights: float) -> MixtureRecipe:
        """A copy with some components' weights changed (for comparisons and tests)."""
        components = tuple(
            Component(**{**asdict(c), "weight": weights[c.name]}) if c.name in weights else c
            for c in self.components
        )
        return MixtureRecipe(**{**self.__dict__, "components": components})

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "recipe") -> MixtureRecipe:
        """A recipe built in code; a mistake raises ConfigError naming `origin` and the key."""
        config = ConfigFile.of(data, origin)
        recipe = config.validate(MixtureFile)
        if not recipe.name:
            raise config.error(("name",), "required key missing; allowed: the mixture's name")
        return recipe.to_recipe(recipe.name)

    @classmethod
    def from_yaml(cls, path: str | Path) -> MixtureRecipe:
        """The recipe in a YAML file; a mistake raises ConfigError naming the file, line and key."""
        path = Path(path)
        config = read_config(path)
        recipe = config.validate(MixtureFile)
        # The file stem names the mixture, so the lake catalog knows the table unbuilt.
        if recipe.name is not None and recipe.name != path.stem:
            raise config.error(
                ("name",), f"{recipe.name!r} is not the file name's stem; allowed: {path.stem}"
            )
        return recipe.to_recipe(path.stem)


# --- the YAML form (orchestration/mixtures/<name>.yaml) --------------------------------------


class ComponentSection(ConfigModel):
    name: str | None = Field(None, description="the component's name (default: its corpus)")
    corpus: str = Field(description=", ".join(MIXABLE))
    sources: list[str] | None = Field(None, description="a list of source names, or null (all)")
    weight: Number | None = Field(
        None, gt=0, description="a positive share of the token budget (or set epochs)"
    )
    epochs: Number | None = Field(
        None, gt=0, description="a positive number of passes over the slice (or set weight)"
    )
    languages: list[str] | None = Field(
        None, description="a list of language codes, or null (every language)"
    )

    @field_validator("corpus")
    @classmethod
    def _known_corpus(cls, value: str) -> str:
        if value not in MIXABLE:
            raise ValueError(
                f"{value!r} is not a corpus family{suggestion(value, MIXABLE)}; "
                f"allowed: {', '.join(MIXABLE)}"
            )
        return value

    @model_validator(mode="after")
    def _weight_or_epochs(self) -> ComponentSection:
        if (self.weight is None) == (self.epochs is None):
            raise ValueError(
                "set exactly one of weight, epochs; allowed: weight (a share of the token "
                "budget) or epochs (passes over the slice)"
            )
        return self

    def to_component(self) -> Component:
        return Component(
            name=self.name or self.corpus,
            corpus=self.corpus,
            sources=tuple(self.sources) if self.sources else None,
            weight=self.weight,
            epochs=self.epochs,
            languages=tuple(self.languages) if self.languages else None,
            inherit_languages="languages" not in self.model_fields_set,
        )


class TokenizerSection(ConfigModel):
    vocab_size: int = Field(
        DEFAULT_VOCAB_SIZE, description="a whole number >= 260 (256 bytes + specials)"
    )
    sample_docs: int = Field(2000, ge=1, description="a whole number >= 1")
    sample: Literal["curated", "mixture"] = Field(
        "curated", title="a tokenizer sample", description="curated, mixture"
    )
    seed: int = Field(0, description="a whole number")
    path: str | None = Field(None, description="a tokenizer.json file, or null (train one)")

    @model_validator(mode="after")
    def _vocabulary(self) -> TokenizerSection:
        if self.vocab_size < 260 and self.path is None:
            raise KeyProblem(
                f"{self.vocab_size} is too small; allowed: a whole number >= 260 "
                "(256 bytes + specials)",
                "vocab_size",
            )
        return self


class SubstringDedupSection(ConfigModel):
    min_tokens: int = Field(
        50, ge=2, description="a whole number >= 2 (tokens; Lee et al. used about 50)"
    )
    action: Literal["remove", "mark"] = Field(
        "remove", title="an action", description="remove, mark"
    )
    keep: Literal["one", "none"] = Field(
        "one", title="what to keep", description="one (the first occurrence), none"
    )


class MixtureFile(ConfigModel):
    """A mixture recipe as written in YAML."""

    name: str | None = Field(None, description="the file name's stem")
    components: list[ComponentSection] = Field(
        min_length=1, description="a list of {corpus, weight or epochs, sources, languages}"
    )
    seed: int = Field(0, description="a whole number")
    token_budget: int | None = Field(
        None, gt=0, description="a positive number of tokens (needed by weighted components)"
    )
    license_policy: str = Field(
        "platform", description="a policy of spark_jobs/licenses/classes.yaml"
    )
    languages: list[str] | None = Field(
        None, description="a list of language codes, or null (every language)"
    )
    tokenizer: TokenizerSection | None = Field(
        None, description="{vocab_size, sample_docs, sample, seed, path}"
    )
    sequence_length: int = Field(256, ge=2, description="a whole number >= 2")
    sequences_per_shard: int = Field(1024, ge=1, description="a whole number >= 1")
    text_export: bool = Field(False, description="true or false")
    substring_dedup: SubstringDedupSection | None = Field(
        None, description="{min_tokens, action, keep}, or null (no exact-substring dedup)"
    )

    @field_validator("license_policy")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        policies = list(license_policies())
        if value not in policies:
            raise ValueError(
                f"{value!r} is not a license policy{suggestion(value, policies)}; "
                f"allowed: {', '.join(policies)} (spark_jobs/licenses/classes.yaml)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MixtureFile:
        seen: set[str] = set()
        for index, component in enumerate(self.components):
            name = component.name or component.corpus
            if name in seen:
                raise KeyProblem(
                    f"{name!r} names two components; allowed: a name of its own",
                    "components",
                    index,
                    "name" if component.name else "corpus",
                )
            seen.add(name)
        if any(c.weight is not None for c in self.components) and not self.token_budget:
            raise KeyProblem(
                "required key missing; allowed: a positive number of tokens (weighted "
                "components share it)",
                "token_budget",
            )
        return self

    def to_recipe(self, name: str) -> MixtureRecipe:
        tokenizer = self.tokenizer.model_dump() if self.tokenizer else {}
        return MixtureRecipe(
            name=name,
            components=tuple(c.to_component() for c in self.components),
            seed=self.seed,
            token_budget=self.token_budget,
            license_policy=self.license_policy,
            languages=tuple(self.languages) if self.languages else None,
            tokenizer=TokenizerSpec(**tokenizer),
            sequence_length=self.sequence_length,
            sequences_per_shard=self.sequences_per_shard,
            text_export=self.text_export,
            substring_dedup=(
                SubstringDedup(**self.substring_dedup.model_dump())
                if self.substring_dedup
                else None
            ),
        )


def load_recipes(directory: str | Path) -> dict[str, MixtureRecipe]:
    """Every recipe in a directory (*.yaml), by mixture name."""
    recipes = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        recipe = MixtureRecipe.from_yaml(path)
        recipes[recipe.name] = recipe
    return recipes


def register_mixture_table(name: str) -> str:
    """The lake table of mixture `name`, mixtures.<name>; the lake registry's mixtures family
    (spark_jobs.lake.TABLE_FAMILIES) describes it to the catalog and SQL."""
    return f"mixtures.{name}"


def load_recipe(name: str, directory: str | Path) -> MixtureRecipe:
    """The recipe of mixture `name` (<name>.yaml in the recipes directory)."""
    directory = Path(directory)
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise FileNotFoundError(f"no mixture recipe {path}; recipes in {directory}: {known}")
    return MixtureRecipe.from_yaml(path)
