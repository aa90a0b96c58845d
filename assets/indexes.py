"""N-gram indexes: one per mixture recipe (indexes/<name>), over the mixture's newest export."""

import dagster as dg

from assets.automation import EAGER_AFTER_GATES
from assets.dedup import benchmark_locations
from assets.mixtures import mixture_key, mixture_recipes
from assets.resources import LakehouseResource

GROUP = "indexes"


def index_key(mixture: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, mixture])


def index_asset(mixture: str) -> dg.AssetsDefinition:
    # Downstream of mixtures/<name>: a newer mixture build shows this index as stale in the UI.
    @dg.asset(
        key=index_key(mixture),
        deps=[mixture_key(mixture)],
        automation_condition=EAGER_AFTER_GATES,
        group_name=GROUP,
        kinds={"python"},
        description=f"Suffix-array n-gram index of mixtures.{mixture} (pilehouse trace / count)",
    )
    def _index(lakehouse: LakehouseResource) -> dg.MaterializeResult:
        from spark_jobs.indexes.build import build_mixture_index
        from spark_jobs.indexes.contamination import REPORT_TABLE, contamination_report, summary

        built = build_mixture_index(lakehouse.lake, mixture)
        manifest, totals = built.manifest, built.manifest["totals"]
        # Benchmark items against what the model trains on, at any length (not a gate: the
        # 13-word flags gate curated tables; this reports what reached the mixture).
        report = summary(
            contamination_report(lakehouse.lake, mixture, benchmark_locations(lakehouse.settings))
        )
        return dg.MaterializeResult(
            metadata={
                "mixture version": manifest["mixture"]["version"],
                "tokenizer version": manifest["tokenizer"]["version"],
                "tokens": totals["tokens"],
                "documents": totals["documents"],
                "shards": len(manifest["shards"]),
                "bytes per token": round(totals["bytes"] / max(1, totals["tokens"]), 2),
                "build seconds": manifest["build_seconds"],
                "taken-down documents left out": totals["taken_down_skipped"],
                "manifest": dg.MetadataValue.path(built.manifest_uri),
                "benchmark items contaminated": sum(b["contaminated"] for b in report.values()),
                "benchmark items checked": sum(b["items"] for b in report.values()),
                "contamination by benchmark": dg.MetadataValue.json(report),
                "contamination table": REPORT_TABLE,
            }
        )

    return _index


index_assets = [index_asset(name) for name in mixture_recipes]
