"""Paragraph-level dedup as an annotation (Dolma style): how much of a document is paragraphs
that also occur in other documents (boilerplate, cookie banners, license headers).

A paragraph is a line of the text (Dolma splits on newlines). It is normalized like the exact
dedup key (NFKC, case-folded, punctuation and whitespace folded) and hashed; paragraphs shorter
than `min_chars` after normalization are ignored. A paragraph is duplicated when at least
`min_count` distinct documents contain it; a paragraph repeated inside one document only does
not count.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
import pyarrow as pa
import xxhash
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.annotators.text_hash import normalize_for_dedup


def paragraph_hashes(text: str | None, min_chars: int) -> list[tuple[int, int]]:
    """(hash, characters) of each non-trivial paragraph (line) of a text; chars are raw."""
    if not text:
        return []
    out = []
    for line in text.split("\n"):
        normalized = normalize_for_dedup(line)
        if len(normalized) >= min_chars:
            out.append((xxhash.xxh3_64_intdigest(normalized.encode()) - 2**63, len(line)))
    return out


def _arrow_paragraphs(
    batches: Iterator[pa.RecordBatch], min_chars: int, id_col: str, text_col: str
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        ids, hashes, chars = [], [], []
        for doc_id, text in zip(
            batch.column(id_col).to_pylist(), batch.column(text_col).to_pylist(), strict=True
        ):
            for h, n in paragraph_hashes(text, min_chars):
                ids.append(doc_id)
                hashes.append(h)
                chars.append(n)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(ids, batch.schema.field(id_col).type),
                pa.array(np.array(hashes, dtype=np.int64)),
                pa.array(np.array(chars, dtype=np.int32)),
            ],
            names=["id", "paragraph_hash", "chars"],
        )


def paragraph_duplicate_fractions(
    docs: DataFrame,
    min_count: int = 2,
    *,
    min_chars: int = 40,
    id_col: str = "id",
    text_col: str = "text",
) -> DataFrame:
    """(id, duplicate_paragraph_fraction, duplicate_paragraph_chars) for every document.

    duplicate_paragraph_chars counts the characters of the document's paragraphs that occur
    in at least `min_count` distinct documents; the fraction divides by the text's length
    (0.0 for empty text).
    """
    source = docs.select(F.col(id_col).alias(id_col), F.col(text_col))
    schema = T.StructType(
        [
            T.StructField("id", source.schema[id_col].dataType, True),
            T.StructField("paragraph_hash", T.LongType(), False),
            T.StructField("chars", T.IntegerType(), False),
        ]
    )
    body = partial(_arrow_paragraphs, min_chars=min_chars, id_col=id_col, text_col=text_col)
    paragraphs = source.mapInArrow(body, schema)
    spread = (
        paragraphs.select("id", "paragraph_hash")
        .distinct()
        .groupBy("paragraph_hash")
        .agg(F.count(F.lit(1)).alias("documents"))
        .where(F.col("documents") >= min_count)
    )
    duplicated = (
        paragraphs.join(spread, "paragraph_hash")
        .groupBy("id")
        .agg(F.sum("chars").cast("long").alias("duplicate_paragraph_chars"))
    )
    lengths = docs.select(F.col(id_col).alias("id"), F.length(text_col).alias("_len"))
    chars = F.coalesce(F.col("duplicate_paragraph_chars"), F.lit(0).cast("long"))
    return lengths.join(duplicated, "id", "left").select(
        "id",
        F.when(F.col("_len") > 0, F.least(F.lit(1.0), chars / F.col("_len")))
        .otherwise(F.lit(0.0))
        .alias("duplicate_paragraph_fraction"),
        chars.alias("duplicate_paragraph_chars"),
    )
