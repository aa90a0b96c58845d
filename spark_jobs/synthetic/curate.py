"""Synthetic samples as a corpus family: synthetic.<recipe> ok samples -> annotated.synthetic
(one source partition per recipe, with each sample's overlap with its own source document)
-> curated.synthetic through the same recipe filters, PII redaction, decontamination and
cross-family dedup as every family, after rejecting samples that copy their source
(reason copies_source)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StructField, StructType

from spark_jobs.annotate import annotate_documents, annotator_versions
from spark_jobs.dedup import DedupConfig, jaccard, shingle_sets
from spark_jobs.delta import open_table, read_spark, table_exists, write_table
from spark_jobs.lake import SYNTHETIC, Lake, document_tables, synthetic_table
from spark_jobs.recipe import CurationRecipe
from spark_jobs.select import reject_rows
from spark_jobs.session import max_bytes_per_file, max_records_per_file
from spark_jobs.stages import StageReport, curate_corpora
from spark_jobs.synthetic.client import OK
from spark_jobs.synthetic.recipe import SyntheticRecipe

COPIES_SOURCE = "copies_source"
# Provenance a curated sample keeps (lake.py: the annotated/curated.synthetic columns).
PROVENANCE = ("source_doc_id", "source_table", "source_version", "recipe", "template_hash",
              "model", "model_fingerprint")  # fmt: skip
SIMILARITY_FIELDS = [
    StructField("source_containment", DoubleType(), False),
    StructField("source_jaccard", DoubleType(), False),
]


def source_overlap(
    samples: list[str | None], sources: list[str | None], config: DedupConfig | None = None
) -> list[tuple[float, float]]:
    """(containment, Jaccard) of each sample's word 5-grams against its source's, shingled and
    normalized as near-duplicate dedup does. Containment (the share of the sample's shingles
    found in the source) is at least the Jaccard similarity and also catches a sample that
    copies only part of its source; a sample without words overlaps nothing (0, 0)."""
    config = config or DedupConfig()
    mine = shingle_sets(samples, config)
    theirs = shingle_sets(sources, config)
    out = []
    for a, b in zip(mine, theirs, strict=True):
        if not a:
            out.append((0.0, 0.0))
        else:
            out.append((len(a & b) / len(a), jaccard(a, b)))
    return out


def _with_source_overlap(samples: DataFrame) -> DataFrame:
    """Add source_containment and source_jaccard (from `text` and `_source_text`)."""
    schema = StructType([*samples.schema.fields, *SIMILARITY_FIELDS])
    text_at = samples.columns.index("text")
    source_at = samples.columns.index("_source_text")

    def measure(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            pairs = source_overlap(
                batch.column(text_at).to_pylist(), batch.column(source_at).to_pylist()
            )
            yield pa.RecordBatch.from_arrays(
                [
                    *batch.columns,
                    pa.array([p[0] for p in pairs], pa.float64()),
                    pa.array([p[1] for p in pairs], pa.float64()),
                ],
                names=[*batch.schema.names, "source_containment", "source_jaccard"],
            )

    return samples.mapInArrow(measure, schema).drop("_source_text")


def _source_texts(
    spark: SparkSession, lake: Lake, samples: DataFrame, max_chars: int
) -> DataFrame | None:
    """(source_doc_id, source_table, source_version, _source_text) of every source document the
    samples were made from, read at the version the generation read (cut as the prompt was)."""
    frames = []
    for row in samples.select("source_table", "source_version").distinct().collect():
        uri = lake.uri(row.source_table)
        if not table_exists(uri, lake.store):
            continue
        try:
            docs = read_spark(spark, uri, version=row.source_version, store=lake.store)
        except Exception:  # vacuumed past that version: the prompt stands in
            continue
        frames.append(
            docs.select(
                F.col("id").alias("source_doc_id"),
                F.lit(row.source_table).alias("source_table"),
                F.lit(row.source_version).cast("long").alias("source_version"),
                F.substring(F.coalesce(F.col("text"), F.lit("")), 1, max_chars).alias(
                    "_source_text"
                ),
            )
        )
    if not frames:
        return None
    return functools.reduce(DataFrame.unionByName, frames)


def synthetic_documents(spark: SparkSession, lake: Lake, recipe: SyntheticRecipe) -> DataFrame:
    """The recipe's ok samples as documents of the synthetic family (the columns every family
    has, the sample's provenance, and its overlap with its own source document)."""
    samples = read_spark(spark, lake.uri(synthetic_table(recipe.name)), store=lake.store)
    samples = samples.where(F.col("status") == OK)
    sources = _source_texts(spark, lake, samples, recipe.spec.source.max_chars)
    if sources is not None:
        samples = samples.join(sources, ["source_doc_id", "source_table", "source_version"], "left")
    else:
        samples = samples.withColumn("_source_text", F.lit(None).cast("string"))
    # Where the source document cannot be read any more, the prompt holds the text it saw.
    samples = samples.withColumn("_source_text", F.coalesce("_source_text", "prompt"))
    documents = samples.select(
        "id",
        F.lit(SYNTHETIC).alias("corpus"),
        F.lit(recipe.name).alias("source"),
        F.concat_ws("#", F.concat_ws("/", "source_table", "source_doc_id"), "variant").alias(
            "locator"
        ),
        "license",
        F.concat(
            F.lit("inherited from source document "),
            F.col("source_doc_id"),
            F.lit(" of "),
            F.col("source_table"),
        ).alias("license_evidence"),
        F.col("run_id").alias("ingest_run_id"),
        F.length(F.encode(F.coalesce("text", F.lit("")), "utf-8"))
        .cast("long")
        .alias("byte_length"),
        F.coalesce("text", F.lit("")).alias("text"),
        *PROVENANCE,
        "_source_text",
    )
    return _with_source_overlap(documents)


def annotate_synthetic(
    spark: SparkSession,
    lake: Lake,
    recipe: SyntheticRecipe,
    *,
    metadata: Mapping[str, object],
) -> StageReport:
    """synthetic.<recipe> -> its partition of annotated.synthetic (source = the recipe name):
    the family annotations plus source_containment and source_jaccard."""
    table = synthetic_table(recipe.name)
    uri = lake.uri(table)
    if not table_exists(uri, lake.store):
        raise FileNotFoundError(
            f"{table} does not exist yet; materialize synthetic/{recipe.name} first"
        )
    version = open_table(uri, store=lake.store).version()
    annotated_table = document_tables(SYNTHETIC)[1]
    documents = annotate_documents(synthetic_documents(spark, lake, recipe))
    commit = write_table(
        documents,
        lake.uri(annotated_table),
        mode="overwrite",
        partition_by=lake.spec(annotated_table).partition_by,
        replace_where={"source": recipe.name},
        metadata={**metadata, **annotator_versions(), f"lineage.input.{table}": version},
        store=lake.store,
        max_rows_per_file=max_records_per_file(spark),
        max_bytes_per_file=max_bytes_per_file(spark),
    )
    return StageReport(
        commits={annotated_table: commit},
        counts={"annotated": commit.num_rows},
        inputs={table: version},
    )


def drop_source_copies(
    documents: DataFrame, run_id: str, *, limits: Mapping[str, float]
) -> tuple[DataFrame, DataFrame]:
    """Split samples into (kept, rejects): a sample whose source_containment is above its
    recipe's curation.max_source_similarity (`limits`, by recipe name = source partition) is
    a copy of its source document (reason copies_source)."""
    limit = F.lit(None).cast("double")
    for name, value in limits.items():
        limit = F.when(F.col("source") == name, F.lit(float(value))).otherwise(limit)
    documents = documents.withColumn("_limit", limit)
    copies = F.coalesce(F.col("source_containment") > F.col("_limit"), F.lit(False))
    rejects = reject_rows(
        documents.where(copies),
        F.lit(COPIES_SOURCE),
        F.format_string(
            "%.0f%% of the sample's word 5-grams are in its source document %s of %s "
            "(Jaccard %.2f); recipe %s allows %.0f%% (curation.max_source_similarity)",
            F.col("source_containment") * 100,
            F.col("source_doc_id"),
            F.col("source_table"),
            F.col("source_jaccard"),
            F.col("source"),
            F.col("_limit") * 100,
        ),
        run_id,
    )
    return documents.where(~copies).drop("_limit"), rejects


def curation_recipe(recipes: Mapping[str, SyntheticRecipe], recipes_dir) -> CurationRecipe:
    """The one curation recipe of curated.synthetic, named by every synthetic recipe."""
    names = sorted({r.spec.curation.recipe for r in recipes.values()}) or ["synthetic-default"]
    if len(names) > 1:
        raise ValueError(
            "synthetic recipes name different curation recipes "
            f"({', '.join(names)}); curated.synthetic has one: set the same curation.recipe "
            "in every orchestration/synthetic/*.yaml"
        )
    return CurationRecipe.from_yaml(f"{recipes_dir}/{names[0]}.yaml")


def curate_synthetic(
    spark: SparkSession,
    lake: Lake,
    recipes: Mapping[str, SyntheticRecipe],
    curation: CurationRecipe,
    family_recipes: Mapping[str, CurationRecipe],
    dedup_config: DedupConfig | None = None,
    *,
    run_id: str,
    metadata: Mapping[str, object],
    table_metadata: Mapping[str, Mapping[str, object]] | None = None,
) -> StageReport:
    """annotated.synthetic -> curated.synthetic and its curate-stage rejects.

    Copies of their source are rejected first; then the curation recipe's license, language,
    rule-set and PII steps, benchmark decontamination and exact and near-duplicate dedup run
    exactly as for every family, with the other families' annotated documents
    (`family_recipes`) in the dedup and paragraph counts. Only curated.synthetic and its
    rejects are written; the other families' tables are left as they are.
    """
    limits = {name: r.spec.curation.max_source_similarity for name, r in recipes.items()}
    report = curate_corpora(
        spark,
        lake,
        {**family_recipes, SYNTHETIC: curation},
        dedup_config,
        run_id=run_id,
        metadata=metadata,
        families=[SYNTHETIC],
        table_metadata=table_metadata,
        shared_tables=(),
        family_filters={SYNTHETIC: functools.partial(drop_source_copies, limits=limits)},
    )
    if SYNTHETIC not in report.families:
        raise FileNotFoundError(
            "annotated.synthetic does not exist yet; materialize annotated/synthetic first"
        )
    return report.families[SYNTHETIC]
