"""The papers sample through the shared ingest job in real Spark: every paper is accounted for
exactly once, with the manifest's verdicts and licenses."""

from __future__ import annotations

from collections import Counter

import pytest
from pyspark.sql import SparkSession

from spark_jobs.ingest import ingest_files
from spark_jobs.papers.reader import PapersReader
from spark_jobs.samples.papers import generate_papers_sample
from spark_jobs.sources import Source

pytestmark = pytest.mark.spark


def test_ingest_conserves_every_paper(spark: SparkSession, tmp_path) -> None:
    manifest = generate_papers_sample(tmp_path, papers=12, seed=1)
    source = Source("sample-papers", "papers", str(tmp_path), "mixed", "CC-BY-4.0")
    rows = ingest_files(spark, PapersReader(), source, run_id="run-1").collect()

    assert len(rows) == manifest.papers  # ingested + skipped + quarantined = input records
    assert len({row.id for row in rows}) == len(rows)
    assert Counter(row.disposition for row in rows) == manifest.expected_dispositions
    assert Counter(row.reason for row in rows if row.reason) == manifest.expected_reasons
    for row in rows:
        expected = manifest.expected_licenses[row.locator]
        assert (row.license, row.license_evidence) == (
            (expected, "metadata") if expected else ("CC-BY-4.0", "declared")
        )
        assert row.corpus == "papers" and (row.disposition == "kept") == (row.text is not None)
