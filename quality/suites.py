"""Expectation suites, one per kind of table. A reviewer should be able to read a suite as a list of promises."""

from __future__ import annotations

import great_expectations.expectations as gxe

CURATED_DOCUMENTS = "curated_documents"


def curated_documents_suite() -> list[gxe.Expectation]:
    """Integrity promises every curated table keeps (ids, text, license)."""
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="id"),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValueLengthsToBeBetween(column="text", min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="license"),
        gxe.ExpectColumnValuesToNotBeNull(column="license_evidence"),
    ]


SUITES = {CURATED_DOCUMENTS: curated_documents_suite}
