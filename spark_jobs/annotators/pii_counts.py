"""The annotator that counts personal data and secrets per type (spark_jobs.annotators.pii)."""

from __future__ import annotations

import pyarrow as pa

from spark_jobs.annotators.pii import PII_TYPES, pii_counts
from spark_jobs.annotators.registry import Annotator, Column, struct_of


class PiiCountsAnnotator(Annotator):
    """Spans of personal data and secrets, counted per type."""

    name = "pii_counts"
    version = "1"
    columns = (
        Column(
            "pii_counts",
            struct_of(dict.fromkeys(PII_TYPES, pa.int64())),
            "PII / secret spans per type",
        ),
    )

    def annotate(self, texts: list[str]) -> dict[str, pa.Array]:
        return {"pii_counts": pa.array([pii_counts(t) for t in texts], self.columns[0].type)}
