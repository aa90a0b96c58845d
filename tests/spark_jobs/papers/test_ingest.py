"""The papers sample through the shared ingest job in real Spark: every paper is accounted for
exactly once, with the manifest's verdicts and licenses."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from pyspark.sql import SparkSession

from bench.faults_papers import latex, member, tar_gz
from spark_jobs.delta import read_arrow
from spark_jobs.ingest import ingest_files
from spark_jobs.lake import Lake
from spark_jobs.papers.reader import PapersReader
from spark_jobs.samples.papers import generate_papers_sample, scanned_text_pdf, text_pdf
from spark_jobs.sources import Source
from spark_jobs.stages import ingest_source

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


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr")
def test_a_scan_lands_in_raw_papers_routed_to_ocr_with_its_words(
    spark: SparkSession, tmp_path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "scan.pdf").write_bytes(
        scanned_text_pdf(
            ["Tidal currents carry sediment along the estuary", "Dredging keeps it open."]
        )
    )
    (landing / "typeset.pdf").write_bytes(
        text_pdf(["A typeset page about lighthouses and their keepers."], title="t", author="a")
    )
    (landing / "2401.00001.tar.gz").write_bytes(
        tar_gz([member("main.tex", latex("The moon pulls the sea."))])
    )
    source = Source("scans", "papers", str(landing), "mixed", "CC-BY-4.0")
    lake = Lake(str(tmp_path / "lake"))

    report = ingest_source(spark, lake, source, run_id="run-1", metadata={})

    rows = {row["paper_id"]: row for row in read_arrow(lake.uri("raw.papers")).to_pylist()}
    scan = rows["scan"]
    assert (scan["route"], scan["parser"]) == ("ocr", "tesseract")
    assert scan["parser_version"].startswith("tesseract ") and "1 OCR" in scan["route_reason"]
    assert {"tidal", "sediment", "estuary", "dredging"} <= set(scan["text"].lower().split())
    assert (rows["typeset"]["route"], rows["typeset"]["parser"]) == ("text_layer", "pypdfium2")
    assert rows["2401.00001"]["route"] == "latex"
    assert rows["2401.00001"]["source_encoding"] == "utf-8"
    assert report.counts["route ocr"] == 1 and report.counts["route text_layer"] == 1
    assert report.counts["route latex"] == 1
