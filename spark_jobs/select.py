"""Selection stage: a recipe decides which annotated documents are kept; the rest become rejects.

Selection reads only stored annotations (spark_jobs.annotate): license, language, the quality
signals the recipe's rule sets look at, and PII span counts. Changing a recipe threshold
re-runs this stage, never annotation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StructField, StructType

from spark_jobs.annotators.rulesets import ruleset
from spark_jobs.lake import REJECT_COLUMNS
from spark_jobs.licenses import license_allowed, license_class
from spark_jobs.recipe import CurationRecipe, DecontaminationPolicy, DedupPolicy, PiiPolicy

__all__ = [
    "REJECT_COLUMNS",
    "CurationRecipe",
    "DecontaminationPolicy",
    "DedupPolicy",
    "PiiPolicy",
    "exact_dedup",
    "filter_documents",
    "rule_reason",
    "select_documents",
]


def rule_reason(
    name: str, thresholds: dict[str, Any] | None = None, signals: str = "quality_signals"
) -> F.Column:
    """The first failing rule of rule set `name` as a Spark expression (null: passes).

    Built from the rule data (spark_jobs/annotators/rulesets.yaml) with the recipe's
    threshold overrides applied.
    """
    reason = F.lit(None).cast("string")
    # Built back to front so the first rule in order wins, as in the reference.
    for rule, threshold in reversed(ruleset(name).resolve(thresholds)):
        value = F.col(signals)[rule.signal]
        if rule.fails_if == "flag":
            failing = value
        elif rule.fails_if == "<":
            failing = value < F.lit(threshold)
        else:
            failing = value > F.lit(threshold)
        reason = F.when(F.coalesce(failing, F.lit(False)), F.lit(rule.reason)).otherwise(reason)
    return reason


def rule_detail(name: str, thresholds: dict[str, Any] | None, reason: F.Column) -> F.Column:
    """`signal = value (fails_if threshold)` for the failing rule: why, in numbers."""
    detail = F.lit("")
    for rule, threshold in ruleset(name).resolve(thresholds):
        value = F.col("quality_signals")[rule.signal].cast("string")
        text = F.concat(
            F.lit(f"{name}: {rule.signal} = "),
            value,
            F.lit(f" ({'is set' if rule.fails_if == 'flag' else f'{rule.fails_if} {threshold}'})"),
        )
        detail = F.when(reason == rule.reason, text).otherwise(detail)
    return detail


def reject_rows(docs: DataFrame, reason: F.Column, detail: F.Column, run_id: str) -> DataFrame:
    """Curate-stage reject rows (the columns of REJECT_COLUMNS) for `docs`."""
    return docs.select(
        "id",
        "corpus",
        "source",
        "locator",
        F.lit("curate").alias("stage"),
        reason.alias("reason"),
        detail.alias("detail"),
        F.lit(run_id).alias("run_id"),
    )


def _pii_types(annotated: DataFrame, policy: PiiPolicy) -> list[str]:
    if "pii_counts" not in annotated.columns:
        return []
    present = [f.name for f in annotated.schema["pii_counts"].dataType.fields]
    return present if policy.types is None else [t for t in present if t in policy.types]


def filter_documents(
    annotated: DataFrame, recipe: CurationRecipe, run_id: str
) -> tuple[DataFrame, DataFrame]:
    """Split annotated documents into (kept, rejects) by license, language (language_not_allowed,
    or language_score_low for an allowed language identified with too little confidence), rule
    sets and PII.

    Each document gets at most one reject row, with the first reason in that order. Under a
    `redact` PII policy kept documents' text has its PII replaced by typed placeholders
    (spark_jobs.annotators.pii.redact); `pii_redacted` counts the replaced spans per type and
    `pii_counts` is recounted on the redacted text.
    """
    remaining = annotated
    rejects: list[DataFrame] = []
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
        rejects.append(
            reject_rows(remaining.where(~license_ok), F.lit("license_not_allowed"), detail, run_id)
        )
        remaining = remaining.where(license_ok)
    if recipe.languages is not None:
        # Two reasons: the language is not one the recipe wants, or it is but language ID is
        # not sure enough (short or mixed text) - different fixes, so different reasons.
        language_allowed = F.coalesce(F.col("language").isin(list(recipe.languages)), F.lit(False))
        score_ok = F.coalesce(F.col("language_score") >= recipe.min_language_score, F.lit(False))
        rejects.append(
            reject_rows(
                remaining.where(~language_allowed),
                F.lit("language_not_allowed"),
                F.format_string(
                    "language %s (score %.2f); recipe %s allows %s",
                    F.col("language"),
                    F.col("language_score"),
                    F.lit(recipe.name),
                    F.lit(",".join(recipe.languages)),
                ),
                run_id,
            )
        )
        rejects.append(
            reject_rows(
                remaining.where(language_allowed & ~score_ok),
                F.lit("language_score_low"),
                F.format_string(
                    "language %s with score %.2f < min_language_score %s; recipe %s",
                    F.col("language"),
                    F.col("language_score"),
                    F.lit(str(recipe.min_language_score)),
                    F.lit(recipe.name),
                ),
                run_id,
            )
        )
        remaining = remaining.where(language_allowed & score_ok)
    if recipe.rules:
        # One pass: the first failing rule over all rule sets, in the recipe's order.
        reason = F.lit(None).cast("string")
        detail = F.lit(None).cast("string")
        for name, thresholds in reversed(list(recipe.rules.items())):
            this = rule_reason(name, dict(thresholds))
            reason = F.coalesce(this, reason)
            detail = F.when(
                this.isNotNull(),
                F.concat(
                    rule_detail(name, dict(thresholds), this), F.lit(f"; recipe {recipe.name}")
                ),
            ).otherwise(detail)
        remaining = remaining.withColumn("_reason", reason).withColumn("_detail", detail)
        rejects.append(
            reject_rows(
                remaining.where(F.col("_reason").isNotNull()),
                F.col("_reason"),
                F.col("_detail"),
                run_id,
            )
        )
        remaining = remaining.where(F.col("_reason").isNull()).drop("_reason", "_detail")
    if recipe.pii is not None:
        types = _pii_types(annotated, recipe.pii)
        if recipe.pii.policy == "drop" and types:
            spans = sum((F.col("pii_counts")[t] for t in types), F.lit(0))
            found = F.concat_ws(
                ", ",
                *[
                    F.when(
                        F.col("pii_counts")[t] > 0,
                        F.format_string(f"%d {t}", F.col("pii_counts")[t]),
                    )
                    for t in types
                ],
            )
            rejects.append(
                reject_rows(
                    remaining.where(spans > recipe.pii.max_spans),
                    F.lit("pii_above_threshold"),
                    F.concat(
                        F.lit("holds "),
                        found,
                        F.lit(f"; recipe allows {recipe.pii.max_spans} spans"),
                    ),
                    run_id,
                )
            )
            remaining = remaining.where(spans <= recipe.pii.max_spans)
        elif recipe.pii.policy == "redact" and types:
            remaining = redact_documents(remaining, types)
    if rejects:
        all_rejects = rejects[0]
        for more in rejects[1:]:
            all_rejects = all_rejects.unionByName(more)
    else:  # a recipe that removes nothing
        all_rejects = reject_rows(
            annotated.limit(0), F.lit(None).cast("string"), F.lit(None).cast("string"), run_id
        )
    return remaining, all_rejects


def redact_documents(documents: DataFrame, types: list[str]) -> DataFrame:
    """Replace PII spans of `types` in `text` by typed placeholders (documents with spans only).

    Adds `pii_redacted` (spans replaced, per type) and recounts `pii_counts` on the new text.
    """
    from spark_jobs.annotators.pii import pii_counts, redact

    count_fields = [f.name for f in documents.schema["pii_counts"].dataType.fields]
    base = documents.drop("pii_redacted") if "pii_redacted" in documents.columns else documents
    redacted_type = StructType([StructField(t, LongType(), False) for t in count_fields])
    schema = StructType([*base.schema.fields, StructField("pii_redacted", redacted_type, False)])
    text_index = base.columns.index("text")
    counts_index = base.columns.index("pii_counts")
    wanted = list(types)

    def redact_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            texts = batch.column(text_index).to_pylist()
            counts = batch.column(counts_index).to_pylist()
            new_texts, new_counts, replaced = [], [], []
            for text, count in zip(texts, counts, strict=True):
                if text and count and any(count.get(t) for t in wanted):
                    text, done = redact(text, wanted)
                    count = {**count, **pii_counts(text)}
                    count = {t: count.get(t, 0) for t in count_fields}
                else:
                    done = {}
                new_texts.append(text)
                new_counts.append(count)
                replaced.append({t: int(done.get(t, 0)) for t in count_fields})
            columns = list(batch.columns)
            columns[text_index] = pa.array(new_texts, batch.schema.field(text_index).type)
            columns[counts_index] = pa.array(new_counts, batch.schema.field(counts_index).type)
            columns.append(
                pa.array(
                    replaced,
                    pa.struct([pa.field(t, pa.int64(), nullable=False) for t in count_fields]),
                )
            )
            yield pa.RecordBatch.from_arrays(columns, names=[*batch.schema.names, "pii_redacted"])

    return base.mapInArrow(redact_batches, schema)


def exact_dedup(documents: DataFrame, keep_order: tuple[str, ...], run_id: str):
    """One keeper per `text_hash` (the first in `keep_order`); the others become rejects."""
    order = [F.col(c).asc_nulls_last() for c in keep_order if c in documents.columns]
    window = Window.partitionBy("text_hash").orderBy(*order)
    ranked = documents.withColumn("_rank", F.row_number().over(window)).withColumn(
        "_keeper", F.first("id").over(window)
    )
    duplicate_rejects = reject_rows(
        ranked.where(F.col("_rank") > 1),
        F.lit("exact_duplicate"),
        F.concat(F.lit("same normalized text as kept document "), F.col("_keeper")),
        run_id,
    )
    return ranked.where(F.col("_rank") == 1).drop("_rank", "_keeper"), duplicate_rejects


def select_documents(
    annotated: DataFrame, recipe: CurationRecipe, run_id: str
) -> tuple[DataFrame, DataFrame]:
    """`filter_documents`, then within-family exact dedup (if the recipe asks for it).

    Filters run before dedup so that a kept document is never "a duplicate" of one
    that was itself filtered out. Each document gets exactly one outcome.
    """
    kept, rejects = filter_documents(annotated, recipe, run_id)
    if recipe.dedup.exact:
        kept, duplicates = exact_dedup(kept, recipe.keep_order, run_id)
        rejects = rejects.unionByName(duplicates)
    return kept, rejects
