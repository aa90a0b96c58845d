"""Synthetic-data recipes: which source documents a generator rewrites, how, with which
prompt templates and sampling parameters, and how hard the endpoint may be called.

A recipe is data (YAML in orchestration/synthetic/<name>.yaml); its file stem names the table
synthetic.<name>. Everything that decides a sample's content is in the recipe's fingerprint and
so in every sample id; how the endpoint is called (concurrency, retries, rate, time-out, URL) is
not, so tuning it never regenerates what exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator, model_validator

from spark_jobs.config_files import (
    ConfigFile,
    ConfigModel,
    KeyProblem,
    Number,
    read_config,
    suggestion,
)
from spark_jobs.lake import CORPORA

# Placeholders a template may use; {text} (the source document) is required.
PLACEHOLDERS = ("text", "title", "style", "genre", "audience", "variant")
TRANSFORMATIONS = ("rephrase", "genre_audience", "qa", "generate")
SOURCE_TABLES = tuple(f"curated.{c}" for c in CORPORA)
SCORE_TABLES = tuple(f"classified.{c}" for c in CORPORA)


def template_hash(text: str, system: str | None = None) -> str:
    """sha256 of what the model is told (system message and template), first 16 hex digits."""
    payload = json.dumps({"system": system, "template": text}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


@dataclass(frozen=True)
class Variant:
    """One prompt per source document: a template filled with this variant's fields."""

    name: str
    template: str
    fields: tuple[tuple[str, str], ...] = ()
    seed_offset: int = 0


class SourceSection(ConfigModel):
    table: str = Field(description=", ".join(SOURCE_TABLES))
    version: int | None = Field(
        None, ge=0, description="a table version, or null (the version current at run start)"
    )
    where: str | None = Field(
        None,
        description="a Spark SQL predicate on the table's columns (and the scores table's), "
        "e.g. \"language = 'en' AND edu_score < 2\", or null (every document)",
    )
    scores: str | None = Field(
        None,
        description=f"a classifier table joined by id for `where` ({', '.join(SCORE_TABLES)}), "
        "or null",
    )
    limit: int | None = Field(
        None, gt=0, description="at most this many documents (a seeded sample), or null (all)"
    )
    max_chars: int = Field(
        4000, gt=0, description="source text beyond this many characters is cut from the prompt"
    )

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        if value not in SOURCE_TABLES:
            raise ValueError(
                f"{value!r} is not a source table{suggestion(value, SOURCE_TABLES)}; "
                f"allowed: {', '.join(SOURCE_TABLES)}"
            )
        return value

    @field_validator("scores")
    @classmethod
    def _known_scores(cls, value: str | None) -> str | None:
        if value is not None and value not in SCORE_TABLES:
            raise ValueError(
                f"{value!r} is not a classifier table{suggestion(value, SCORE_TABLES)}; "
                f"allowed: {', '.join(SCORE_TABLES)}, or null"
            )
        return value

    @field_validator("where")
    @classmethod
    def _one_predicate(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or ";" in value):
            raise ValueError(
                f"{value!r} is not one predicate; allowed: a Spark SQL boolean expression "
                "without ';'"
            )
        return value


class GenreAudience(ConfigModel):
    genre: str = Field(description="text, e.g. textbook")
    audience: str = Field(description="text, e.g. high-school students")


class TransformationSection(ConfigModel):
    kind: Literal["rephrase", "genre_audience", "qa", "generate"] = Field(
        title="a transformation", description=", ".join(TRANSFORMATIONS)
    )
    template: str = Field(description="the name of a template under `templates`")
    styles: list[str] | None = Field(
        None, min_length=1, description="a list of styles (rephrase: one sample per style)"
    )
    pairs: list[GenreAudience] | None = Field(
        None, min_length=1, description="a list of {genre, audience} (genre_audience)"
    )
    samples_per_seed: int = Field(
        1, ge=1, description="samples per seed document (generate), a whole number >= 1"
    )

    @model_validator(mode="after")
    def _variants_given(self) -> TransformationSection:
        needs = {"rephrase": "styles", "genre_audience": "pairs"}
        key = needs.get(self.kind)
        if key and getattr(self, key) is None:
            raise KeyProblem(f"required key missing for kind {self.kind}; allowed: a list", key)
        for other in ("styles", "pairs"):
            if other != key and getattr(self, other) is not None:
                raise KeyProblem(
                    f"not used by kind {self.kind}; allowed: only with kind "
                    f"{'rephrase' if other == 'styles' else 'genre_audience'}",
                    other,
                )
        return self


class GeneratorSection(ConfigModel):
    base_url: str = Field(
        description="an OpenAI-compatible endpoint, e.g. http://vllm:8000/v1 (vLLM's server)"
    )
    model: str = Field(description="the model name the endpoint serves")
    api: Literal["chat", "completions"] = Field(
        "chat", title="an API", description="chat (/chat/completions), completions"
    )
    api_key_env: str | None = Field(
        None,
        description="the NAME of an environment variable holding the API key, or null (none)",
    )
    gpu: bool = Field(
        False,
        description="true: run the generation stage with the classifier stage's GPU resource "
        "profile (the endpoint runs on the executors' GPUs)",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL; allowed: http(s)://host:port/v1")
        if parts.username or parts.password:
            raise ValueError(
                "credentials in the URL; allowed: a URL without them (name the key's "
                "environment variable in api_key_env)"
            )
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not (value.replace("_", "a").isalnum() and not value[0].isdigit()):
            raise ValueError(
                f"{value!r} is not an environment variable name; allowed: a NAME like "
                "PILEHOUSE_GENERATOR_KEY (the key itself never goes in a recipe)"
            )
        return value


class SamplingSection(ConfigModel):
    temperature: Number = Field(0.7, ge=0, description="a number >= 0")
    top_p: Number = Field(1.0, gt=0, le=1, description="a number in (0, 1]")
    max_tokens: int = Field(256, gt=0, description="a whole number > 0 (tokens per sample)")
    stop: list[str] | None = Field(None, description="a list of stop strings, or null")


class RequestsSection(ConfigModel):
    concurrency: int = Field(8, ge=1, description="requests in flight at once, >= 1")
    retries: int = Field(4, ge=0, description="retries on 429, 5xx and time-outs, >= 0")
    backoff_s: Number = Field(0.5, gt=0, description="first retry delay in seconds (doubles)")
    max_backoff_s: Number = Field(30, gt=0, description="longest retry delay in seconds")
    rate_limit: Number | None = Field(
        None, gt=0, description="requests per second across the stage, or null (no limit)"
    )
    timeout_s: Number = Field(60, gt=0, description="seconds one request may take")
    chunks: int = Field(
        16,
        ge=1,
        description="commit units: samples are hashed into this many partitions, each "
        "committed once its requests finish (a killed run keeps the finished ones)",
    )


class CurationSection(ConfigModel):
    recipe: str = Field(
        "synthetic-default",
        description="a curation recipe in the recipes directory (<name>.yaml)",
    )
    max_source_similarity: Number = Field(
        0.6,
        ge=0,
        le=1,
        description="share of a sample's word 5-grams found in its own source document "
        "(containment, >= their Jaccard similarity) above which the sample is rejected as a "
        "copy (copies_source)",
    )


class SyntheticFile(ConfigModel):
    """A synthetic-data recipe as written in YAML."""

    name: str | None = Field(None, description="the file name's stem")
    source: SourceSection = Field(description="{table, version, where, scores, limit}")
    transformation: TransformationSection = Field(
        description="{kind, template, styles | pairs | samples_per_seed}"
    )
    templates: dict[str, str] = Field(
        min_length=1, description="a mapping from template name to its text ({text} required)"
    )
    system: str | None = Field(None, description="a system message, or null")
    generator: GeneratorSection = Field(description="{base_url, model, api, api_key_env, gpu}")
    sampling: SamplingSection = Field(
        default_factory=SamplingSection, description="{temperature, top_p, max_tokens, stop}"
    )
    token_budget: int | None = Field(
        None, gt=0, description="stop requesting once this many completion tokens exist, or null"
    )
    seed: int = Field(0, description="a whole number (document sample, request seeds)")
    requests: RequestsSection = Field(
        default_factory=RequestsSection,
        description="{concurrency, retries, backoff_s, max_backoff_s, rate_limit, timeout_s, "
        "chunks}",
    )
    curation: CurationSection = Field(
        default_factory=CurationSection, description="{recipe, max_source_similarity}"
    )

    @field_validator("templates")
    @classmethod
    def _templates_fill(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            try:
                used = _placeholders(text)
            except ValueError as error:
                raise KeyProblem(
                    f"not a valid template ({error}); write literal braces as {{{{ and }}}}", name
                ) from None
            unknown = [p for p in used if p not in PLACEHOLDERS]
            if unknown:
                raise KeyProblem(
                    f"unknown placeholder {{{unknown[0]}}}; allowed: "
                    + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
                    name,
                )
            if "text" not in used:
                raise KeyProblem(
                    "the template never uses {text}; allowed: a text with {text}", name
                )
        return value

    @model_validator(mode="after")
    def _template_exists(self) -> SyntheticFile:
        name = self.transformation.template
        if name not in self.templates:
            raise KeyProblem(
                f"{name!r} is not a template{suggestion(name, list(self.templates))}; "
                f"allowed: {', '.join(self.templates)}",
                "transformation",
                "template",
            )
        return self


@dataclass(frozen=True)
class SyntheticRecipe:
    """A validated recipe; `fingerprint` covers everything that decides sample contents."""

    name: str
    spec: SyntheticFile

    @property
    def table(self) -> str:
        return f"synthetic.{self.name}"

    @property
    def template_text(self) -> str:
        return self.spec.templates[self.spec.transformation.template]

    @property
    def template_hash(self) -> str:
        return template_hash(self.template_text, self.spec.system)

    def content(self) -> dict[str, Any]:
        """What decides a sample's text: not the URL, concurrency, retries, rate or budget."""
        spec = self.spec
        return {
            "source": spec.source.model_dump(),
            "transformation": spec.transformation.model_dump(),
            "template_hash": self.template_hash,
            "model": spec.generator.model,
            "api": spec.generator.api,
            "sampling": spec.sampling.model_dump(),
            "seed": spec.seed,
        }

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, default=list)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def variants(self) -> list[Variant]:
        """The prompts each source document gets, in a fixed order."""
        t = self.spec.transformation
        if t.kind == "rephrase":
            return [Variant(f"style={s}", t.template, (("style", s),)) for s in t.styles or []]
        if t.kind == "genre_audience":
            return [
                Variant(
                    f"genre={p.genre};audience={p.audience}",
                    t.template,
                    (("genre", p.genre), ("audience", p.audience)),
                )
                for p in t.pairs or []
            ]
        if t.kind == "qa":
            return [Variant("qa", t.template)]
        return [
            Variant(f"sample={i}", t.template, seed_offset=i) for i in range(t.samples_per_seed)
        ]

    def sample_id(self, source_id: str, variant: Variant) -> str:
        """hash(recipe fingerprint, source document, template, variant): the same sample keeps
        its id across runs, so a re-run requests only ids that are missing or failed."""
        key = "\x1f".join((self.fingerprint, source_id, self.template_hash, variant.name))
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def request_seed(self, sample_id: str) -> int:
        """The sampling seed sent with one request (endpoints that honour it repeat the text)."""
        digest = hashlib.sha256(f"{self.spec.seed}:{sample_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF

    def prompt(self, variant: Variant, text: str, title: str | None = None) -> str:
        """The template filled for one document; text beyond source.max_chars is cut."""
        fields = dict(variant.fields)
        return self.spec.templates[variant.template].format(
            text=text[: self.spec.source.max_chars],
            title=title or "",
            variant=variant.name,
            style=fields.get("style", ""),
            genre=fields.get("genre", ""),
            audience=fields.get("audience", ""),
        )

    def endpoint(self) -> str:
        """The base URL as recorded with each sample (no query string)."""
        parts = urlsplit(self.spec.generator.base_url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    def api_key(self) -> str | None:
        """The API key from the environment variable the recipe names (None: no key)."""
        name = self.spec.generator.api_key_env
        if name is None:
            return None
        key = os.environ.get(name)
        if not key:
            raise RuntimeError(
                f"synthetic recipe {self.name}: environment variable {name} (generator."
                f"api_key_env) is not set; export {name}=<the endpoint's API key>"
            )
        return key

    @classmethod
    def from_yaml(cls, path: str | Path) -> SyntheticRecipe:
        """The recipe in a YAML file; a mistake raises ConfigError naming the file, line, key."""
        path = Path(path)
        config = read_config(path)
        spec = config.validate(SyntheticFile)
        if spec.name is not None and spec.name != path.stem:
            raise config.error(
                ("name",), f"{spec.name!r} is not the file name's stem; allowed: {path.stem}"
            )
        return cls(path.stem, spec)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "synthetic recipe") -> SyntheticRecipe:
        config = ConfigFile.of(data, origin)
        spec = config.validate(SyntheticFile)
        if not spec.name:
            raise config.error(("name",), "required key missing; allowed: the recipe's name")
        return cls(spec.name, spec)


def load_recipes(directory: str | Path) -> dict[str, SyntheticRecipe]:
    """Every recipe in a directory (*.yaml; settings.synthetic_dir), by name."""
    found = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        recipe = SyntheticRecipe.from_yaml(path)
        found[recipe.name] = recipe
    return found


def load_recipe(name: str, directory: str | Path) -> SyntheticRecipe:
    directory = Path(directory)
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise FileNotFoundError(f"no synthetic recipe {path}; recipes in {directory}: {known}")
    return SyntheticRecipe.from_yaml(path)
