"""WET conversion records become pages; the registry's opt-out domains are skipped at ingest."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from warcio.warcwriter import WARCWriter

from spark_jobs.samples.web import generate_web_sample
from spark_jobs.sources import Source, load_sources
from spark_jobs.web.ingest import WarcReader, opted_out_domain


def _source(location: Path, **options) -> Source:
    return Source("s", "web", str(location), "warc", "CC-BY-4.0", options=options)


def _write_wet(path: Path, pages: dict[str, str]) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, text in pages.items():
            record = writer.create_warc_record(
                url,
                "conversion",
                payload=io.BytesIO(text.encode("utf-8")),
                warc_headers_dict={"Content-Type": "text/plain"},
            )
            writer.write_record(record)


def test_wet_conversion_records_are_read_as_plain_text_pages(tmp_path):
    text = "The zen of Python.\nBeautiful is better than ugly. Explicit is better than implicit."
    _write_wet(
        tmp_path / "a.warc.wet.gz",
        {"https://www.example.org/zen": text, "https://example.org/blank": "  "},
    )
    rows = list(
        WarcReader().read(
            pafs.LocalFileSystem(),
            str(tmp_path / "a.warc.wet.gz"),
            "a.warc.wet.gz",
            _source(tmp_path),
        )
    )
    by_url = {r["url"]: r for r in rows}
    page = by_url["https://www.example.org/zen"]
    assert page["text"] == text and page["content_type"] == "text/plain"
    assert page["domain"] == "example.org" and page.get("disposition") is None
    blank = by_url["https://example.org/blank"]
    assert (blank["disposition"], blank["reason"]) == ("skipped", "empty_text")


def test_opt_out_covers_the_domain_and_its_subdomains_only():
    opt_out = ("example.org",)
    assert opted_out_domain("example.org", opt_out) == "example.org"
    assert opted_out_domain("docs.example.org", opt_out) == "example.org"
    assert opted_out_domain("notexample.org", opt_out) is None
    assert opted_out_domain(None, opt_out) is None


def test_opted_out_domains_are_skipped_with_the_entry_that_matched(tmp_path):
    manifest = generate_web_sample(tmp_path, pages=60, files=1, seed=3)
    reader = WarcReader()
    [name] = manifest.files
    path = str(tmp_path / name)
    rows = list(reader.read(pafs.LocalFileSystem(), path, name, _source(tmp_path)))
    kept_domains = [r["domain"] for r in rows if r.get("disposition") is None]
    target = max(set(kept_domains), key=kept_domains.count)

    opted = WarcReader(opt_out_domains=(target,))
    again = list(opted.read(pafs.LocalFileSystem(), path, name, _source(tmp_path)))
    skipped = [r for r in again if r.get("reason") == "domain_opt_out"]
    assert len(skipped) == kept_domains.count(target)
    assert all(r["text"] is None and target in r["detail"] for r in skipped)
    assert len(again) == len(rows)  # skipped, never dropped


def test_registry_opt_out_list_reaches_every_web_source(tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text(
        "opt_out_domains: [www.Blocked.example]\n"
        "sources:\n"
        "  a: {corpus: web, format: warc, location: '{landing}/a', license: CC-BY-4.0}\n"
        "  b: {corpus: licensed, format: jsonl, location: '{landing}/b', license: CC0-1.0}\n"
    )
    sources = load_sources(registry, landing_uri="/data/landing")
    assert sources["a"].options["opt_out_domains"] == ["blocked.example"]
    assert sources["a"].location == "/data/landing/a"
    assert "opt_out_domains" not in sources["b"].options


def test_registry_entry_without_a_license_is_refused(tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text("sources:\n  a: {corpus: web, format: warc, location: /x}\n")
    with pytest.raises(ValueError, match=r"2: sources\.a\.license: required key missing"):
        load_sources(registry, landing_uri="/l")
