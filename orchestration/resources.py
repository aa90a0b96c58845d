"""The Dagster resource assets use to reach settings, Spark, the lake, sources and recipes."""

from __future__ import annotations

from importlib.metadata import version

import dagster as dg
from pyspark.sql import SparkSession

from orchestration.settings import Settings, load_settings
from spark_jobs.lake import Lake
from spark_jobs.select import Recipe
from spark_jobs.session import get_spark
from spark_jobs.sources import Source, load_sources

CODE_VERSION = version("pilehouse")


class LakehouseResource(dg.ConfigurableResource):
    """Settings (profile + env), the shared Spark session, the lake, sources and recipes."""

    @property
    def settings(self) -> Settings:
        return load_settings()

    @property
    def spark(self) -> SparkSession:
        settings = self.settings
        return get_spark(
            settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout
        )

    @property
    def lake(self) -> Lake:
        settings = self.settings
        return Lake(settings.lake_uri, settings.store)

    def sources(self, corpus: str) -> list[Source]:
        return registered_sources(self.settings, corpus)

    def source(self, name: str) -> Source:
        settings = self.settings
        registry = load_sources(settings.sources_file, landing_uri=settings.landing_uri)
        if name not in registry:
            raise KeyError(
                f"source {name!r} is not in the registry {settings.sources_file}; "
                f"registered: {', '.join(registry) or 'none'}"
            )
        return registry[name]

    def recipe(self, corpus: str) -> Recipe:
        return Recipe.from_yaml(self.settings.recipes_dir / f"{corpus}-default.yaml")

    @staticmethod
    def commit_metadata(context: dg.AssetExecutionContext) -> dict[str, str]:
        """Lineage written into every Delta commit an asset makes."""
        return {
            "dagster.run_id": context.run.run_id,
            "dagster.asset_key": context.asset_key.to_user_string(),
            "dagster.partition": context.partition_key if context.has_partition_key else "",
            "lineage.code_version": CODE_VERSION,
        }


def registered_sources(settings: Settings, corpus: str) -> list[Source]:
    registry = load_sources(settings.sources_file, landing_uri=settings.landing_uri)
    return [s for s in registry.values() if s.corpus == corpus]
