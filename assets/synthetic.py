"""Synthetic data: synthetic/<recipe> for every recipe in orchestration/synthetic (model-written
samples with provenance), then annotated/synthetic and curated/synthetic over all of them."""

from collections.abc import Mapping

import dagster as dg

from assets.corpus import SPARK_POOL, corpus_keys
from assets.dedup import BENCHMARK_ITEMS, dedup_config
from assets.metadata import stage_metadata
from assets.resources import LakehouseResource
from spark_jobs.lake import CORPORA, SYNTHETIC
from spark_jobs.settings import load_settings
from spark_jobs.synthetic.recipe import SyntheticRecipe, load_recipes

# pyspark and the stage code are imported in the asset bodies: loading the definitions stays
# light.
GROUP = SYNTHETIC
ANNOTATED, CURATED = corpus_keys(SYNTHETIC)[1:]


def synthetic_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, name])


def synthetic_asset(recipe: SyntheticRecipe) -> dg.AssetsDefinition:
    family = recipe.spec.source.table.removeprefix("curated.")
    deps = [corpus_keys(family)[2]]
    if recipe.spec.source.scores:
        deps.append(dg.AssetKey(["classified", family]))

    @dg.asset(
        key=synthetic_key(recipe.name),
        deps=deps,
        group_name=GROUP,
        kinds={"spark", "delta"},
        description=f"synthetic.{recipe.name}: {recipe.spec.transformation.kind} samples of "
        f"{recipe.spec.source.table} by {recipe.spec.generator.model}, with provenance; "
        "failed requests are rows, a re-run requests only what is missing or failed.",
        tags={"pilehouse/recipe_hash": recipe.fingerprint},
        pool=SPARK_POOL,
        code_version="1",
    )
    def _synthetic(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        from spark_jobs.synthetic.generate import generate_synthetic, generation_profile

        local = lakehouse.settings.spark_master.startswith("local")
        report = generate_synthetic(
            lakehouse.spark,
            lakehouse.lake,
            recipe,
            run_id=context.run.run_id,
            metadata=LakehouseResource.commit_metadata(context),
            profile=generation_profile(recipe, local=local),
        )
        last = report.commits[max(report.commits)] if report.commits else None
        return dg.MaterializeResult(
            metadata={
                **{k: dg.MetadataValue.int(v) for k, v in report.counts.items()},
                "failed requests": dg.MetadataValue.int(report.failed),
                "endpoint": recipe.endpoint(),
                "model requested": recipe.spec.generator.model,
                "model reported": ", ".join(sorted(report.models)) or "no answers",
                "token budget reached": report.budget_reached,
                "chunks committed": len(report.chunks_committed),
                f"input {recipe.spec.source.table} version": report.source_version,
                **({"table version": last.version, "table uri": last.uri} if last else {}),
                "recipe hash": recipe.fingerprint,
                "template hash": recipe.template_hash,
            }
        )

    return _synthetic


def family_assets(recipes: Mapping[str, SyntheticRecipe]) -> list[dg.AssetsDefinition]:
    """annotated/synthetic and curated/synthetic over these recipes' synthetic/<recipe>."""

    @dg.asset(
        key=ANNOTATED,
        deps=[synthetic_key(name) for name in recipes],
        group_name=GROUP,
        kinds={"spark", "delta"},
        pool=SPARK_POOL,
        code_version="1",
    )
    def annotated_synthetic(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        """Ok samples of every recipe, annotated like any family, with their source overlap."""
        from spark_jobs.synthetic.curate import annotate_synthetic

        metadata: dict[str, object] = {}
        for name, recipe in recipes.items():
            report = annotate_synthetic(
                lakehouse.spark,
                lakehouse.lake,
                recipe,
                metadata=LakehouseResource.commit_metadata(context),
            )
            metadata |= {f"{name}: {k}": v for k, v in stage_metadata(report).items()}
        return dg.MaterializeResult(metadata=metadata)

    @dg.asset(
        key=CURATED,
        deps=[ANNOTATED, BENCHMARK_ITEMS, *[corpus_keys(c)[1] for c in CORPORA]],
        group_name=GROUP,
        kinds={"spark", "delta"},
        pool=SPARK_POOL,
        code_version="1",
    )
    def curated_synthetic(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        """Samples kept by the curation recipe: not copies of their source, decontaminated, deduplicated."""
        from spark_jobs.synthetic.curate import curate_synthetic, curation_recipe

        curation = curation_recipe(recipes, lakehouse.settings.recipes_dir)
        report = curate_synthetic(
            lakehouse.spark,
            lakehouse.lake,
            recipes,
            curation,
            {corpus: lakehouse.recipe(corpus) for corpus in CORPORA},
            dedup_config(lakehouse.settings),
            run_id=context.run.run_id,
            metadata=LakehouseResource.commit_metadata(context),
        )
        return dg.MaterializeResult(
            metadata={**stage_metadata(report), "recipe hash": curation.fingerprint}
        )

    return [annotated_synthetic, curated_synthetic]


def synthetic_family(recipes: Mapping[str, SyntheticRecipe]) -> list[dg.AssetsDefinition]:
    """Every asset of the synthetic family for these recipes."""
    return [*[synthetic_asset(r) for r in recipes.values()], *family_assets(recipes)]


synthetic_recipes = load_recipes(load_settings().synthetic_dir)
synthetic_assets = synthetic_family(synthetic_recipes)
