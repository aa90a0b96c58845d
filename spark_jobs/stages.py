"""Stage entry points, the same for every corpus family: each reads its inputs, transforms,
and commits its tables once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.annotate import annotate_documents
from spark_jobs.corpora import ingest_documents
from spark_jobs.delta import CommitResult, open_table, read_spark, table_exists, write_table
from spark_jobs.ingest import KEPT, QUARANTINED, SKIPPED
from spark_jobs.lake import Lake, document_tables
from spark_jobs.select import REJECT_COLUMNS, Recipe, select_documents
from spark_jobs.sources import Source

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = [
    "id",
    "corpus",
    "source",
    "locator",
    "stage",
    "reason",
    "detail",
    "excerpt",
    "run_id",
]


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
    replace_where: Mapping[str, str] | None = None,
) -> CommitResult:
    return write_table(
        df,
        lake.uri(name),
        mode="overwrite",
        partition_by=lake.spec(name).partition_by,
        replace_where=replace_where,
        metadata=metadata,
        store=lake.store,
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
    ingested, raw_columns = ingest_documents(spark, source, run_id=run_id, store=lake.store)
    ingested = ingested.persist(StorageLevel.MEMORY_AND_DISK)
    partition = {"corpus": source.corpus, "source": source.name}
    outputs = {
        raw_table: (
            ingested.where(F.col("disposition") == KEPT).select(*raw_columns),
            {"source": source.name},
        ),
        "rejects": (
            _verdict_rows(ingested, SKIPPED, REJECT_COLUMNS),
            {**partition, "stage": "ingest"},
        ),
        "quarantine": (_verdict_rows(ingested, QUARANTINED, QUARANTINE_COLUMNS), partition),
    }
    already_present = 0
    commits = {}
    try:
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
    return StageReport(commits=commits, counts=counts)


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
        {**metadata, f"lineage.input.{raw_table}": raw_version},
        {"source": source},
    )
    return StageReport(
        commits={annotated_table: commit},
        counts={"annotated": commit.num_rows},
        inputs={raw_table: raw_version},
    )


def curate_corpus(
    spark: SparkSession,
    lake: Lake,
    corpus: str,
    recipe: Recipe,
    *,
    run_id: str,
    metadata: Mapping[str, object],
) -> StageReport:
    """annotated.<corpus> + recipe -> curated.<corpus> and the curate-stage rejects.

    Whole-table: exact dedup spans every source of the family.
    """
    _, annotated_table, curated_table = document_tables(corpus)
    annotated, version = _read_latest(spark, lake, annotated_table)
    annotated = annotated.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        kept, rejects = select_documents(annotated, recipe, run_id)
        lineage = {
            **metadata,
            f"lineage.input.{annotated_table}": version,
            "lineage.recipe": recipe.name,
            "lineage.recipe_hash": recipe.fingerprint,
        }
        curated = _write(lake, curated_table, kept, lineage)
        rejected = _write(lake, "rejects", rejects, lineage, {"corpus": corpus, "stage": "curate"})
    finally:
        annotated.unpersist()
    return StageReport(
        commits={curated_table: curated, "rejects": rejected},
        counts={"kept": curated.num_rows, "rejected": rejected.num_rows},
        inputs={annotated_table: version},
    )
