"""The licensed sample through the shared ingest job in real Spark, one source per collection:
every document is accounted for exactly once, with its source's or its own license."""

from __future__ import annotations

from collections import Counter

import pytest
from pyspark.sql import SparkSession

from spark_jobs.ingest import ingest_files
from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.samples.licensed import generate_licensed_sample
from spark_jobs.sources import Source

pytestmark = pytest.mark.spark


def test_ingest_conserves_every_document(spark: SparkSession, tmp_path) -> None:
    manifest = generate_licensed_sample(tmp_path, documents=12, seed=1)
    frames = [
        ingest_files(
            spark,
            LicensedReader(),
            Source(folder, "licensed", str(tmp_path / folder), "mixed", license),
            run_id="run-1",
        )
        for folder, license in manifest.sources.items()
    ]
    rows = frames[0].unionByName(frames[1]).unionByName(frames[2]).collect()

    assert len(rows) == manifest.documents  # ingested + skipped + quarantined = input records
    assert len({row.id for row in rows}) == len(rows)
    assert Counter(row.disposition for row in rows) == manifest.expected_dispositions
    assert Counter(row.reason for row in rows if row.reason) == manifest.expected_reasons
    for row in rows:
        expected = manifest.expected_licenses[f"{row.source}/{row.locator}"]
        declared = manifest.sources[row.source]
        assert (row.license, row.license_evidence) == (
            (expected, "metadata") if expected else (declared, "declared")
        )
