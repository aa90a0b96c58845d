"""`pilehouse validate`: check every configuration file a user edits, without starting Spark.

Profiles and PILEHOUSE_* variables, the source registry, the curation recipes and dedup
settings, and the mixture recipes: each gets one line, `ok` or the mistake found first in it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.settings import (
    ENVIRONMENT,
    PROFILES_FILE,
    SHIPPED_DEDUP_CONFIG,
    Settings,
    load_settings,
    read_profiles,
)
from spark_jobs.config_files import ConfigError, shown_path
from spark_jobs.dedup.config import DedupConfig
from spark_jobs.lake import CORPORA
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.recipe import CurationRecipe
from spark_jobs.sources import load_sources

DEDUP_FILE = "dedup.yaml"


@dataclass(frozen=True)
class FileCheck:
    """One configuration file (or the environment) and the mistake found in it, if any."""

    file: str
    error: str | None = None

    @property
    def line(self) -> str:
        return self.error or f"{self.file}: ok"


def check_configuration(*, raise_errors: bool = False) -> list[FileCheck]:
    """Check every configuration file; `raise_errors` re-raises the first mistake (--debug)."""
    return list(_checks(raise_errors))


def _checks(raise_errors: bool) -> Iterator[FileCheck]:
    def check(file: str, load: Callable[[], Any]) -> FileCheck:
        try:
            load()
        except (ConfigError, FileNotFoundError) as error:
            if raise_errors:
                raise
            return FileCheck(file, str(error))
        except ValueError as error:  # a constraint only the runtime classes know
            if raise_errors:
                raise
            return FileCheck(file, f"{file}: {error}")
        return FileCheck(file)

    profiles = check(shown_path(PROFILES_FILE), read_profiles)
    yield profiles
    environment = check(ENVIRONMENT, load_settings)
    if profiles.error is None or environment.error != profiles.error:
        yield environment
    # With the environment broken, still check the files it would have named.
    settings = load_settings() if environment.error is None else _fallback_settings()

    yield check(
        shown_path(settings.sources_file),
        lambda: load_sources(settings.sources_file, landing_uri=settings.landing_uri),
    )
    recipes = Path(settings.recipes_dir)
    for corpus in CORPORA:
        path = recipes / f"{corpus}-default.yaml"
        if not path.exists():
            yield FileCheck(
                shown_path(path), f"{shown_path(path)}: no such file (curated.{corpus}'s recipe)"
            )
    # Presets (recipes/presets/) are recipes too: a user copies one into place.
    for path in sorted([*recipes.glob("*.yaml"), *recipes.glob("presets/*.yaml")]):
        if path.name != DEDUP_FILE:
            yield check(shown_path(path), lambda path=path: CurationRecipe.from_yaml(path))
    # Curation falls back to the shipped dedup settings when the recipes directory has none.
    dedup = recipes / DEDUP_FILE if (recipes / DEDUP_FILE).exists() else SHIPPED_DEDUP_CONFIG
    yield check(shown_path(dedup), lambda: DedupConfig.from_yaml(dedup))
    for path in sorted(Path(settings.mixtures_dir).glob("*.yaml")):
        yield check(shown_path(path), lambda path=path: MixtureRecipe.from_yaml(path))


def _fallback_settings() -> Settings:
    """The defaults, with the file locations the environment names (unchecked)."""
    values = Settings.model_construct().model_dump()
    for name in ("sources_file", "recipes_dir", "mixtures_dir"):
        if os.environ.get(f"PILEHOUSE_{name.upper()}"):
            values[name] = Path(os.environ[f"PILEHOUSE_{name.upper()}"])
    return Settings.model_construct(**values)
