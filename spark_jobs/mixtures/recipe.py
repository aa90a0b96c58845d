"""Mixture recipes: which curated documents a training mixture takes, and how often.

A recipe is data (YAML): components with a weight (a share of the token budget) or a
number of epochs (passes over the component), a license policy, a language filter, the
tokenizer to count with, and the seed that fixes every sampling decision.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spark_jobs.lake import CORPORA, MIXTURE_COLUMNS, TABLES, TableSpec
from spark_jobs.licenses import license_policies

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

    @property
    def table(self) -> str:
        return f"mixtures.{self.name}"

    def component_languages(self, component: Component) -> tuple[str, ...] | None:
        return self.languages if component.inherit_languages else component.languages

    def to_dict(self) -> dict[str, Any]:
        """The recipe as YAML would state it (for manifests, MLflow params, fingerprints)."""
        data = asdict(self)
        data["components"] = [c.to_dict() for c in self.components]
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
        data = dict(data)
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"{origin}: unknown recipe keys {sorted(unknown)}")
        if not data.get("name"):
            raise ValueError(f"{origin}: a mixture recipe needs a name")
        components = tuple(
            _component(raw, i, origin) for i, raw in enumerate(data.pop("components", None) or [])
        )
        if not components:
            raise ValueError(f"{origin}: a mixture recipe needs at least one component")
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ValueError(f"{origin}: component names repeat: {names}")
        tokenizer = TokenizerSpec(**(data.pop("tokenizer", None) or {}))
        languages = data.pop("languages", None)
        recipe = cls(
            components=components,
            tokenizer=tokenizer,
            languages=tuple(languages) if languages else None,
            **data,
        )
        _validate(recipe, origin)
        return recipe

    @classmethod
    def from_yaml(cls, path: str | Path) -> MixtureRecipe:
        path = Path(path)
        data = yaml.safe_load(path.read_text()) or {}
        # The file stem names the mixture, so the lake catalog knows the table unbuilt.
        data.setdefault("name", path.stem)
        if data["name"] != path.stem:
            raise ValueError(f"{path}: name {data['name']!r} must equal the file name's stem")
        return cls.from_dict(data, origin=str(path))


def _component(raw: dict[str, Any], index: int, origin: str) -> Component:
    raw = dict(raw)
    if "corpus" not in raw:
        raise ValueError(f"{origin}: component {index} has no corpus (one of {CORPORA})")
    inherit = "languages" not in raw
    languages = raw.pop("languages", None)
    sources = raw.pop("sources", None)
    raw.setdefault("name", raw["corpus"])
    return Component(
        sources=tuple(sources) if sources else None,
        languages=tuple(languages) if languages else None,
        inherit_languages=inherit,
        **raw,
    )


def _validate(recipe: MixtureRecipe, origin: str) -> None:
    if recipe.license_policy not in license_policies():
        raise ValueError(
            f"{origin}: unknown license_policy {recipe.license_policy!r}; "
            f"policies: {', '.join(license_policies())}"
        )
    for c in recipe.components:
        if c.corpus not in CORPORA:
            raise ValueError(f"{origin}: component {c.name}: unknown corpus {c.corpus!r}")
        if (c.weight is None) == (c.epochs is None):
            raise ValueError(f"{origin}: component {c.name}: set exactly one of weight, epochs")
        if (c.weight is not None and c.weight <= 0) or (c.epochs is not None and c.epochs <= 0):
            raise ValueError(f"{origin}: component {c.name}: weight/epochs must be positive")
    if any(c.weight is not None for c in recipe.components) and not recipe.token_budget:
        raise ValueError(f"{origin}: weighted components need a token_budget")
    if recipe.sequence_length < 2 or recipe.sequences_per_shard < 1:
        raise ValueError(f"{origin}: sequence_length >= 2 and sequences_per_shard >= 1 required")
    if recipe.tokenizer.sample not in ("curated", "mixture"):
        raise ValueError(f"{origin}: tokenizer.sample must be curated or mixture")
    if recipe.tokenizer.vocab_size < 260 and recipe.tokenizer.path is None:
        raise ValueError(f"{origin}: tokenizer.vocab_size must be >= 260 (256 bytes + specials)")


def load_recipes(directory: str | Path) -> dict[str, MixtureRecipe]:
    """Every recipe in a directory (*.yaml), by mixture name."""
    recipes = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        recipe = MixtureRecipe.from_yaml(path)
        recipes[recipe.name] = recipe
    return recipes


def register_mixture_table(name: str) -> str:
    """Make mixtures.<name> a known lake table (catalog, SQL); returns the table name."""
    table = f"mixtures.{name}"
    TABLES.setdefault(
        table,
        TableSpec(table, (), f"Documents of the {name} training mixture", MIXTURE_COLUMNS),
    )
    return table


# The recipes shipped with the code location; PILEHOUSE_MIXTURES_DIR points elsewhere.
SHIPPED_RECIPES = Path(__file__).parents[2] / "orchestration" / "mixtures"


def recipes_dir() -> Path:
    return Path(os.environ.get("PILEHOUSE_MIXTURES_DIR") or SHIPPED_RECIPES)


def load_recipe(name: str, directory: str | Path | None = None) -> MixtureRecipe:
    """The recipe of mixture `name` (<name>.yaml in the recipes directory)."""
    directory = Path(directory or recipes_dir())
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise FileNotFoundError(f"no mixture recipe {path}; recipes in {directory}: {known}")
    return MixtureRecipe.from_yaml(path)
