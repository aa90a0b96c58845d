"""The papers sample through the shared ingest job in real Spark: every paper is accounted for
exactly once, with the manifest's verdicts and licenses."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from pyspark.sql import SparkSession

from bench.faults_papers import latex, member, tar_gz
from spark_jobs.analyst.corpus_report import paper_routes
from spark_jobs.analyst.sql import LakeSQL
from spark_jobs.delta import read_arrow
from spark_jobs.ingest import ingest_files, landing_listing
from spark_jobs.lake import Lake
from spark_jobs.papers import routes
from spark_jobs.papers.reader import ROUTED, PapersReader
from spark_jobs.papers.routes import HEAVY_ROUTES, OCR_TASK_CPUS
from spark_jobs.samples.papers import (
    generate_papers_sample,
    image_only_pdf,
    scanned_text_pdf,
    text_pdf,
)
from spark_jobs.sources import Source
from spark_jobs.stages import ingest_source
from spark_jobs.storage import LOCAL

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
    with LakeSQL(lake) as sql:  # what the corpus report shows
        routes = paper_routes(sql, lake.tables())
    read = routes[routes["outcome"] == "read"]
    assert dict(zip(read["route"], read["documents"], strict=True)) == {
        "ocr": 1,
        "text_layer": 1,
        "latex": 1,
    }


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr")
def test_ocr_is_a_stage_of_its_own_and_the_cheap_stage_only_routes_scans_to_it(
    spark: SparkSession, tmp_path
) -> None:
    landing = _landing_with_a_scan(tmp_path)
    source = Source("scans", "papers", str(landing), "mixed", "CC-BY-4.0")

    # The cheap stage: the scan is routed (no text, no OCR yet), the typeset PDF is read.
    cheap = {
        row.paper_id: row
        for row in ingest_files(spark, PapersReader(ocr="defer"), source, run_id="r").collect()
    }
    assert (cheap["scan"].disposition, cheap["scan"].route) == (ROUTED, "ocr")
    assert cheap["scan"].text is None and cheap["scan"].detail == "1 of 1 page(s) to OCR"
    assert cheap["blank-scan"].disposition == ROUTED
    assert (cheap["typeset"].disposition, cheap["typeset"].route) == ("kept", "text_layer")

    # Both stages: the OCR stage's rows replace the routed ones, one row per paper.
    rows = routes.ingest_papers(
        spark, source, run_id="r", store=LOCAL, listing=landing_listing(PapersReader(), source)
    ).collect()
    by_paper = {row.paper_id: row for row in rows}
    assert len(rows) == len(by_paper) == 3
    assert ROUTED not in {row.disposition for row in rows}
    scan = by_paper["scan"]
    assert (scan.disposition, scan.route, scan.parser) == ("kept", "ocr", "tesseract")
    assert {"tidal", "sediment", "estuary"} <= set(scan.text.lower().split())
    # A scan OCR finds no words on: quarantined by the OCR stage, with the reason.
    blank = by_paper["blank-scan"]
    assert (blank.disposition, blank.reason) == ("quarantined", "pdf_no_text_layer")
    assert "OCR read no text" in blank.detail
    assert by_paper["typeset"].text.startswith("A typeset page")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr")
def test_a_paper_routed_where_no_stage_reads_is_quarantined_not_lost(
    spark: SparkSession, tmp_path, monkeypatch
) -> None:
    landing = _landing_with_a_scan(tmp_path)
    source = Source("scans", "papers", str(landing), "mixed", "CC-BY-4.0")
    monkeypatch.setattr(routes, "HEAVY_ROUTES", {})

    rows = routes.ingest_papers(
        spark, source, run_id="r", store=LOCAL, listing=landing_listing(PapersReader(), source)
    ).collect()

    by_paper = {row.paper_id: row for row in rows}
    assert len(rows) == 3
    assert (by_paper["scan"].disposition, by_paper["scan"].reason) == (
        "quarantined",
        "unknown_route",
    )
    assert by_paper["scan"].detail == "routed to ocr, which no stage reads"


def test_the_ocr_stage_asks_for_its_own_task_cpus() -> None:
    source = Source("scans", "papers", "/nowhere", "mixed", "CC-BY-4.0")
    more = Source("scans", "papers", "/nowhere", "mixed", "CC-BY-4.0", options={"ocr_task_cpus": 4})

    assert HEAVY_ROUTES["ocr"].profile(source).taskResources["cpus"].amount == OCR_TASK_CPUS
    assert HEAVY_ROUTES["ocr"].profile(more).taskResources["cpus"].amount == 4
    # Executors of one core (spark.executor.cores=1): Spark refuses a stage asking for more.
    assert HEAVY_ROUTES["ocr"].profile(more, executor_cores=1).taskResources["cpus"].amount == 1
    assert HEAVY_ROUTES["ocr"].profile(more, executor_cores=8).taskResources["cpus"].amount == 4


def _landing_with_a_scan(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "scan.pdf").write_bytes(
        scanned_text_pdf(["Tidal currents carry sediment along the estuary"])
    )
    (landing / "blank-scan.pdf").write_bytes(image_only_pdf())
    (landing / "typeset.pdf").write_bytes(
        text_pdf(["A typeset page about lighthouses and their keepers."], title="t", author="a")
    )
    return landing
