"""The classifier stage: score documents with named model versions on whatever device the
Spark task was given, and write classified.<corpus> and embeddings.<corpus>."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    FloatType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from spark_jobs.classifiers import registry
from spark_jobs.classifiers.annotator import ClassifierSet, annotate_texts
from spark_jobs.classifiers.embeddings import ENCODER_NAME, MAX_TOKENS, encoder_version
from spark_jobs.classifiers.fasttext_quality import QUALITY_MODEL_NAME
from spark_jobs.classifiers.gpu import GPU_CHUNK_ROWS, assigned_gpus, rebatch, select_device
from spark_jobs.classifiers.heads import EDU_MODEL_NAME, TOPIC_MODEL_NAME
from spark_jobs.classifiers.registry import LATEST
from spark_jobs.session import max_bytes_per_file, max_records_per_file
from spark_jobs.storage import LOCAL, ObjectStore

FAMILIES = ("quality", "edu", "topic")
MODEL_NAMES = {"quality": QUALITY_MODEL_NAME, "edu": EDU_MODEL_NAME, "topic": TOPIC_MODEL_NAME}

SCORE_FIELDS = [
    StructField("id", StringType(), False),
    StructField("source", StringType(), True),
    StructField("quality_score", DoubleType(), True),
    StructField("quality_model", StringType(), True),
    StructField("quality_model_version", LongType(), True),
    StructField("edu_score", DoubleType(), True),
    StructField("edu_model", StringType(), True),
    StructField("edu_model_version", LongType(), True),
    StructField("topic", StringType(), True),
    StructField("topic_score", DoubleType(), True),
    StructField("topic_model", StringType(), True),
    StructField("topic_model_version", LongType(), True),
    StructField("embedding_model", StringType(), True),
    StructField("tokens", LongType(), False),
    StructField("device", StringType(), False),
    StructField("gpu_addresses", ArrayType(StringType(), False), False),
]
EMBEDDING_FIELD = StructField("embedding", ArrayType(FloatType(), False), True)
SCORED_SCHEMA = StructType([*SCORE_FIELDS, EMBEDDING_FIELD])
CLASSIFIED_COLUMNS = [f.name for f in SCORE_FIELDS]
EMBEDDING_COLUMNS = ["id", "source", "embedding_model", "tokens", "embedding"]


def resolve_classifiers(
    tracking_uri: str,
    cache_dir: Path,
    versions: Mapping[str, int | str] | None = None,
    *,
    families: Sequence[str] = FAMILIES,
    max_tokens: int = MAX_TOKENS,
    store: ObjectStore = LOCAL,
) -> ClassifierSet:
    """Resolve each family's registered version ("latest" unless named) and fetch its files;
    `store` reaches them on S3 for executors that do not share the driver's disk."""
    refs, paths, sources = {}, {}, {}
    for family in families:
        version = (versions or {}).get(family, LATEST)
        ref = registry.resolve(tracking_uri, MODEL_NAMES[family], version)
        refs[family] = ref
        paths[family] = str(registry.download(tracking_uri, ref, cache_dir))
        sources[family] = registry.files_uri(tracking_uri, ref)
    return ClassifierSet(refs, paths, max_tokens, sources, store)


def _nullable(values, empty: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    if values is None:
        return pa.nulls(len(empty), arrow_type)
    return pa.array(list(values), arrow_type, mask=empty)


def _scored_batch(
    batch: pa.RecordBatch, classifiers: ClassifierSet, device: str, addresses: list[str]
) -> pa.RecordBatch:
    texts = batch.column("text").to_pylist()
    scores = annotate_texts(texts, classifiers, device)
    empty, n = scores["empty"], batch.num_rows
    columns: dict[str, pa.Array] = {
        "id": batch.column("id"),
        "source": batch.column("source"),
    }
    for family, value_columns in (
        ("quality", (("quality_score", pa.float64()),)),
        ("edu", (("edu_score", pa.float64()),)),
        ("topic", (("topic", pa.string()), ("topic_score", pa.float64()))),
    ):
        ref = classifiers.refs.get(family)
        for name, arrow_type in value_columns:
            columns[name] = _nullable(scores.get(name), empty, arrow_type)
        columns[f"{family}_model"] = pa.array([ref.name if ref else None] * n, pa.string())
        columns[f"{family}_model_version"] = pa.array(
            [ref.version if ref else None] * n, pa.int64()
        )
    columns["embedding_model"] = pa.array(
        [f"{ENCODER_NAME} ({encoder_version()})" if classifiers.needs_embeddings else None] * n,
        pa.string(),
    )
    columns["tokens"] = pa.array(scores["tokens"], pa.int64())
    columns["device"] = pa.array([device] * n, pa.string())
    columns["gpu_addresses"] = pa.array([addresses] * n, pa.list_(pa.string()))
    vectors = scores["embedding"]
    if vectors is None:
        columns["embedding"] = pa.nulls(n, pa.list_(pa.float32()))
    else:
        flat = pa.array(vectors.reshape(-1), pa.float32())
        offsets = pa.array(np.arange(0, n + 1) * vectors.shape[1], pa.int32())
        columns["embedding"] = pa.ListArray.from_arrays(offsets, flat)
    return pa.RecordBatch.from_arrays(list(columns.values()), names=list(columns))


def classify_documents(
    documents: DataFrame, classifiers: ClassifierSet, *, profile=None
) -> DataFrame:
    """Score every document (`id`, `source`, `text` columns) with the classifier set.

    With a resource profile (spark_jobs.classifiers.gpu.classifier_profile) the stage runs
    with stage-level scheduling: each task gets a GPU address and runs there in bf16. With
    none (local mode), tasks run on the CPU.
    """

    def score_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        addresses = assigned_gpus()
        device = "cpu"
        if classifiers.needs_embeddings:  # fastText alone needs no torch
            import torch

            context = TaskContext.get()
            if context is not None:
                torch.set_num_threads(max(1, context.cpus()))  # the cores Spark gave this task
            device = select_device(addresses)
        if device.startswith("cuda"):  # a GPU wants more rows per call than Spark hands over
            batches = rebatch(batches, GPU_CHUNK_ROWS)
        for batch in batches:
            yield _scored_batch(batch, classifiers, device, addresses)

    base = documents.select("id", "source", F.coalesce("text", F.lit("")).alias("text"))
    return base.mapInArrow(score_batches, SCORED_SCHEMA, profile=profile)


def classify_source(
    spark: SparkSession,
    lake,
    corpus: str,
    source: str,
    classifiers: ClassifierSet,
    *,
    metadata: Mapping[str, object],
    profile=None,
):
    """annotated.<corpus> (one source) -> classified.<corpus> and embeddings.<corpus>."""
    from spark_jobs.delta import open_table, read_spark, write_table
    from spark_jobs.stages import StageReport

    annotated_table = f"annotated.{corpus}"
    version = open_table(lake.uri(annotated_table), store=lake.store).version()
    documents = read_spark(
        spark,
        lake.uri(annotated_table),
        version=version,
        columns=["id", "source", "text"],
        store=lake.store,
        partitions={"source": source},
    )
    scored = classify_documents(documents, classifiers, profile=profile)
    scored = scored.persist(StorageLevel.MEMORY_AND_DISK)  # one model pass for both tables
    lineage = {
        **metadata,
        **classifiers.describe(),
        f"lineage.input.{annotated_table}": version,
    }

    def write(name: str, frame: DataFrame, commit_metadata: Mapping[str, object]):
        return write_table(
            frame,
            lake.uri(name),
            mode="overwrite",
            partition_by=lake.spec(name).partition_by,
            replace_where={"source": source},
            metadata=commit_metadata,
            store=lake.store,
            max_rows_per_file=max_records_per_file(frame.sparkSession),
            max_bytes_per_file=max_bytes_per_file(frame.sparkSession),
        )

    try:
        classified = f"classified.{corpus}"
        commits = {classified: write(classified, scored.select(*CLASSIFIED_COLUMNS), lineage)}
        if classifiers.needs_embeddings:
            commits[f"embeddings.{corpus}"] = write(
                f"embeddings.{corpus}",
                scored.select(*EMBEDDING_COLUMNS),
                {**lineage, "lineage.model.encoder": encoder_version()},
            )
    finally:
        scored.unpersist()
    return StageReport(
        commits=commits,
        counts={"classified": commits[f"classified.{corpus}"].num_rows},
        inputs={annotated_table: version},
    )


def recorded_versions(lake, corpus: str) -> dict[str, set[int]]:
    """Which model versions produced the rows of classified.<corpus>, per family."""
    from spark_jobs.delta import read_arrow, table_exists

    uri = lake.uri(f"classified.{corpus}")
    if not table_exists(uri, lake.store):
        return {}
    columns = [f"{family}_model_version" for family in FAMILIES]
    table = read_arrow(uri, columns=columns, store=lake.store)
    return {
        family: {v for v in table.column(f"{family}_model_version").to_pylist() if v is not None}
        for family in FAMILIES
    }


def stale_families(lake, corpus: str, classifiers: ClassifierSet) -> dict[str, str]:
    """Families whose rows were not all produced by the version `classifiers` names."""
    recorded = recorded_versions(lake, corpus)
    stale = {}
    for family, ref in classifiers.refs.items():
        found = recorded.get(family, set())
        if found != {ref.version}:
            stale[family] = (
                f"classified.{corpus} has {family} scores from versions "
                f"{sorted(found) or 'none'}; registered {ref} is the one named"
            )
    return stale
