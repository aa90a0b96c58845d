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
from spark_jobs.annotators.pii import PII_TYPES
from spark_jobs.licenses import license_allowed, license_class

REJECT_COLUMNS = ["id", "corpus", "source", "locator", "stage", "reason", "detail", "run_id"]


@dataclass(frozen=True)
class Recipe:
    """What a curated table keeps. Thresholds here, not in code: changing them re-runs selection only."""

    name: str = "default"
    # Licenses outside this policy (spark_jobs/licenses/classes.yaml) never reach the table.
    license_policy: str | None = "platform"
    # None: no language filter (e.g. for code).
    languages: tuple[str, ...] | None = ("en",)
    min_language_score: float = 0.65
    # None: the Gopher rules do not apply (e.g. to code).
    gopher_quality: GopherQualityRules | None = field(default_factory=GopherQualityRules)
    # Documents with more PII spans than this are dropped (None: keep them). Redaction
    # instead of dropping comes with the PII stage.
    max_pii_spans: int | None = 0
    exact_dedup: bool = True
    # Among exact duplicates the first document in this order is kept.
    keep_order: tuple[str, ...] = ("fetch_date", "id")

    @classmethod
    def from_yaml(cls, path: str | Path) -> Recipe:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        rules = raw.pop("gopher_quality", {})
        for key in ("languages", "keep_order"):
            if raw.get(key) is not None:
                raw[key] = tuple(raw[key])
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"recipe {path}: unknown keys {sorted(unknown)}")
        gopher = None if rules is None else GopherQualityRules(**rules)
        return cls(gopher_quality=gopher, **raw)

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
    remaining = annotated
    rejects = None
    if recipe.license_policy is not None:
        # Few distinct licenses: classify them on the driver, filter with a plain IN list.
        licenses = [r[0] for r in annotated.select("license").distinct().collect()]
        allowed = [lic for lic in licenses if license_allowed(lic, recipe.license_policy)]
        classes = {lic: license_class(lic) for lic in licenses if lic not in allowed}
        license_ok = F.coalesce(F.col("license").isin(allowed), F.lit(False))
        detail = F.lit("")
        for lic, cls in classes.items():
            detail = F.when(
                F.col("license") == lic,
                F.lit(f"license {lic} is {cls}; policy {recipe.license_policy} does not allow it"),
            ).otherwise(detail)
        rejects = _reject(
            annotated.where(~license_ok), F.lit("license_not_allowed"), detail, run_id
        )
        remaining = annotated.where(license_ok)
    if recipe.languages is not None:
        language_ok = F.col("language").isin(list(recipe.languages)) & (
            F.col("language_score") >= recipe.min_language_score
        )
        language_rejects = _reject(
            remaining.where(~language_ok),
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
        rejects = language_rejects if rejects is None else rejects.unionByName(language_rejects)
        remaining = remaining.where(language_ok)
    if recipe.gopher_quality is not None:
        remaining = remaining.withColumn("_gopher", gopher_reason(recipe.gopher_quality))
        low_quality = _reject(
            remaining.where(F.col("_gopher").isNotNull()),
            F.col("_gopher"),
            F.concat(F.lit("failed a Gopher quality rule of recipe "), F.lit(recipe.name)),
            run_id,
        )
        rejects = low_quality if rejects is None else rejects.unionByName(low_quality)
        remaining = remaining.where(F.col("_gopher").isNull()).drop("_gopher")
    if recipe.max_pii_spans is not None and "pii_counts" in annotated.columns:
        spans = sum((F.col("pii_counts")[t] for t in PII_TYPES), F.lit(0))
        found = F.concat_ws(
            ", ",
            *[
                F.when(
                    F.col("pii_counts")[t] > 0, F.format_string(f"%d {t}", F.col("pii_counts")[t])
                )
                for t in PII_TYPES
            ],
        )
        pii_rejects = _reject(
            remaining.where(spans > recipe.max_pii_spans),
            F.lit("pii_above_threshold"),
            F.concat(
                F.lit("holds "), found, F.lit(f"; recipe allows {recipe.max_pii_spans} spans")
            ),
            run_id,
        )
        rejects = pii_rejects if rejects is None else rejects.unionByName(pii_rejects)
        remaining = remaining.where(spans <= recipe.max_pii_spans)
    if recipe.exact_dedup:
        order = [F.col(c).asc_nulls_last() for c in recipe.keep_order if c in annotated.columns]
        window = Window.partitionBy("text_hash").orderBy(*order)
        ranked = remaining.withColumn("_rank", F.row_number().over(window)).withColumn(
            "_keeper", F.first("id").over(window)
        )
        duplicates = ranked.where(F.col("_rank") > 1)
        duplicate_rejects = _reject(
            duplicates,
            F.lit("exact_duplicate"),
            F.concat(F.lit("same normalized text as kept document "), F.col("_keeper")),
            run_id,
        )
        rejects = duplicate_rejects if rejects is None else rejects.unionByName(duplicate_rejects)
        remaining = ranked.where(F.col("_rank") == 1).drop("_rank", "_keeper")
    if rejects is None:  # a recipe that removes nothing
        rejects = _reject(
            annotated.limit(0), F.lit(None).cast("string"), F.lit(None).cast("string"), run_id
        )
    return remaining, rejects
