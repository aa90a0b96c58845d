"""The Dagster resource assets use to reach settings, Spark, the lake, sources and recipes."""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING

import dagster as dg

from spark_jobs.lake import Lake
from spark_jobs.settings import Settings, load_settings
from spark_jobs.sources import Source, load_sources

if TYPE_CHECKING:  # pyspark and the recipe engine load where used: a light command stays light
    from pyspark.sql import SparkSession

    from spark_jobs.select import CurationRecipe

CODE_VERSION = version("pilehouse")


class LakehouseResource(dg.ConfigurableResource):
    """Settings (profile + env), the shared Spark session, the lake, sources and recipes."""

    @property
    def settings(self) -> Settings:
        return load_settings()

    @property
    def spark(self) -> SparkSession:
        from spark_jobs.session import get_spark

        settings = self.settings
        return get_spark(
            settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout
        )

    @property
    def lake(self) -> Lake:
        settings = self.settings
        return Lake(settings.lake_uri, settings.store)

    def output_url(self, path: str) -> str | None:
        """The http URL `pilehouse ui` serves a local output file (Data Docs page, report) at,
        under the outputs_base_url setting; None for a file outside the served folders."""
        from spark_jobs.analyst.outputs_server import output_url, served_roots

        settings = self.settings
        roots = served_roots(settings.lake_uri, settings.home)
        return output_url(path, roots, settings.outputs_base_url)

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

    def recipe(self, corpus: str) -> CurationRecipe:
        from spark_jobs.select import CurationRecipe

        return CurationRecipe.from_yaml(self.settings.recipes_dir / f"{corpus}-default.yaml")

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
