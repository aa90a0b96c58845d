"""Keep policy: an ordered list of named rules, mapped to Spark sort expressions.

A rule whose columns are all missing from the documents is skipped, so one policy serves
corpora with different columns; the document id always breaks the remaining ties, which makes
the order total and the keeper deterministic.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from spark_jobs.dedup.config import DedupConfig, KeepRule
from spark_jobs.licenses.spdx import CLASS_RANK, knowledge

LICENSED_CORPUS = "licensed"


def _license_rank(rule: KeepRule, columns: set[str]) -> Column | None:
    """0 for the licensed corpus, then 1 + the license class rank (public domain first)."""
    present = [c for c in rule.columns if c in columns]
    if not present:
        return None
    unknown = CLASS_RANK["unknown"]
    class_rank = None
    if "license_class" in present:
        ranks = F.create_map(*[F.lit(x) for kv in CLASS_RANK.items() for x in kv])
        class_rank = ranks[F.col("license_class")]
    elif "license" in present:
        by_id = {spdx: CLASS_RANK[cls] for spdx, cls in knowledge().classes.items()}
        ranks = F.create_map(*[F.lit(x) for kv in by_id.items() for x in kv])
        class_rank = ranks[F.col("license")]
    rank = F.lit(unknown) if class_rank is None else F.coalesce(class_rank, F.lit(unknown))
    rank = rank + 1
    if "corpus" in present:
        rank = F.when(F.col("corpus") == LICENSED_CORPUS, F.lit(0)).otherwise(rank)
    return rank


def keep_order(columns: list[str] | set[str], config: DedupConfig | None = None) -> list[Column]:
    """Sort expressions: the first row in this order is the keeper."""
    config = config or DedupConfig()
    available = set(columns)
    order: list[Column] = []
    for name in config.keep_policy:
        rule = config.rule(name)
        if rule.kind == "license_rank":
            expr = _license_rank(rule, available)
            if expr is not None:
                order.append(expr.asc_nulls_last())
            continue
        present = [c for c in rule.columns if c in available]
        if not present:
            continue
        expr = F.coalesce(*[F.col(c) for c in present]) if len(present) > 1 else F.col(present[0])
        order.append(expr.desc_nulls_last() if rule.order == "desc" else expr.asc_nulls_last())
    if not (config.keep_policy and config.rule(config.keep_policy[-1]).columns == ("id",)):
        order.append(F.col("id").asc())
    return order


def applied_rules(columns: list[str] | set[str], config: DedupConfig | None = None) -> list[str]:
    """The policy's rules that apply to documents with these columns (for reports and docs)."""
    config = config or DedupConfig()
    available = set(columns)
    return [
        name
        for name in config.keep_policy
        if any(c in available for c in config.rule(name).columns)
    ]


def rank_within(df: DataFrame, cluster_col: str, config: DedupConfig | None = None) -> DataFrame:
    """Adds keeper_id (first id of the cluster in keep order) and is_keeper."""
    from pyspark.sql import Window

    ordered = Window.partitionBy(cluster_col).orderBy(*keep_order(df.columns, config))
    return df.withColumn("keeper_id", F.first("id").over(ordered)).withColumn(
        "is_keeper", F.col("id") == F.col("keeper_id")
    )
