"""Spark aggregates that the distribution and conservation suites validate: shares, rates, balances.

Each returns a small DataFrame with one row per thing a promise is about (a language, a rule,
a source partition, a document), so a failed expectation names the offending rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from quality.bounds import BYTE_LENGTH, LANGUAGE_SHARE, REMOVAL, Measure


def shares(documents: DataFrame, column: str) -> DataFrame:
    """Documents and share of the table per value of `column` (e.g. language, license)."""
    total = Window.partitionBy()
    return (
        documents.groupBy(column)
        .agg(F.count("*").alias("documents"))
        .withColumn("share", F.col("documents") / F.sum("documents").over(total))
    )


def quantiles(documents: DataFrame, column: str, qs: list[float]) -> DataFrame:
    """One row per quantile q (named e.g. 'p50'): the column's value at q, computed by Spark."""
    values = documents.agg(F.percentile_approx(column, qs, 10000).alias("v")).first()["v"] or []
    rows = [(f"p{round(q * 100)}", float(q), float(v)) for q, v in zip(qs, values, strict=True)]
    return documents.sparkSession.createDataFrame(
        rows, f"quantile string, q double, {column} double"
    )


def share_drift(current: DataFrame, baseline: DataFrame | None, column: str) -> DataFrame:
    """Per value of `column`: share now, share in the baseline, and the absolute change.

    A value missing on one side has share 0 there. Without a baseline the change is null,
    which expectations skip (the first version of a table has nothing to drift from).
    """
    now = shares(current, column).select(column, "share")
    if baseline is None:
        return now.withColumn("baseline_share", F.lit(None).cast("double")).withColumn(
            "change", F.lit(None).cast("double")
        )
    before = shares(baseline, column).select(column, F.col("share").alias("baseline_share"))
    joined = now.join(before, column, "full_outer").fillna(0.0, ["share", "baseline_share"])
    return joined.withColumn("change", F.abs(F.col("share") - F.col("baseline_share")))


def removal_rates(
    removals: DataFrame,
    kept_by_stage: Mapping[str, int],
    max_rate: Mapping[str, Mapping[str, float]],
) -> DataFrame:
    """One row per stage (reason '*') and per stage rule: removed, stage input, rate, bound.

    A stage's input is what it kept plus what it removed; `removals` has one row per removed
    record with its `stage` and `reason`.
    """
    counts = {
        (r["stage"], r["reason"]): r["n"]
        for r in removals.groupBy("stage", "reason").agg(F.count("*").alias("n")).collect()
    }
    rows = []
    for stage, kept in kept_by_stage.items():
        by_reason = {reason: n for (s, reason), n in counts.items() if s == stage}
        total_input = kept + sum(by_reason.values())
        stage_bound = max_rate["stages"].get(stage, 1.0)
        rows.append((f"{stage}: *", stage, "*", sum(by_reason.values()), total_input, stage_bound))
        for reason, n in sorted(by_reason.items()):
            bound = max_rate["rules"].get(reason, max_rate["rules"]["default"])
            rows.append((f"{stage}: {reason}", stage, reason, n, total_input, bound))
    frame = removals.sparkSession.createDataFrame(
        rows,
        "rule string, stage string, reason string, removed long, stage_input long, max_rate double",
    )
    return frame.withColumn(
        "rate",
        F.when(F.col("stage_input") > 0, F.col("removed") / F.col("stage_input")).otherwise(0.0),
    )


def source_balance(
    ingested: DataFrame, kept: DataFrame, rejects: DataFrame, quarantine: DataFrame
) -> DataFrame:
    """Per source partition: input records = kept + rejected + quarantined, side by side.

    Input records are what ingest read: the rows it wrote to the raw table plus the ones it
    rejected or quarantined. Every later stage must account for each raw row. One aggregation
    over the four inputs' rows, tagged with where they are.
    """
    none = F.lit(None).cast("string")

    def tagged(df: DataFrame, where: str, with_reason: bool = False) -> DataFrame:
        stage, reason = (F.col("stage"), F.col("reason")) if with_reason else (none, none)
        return df.select(
            "source", F.lit(where).alias("where"), stage.alias("stage"), reason.alias("reason")
        )

    rows = (
        tagged(ingested, "ingested")
        .unionByName(tagged(kept, "kept"))
        .unionByName(tagged(rejects, "rejected", with_reason=True))
        .unionByName(tagged(quarantine, "quarantined"))
    )
    rejected = F.col("where") == "rejected"
    unexplained = rejected & (F.col("reason").isNull() | (F.trim(F.col("reason")) == ""))
    counts = {
        "ingested": F.col("where") == "ingested",
        "ingest_rejected": rejected & (F.col("stage") == "ingest"),
        "kept": F.col("where") == "kept",
        "rejected": rejected,
        "quarantined": F.col("where") == "quarantined",
        "rejected_without_reason": unexplained,
    }
    balance = rows.groupBy("source").agg(
        *[F.count(F.when(condition, 1)).alias(name) for name, condition in counts.items()]
    )
    return balance.select(
        "source",
        (F.col("ingested") + F.col("ingest_rejected") + F.col("quarantined")).alias(
            "input_records"
        ),
        "kept",
        "rejected",
        "quarantined",
        (F.col("kept") + F.col("rejected") + F.col("quarantined")).alias("accounted"),
        "rejected_without_reason",
    )


def outcome_ledger(inputs: DataFrame, kept: DataFrame, rejected: DataFrame) -> DataFrame:
    """Per document id: how often it is an input, and in how many outcomes it ended.

    Conserved documents have inputs = outcomes = 1; a lost document has outcomes 0, a
    document counted twice 2, and one that appears from nowhere inputs 0.
    """
    ins = inputs.groupBy("id").agg(
        F.count("*").alias("inputs"), F.first("source").alias("input_source")
    )
    outs = (
        kept.select("id", "source", F.lit("kept").alias("outcome"))
        .unionByName(
            rejected.select(
                "id", "source", F.concat(F.lit("rejected: "), "reason").alias("outcome")
            )
        )
        .groupBy("id")
        .agg(
            F.count("*").alias("outcomes"),
            F.concat_ws(", ", F.collect_list("outcome")).alias("ended_in"),
            F.first("source").alias("outcome_source"),
        )
    )
    return ins.join(outs, "id", "full_outer").select(
        "id",
        F.coalesce("input_source", "outcome_source").alias("source"),
        F.coalesce("inputs", F.lit(0)).alias("inputs"),
        F.coalesce("outcomes", F.lit(0)).alias("outcomes"),
        F.coalesce("ended_in", F.lit("nowhere")).alias("ended_in"),
    )


def source_profile(
    kept: DataFrame,
    ingested: DataFrame,
    removals: DataFrame,
    qs: list[float],
) -> list[Measure]:
    """Per source: each stage's removal rate, overall and per reason; each language's share of
    the kept documents; the kept documents' byte-length quantiles. Small: collected.

    `kept` has source, language, byte_length; `ingested` (the raw table) has source;
    `removals` has source, stage, reason (rejects and quarantine rows).
    """
    kept_by_stage: dict[tuple[str, str], int] = {}
    for row in ingested.groupBy("source").count().collect():
        kept_by_stage[(row["source"], "ingest")] = row["count"]
    languages = kept.groupBy("source", "language").count().collect()
    lengths = {
        row["source"]: (row["n"], row["v"] or [])
        for row in kept.groupBy("source")
        .agg(F.count("*").alias("n"), F.percentile_approx("byte_length", qs, 10000).alias("v"))
        .collect()
    }
    for source, (n, _) in lengths.items():
        kept_by_stage[(source, "curate")] = n
    removed: dict[tuple[str, str], dict[str, int]] = {}
    for row in removals.groupBy("source", "stage", "reason").count().collect():
        removed.setdefault((row["source"], row["stage"]), {})[row["reason"] or "(none)"] = row[
            "count"
        ]
    measures: list[Measure] = []
    sources = sorted({s for s, _ in kept_by_stage} | {s for s, _ in removed})
    for source in sources:
        for stage in ("ingest", "curate"):
            by_reason = removed.get((source, stage), {})
            total = kept_by_stage.get((source, stage), 0) + sum(by_reason.values())
            if not total:
                continue
            measures.append(
                Measure(source, REMOVAL, f"{stage}: *", sum(by_reason.values()) / total, total)
            )
            measures += [
                Measure(source, REMOVAL, f"{stage}: {reason}", count / total, total)
                for reason, count in sorted(by_reason.items())
            ]
        n, values = lengths.get(source, (0, []))
        if n:
            measures += [
                Measure(source, LANGUAGE_SHARE, str(row["language"]), row["count"] / n, n)
                for row in sorted(languages, key=lambda r: str(r["language"]))
                if row["source"] == source
            ]
            measures += [
                Measure(source, BYTE_LENGTH, f"p{round(q * 100)}", float(v), n)
                for q, v in zip(qs, values, strict=True)
            ]
    return measures
