"""The suites by name and the promise each one states: what a check declaration needs.

Declaring the Dagster checks reads only this module, so loading the code location does not
import Great Expectations or pyspark (quality/suites.py builds the batches that run them).
"""

from __future__ import annotations

from dataclasses import dataclass

RAW_DOCUMENTS = "raw_documents"
CURATED_DOCUMENTS = "curated_documents"
CURATED_DISTRIBUTION = "curated_distribution"
CONSERVATION = "conservation"


@dataclass(frozen=True)
class Promise:
    suite: str
    description: str
    # Whether the suite compares against a baseline version of the table (drift).
    uses_baseline: bool = False


PROMISES: dict[str, Promise] = {
    promise.suite: promise
    for promise in [
        Promise(RAW_DOCUMENTS, "schema and integrity of ingested documents"),
        Promise(
            CURATED_DOCUMENTS,
            "integrity, licensing and no residual PII in curated documents",
        ),
        Promise(
            CURATED_DISTRIBUTION,
            "each source's removal rates, language shares and length quantiles within the "
            "bounds learned from its own history",
        ),
        Promise(
            CONSERVATION,
            "every input record ends kept, rejected with a reason, or quarantined",
        ),
    ]
}
