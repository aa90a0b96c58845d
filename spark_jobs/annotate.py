"""Annotation stage: adds language, script, quality signals, dedup key and PII counts, non-destructively.

One Arrow batch at a time, one pass over each document's text per annotator. Recipes apply
their thresholds to these columns later (spark_jobs.select): annotations are computed once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from spark_jobs.annotators.language import identify_language
from spark_jobs.annotators.pii import PII_TYPES, pii_counts
from spark_jobs.annotators.quality import SIGNALS, quality_signals
from spark_jobs.annotators.script import dominant_script
from spark_jobs.annotators.text_hash import exact_dedup_key

_SPARK_TYPES = {"int": LongType(), "float": DoubleType(), "bool": BooleanType()}
_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
QUALITY_SIGNALS = StructType([StructField(s.name, _SPARK_TYPES[s.kind], False) for s in SIGNALS])
PII_COUNTS = StructType([StructField(name, LongType(), False) for name in PII_TYPES])
ANNOTATION_FIELDS = [
    StructField("language", StringType(), False),
    StructField("language_score", DoubleType(), False),
    # Dominant Unicode script of the letters (spark_jobs.annotators.script).
    StructField("script", StringType(), False),
    # RedPajama-V2-style signals; a recipe's rule sets apply thresholds to them.
    StructField("quality_signals", QUALITY_SIGNALS, False),
    StructField("text_hash", StringType(), False),
    # Spans of personal data / secrets per type (spark_jobs.annotators.pii).
    StructField("pii_counts", PII_COUNTS, False),
]
_ARROW_SIGNALS = pa.struct(
    [pa.field(s.name, _ARROW_TYPES[s.kind], nullable=False) for s in SIGNALS]
)
_ARROW_PII = pa.struct([pa.field(name, pa.int64(), nullable=False) for name in PII_TYPES])


def annotate_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Annotate one Arrow batch of documents (a `text` column is required)."""
    texts = [t or "" for t in batch.column("text").to_pylist()]
    languages = [identify_language(t) for t in texts]
    columns = {
        "language": pa.array([lang for lang, _ in languages], pa.string()),
        "language_score": pa.array([score for _, score in languages], pa.float64()),
        "script": pa.array([dominant_script(t) for t in texts], pa.string()),
        "quality_signals": pa.array([quality_signals(t) for t in texts], _ARROW_SIGNALS),
        "text_hash": pa.array([exact_dedup_key(t) for t in texts], pa.string()),
        "pii_counts": pa.array([pii_counts(t) for t in texts], _ARROW_PII),
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
