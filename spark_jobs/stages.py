"""Stage entry points, the same for every corpus family: each reads its inputs, transforms,
and commits its tables once."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.annotate import annotate_documents, annotator_versions
from spark_jobs.corpora import ingest_documents
from spark_jobs.curate import (
    SignaturePlan,
    annotated_partitions,
    cluster_across_corpora,
    contamination_flags,
    drop_contaminated,
    drop_duplicate_paragraphs,
    drop_duplicates,
    plan_signatures,
    with_signature_state,
)
from spark_jobs.decontaminate import (
    BUNDLED_BENCHMARKS,
    BenchmarkIndex,
    build_index,
    contamination_verdicts,
    load_benchmark_items,
)
from spark_jobs.dedup import DedupConfig, minhash_signatures
from spark_jobs.dedup.checkpoint import FrameCheckpoints
from spark_jobs.delta import (
    CommitResult,
    open_table,
    read_arrow,
    read_spark,
    table_exists,
    write_arrow,
    write_table,
)
from spark_jobs.ingest import (
    KEPT,
    QUARANTINED,
    SKIPPED,
    UNIT_FAILURES,
    UnreadableSource,
    check_unreadable_fraction,
)
from spark_jobs.lake import QUARANTINE_COLUMNS, REJECT_COLUMNS, Lake, document_tables
from spark_jobs.select import CurationRecipe, filter_documents
from spark_jobs.session import max_bytes_per_file, max_records_per_file
from spark_jobs.sources import Source
from spark_jobs.takedown import taken_down_ids

log = logging.getLogger(__name__)

BENCHMARK_TABLE = "benchmarks.items"
SIGNATURE_TABLE = "dedup.signatures"
CLUSTER_TABLE = "dedup.clusters"
FLAG_TABLE = "decontamination.flags"
# A family's own check before its recipe's filters: (documents, run_id=) -> (kept, rejects).
FamilyFilter = Callable[..., tuple[DataFrame, DataFrame]]


@dataclass
class StageReport:
    """What a stage committed, and its record counts by outcome."""

    commits: dict[str, CommitResult] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, int] = field(default_factory=dict)  # table name -> version read


def _write(
    lake: Lake,
    name: str,
    df: DataFrame,
    metadata: Mapping[str, object],
    replace_where: Mapping[str, str | Sequence[str]] | None = None,
) -> CommitResult:
    return write_table(
        df,
        lake.uri(name),
        mode="overwrite",
        partition_by=lake.spec(name).partition_by,
        replace_where=replace_where,
        metadata=metadata,
        store=lake.store,
        max_rows_per_file=max_records_per_file(df.sparkSession),
        max_bytes_per_file=max_bytes_per_file(df.sparkSession),
    )


def _read_latest(
    spark: SparkSession, lake: Lake, name: str, partitions: Mapping[str, str] | None = None
) -> tuple[DataFrame, int]:
    """Read a table's current snapshot and return it with the version read (for lineage)."""
    version = open_table(lake.uri(name), store=lake.store).version()
    frame = read_spark(
        spark, lake.uri(name), version=version, store=lake.store, partitions=partitions
    )
    return frame, version


def _verdict_rows(ingested: DataFrame, disposition: str, columns: list[str]) -> DataFrame:
    renamed = {"stage": F.lit("ingest"), "run_id": F.col("ingest_run_id")}
    return ingested.where(F.col("disposition") == disposition).select(
        *[renamed.get(c, F.col(c)).alias(c) for c in columns]
    )


def ingest_source(
    spark: SparkSession,
    lake: Lake,
    source: Source,
    *,
    run_id: str,
    metadata: Mapping[str, object],
) -> StageReport:
    """A source's landing files -> its partitions of raw.<corpus>, rejects and quarantine.

    The whole location (`make run`, a backfill) overwrites the source's partitions, so a
    re-run is idempotent. A source restricted to some files (`Source.only`, what a landing
    sensor run asks for) appends their records instead; records whose id is already in
    the partition are left out (counted as `already_present`), so a file ingested twice
    adds nothing.
    """
    raw_table, _, _ = document_tables(source.corpus)
    appending = bool(source.files)
    log.info(
        "ingesting %s source %s from %s (%s)",
        source.corpus,
        source.name,
        source.location,
        f"{len(source.files)} new files, append" if appending else "all files, overwrite",
    )
    ingested, raw_columns, listing = ingest_documents(
        spark, source, run_id=run_id, store=lake.store
    )
    ingested = _honour_takedowns(spark, lake, ingested).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        _check_readable(ingested, source, len(listing.units))
    except UnreadableSource:
        ingested.unpersist()
        raise
    partition = {"corpus": source.corpus, "source": source.name}
    outputs = {
        raw_table: (
            ingested.where(F.col("disposition") == KEPT).select(*raw_columns),
            {"source": source.name},
        ),
        "rejects": (
            _verdict_rows(ingested, SKIPPED, list(REJECT_COLUMNS)),
            {**partition, "stage": "ingest"},
        ),
        "quarantine": (_verdict_rows(ingested, QUARANTINED, list(QUARANTINE_COLUMNS)), partition),
    }
    already_present = 0
    commits = {}
    routes: dict[str, int] = {}
    try:
        if "route" in raw_columns:  # papers: which parser read how many kept documents
            kept_routes = ingested.where(F.col("disposition") == KEPT).groupBy("route").count()
            routes = {f"route {r['route']}": r["count"] for r in kept_routes.collect()}
        for name, (rows, where) in outputs.items():
            if not appending:
                commits[name] = _write(lake, name, rows, metadata, where)
                continue
            new_rows = _absent_from(spark, lake, name, rows, where)
            commits[name] = write_table(
                new_rows,
                lake.uri(name),
                mode="append",
                partition_by=lake.spec(name).partition_by,
                metadata={**metadata, "lineage.landing_files": len(source.files)},
                store=lake.store,
                max_rows_per_file=max_records_per_file(spark),
                max_bytes_per_file=max_bytes_per_file(spark),
            )
            already_present += rows.count() - commits[name].num_rows
    finally:
        ingested.unpersist()
    counts = {
        "kept": commits[raw_table].num_rows,
        "skipped": commits["rejects"].num_rows,
        "quarantined": commits["quarantine"].num_rows,
    }
    if appending:
        counts["already_present"] = already_present
    counts["input_records"] = sum(counts.values())
    counts |= routes
    return StageReport(commits=commits, counts=counts)


# What a unit failure's locator adds to the unit's name: `#bytes=A-B` for a byte range, then
# `#<reason>` when rows of it were read before it failed.
UNIT_FAILURE_SUFFIX = r"(#bytes=\d+-\d+)?(#(" + "|".join(sorted(UNIT_FAILURES)) + "))?$"


def _check_readable(ingested: DataFrame, source: Source, units: int) -> None:
    """UnreadableSource when more of the source's units failed outright than its limits allow."""
    failed = ingested.where(
        (F.col("disposition") == QUARANTINED) & F.col("reason").isin(sorted(UNIT_FAILURES))
    )
    # A file read in byte ranges has a failure row per failed range: count files, not rows.
    unit = F.regexp_replace("locator", UNIT_FAILURE_SUFFIX, "")
    per_reason = failed.groupBy("reason").agg(F.countDistinct(unit).alias("count"))
    failures = {row["reason"]: row["count"] for row in per_reason.collect()}
    if not failures:
        return
    example = failed.select("detail").first()
    check_unreadable_fraction(source, units, failures, example["detail"] if example else None)


def _honour_takedowns(spark: SparkSession, lake: Lake, ingested: DataFrame) -> DataFrame:
    """Documents a takedown removed stay out when their landing data is ingested again:
    they become ingest rejects (reason `taken_down`), so the record balance still holds."""
    removed = taken_down_ids(lake)
    if not removed:
        return ingested
    marks = spark.createDataFrame([(i,) for i in sorted(removed)], "id string")
    marks = marks.withColumn("_taken_down", F.lit(True))
    flagged = ingested.join(F.broadcast(marks), "id", "left")
    hit = F.coalesce(F.col("_taken_down"), F.lit(False)) & (F.col("disposition") == KEPT)
    replaced = {
        "disposition": F.lit(SKIPPED),
        "reason": F.lit("taken_down"),
        "detail": F.lit("removed by a takedown request (see ops.takedowns)"),
    }
    return flagged.select(
        *[
            F.when(hit, replaced[c]).otherwise(F.col(c)).alias(c) if c in replaced else F.col(c)
            for c in ingested.columns
        ]
    )


def _absent_from(
    spark: SparkSession, lake: Lake, name: str, rows: DataFrame, partition: Mapping[str, str]
) -> DataFrame:
    """`rows` whose id is not yet in the table's partition (all of them if it has none)."""
    if not table_exists(lake.uri(name), lake.store):
        return rows
    present, _ = _read_latest(spark, lake, name, partition)
    return rows.join(present.select("id").distinct(), "id", "left_anti").select(*rows.columns)


def annotate_source(
    spark: SparkSession,
    lake: Lake,
    corpus: str,
    source: str,
    *,
    metadata: Mapping[str, object],
) -> StageReport:
    """raw.<corpus> -> annotated.<corpus> for one source partition: language, quality
    signals and exact-dedup key for every document."""
    raw_table, annotated_table, _ = document_tables(corpus)
    raw, raw_version = _read_latest(spark, lake, raw_table, {"source": source})
    commit = _write(
        lake,
        annotated_table,
        annotate_documents(raw),
        {**metadata, **annotator_versions(), f"lineage.input.{raw_table}": raw_version},
        {"source": source},
    )
    return StageReport(
        commits={annotated_table: commit},
        counts={"annotated": commit.num_rows},
        inputs={raw_table: raw_version},
    )


@dataclass
class CurationReport:
    """What one curate run committed: a report per family, and the shared tables (dedup
    clusters, signatures, decontamination flags) with their counts."""

    families: dict[str, StageReport] = field(default_factory=dict)
    shared: StageReport = field(default_factory=StageReport)
    dedup_config: str = ""


def register_benchmarks(
    lake: Lake, locations: Sequence[str | Path], *, metadata: Mapping[str, object]
) -> StageReport:
    """Benchmark JSONL files (or directories of them) -> benchmarks.items, replaced whole."""
    items = load_benchmark_items(locations)
    commit = write_arrow(
        items,
        lake.uri(BENCHMARK_TABLE),
        mode="overwrite",
        partition_by=lake.spec(BENCHMARK_TABLE).partition_by,
        metadata={**metadata, "lineage.benchmark_files": ",".join(map(str, locations))},
        store=lake.store,
        overwrite_schema=True,
    )
    benchmarks = len(set(items.column("benchmark").to_pylist()))
    return StageReport(
        commits={BENCHMARK_TABLE: commit},
        counts={"items": commit.num_rows, "benchmarks": benchmarks},
    )


def _benchmark_items(lake: Lake) -> tuple[pa.Table, int | None]:
    uri = lake.uri(BENCHMARK_TABLE)
    if table_exists(uri, lake.store):
        table = open_table(uri, store=lake.store)
        return read_arrow(uri, version=table.version(), store=lake.store), table.version()
    log.warning(
        "%s is not registered yet; decontaminating against the bundled benchmarks in %s",
        BENCHMARK_TABLE,
        BUNDLED_BENCHMARKS,
    )
    return load_benchmark_items([BUNDLED_BENCHMARKS]), None


def _replace(lake: Lake, name: str, df: DataFrame, metadata: Mapping[str, object]) -> CommitResult:
    # Whole-table outputs of curation; their columns follow the recipe (e.g. redaction counts).
    return write_table(
        df,
        lake.uri(name),
        mode="overwrite",
        partition_by=lake.spec(name).partition_by,
        metadata=metadata,
        store=lake.store,
        overwrite_schema=True,
        max_rows_per_file=max_records_per_file(df.sparkSession),
        max_bytes_per_file=max_bytes_per_file(df.sparkSession),
    )


def refresh_signatures(
    spark: SparkSession,
    lake: Lake,
    versions: Mapping[str, int],
    config: DedupConfig,
    metadata: Mapping[str, object],
) -> tuple[DataFrame, SignaturePlan, list[CommitResult]]:
    """Bring dedup.signatures up to date with the annotated tables, recomputing only the
    (corpus, source) partitions whose annotated data files changed; return all signatures."""
    uri = lake.uri(SIGNATURE_TABLE)
    partitions = [
        p
        for corpus, version in versions.items()
        for p in annotated_partitions(
            lake.uri(document_tables(corpus)[1]), corpus, version, lake.store
        )
    ]
    stored: dict[tuple[str, str], set[tuple[str, str]]] = {}
    if table_exists(uri, lake.store):
        state = read_spark(
            spark,
            uri,
            columns=["corpus", "source", "annotated_fingerprint", "config_fingerprint"],
            store=lake.store,
        ).distinct()
        for row in state.collect():
            stored.setdefault((row.corpus, row.source), set()).add(
                (row.annotated_fingerprint, row.config_fingerprint)
            )
    plan = plan_signatures(partitions, stored, config)
    commits = []
    if plan.recompute:
        documents = None
        by_corpus: dict[str, list] = {}
        for p in plan.recompute:
            by_corpus.setdefault(p.corpus, []).append(p)
        for corpus, parts in sorted(by_corpus.items()):  # one read per family
            part = read_spark(
                spark,
                lake.uri(document_tables(corpus)[1]),
                version=parts[0].version,
                columns=["id", "corpus", "source", "text"],
                store=lake.store,
                partitions={"source": sorted(p.source for p in parts)},
            )
            documents = part if documents is None else documents.unionByName(part)
        fresh = with_signature_state(minhash_signatures(documents, config), plan.recompute)
        fresh = fresh.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            # One commit per family: its recomputed partitions replaced, its removed ones
            # emptied (a commit per partition costs a Spark job and a log entry each).
            sources: dict[str, list[str]] = {}
            for key in [(p.corpus, p.source) for p in plan.recompute] + list(plan.remove):
                sources.setdefault(key[0], []).append(key[1])
            read_versions = {p.corpus: p.version for p in plan.recompute}
            for corpus, names in sorted(sources.items()):
                lineage = {**metadata}
                if corpus in read_versions:
                    table = document_tables(corpus)[1]
                    lineage[f"lineage.input.{table}"] = read_versions[corpus]
                    lineage["lineage.dedup_config"] = config.fingerprint
                commits.append(
                    _write(
                        lake,
                        SIGNATURE_TABLE,
                        fresh.where(F.col("corpus") == corpus),
                        lineage,
                        {"corpus": corpus, "source": sorted(names)},
                    )
                )
        finally:
            fresh.unpersist()
    signatures = read_spark(spark, uri, store=lake.store) if table_exists(uri, lake.store) else None
    return signatures, plan, commits


def curate_corpora(
    spark: SparkSession,
    lake: Lake,
    recipes: Mapping[str, CurationRecipe],
    dedup_config: DedupConfig | None = None,
    *,
    run_id: str,
    metadata: Mapping[str, object],
    families: Collection[str] | None = None,
    table_metadata: Mapping[str, Mapping[str, object]] | None = None,
    shared_tables: Collection[str] = (CLUSTER_TABLE, FLAG_TABLE),
    family_filters: Mapping[str, FamilyFilter] | None = None,
) -> CurationReport:
    """annotated.* + recipes -> curated.<family> for every family, curate-stage rejects,
    dedup.clusters, dedup.signatures (incrementally) and decontamination.flags.

    Every family with an annotated table takes part in decontamination and dedup; only the
    `families` given (default: all of them) get their curated table and rejects rewritten.
    `table_metadata` adds commit metadata per table (e.g. the Dagster asset key writing it).
    Of dedup.clusters and decontamination.flags only `shared_tables` are committed;
    dedup.signatures is kept up to date whenever a recipe deduplicates near duplicates.
    `family_filters` are a family's own checks, run before its recipe's filters
    (`filter(documents, run_id=...) -> (kept, rejects)`; synthetic: copies_source).
    """
    extra = table_metadata or {}
    config = dedup_config or DedupConfig()
    annotated: dict[str, DataFrame] = {}
    versions: dict[str, int] = {}
    for corpus in recipes:
        table = document_tables(corpus)[1]
        if table_exists(lake.uri(table), lake.store):
            frame, versions[corpus] = _read_latest(spark, lake, table)
            annotated[corpus] = frame.persist(StorageLevel.MEMORY_AND_DISK)
    write = [c for c in annotated if families is None or c in families]
    inputs = {document_tables(c)[1]: v for c, v in versions.items()}
    shared_lineage = {
        **metadata,
        **{f"lineage.input.{name}": v for name, v in inputs.items()},
        "lineage.dedup_config": config.fingerprint,
    }
    report = CurationReport(dedup_config=config.fingerprint)
    cached: list[DataFrame] = list(annotated.values())
    # Connected components checkpoint here: storage every executor reaches (local or s3://).
    checkpoints = FrameCheckpoints.under_lake(lake.root_uri, lake.store, name="dedup")
    try:
        signatures, plan, signature_commits = None, None, []
        if any(recipes[c].dedup.fuzzy for c in annotated):
            signatures, plan, signature_commits = refresh_signatures(
                spark, lake, versions, config, {**metadata, **extra.get(SIGNATURE_TABLE, {})}
            )

        items, items_version = _benchmark_items(lake)
        if items_version is not None:
            shared_lineage[f"lineage.input.{BENCHMARK_TABLE}"] = items_version

        @functools.cache
        def index(n: int, benchmarks: str | tuple[str, ...]) -> BenchmarkIndex:
            return build_index(items, n, benchmarks)

        flags = contamination_flags(annotated, recipes, index)
        verdicts = None
        if flags is not None:
            flags = flags.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(flags)
            verdicts = contamination_verdicts(flags).persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(verdicts)

        kept: dict[str, DataFrame] = {}
        rejects: dict[str, list[DataFrame]] = {}
        for corpus, frame in annotated.items():
            recipe = recipes[corpus]
            rejects[corpus] = []
            if family_filters and corpus in family_filters:
                frame, own = family_filters[corpus](frame, run_id=run_id)
                rejects[corpus].append(own)
            kept[corpus], filtered = filter_documents(frame, recipe, run_id)
            rejects[corpus].append(filtered)
            if verdicts is not None and recipe.decontamination is not None:
                kept[corpus], contaminated = drop_contaminated(
                    kept[corpus], verdicts, recipe, run_id
                )
                rejects[corpus].append(contaminated)
        kept, paragraph_rejects = drop_duplicate_paragraphs(kept, recipes, config, run_id)
        for corpus, frame in paragraph_rejects.items():
            rejects[corpus].append(frame)
        for corpus in kept:
            kept[corpus] = kept[corpus].persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(kept[corpus])

        clusters = cluster_across_corpora(kept, recipes, config, signatures, checkpoints)
        if clusters is not None:
            clusters = clusters.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(clusters)
            kept, duplicate_rejects = drop_duplicates(kept, clusters, run_id)
            for corpus, frame in duplicate_rejects.items():
                rejects[corpus].append(frame)

        for corpus in write:
            recipe = recipes[corpus]
            lineage = {
                **shared_lineage,
                "lineage.recipe": recipe.name,
                "lineage.recipe_hash": recipe.fingerprint,
            }
            removed = rejects[corpus][0]
            for frame in rejects[corpus][1:]:
                removed = removed.unionByName(frame)
            removed = removed.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(removed)
            curated_table = document_tables(corpus)[2]
            lineage.update(extra.get(curated_table, {}))
            curated = _replace(lake, curated_table, kept[corpus], lineage)
            rejected = _write(
                lake, "rejects", removed, lineage, {"corpus": corpus, "stage": "curate"}
            )
            by_reason = {
                f"rejected: {row.reason}": row["count"]
                for row in removed.groupBy("reason").count().collect()
            }
            report.families[corpus] = StageReport(
                commits={curated_table: curated, "rejects": rejected},
                counts={"kept": curated.num_rows, "rejected": rejected.num_rows, **by_reason},
                inputs=inputs,
            )

        shared = report.shared
        shared.inputs = dict(inputs)
        if clusters is not None and CLUSTER_TABLE in shared_tables:
            shared.commits[CLUSTER_TABLE] = _replace(
                lake, CLUSTER_TABLE, clusters, {**shared_lineage, **extra.get(CLUSTER_TABLE, {})}
            )
            shared.counts["duplicate clusters"] = (
                clusters.select("kind", "cluster_id").distinct().count()
            )
        if flags is not None and FLAG_TABLE in shared_tables:
            shared.commits[FLAG_TABLE] = _replace(
                lake, FLAG_TABLE, flags, {**shared_lineage, **extra.get(FLAG_TABLE, {})}
            )
            shared.counts["contaminated documents"] = verdicts.count()
        if plan is not None:
            shared.counts["signature partitions recomputed"] = len(plan.recompute)
            shared.counts["signature partitions reused"] = len(plan.reuse)
            shared.counts["signature partitions removed"] = len(plan.remove)
            if signature_commits:
                shared.commits[SIGNATURE_TABLE] = signature_commits[-1]
    finally:
        for frame in cached:
            frame.unpersist()
        checkpoints.clear()
    return report


def curate_corpus(
    spark: SparkSession,
    lake: Lake,
    corpus: str,
    recipe: CurationRecipe,
    *,
    run_id: str,
    metadata: Mapping[str, object],
    dedup_config: DedupConfig | None = None,
) -> StageReport:
    """annotated.<corpus> + recipe -> curated.<corpus> and its curate-stage rejects, with
    decontamination and dedup over this family alone (curate_corpora spans every family)."""
    report = curate_corpora(
        spark, lake, {corpus: recipe}, dedup_config, run_id=run_id, metadata=metadata
    )
    return report.families[corpus]
