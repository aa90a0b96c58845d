"""Spark aggregates that the distribution and conservation suites validate: shares, rates, balances.

Each returns a small DataFrame with one row per thing a promise is about (a language, a rule,
a source partition, a document), so a failed expectation names the offending rows.

The `*_rows` functions compute the same rows from Arrow tables in this process: a small
table's suite uses them, with no Spark job (tests/quality/test_gates.py compares the two).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from quality.bounds import BYTE_LENGTH, LANGUAGE_SHARE, REMOVAL, Measure
from spark_jobs.licenses.spdx import license_class

# Spark's percentile_approx (accuracy 10000, relative error 1e-4) keeps every value, and so
# is exact, while it has seen fewer than 1 / (2 * 1e-4) values: up to there the in-memory
# profile picks the same values; above, the suite measures on Spark.
EXACT_QUANTILE_ROWS = 5000
QUANTILE_ERROR = 1e-4


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
        measures += _removal_measures(source, kept_by_stage, removed)
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


# --- the same rows from Arrow tables in memory ------------------------------------------------


def license_classes(licenses: pa.ChunkedArray | pa.Array, *, nulls: bool) -> pa.Array:
    """Each license's class (spark_jobs.licenses.spdx); a null license's class is that of
    None when `nulls`, else null (as `F.when(license.isNotNull(), ...)`)."""
    values = licenses.to_pylist()
    classes = {v: license_class(v) for v in set(values) if v is not None or nulls}
    return pa.array([classes.get(v) for v in values], pa.string())


def license_shares_rows(licenses: pa.ChunkedArray, allowed: Iterable[str]) -> pa.Table:
    """`shares(documents, "license")` with each license's class and whether the policy
    allows it, most documents first (ties by license, null first)."""
    counts = Counter(licenses.to_pylist())
    total = sum(counts.values())
    order = sorted(counts, key=lambda v: (-counts[v], v is not None, v or ""))
    names = pa.array(order, pa.string())
    classes = license_classes(names, nulls=False)
    allowed = set(allowed)
    return pa.table(
        {
            "license": names,
            "documents": pa.array([counts[v] for v in order], pa.int64()),
            "share": pa.array([counts[v] / total for v in order], pa.float64()),
            "license_class": classes,
            "allowed": pa.array(
                [None if c is None else c in allowed for c in classes.to_pylist()], pa.bool_()
            ),
        }
    )


def _sources_first(keys: Iterable[str | None]) -> list[str | None]:
    """Spark's ascending order: null first."""
    return sorted(keys, key=lambda k: (k is not None, k or ""))


def source_balance_rows(
    ingested: pa.Table, kept: pa.Table, rejects: pa.Table, quarantine: pa.Table
) -> pa.Table:
    """`source_balance` ordered by source."""
    names = ["ingested", "ingest_rejected", "kept", "rejected", "quarantined", "unexplained"]
    counts: dict[str | None, dict[str, int]] = {}

    def add(source: str | None, name: str) -> None:
        counts.setdefault(source, dict.fromkeys(names, 0))[name] += 1

    for source in ingested["source"].to_pylist():
        add(source, "ingested")
    for source in kept["source"].to_pylist():
        add(source, "kept")
    for source in quarantine["source"].to_pylist():
        add(source, "quarantined")
    for row in rejects.select(["source", "stage", "reason"]).to_pylist():
        add(row["source"], "rejected")
        if row["stage"] == "ingest":
            add(row["source"], "ingest_rejected")
        # Spark's trim removes spaces only.
        if row["reason"] is None or row["reason"].strip(" ") == "":
            add(row["source"], "unexplained")
    rows = []
    for source in _sources_first(counts):
        c = counts[source]
        rows.append(
            {
                "source": source,
                "input_records": c["ingested"] + c["ingest_rejected"] + c["quarantined"],
                "kept": c["kept"],
                "rejected": c["rejected"],
                "quarantined": c["quarantined"],
                "accounted": c["kept"] + c["rejected"] + c["quarantined"],
                "rejected_without_reason": c["unexplained"],
            }
        )
    schema = pa.schema(
        [("source", pa.string())]
        + [
            (name, pa.int64())
            for name in (
                "input_records",
                "kept",
                "rejected",
                "quarantined",
                "accounted",
                "rejected_without_reason",
            )
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def outcome_ledger_rows(inputs: pa.Table, kept: pa.Table, rejected: pa.Table) -> pa.Table:
    """`outcome_ledger`: per document id, inputs, outcomes and where it ended."""
    ins: dict[str | None, list] = {}
    for id_, source in zip(inputs["id"].to_pylist(), inputs["source"].to_pylist(), strict=True):
        entry = ins.setdefault(id_, [0, source])
        entry[0] += 1
    outs: dict[str | None, list] = {}
    ended = [
        (i, s, "kept")
        for i, s in zip(kept["id"].to_pylist(), kept["source"].to_pylist(), strict=True)
    ] + [
        (i, s, None if r is None else f"rejected: {r}")
        for i, s, r in zip(
            rejected["id"].to_pylist(),
            rejected["source"].to_pylist(),
            rejected["reason"].to_pylist(),
            strict=True,
        )
    ]
    for id_, source, outcome in ended:
        entry = outs.setdefault(id_, [0, [], source])
        entry[0] += 1
        if outcome is not None:
            entry[1].append(outcome)
    # A full outer join on id: a null id joins nothing, so its inputs and outcomes stay apart.
    pairs = [(i, entry, outs.get(i) if i is not None else None) for i, entry in ins.items()]
    pairs += [(i, None, entry) for i, entry in outs.items() if i is None or i not in ins]
    return pa.table(
        {
            "id": pa.array([i for i, _, _ in pairs], pa.string()),
            "source": pa.array([_first_source(a, b) for _, a, b in pairs], pa.string()),
            "inputs": pa.array([a[0] if a else 0 for _, a, _ in pairs], pa.int64()),
            "outcomes": pa.array([b[0] if b else 0 for _, _, b in pairs], pa.int64()),
            "ended_in": pa.array(
                [", ".join(b[1]) if b else "nowhere" for _, _, b in pairs], pa.string()
            ),
        }
    )


def _first_source(entry_in: list | None, entry_out: list | None) -> str | None:
    """coalesce(input_source, outcome_source)."""
    if entry_in is not None and entry_in[1] is not None:
        return entry_in[1]
    return entry_out[2] if entry_out is not None else None


def spark_quantile(values: list, q: float) -> object:
    """What Spark's percentile_approx returns for `values` (sorted, no nulls) while it keeps
    them all (fewer than EXACT_QUANTILE_ROWS): the value at rank ceil(q * n)."""
    if q <= QUANTILE_ERROR:
        return values[0]
    if q >= 1 - QUANTILE_ERROR:
        return values[-1]
    return values[max(math.ceil(q * len(values)), 1) - 1]


def source_profile_rows(
    kept: pa.Table, ingested: pa.Table, removals: pa.Table, qs: list[float]
) -> list[Measure] | None:
    """`source_profile` of Arrow tables; None when a source has too many documents for the
    quantiles to be Spark's (EXACT_QUANTILE_ROWS)."""
    kept_by_stage: dict[tuple[str, str], int] = {}
    for source, n in Counter(ingested["source"].to_pylist()).items():
        kept_by_stage[(source, "ingest")] = n
    languages: Counter = Counter()
    lengths: dict[str, list] = {}
    documents: Counter = Counter()
    for source, language, length in zip(
        kept["source"].to_pylist(),
        kept["language"].to_pylist(),
        kept["byte_length"].to_pylist(),
        strict=True,
    ):
        languages[(source, language)] += 1
        documents[source] += 1
        if length is not None:
            lengths.setdefault(source, []).append(length)
    if any(len(v) >= EXACT_QUANTILE_ROWS for v in lengths.values()):
        return None
    for source, n in documents.items():
        kept_by_stage[(source, "curate")] = n
    removed: dict[tuple[str, str], dict[str, int]] = {}
    for (source, stage, reason), count in Counter(
        zip(
            removals["source"].to_pylist(),
            removals["stage"].to_pylist(),
            removals["reason"].to_pylist(),
            strict=True,
        )
    ).items():
        by_reason = removed.setdefault((source, stage), {})
        by_reason[reason or "(none)"] = by_reason.get(reason or "(none)", 0) + count
    measures: list[Measure] = []
    sources = sorted({s for s, _ in kept_by_stage} | {s for s, _ in removed})
    for source in sources:
        measures += _removal_measures(source, kept_by_stage, removed)
        n = documents.get(source, 0)
        if n:
            measures += [
                Measure(source, LANGUAGE_SHARE, str(language), count / n, n)
                for (s, language), count in sorted(languages.items(), key=lambda i: str(i[0][1]))
                if s == source
            ]
            values = sorted(lengths.get(source, []))
            quantiles = [spark_quantile(values, q) for q in qs] if values else []
            measures += [
                Measure(source, BYTE_LENGTH, f"p{round(q * 100)}", float(v), n)
                for q, v in zip(qs, quantiles, strict=True)
            ]
    return measures


def _removal_measures(
    source: str,
    kept_by_stage: dict[tuple[str, str], int],
    removed: dict[tuple[str, str], dict[str, int]],
) -> list[Measure]:
    """A source's removal shares per stage: all reasons together (`stage: *`) and each one."""
    measures: list[Measure] = []
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
    return measures
