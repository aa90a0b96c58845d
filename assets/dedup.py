"""Curation across families: the benchmark items, and one step that writes every curated table
together with the dedup clusters and decontamination flags they were decided from."""

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from assets.automation import EAGER_AFTER_GATES
from assets.corpus import SPARK_POOL, corpus_keys
from assets.metadata import stage_metadata
from assets.resources import CODE_VERSION, LakehouseResource
from spark_jobs.lake import CORPORA
from spark_jobs.settings import Settings

if TYPE_CHECKING:  # the engine (pyspark) is imported when curation runs
    from spark_jobs.dedup import DedupConfig

BENCHMARK_ITEMS = dg.AssetKey(["benchmarks", "items"])
DEDUP_CLUSTERS = dg.AssetKey(["dedup", "clusters"])
DECONTAMINATION_FLAGS = dg.AssetKey(["decontamination", "flags"])
CURATED = {corpus: corpus_keys(corpus)[2] for corpus in CORPORA}
# Everything the curation step can write, in the order a job selects it.
CURATION_KEYS = [BENCHMARK_ITEMS, *CURATED.values(), DEDUP_CLUSTERS, DECONTAMINATION_FLAGS]
# The tables of spark_jobs.stages (CLUSTER_TABLE, FLAG_TABLE; a test keeps them equal).
_SHARED = {DEDUP_CLUSTERS: "dedup.clusters", DECONTAMINATION_FLAGS: "decontamination.flags"}
_TABLES = {**{key: f"curated.{corpus}" for corpus, key in CURATED.items()}, **_SHARED}


def benchmark_locations(settings: Settings) -> list[Path]:
    """The benchmarks PILEHOUSE_BENCHMARKS names; the bundled sample when it names none."""
    from spark_jobs.decontaminate import BUNDLED_BENCHMARKS

    return settings.benchmark_locations or [BUNDLED_BENCHMARKS]


def dedup_config(settings: Settings) -> "DedupConfig":
    """orchestration/recipes/dedup.yaml, or the copy in the configured recipes directory."""
    from spark_jobs.dedup import DedupConfig

    return DedupConfig.from_yaml(settings.dedup_config_file)


def _lineage(context: dg.AssetExecutionContext, key: dg.AssetKey | None) -> dict[str, str]:
    return {
        "dagster.run_id": context.run.run_id,
        "dagster.asset_key": key.to_user_string() if key else "",
        "dagster.partition": "",
        "lineage.code_version": CODE_VERSION,
    }


@dg.asset(
    key=BENCHMARK_ITEMS,
    group_name="decontamination",
    kinds={"delta"},
    description="Benchmark items (JSONL) that curated documents must not overlap; "
    "$PILEHOUSE_BENCHMARKS points at your own files or directories.",
    code_version="1",
)
def benchmark_items(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    from spark_jobs import stages

    locations = benchmark_locations(lakehouse.settings)
    report = stages.register_benchmarks(
        lakehouse.lake, locations, metadata=_lineage(context, BENCHMARK_ITEMS)
    )
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(report),
            "files": dg.MetadataValue.text("\n".join(map(str, locations))),
        }
    )


def _curated_spec(corpus: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        CURATED[corpus],
        deps=[corpus_keys(corpus)[1]],
        group_name=corpus,
        kinds={"spark", "delta"},
        description=f"{corpus} documents kept by the recipe ({corpus}-default.yaml), free of "
        "benchmark text, one per exact or near-duplicate cluster across all families.",
        automation_condition=EAGER_AFTER_GATES,
        code_version="2",
        skippable=True,
    )


@dg.multi_asset(
    name="curated_corpora",
    specs=[
        *[_curated_spec(corpus) for corpus in CORPORA],
        dg.AssetSpec(
            DEDUP_CLUSTERS,
            deps=[corpus_keys(corpus)[1] for corpus in CORPORA],
            group_name="dedup",
            kinds={"spark", "delta"},
            description="Exact and near-duplicate (MinHash-LSH) clusters across families, with "
            "the keeper of each; the other members are curate rejects naming it.",
            code_version="1",
            skippable=True,
        ),
        dg.AssetSpec(
            DECONTAMINATION_FLAGS,
            deps=[BENCHMARK_ITEMS, *[corpus_keys(corpus)[1] for corpus in CORPORA]],
            group_name="decontamination",
            kinds={"spark", "delta"},
            description="Annotated documents sharing a 13-word n-gram with a benchmark item, "
            "one row per (document, item).",
            code_version="1",
            skippable=True,
        ),
    ],
    can_subset=True,
    pool=SPARK_POOL,
)
def curated_corpora(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Select every family with its recipe; decontaminate and deduplicate across families."""
    from spark_jobs import incremental, stages

    selected = context.selected_asset_keys
    recipes = {corpus: lakehouse.recipe(corpus) for corpus in CORPORA}
    report = incremental.curate_corpora_incremental(
        lakehouse.spark,
        lakehouse.lake,
        recipes,
        dedup_config(lakehouse.settings),
        run_id=context.run.run_id,
        metadata=_lineage(context, None),
        families=[corpus for corpus, key in CURATED.items() if key in selected],
        shared_tables=[table for key, table in _SHARED.items() if key in selected],
        table_metadata={
            **{table: _lineage(context, key) for key, table in _TABLES.items()},
            stages.SIGNATURE_TABLE: {"dagster.asset_key": DEDUP_CLUSTERS.to_user_string()},
        },
    )
    shared = stage_metadata(report.shared)
    # Whether this run was incremental, why not, and which source partitions it recomputed.
    mode = {k.replace(".", " "): dg.MetadataValue.text(v) for k, v in report.summary().items()}
    for corpus, family in report.families.items():
        yield dg.MaterializeResult(
            asset_key=CURATED[corpus],
            metadata={
                **stage_metadata(family),
                "recipe hash": recipes[corpus].fingerprint,
                "dedup config": report.dedup_config,
                **{k: v for k, v in shared.items() if k.startswith("signature partitions")},
                **mode,
            },
        )
    for key, table in _SHARED.items():
        if table in report.shared.commits:
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={**shared, **mode, "dedup config": report.dedup_config},
            )
