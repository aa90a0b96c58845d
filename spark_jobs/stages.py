"""Stage entry points for the web corpus: each reads its inputs, transforms, and commits its tables."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.annotate import annotate_documents
from spark_jobs.delta import CommitResult, open_table, read_spark, write_table
from spark_jobs.lake import Lake
from spark_jobs.select import REJECT_COLUMNS, Recipe, select_documents
from spark_jobs.sources import Source
from spark_jobs.web.ingest import RAW_COLUMNS, ingest_warc

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


def _read_latest(spark: SparkSession, lake: Lake, name: str) -> tuple[DataFrame, int]:
    """Read a table's current snapshot and return it with the version read (for lineage)."""
    version = open_table(lake.uri(name), store=lake.store).version()
    return read_spark(spark, lake.uri(name), version=version, store=lake.store), version


def ingest_web(
    spark: SparkSession,
    lake: Lake,
    sources: Iterable[Source],
    *,
    run_id: str,
    metadata: Mapping[str, object],
) -> StageReport:
    """WARC files of each web source -> raw.web, ingest rejects and quarantine (one partition each)."""
    report = StageReport()
    for source in sources:
        log.info("ingesting web source %s from %s", source.name, source.location)
        ingested = ingest_warc(
            spark,
            source.location,
            source=source.name,
            license=source.license,
            license_evidence=source.license_evidence,
            run_id=run_id,
            store=lake.store,
        ).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            kept = ingested.where(F.col("disposition") == "kept").select(*RAW_COLUMNS)
            skipped = ingested.where(F.col("disposition") == "skipped").select(
                *[
                    F.lit("ingest").alias(c) if c == "stage" else F.col(c).alias(c)
                    for c in REJECT_COLUMNS
                    if c != "run_id"
                ],
                F.col("ingest_run_id").alias("run_id"),
            )
            quarantined = ingested.where(F.col("disposition") == "quarantined").select(
                *[
                    F.lit("ingest").alias(c) if c == "stage" else F.col(c)
                    for c in QUARANTINE_COLUMNS
                    if c != "run_id"
                ],
                F.col("ingest_run_id").alias("run_id"),
            )
            partition = {"source": source.name}
            side_partition = {"corpus": source.corpus, "source": source.name}
            report.commits["raw.web"] = _write(lake, "raw.web", kept, metadata, partition)
            report.commits["rejects"] = _write(
                lake, "rejects", skipped, metadata, {**side_partition, "stage": "ingest"}
            )
            report.commits["quarantine"] = _write(
                lake, "quarantine", quarantined, metadata, side_partition
            )
        finally:
            ingested.unpersist()
        for outcome, name in (
            ("kept", "raw.web"),
            ("skipped", "rejects"),
            ("quarantined", "quarantine"),
        ):
            report.counts[outcome] = report.counts.get(outcome, 0) + report.commits[name].num_rows
    report.counts["input_records"] = sum(report.counts.values())
    return report


def annotate_web(
    spark: SparkSession,
    lake: Lake,
    *,
    metadata: Mapping[str, object],
) -> StageReport:
    """raw.web -> annotated.web: language, quality signals and exact-dedup key for every page."""
    raw, raw_version = _read_latest(spark, lake, "raw.web")
    annotated = annotate_documents(raw)
    commit = _write(
        lake, "annotated.web", annotated, {**metadata, "lineage.input.raw.web": raw_version}
    )
    return StageReport(
        commits={"annotated.web": commit},
        counts={"annotated": commit.num_rows},
        inputs={"raw.web": raw_version},
    )


def curate_web(
    spark: SparkSession,
    lake: Lake,
    recipe: Recipe,
    *,
    run_id: str,
    metadata: Mapping[str, object],
) -> StageReport:
    """annotated.web + recipe -> curated.web and the curate-stage rejects."""
    annotated, version = _read_latest(spark, lake, "annotated.web")
    annotated = annotated.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        kept, rejects = select_documents(annotated, recipe, run_id)
        lineage = {
            **metadata,
            "lineage.input.annotated.web": version,
            "lineage.recipe": recipe.name,
            "lineage.recipe_hash": recipe.fingerprint,
        }
        curated = _write(lake, "curated.web", kept, lineage)
        rejected = _write(lake, "rejects", rejects, lineage, {"corpus": "web", "stage": "curate"})
    finally:
        annotated.unpersist()
    return StageReport(
        commits={"curated.web": curated, "rejects": rejected},
        counts={"kept": curated.num_rows, "rejected": rejected.num_rows},
        inputs={"annotated.web": version},
    )
