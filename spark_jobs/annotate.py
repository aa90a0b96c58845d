"""Annotation stage: adds the columns of the registered annotators, non-destructively.

The annotators (spark_jobs.annotators.registry: language, script, quality signals, dedup key,
PII counts) run one Arrow batch at a time, one pass over each document's text each. Recipes apply
their thresholds to these columns later (spark_jobs.select): annotations are computed once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from spark_jobs.annotators import registry

_SPARK_TYPES = {
    pa.string(): StringType(),
    pa.float64(): DoubleType(),
    pa.int64(): LongType(),
    pa.bool_(): BooleanType(),
}


def _spark_type(kind: pa.DataType) -> DataType:
    if pa.types.is_struct(kind):
        return StructType(
            [
                StructField(f.name, _spark_type(f.type), f.nullable)
                for f in (kind.field(i) for i in range(kind.num_fields))
            ]
        )
    return _SPARK_TYPES[kind]


def annotation_fields() -> list[StructField]:
    """The Spark fields of every registered annotator's columns, in order, never null."""
    return [StructField(c.name, _spark_type(c.type), False) for c in registry.columns()]


def annotator_versions() -> dict[str, str]:
    """Commit metadata naming the version of every annotator that wrote the columns."""
    return {f"annotator.{name}.version": v for name, v in registry.versions().items()}


def annotate_texts(texts: list[str | None]) -> dict[str, pa.Array]:
    """Every registered annotator's columns for a list of texts (None counts as "")."""
    texts = [t or "" for t in texts]
    columns: dict[str, pa.Array] = {}
    for annotator in registry.registered():
        columns.update(annotator.annotate(texts))
    return columns


def annotate_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Annotate one Arrow batch of documents (a `text` column is required)."""
    columns = annotate_texts(batch.column("text").to_pylist())
    return pa.RecordBatch.from_arrays(
        [*batch.columns, *columns.values()], names=[*batch.schema.names, *columns]
    )


def annotate_documents(documents: DataFrame) -> DataFrame:
    """Return `documents` with the annotation columns appended (one row in, one row out)."""
    fields = annotation_fields()
    annotation_names = {f.name for f in fields}
    # Re-annotating an annotated table replaces the old annotations.
    base = documents.select(*[c for c in documents.columns if c not in annotation_names])
    schema = StructType([*base.schema.fields, *fields])

    def annotate_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield annotate_batch(batch)

    return base.mapInArrow(annotate_batches, schema)
