"""The web ingest job on a real sample crawl in real Spark (the `spark` fixture of
tests/conftest.py): every record is accounted for exactly once."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from spark_jobs.samples.web import WebSampleManifest, generate_web_sample
from spark_jobs.web.ingest import (
    INGEST_SCHEMA,
    RAW_COLUMNS,
    ingest_warc,
    list_warc_files,
    record_id,
)

pytestmark = pytest.mark.spark

SOURCE = "sample-crawl"


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WebSampleManifest]:
    out = tmp_path_factory.mktemp("landing")
    manifest = generate_web_sample(
        out / "CC-SAMPLE-2024-10" / "segment-0", pages=80, files=4, seed=2
    )
    (out / "_SUCCESS").write_text("")  # markers and hidden uploads are not WARC files
    (out / ".upload-in-progress.warc.gz").write_bytes(b"partial")
    return out, manifest


def ingest(spark: SparkSession, landing: Path, run_id: str = "run-1"):
    return ingest_warc(
        spark,
        str(landing),
        source=SOURCE,
        license="unknown",
        license_evidence="sample crawl, no license statement",
        run_id=run_id,
    )


def test_every_record_appears_exactly_once_with_the_planted_verdict(
    spark: SparkSession, landing: tuple[Path, WebSampleManifest]
) -> None:
    root, manifest = landing
    assert list_warc_files(str(root)) == [
        f"CC-SAMPLE-2024-10/segment-0/{name}" for name in manifest.files
    ]
    frame = ingest(spark, root)
    expected = from_arrow_schema(INGEST_SCHEMA, prefer_timestamp_ntz=False)
    assert [(f.name, f.dataType) for f in frame.schema] == [(f.name, f.dataType) for f in expected]
    rows = frame.collect()

    # Conservation: one row per response record, one per corrupt record, nothing else.
    assert len(rows) == manifest.response_records + manifest.corrupt_records
    assert len({row.id for row in rows}) == len(rows)
    assert len({(row.warc_file, row.warc_offset) for row in rows}) == len(rows)
    assert Counter(row.disposition for row in rows) == manifest.expected_dispositions
    assert Counter(row.reason for row in rows if row.reason) == manifest.expected_reasons

    corrupt_urls = {
        url
        for c in ("garbled_member", "truncated_record", "bad_warc_header")
        for url in manifest.urls[c]
    }
    readable = Counter(
        url for urls in manifest.urls.values() for url in urls if url not in corrupt_urls
    )
    # A refetched URL is listed under "clean" and "refetch" and was fetched twice: count fetches.
    assert Counter(row.url for row in rows if row.url) == readable

    for row in rows:
        assert row.corpus == "web" and row.source == SOURCE and row.ingest_run_id == "run-1"
        assert row.id == record_id(SOURCE, row.locator)
        if row.disposition == "kept":
            assert row.reason is None and row.text and row.byte_length == len(row.text.encode())
            assert row.domain and not row.domain.startswith("www.") and ":" not in row.domain
            assert row.fetch_date is not None and row.http_status == 200
        if row.disposition == "quarantined":
            assert row.detail and row.excerpt and len(row.excerpt) <= 256
        if row.url is None:  # corrupt stretches are located by file and offset
            assert row.locator.startswith("CC-SAMPLE-2024-10/segment-0/crawl-sample-2-")
            assert f"#offset={row.warc_offset}" in row.locator

    # A URL fetched twice keeps both rows; the later fetch's locator names its file and offset.
    for url in manifest.urls["refetch"]:
        first, again = sorted(
            (r for r in rows if r.url == url), key=lambda r: (r.warc_file, r.warc_offset)
        )
        again_file = Path(again.warc_file).relative_to(root)
        assert (first.locator, again.locator) == (
            url,
            f"{url}#warc={again_file}:{again.warc_offset}",
        )
    assert set(RAW_COLUMNS) < set(INGEST_SCHEMA.names)
    assert not {"disposition", "reason", "detail", "excerpt"} & set(RAW_COLUMNS)


def test_a_file_gone_before_it_is_read_becomes_one_unreadable_row(
    spark: SparkSession, landing: tuple[Path, WebSampleManifest], tmp_path: Path
) -> None:
    source_dir = landing[0] / "CC-SAMPLE-2024-10" / "segment-0"
    kept, vanishing = sorted(source_dir.glob("*.warc.gz"))[2:4]
    shutil.copy(kept, tmp_path / kept.name)
    shutil.copy(vanishing, tmp_path / vanishing.name)
    frame = ingest(spark, tmp_path, run_id="run-2")  # lists both files
    (tmp_path / vanishing.name).unlink()  # e.g. a lifecycle rule deleted it before the run
    rows = frame.collect()

    unreadable = [row for row in rows if row.reason == "unreadable_file"]
    assert len(unreadable) == 1
    row = unreadable[0]
    assert row.disposition == "quarantined" and row.locator == vanishing.name
    assert f"{tmp_path}/{vanishing.name}" in row.detail
    assert {r.warc_file for r in rows if r.reason != "unreadable_file"} == {
        f"{tmp_path}/{kept.name}"
    }
    assert len(rows) > 1
