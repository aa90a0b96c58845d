"""Frozen reference: spark_jobs/annotate.py's annotate_batch as of commit f917b45 (one list of
values per annotator, then Arrow arrays), over the frozen annotators here (PII: the detector as of ded5e01, frozen
in pii.py here when issue 19 made the live one faster). Do not edit."""

from __future__ import annotations

import pyarrow as pa

from bench.reference_annotators.pii import PII_TYPES, pii_counts
from bench.reference_annotators.quality import SIGNALS, quality_signals
from bench.reference_annotators.script import dominant_script
from bench.reference_annotators.text_hash import exact_dedup_key
from spark_jobs.annotators.language import identify_language

_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
_ARROW_SIGNALS = pa.struct(
    [pa.field(s.name, _ARROW_TYPES[s.kind], nullable=False) for s in SIGNALS]
)
_ARROW_PII = pa.struct([pa.field(name, pa.int64(), nullable=False) for name in PII_TYPES])


def annotate_texts(texts: list[str | None]) -> dict[str, pa.Array]:
    texts = [t or "" for t in texts]
    languages = [identify_language(t) for t in texts]
    return {
        "language": pa.array([lang for lang, _ in languages], pa.string()),
        "language_score": pa.array([score for _, score in languages], pa.float64()),
        "script": pa.array([dominant_script(t) for t in texts], pa.string()),
        "quality_signals": pa.array([quality_signals(t) for t in texts], _ARROW_SIGNALS),
        "text_hash": pa.array([exact_dedup_key(t) for t in texts], pa.string()),
        "pii_counts": pa.array([pii_counts(t) for t in texts], _ARROW_PII),
    }
