"""The Dagster resource assets use to reach settings, Spark and the lake."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import dagster as dg
from pyspark.sql import SparkSession

from orchestration.settings import Settings, load_settings
from spark_jobs.lake import Lake
from spark_jobs.select import Recipe
from spark_jobs.session import get_spark
from spark_jobs.sources import Source, load_sources

CODE_VERSION = version("pilehouse")
CONFIG_DIR = Path(__file__).parent


class LakehouseResource(dg.ConfigurableResource):
    """Settings (profile + env), the shared Spark session, the lake, sources and recipes."""

    recipe_file: str = str(CONFIG_DIR / "recipes" / "web-default.yaml")
    sources_file: str = str(CONFIG_DIR / "sources.yaml")

    @property
    def settings(self) -> Settings:
        return load_settings()

    @property
    def spark(self) -> SparkSession:
        settings = self.settings
        return get_spark(settings.spark_master, conf=settings.spark_conf)

    @property
    def lake(self) -> Lake:
        settings = self.settings
        return Lake(settings.lake_uri, settings.store)

    def sources(self, corpus: str) -> list[Source]:
        registry = load_sources(self.sources_file, landing_uri=self.settings.landing_uri)
        return [s for s in registry.values() if s.corpus == corpus]

    def recipe(self) -> Recipe:
        return Recipe.from_yaml(self.recipe_file)

    @staticmethod
    def commit_metadata(context: dg.AssetExecutionContext) -> dict[str, str]:
        """Lineage written into every Delta commit an asset makes."""
        return {
            "dagster.run_id": context.run.run_id,
            "dagster.asset_key": context.asset_key.to_user_string(),
            "dagster.partition": context.partition_key if context.has_partition_key else "",
            "lineage.code_version": CODE_VERSION,
        }
