"""Big landing files read in byte ranges (spark_jobs.ranges): every range a unit of its own,
and the same rows, ids and columns as reading each file whole. No Spark (read_without_spark)."""

from __future__ import annotations

import gzip
import io
import itertools
import json
from collections import Counter
from pathlib import Path

import pytest

from spark_jobs.ingest import read_without_spark, split_listing
from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.papers.reader import PapersReader
from spark_jobs.ranges import ByteRange, LineRange, first_line_start, split
from spark_jobs.samples.web import generate_web_sample
from spark_jobs.session import parse_bytes
from spark_jobs.sources import Source
from spark_jobs.web.ingest import WarcReader
from tests.spark_jobs.web.test_warc import warc_record


def web_source(location: Path, **options) -> Source:
    return Source("crawl", "web", str(location), "warc", "CC-BY-4.0", options=options)


def rows_by_id(rows: list[dict]) -> dict[tuple, dict]:
    # A refetched URL has one id per fetch only after ingest_web_source numbers the
    # fetches; before that, the fetch's own id (_repeat_id) tells them apart.
    by_id = {(row["id"], row.get("_repeat_id")): row for row in rows}
    assert len(by_id) == len(rows), "a record was read twice"
    return by_id


def read(reader, source: Source, split_bytes: int) -> list[dict]:
    return list(read_without_spark(reader, source, split_bytes=split_bytes))


def assert_same_rows(whole: list[dict], ranged: list[dict]) -> None:
    assert rows_by_id(ranged) == rows_by_id(whole)


def ranges_of(path: Path, split_bytes: int) -> tuple[ByteRange, ...]:
    return split(path.stat().st_size, split_bytes, "warc")


# --- WARC ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated .warc.gz of 120 pages, with the sample's planted damage (truncated and
    corrupt records, bad headers) somewhere inside."""
    out = tmp_path_factory.mktemp("ranges-crawl")
    manifest = generate_web_sample(out, pages=120, files=1, seed=11)
    (out / "_manifest.json").unlink()
    assert manifest.damaged_files == manifest.files
    return out


@pytest.mark.parametrize("split_bytes", [100_000, 30_000, 9_000])
def test_a_gzip_warc_read_in_ranges_gives_the_rows_of_the_whole_file(crawl, split_bytes):
    source = web_source(crawl)
    whole = read(WarcReader(), source, split_bytes=0)
    ranged = read(WarcReader(), source, split_bytes=split_bytes)
    [path] = crawl.glob("*.warc.gz")
    assert len(ranges_of(path, split_bytes)) > 2
    assert Counter(r["disposition"] for r in whole)["quarantined"] > 0  # the planted damage
    assert_same_rows(whole, ranged)


def test_range_edges_fall_inside_records(crawl):
    """The cut points are nominal: most land inside a gzip member, which the range before
    reads to its end and the range after skips."""
    [path] = crawl.glob("*.warc.gz")
    whole = read(WarcReader(), web_source(crawl), split_bytes=0)
    starts = sorted({r["warc_offset"] for r in whole})
    cuts = [span.start for span in ranges_of(path, 9_000)[1:]]
    straddled = [cut for cut in cuts if cut not in starts]
    assert len(straddled) >= len(cuts) - 1


def plain_warc_records() -> list[bytes]:
    """60 records, one with a bad header and one whose Content-Length is wrong."""
    records = [
        warc_record(n, body=f"<html><p>Page {n}: {'words ' * (n % 7 * 40)}</p>".encode())
        for n in range(60)
    ]
    records[23] = records[23].replace(b"WARC-Type: response\r\n", b"WARC-Type response\r\n")
    records[41] = records[41].replace(b"Content-Length: ", b"Content-Length: 1")
    return records


def test_a_plain_warc_read_in_ranges_gives_the_rows_of_the_whole_file(tmp_path):
    (tmp_path / "plain.warc").write_bytes(b"".join(plain_warc_records()))
    source = web_source(tmp_path)
    whole = read(WarcReader(), source, split_bytes=0)
    reasons = Counter(r["reason"] for r in whole if r["disposition"] == "quarantined")
    assert reasons == {"bad_warc_header": 1, "content_length_mismatch": 1}
    for split_bytes in (20_000, 3_000):
        assert_same_rows(whole, read(WarcReader(), source, split_bytes=split_bytes))


@pytest.mark.slow
def test_plain_warc_ranges_shorter_than_most_records_give_the_rows_of_the_whole_file(tmp_path):
    (tmp_path / "plain.warc").write_bytes(b"".join(plain_warc_records()))
    source = web_source(tmp_path)
    whole = read(WarcReader(), source, split_bytes=0)
    assert_same_rows(whole, read(WarcReader(), source, split_bytes=700))


def test_a_corrupt_member_quarantines_only_itself_in_its_range(tmp_path):
    members = [
        gzip.compress(warc_record(n, body=b"<p>" + b"text %d " % n * 200 + b"</p>"))
        for n in range(30)
    ]
    damaged = bytearray(members[17])
    damaged[len(damaged) // 2 : len(damaged) // 2 + 8] = b"\xff" * 8
    members[17] = bytes(damaged)
    (tmp_path / "c.warc.gz").write_bytes(b"".join(members))
    source = web_source(tmp_path)
    whole = read(WarcReader(), source, split_bytes=0)
    ranged = read(WarcReader(), source, split_bytes=2_000)
    assert_same_rows(whole, ranged)
    bad = [r for r in ranged if r["disposition"] == "quarantined"]
    offset = sum(map(len, members[:17]))
    assert [(r["reason"], r["warc_offset"]) for r in bad] == [("gzip_corrupt", offset)]
    assert bad[0]["locator"] == f"c.warc.gz#offset={offset}"
    assert sum(r["disposition"] == "kept" for r in ranged) == 29


def test_a_single_gzip_stream_is_read_once_by_its_first_range(tmp_path):
    """No member starts after byte 0: the cut points are dropped, one range reads it all."""
    data = gzip.compress(b"".join(warc_record(n) for n in range(40)))
    (tmp_path / "one.warc.gz").write_bytes(data)
    source = web_source(tmp_path)
    assert len(split(len(data), 200, "warc")) > 3
    assert_same_rows(read(WarcReader(), source, 0), read(WarcReader(), source, 200))


class _FailsInRange(WarcReader):
    """A reader with a bug that shows only in the second range of a file."""

    def read(self, fs, path, relative, source, span=None):
        if span is not None and span.index == 1:
            raise RuntimeError("reader bug")
        yield from super().read(fs, path, relative, source, span=span)


def test_a_failed_range_is_quarantined_by_a_locator_naming_it(tmp_path):
    members = [gzip.compress(warc_record(n)) for n in range(40)]
    (tmp_path / "f.warc.gz").write_bytes(b"".join(members))
    source = web_source(tmp_path)
    spans = split(sum(map(len, members)), 2_000, "warc")
    rows = read(_FailsInRange(), source, split_bytes=2_000)
    failed = [r for r in rows if r["disposition"] == "quarantined"]
    assert [(r["locator"], r["reason"]) for r in failed] == [
        (f"f.warc.gz#bytes={spans[1].start}-{spans[1].end}", "unreadable_file")
    ]
    assert "RuntimeError: reader bug" in failed[0]["detail"]
    whole = rows_by_id(read(WarcReader(), source, split_bytes=0))
    kept = rows_by_id([r for r in rows if r["disposition"] == "kept"])
    # Everything but the records starting in that range was read, as the whole file reads it.
    assert 0 < len(whole) - len(kept) < len(members) // 2
    assert all(whole[i] == row for i, row in kept.items())


# --- JSONL --------------------------------------------------------------------------------


def jsonl_lines() -> list[bytes]:
    lines = []
    for n in range(300):
        record = {"id": f"doc-{n}", "title": f"Doc {n}", "text": f"Text {n}. " * (1 + n % 23)}
        lines.append(json.dumps(record).encode())
        if n % 37 == 0:
            lines.append(b"")  # a blank line: numbered, not a record
        if n % 53 == 0:
            lines.append(b'{"id": "broken", "text": ')  # malformed_json
        if n == 111:
            lines.append(b'{"text": "' + b"x" * 3000 + b'"}')  # over max_line_bytes
    return lines


def jsonl_dump(tmp_path: Path, corpus: str, final_newline: bool) -> tuple[Source, bytes]:
    data = b"\n".join(jsonl_lines()) + (b"\n" if final_newline else b"")
    (tmp_path / "dump.jsonl").write_bytes(data)
    source = Source(
        "dumps",
        corpus,
        str(tmp_path),
        "jsonl",
        "CC0-1.0",
        options={"limits": {"max_line_bytes": 2048}},
    )
    return source, data


@pytest.mark.parametrize(
    ("corpus", "final_newline"), [("licensed", True), ("licensed", False), ("papers", True)]
)
def test_a_jsonl_dump_read_in_ranges_keeps_its_line_numbers(tmp_path, corpus, final_newline):
    source, data = jsonl_dump(tmp_path, corpus, final_newline)
    reader = LicensedReader() if corpus == "licensed" else PapersReader(ocr=False)
    whole = read(reader, source, split_bytes=0)
    reasons = Counter(r["reason"] for r in whole if r["disposition"] == "quarantined")
    assert reasons == {"malformed_json": 6, "line_too_long": 1}
    for split_bytes in (len(data) // 3, 1_500):
        assert_same_rows(whole, read(reader, source, split_bytes=split_bytes))


# Ranges shorter than most lines or records: hundreds of ranges, each read in a child process of
# its own (a fork costs ~0.1 s from a process holding gigabytes, as a test worker does), so
# in the full suite only.
@pytest.mark.slow
def test_jsonl_ranges_shorter_than_most_lines_keep_every_line_number(tmp_path):
    source, _ = jsonl_dump(tmp_path, "licensed", True)
    whole = read(LicensedReader(), source, split_bytes=0)
    assert_same_rows(whole, read(LicensedReader(), source, split_bytes=400))


def test_gzip_jsonl_and_small_files_are_not_split(tmp_path):
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(b"\n".join(jsonl_lines())))
    (tmp_path / "b.jsonl").write_bytes(b'{"id": "1", "text": "one"}\n')
    source = Source("books", "licensed", str(tmp_path), "jsonl", "CC0-1.0")
    from spark_jobs.ingest import landing_listing

    listing = landing_listing(LicensedReader(), source)
    planned = split_listing(listing, LicensedReader(), 100, lambda items: [0] * len(items))
    assert planned.units == listing.units and not planned.spans


def test_sizes_are_read_the_way_spark_writes_them():
    assert parse_bytes("128m") == 128 << 20
    assert parse_bytes("1g") == 1 << 30
    assert parse_bytes("64kb") == 64 << 10
    assert parse_bytes("4096") == parse_bytes(4096) == 4096
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes("lots")


def test_ranges_cover_the_file_exactly():
    spans = split(1_000_003, 100_000, "lines")
    assert len(spans) == 11 and spans[0].start == 0 and spans[-1].end == 1_000_003
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert split(100_000, 100_000, "warc") == () and split(10**9, 0, "warc") == ()
    assert split(10**9, 1000, None) == ()


def test_a_range_starts_at_the_line_after_the_first_newline_before_it():
    data = io.BytesIO(b"ab\ncd\n\nef")
    # A range starting right after a newline starts there; else after the next newline.
    assert [first_line_start(data, at) for at in range(0, 10)] == [0, 3, 3, 3, 6, 6, 6, 7, 9, 9]
    # Line numbers stay absolute: one newline before byte 4, and the one at 5 is skipped,
    # so the range's first line (at 6, the blank one) is line 3.
    part = LineRange(data, ByteRange(1, 2, 9, lines_before=1))  # nominal start 4
    assert (part.position, part.first_number, part.end) == (6, 3, 9)


def test_a_bad_split_size_in_the_registry_is_one_line_naming_the_key(tmp_path):
    from spark_jobs.config_files import ConfigError
    from spark_jobs.sources import load_sources

    registry = tmp_path / "sources.yaml"
    registry.write_text(
        "sources:\n  crawl:\n    corpus: web\n    format: warc\n    location: /data\n"
        "    license: CC-BY-4.0\n    options: {split_bytes: lots}\n"
    )
    with pytest.raises(ConfigError, match=r"split_bytes.*not a size in bytes"):
        load_sources(registry, landing_uri=str(tmp_path))
    registry.write_text(registry.read_text().replace("lots", "64m"))
    assert (
        load_sources(registry, landing_uri=str(tmp_path))["crawl"].options["split_bytes"] == "64m"
    )
