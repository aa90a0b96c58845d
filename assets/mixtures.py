"""Training mixtures: one asset per recipe in orchestration/mixtures (mixtures/<name>)."""

import dagster as dg

from assets.corpus import corpus_keys
from assets.resources import LakehouseResource
from spark_jobs.mixtures.recipe import MixtureRecipe, load_recipes
from spark_jobs.settings import load_settings

GROUP = "mixtures"
CONFORMANCE_CHECK = "recipe_conformance"


def mixture_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, name])


def mixture_asset(recipe: MixtureRecipe) -> dg.AssetsDefinition:
    corpora = sorted({c.corpus for c in recipe.components})

    @dg.asset(
        key=mixture_key(recipe.name),
        deps=[corpus_keys(corpus)[2] for corpus in corpora],
        group_name=GROUP,
        kinds={"delta", "python"},
        description=f"mixtures.{recipe.name}: documents, token counts, shards and manifest",
        tags={"pilehouse/recipe_hash": recipe.fingerprint},
        check_specs=[
            dg.AssetCheckSpec(
                CONFORMANCE_CHECK,
                asset=mixture_key(recipe.name),
                blocking=True,
                description="Licenses allowed by the policy; weighted shares within 1 point",
            )
        ],
    )
    def _mixture(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        from spark_jobs.mixtures.build import materialize_mixture, recipe_conformance

        settings = lakehouse.settings
        exported = materialize_mixture(
            lakehouse.lake,
            recipe,
            tracking_uri=settings.mlflow_tracking_uri,
            artifact_location=settings.mlflow_artifacts_uri,
            metadata=LakehouseResource.commit_metadata(context),
        )
        manifest, totals = exported.manifest, exported.manifest["totals"]
        conformance = recipe_conformance(recipe, manifest)
        return dg.MaterializeResult(
            check_results=[
                dg.AssetCheckResult(
                    check_name=CONFORMANCE_CHECK,
                    passed=bool(conformance["passed"]),
                    metadata={
                        "problems": dg.MetadataValue.json(conformance["problems"]),
                        "shares (target, measured)": dg.MetadataValue.json(conformance["shares"]),
                    },
                )
            ],
            metadata={
                "table version": manifest["mixture"]["version"],
                "rows": totals["rows"],
                "documents": totals["documents"],
                "tokens": totals["tokens"],
                "shards": len(manifest["shards"]),
                "manifest": dg.MetadataValue.path(exported.manifest_uri),
                "tokenizer version": manifest["tokenizer"]["version"],
                **{f"{i['table']} version": i["version"] for i in manifest["inputs"]},
                "tokens by component": dg.MetadataValue.json(
                    {k: v["tokens"] for k, v in totals["component"].items()}
                ),
                "tokens by license": dg.MetadataValue.json(
                    {k: v["tokens"] for k, v in totals["license"].items()}
                ),
            },
        )

    return _mixture


mixture_recipes = load_recipes(load_settings().mixtures_dir)
mixture_assets = [mixture_asset(recipe) for recipe in mixture_recipes.values()]
