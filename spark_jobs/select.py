"""Selection stage: a recipe decides which annotated documents are kept; the rest become rejects."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.annotators.gopher import GopherQualityRules, active_rules

REJECT_COLUMNS = ["id", "corpus", "source", "locator", "stage", "reason", "detail", "run_id"]


@dataclass(frozen=True)
class Recipe:
    """What a curated table keeps. Thresholds here, not in code: changing them re-runs selection only."""

    name: str = "default"
    languages: tuple[str, ...] = ("en",)
    min_language_score: float = 0.65
    gopher_quality: GopherQualityRules = field(default_factory=GopherQualityRules)
    exact_dedup: bool = True
    # Among exact duplicates the first document in this order is kept.
    keep_order: tuple[str, ...] = ("fetch_date", "id")

    @classmethod
    def from_yaml(cls, path: str | Path) -> Recipe:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        rules = raw.pop("gopher_quality", {}) or {}
        for key in ("languages", "keep_order"):
            if key in raw:
                raw[key] = tuple(raw[key])
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"recipe {path}: unknown keys {sorted(unknown)}")
        return cls(gopher_quality=GopherQualityRules(**rules), **raw)

    @property
    def fingerprint(self) -> str:
        """A short stable hash of the recipe's content, recorded in curated tables' commits."""
        content = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(content.encode()).hexdigest()[:16]


def gopher_reason(rules: GopherQualityRules) -> F.Column:
    """The first failing Gopher rule as a Spark expression over `quality_signals` (null: passes)."""
    reason = F.lit(None).cast("string")
    # Built back to front so the first rule in order wins, as in the reference.
    for code, signal, op, threshold in reversed(active_rules(rules)):
        value = F.col("quality_signals")[signal]
        fails = value < F.lit(threshold) if op == "<" else value > F.lit(threshold)
        reason = F.when(fails, F.lit(code)).otherwise(reason)
    return reason


def _reject(df: DataFrame, reason: F.Column, detail: F.Column, run_id: str) -> DataFrame:
    return df.select(
        "id",
        "corpus",
        "source",
        "locator",
        F.lit("curate").alias("stage"),
        reason.alias("reason"),
        detail.alias("detail"),
        F.lit(run_id).alias("run_id"),
    )


def select_documents(
    annotated: DataFrame, recipe: Recipe, run_id: str
) -> tuple[DataFrame, DataFrame]:
    """Split annotated documents into (kept, rejects) by the recipe.

    Filters run before dedup so that a kept document is never "a duplicate" of one
    that was itself filtered out. Each document gets exactly one outcome.
    """
    language_ok = F.col("language").isin(list(recipe.languages)) & (
        F.col("language_score") >= recipe.min_language_score
    )
    wrong_language = annotated.where(~language_ok)
    rejects = _reject(
        wrong_language,
        F.lit("language_not_allowed"),
        F.format_string(
            "language %s (score %.2f); recipe %s allows %s with score >= %s",
            F.col("language"),
            F.col("language_score"),
            F.lit(recipe.name),
            F.lit(",".join(recipe.languages)),
            F.lit(str(recipe.min_language_score)),
        ),
        run_id,
    )
    remaining = annotated.where(language_ok).withColumn(
        "_gopher", gopher_reason(recipe.gopher_quality)
    )
    low_quality = remaining.where(F.col("_gopher").isNotNull())
    rejects = rejects.unionByName(
        _reject(
            low_quality,
            F.col("_gopher"),
            F.concat(F.lit("failed a Gopher quality rule of recipe "), F.lit(recipe.name)),
            run_id,
        )
    )
    remaining = remaining.where(F.col("_gopher").isNull()).drop("_gopher")
    if recipe.exact_dedup:
        order = [F.col(c).asc_nulls_last() for c in recipe.keep_order if c in annotated.columns]
        window = Window.partitionBy("text_hash").orderBy(*order)
        ranked = remaining.withColumn("_rank", F.row_number().over(window)).withColumn(
            "_keeper", F.first("id").over(window)
        )
        duplicates = ranked.where(F.col("_rank") > 1)
        rejects = rejects.unionByName(
            _reject(
                duplicates,
                F.lit("exact_duplicate"),
                F.concat(F.lit("same normalized text as kept document "), F.col("_keeper")),
                run_id,
            )
        )
        remaining = ranked.where(F.col("_rank") == 1).drop("_rank", "_keeper")
    return remaining, rejects
