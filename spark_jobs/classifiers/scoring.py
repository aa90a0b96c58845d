"""The classifier stage: score documents with named model versions on whatever device the
Spark task was given, and write classified.<corpus> and embeddings.<corpus>."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
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
from spark_jobs.classifiers.embeddings import (
    ENCODER_NAME,
    MAX_TOKENS,
    encoder_version,
    load_encoder,
)
from spark_jobs.classifiers.fasttext_quality import QUALITY_MODEL_NAME, QualityScorer
from spark_jobs.classifiers.gpu import assigned_gpus, select_device
from spark_jobs.classifiers.heads import EDU_MODEL_NAME, TOPIC_MODEL_NAME, load_head
from spark_jobs.classifiers.registry import LATEST, ModelRef
from spark_jobs.session import max_records_per_file
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


@dataclass(frozen=True)
class ClassifierSet:
    """The model versions a classification uses, with their files on local disk.

    `paths` maps a family (quality, edu, topic) to the directory of its registered
    version's files on the driver. `sources` maps it to where MLflow stores those files
    (s3://.../model with artifacts on S3): an executor on another machine, where `paths`
    does not exist, copies them from there through `store` once per version (`local_dir`).
    """

    refs: Mapping[str, ModelRef]
    paths: Mapping[str, str]
    max_tokens: int = MAX_TOKENS
    sources: Mapping[str, str] = field(default_factory=dict)
    store: ObjectStore = LOCAL

    def local_dir(self, family: str) -> str:
        """The directory of a family's model files on this machine, fetched if need be."""
        path = Path(self.paths[family])
        if path.is_dir() or family not in self.sources:
            return str(path)
        ref = self.refs[family]
        target = Path(tempfile.gettempdir()) / "pilehouse-models" / ref.name / f"v{ref.version}"
        if not target.is_dir():
            fetch_model_files(self.sources[family], target, self.store)
        return str(target)

    @property
    def needs_embeddings(self) -> bool:
        return "edu" in self.refs or "topic" in self.refs

    def describe(self) -> dict[str, str]:
        return {f"lineage.model.{family}": str(ref) for family, ref in self.refs.items()}


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


def fetch_model_files(source: str, target: Path, store: ObjectStore) -> None:
    """Copy a model version's files from `source` (s3://... or a path) into `target`.

    Tasks on one machine may fetch the same version at once: each copies into its own
    scratch directory and renames it into place; the first rename wins.
    """
    fs, path = store.filesystem(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        pafs.copy_files(path, str(scratch), source_filesystem=fs)
        with contextlib.suppress(OSError):  # another task's copy is already in place
            scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def annotate_texts(texts: Sequence[str | None], classifiers: ClassifierSet, device: str) -> dict:
    """The annotator function: every score for a list of texts, on one device.

    Spark tasks and the bare benchmark loop both call this; it returns numpy arrays / lists
    aligned with `texts`. Empty texts get null scores.
    """
    n = len(texts)
    empty = np.array([not (t or "").strip() for t in texts], dtype=bool)
    out: dict = {"tokens": np.zeros(n, dtype=np.int64), "embedding": None}
    if "quality" in classifiers.paths:
        out["quality_score"] = QualityScorer.load(classifiers.local_dir("quality")).score(texts)
    if classifiers.needs_embeddings:
        embedded = load_encoder(device, classifiers.max_tokens).embed(list(texts))
        out["tokens"], out["embedding"] = embedded.tokens, embedded.vectors
        if "edu" in classifiers.paths:
            out["edu_score"] = load_head(classifiers.local_dir("edu"), device).edu_scores(
                embedded.vectors
            )
        if "topic" in classifiers.paths:
            topics, probs = load_head(classifiers.local_dir("topic"), device).topics(
                embedded.vectors
            )
            out["topic"], out["topic_score"] = topics, probs.astype(np.float64)
    out["empty"] = empty
    return out


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
