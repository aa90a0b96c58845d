"""Annotation stage: adds language, quality signals and exact-dedup key columns, non-destructively."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

from spark_jobs.annotators.gopher import INTEGER_SIGNALS, SIGNAL_NAMES, gopher_signals
from spark_jobs.annotators.language import identify_language
from spark_jobs.annotators.pii import PII_TYPES, pii_counts
from spark_jobs.annotators.text_hash import exact_dedup_key

QUALITY_SIGNALS = StructType(
    [
        StructField(name, LongType() if name in INTEGER_SIGNALS else DoubleType(), False)
        for name in SIGNAL_NAMES
    ]
)
PII_COUNTS = StructType([StructField(name, LongType(), False) for name in PII_TYPES])
ANNOTATION_FIELDS = [
    StructField("language", StringType(), False),
    StructField("language_score", DoubleType(), False),
    # Gopher signals; a recipe applies its thresholds to them (spark_jobs.select).
    StructField("quality_signals", QUALITY_SIGNALS, False),
    StructField("text_hash", StringType(), False),
    # Spans of personal data / secrets per type (spark_jobs.annotators.pii).
    StructField("pii_counts", PII_COUNTS, False),
]


def _signals_array(texts: list[str]) -> pa.StructArray:
    signals = [gopher_signals(t) for t in texts]
    arrays = [
        pa.array(
            [getattr(s, name) for s in signals],
            pa.int64() if name in INTEGER_SIGNALS else pa.float64(),
        )
        for name in SIGNAL_NAMES
    ]
    return pa.StructArray.from_arrays(arrays, names=list(SIGNAL_NAMES))


def _pii_array(texts: list[str]) -> pa.StructArray:
    counts = [pii_counts(t) for t in texts]
    arrays = [pa.array([c[name] for c in counts], pa.int64()) for name in PII_TYPES]
    return pa.StructArray.from_arrays(arrays, names=list(PII_TYPES))


def annotate_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Annotate one Arrow batch of documents (a `text` column is required)."""
    texts = [t or "" for t in batch.column("text").to_pylist()]
    languages = [identify_language(t) for t in texts]
    columns = {
        "language": pa.array([lang for lang, _ in languages], pa.string()),
        "language_score": pa.array([score for _, score in languages], pa.float64()),
        "quality_signals": _signals_array(texts),
        "text_hash": pa.array([exact_dedup_key(t) for t in texts], pa.string()),
        "pii_counts": _pii_array(texts),
    }
    return pa.RecordBatch.from_arrays(
        [*batch.columns, *columns.values()], names=[*batch.schema.names, *columns]
    )


def annotate_documents(documents: DataFrame) -> DataFrame:
    """Return `documents` with the annotation columns appended (one row in, one row out)."""
    annotation_names = {f.name for f in ANNOTATION_FIELDS}
    # Re-annotating an annotated table replaces the old annotations.
    base = documents.select(*[c for c in documents.columns if c not in annotation_names])
    schema = StructType([*base.schema.fields, *ANNOTATION_FIELDS])

    def annotate_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield annotate_batch(batch)

    return base.mapInArrow(annotate_batches, schema)
