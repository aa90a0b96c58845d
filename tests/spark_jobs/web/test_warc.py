"""The WARC reader against warcio on clean files, and its recovery from damaged ones."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from warcio.archiveiterator import ArchiveIterator

from spark_jobs.samples.web import WebSampleManifest, generate_web_sample
from spark_jobs.web.warc import CorruptRecord, WarcRecord, iter_warc_records

LIMIT = 8 * 2**20


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WebSampleManifest]:
    out = tmp_path_factory.mktemp("warc-sample")
    return out, generate_web_sample(out, pages=40, files=4, seed=3)


@pytest.fixture(scope="module")
def clean_file(sample: tuple[Path, WebSampleManifest]) -> bytes:
    out, manifest = sample
    name = next(name for name in manifest.files if name not in manifest.damaged_files)
    return (out / name).read_bytes()


def read(data: bytes, max_record_bytes: int = LIMIT) -> list[WarcRecord | CorruptRecord]:
    return list(iter_warc_records(io.BytesIO(data), max_record_bytes=max_record_bytes))


def summary(item: WarcRecord | CorruptRecord) -> tuple:
    if isinstance(item, CorruptRecord):
        return ("corrupt", item.reason, item.offset)
    return (item.warc_type, item.record_id, item.target_uri, item.http_status, item.payload)


def member_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each gzip member, from the reader's offsets (one record per member)."""
    starts = [record.offset for record in read(data)]
    return list(zip(starts, [*starts[1:], len(data)], strict=True))


def test_clean_file_reads_like_warcio(clean_file: bytes) -> None:
    ours = read(clean_file)
    theirs = []
    iterator = ArchiveIterator(io.BytesIO(clean_file))
    for record in iterator:
        status = record.http_headers.get_statuscode() if record.rec_type == "response" else None
        body = record.raw_stream.read()
        theirs.append(
            (
                iterator.get_record_offset(),
                record.rec_type,
                record.rec_headers.get_header("WARC-Record-ID"),
                record.rec_headers.get_header("WARC-Target-URI"),
                int(status) if status else None,
                record.rec_headers.get_header("WARC-Date"),
                body if record.rec_type in ("response", "warcinfo") else None,
            )
        )
    assert all(isinstance(item, WarcRecord) for item in ours)
    assert [
        (
            r.offset,
            r.warc_type,
            r.record_id,
            r.target_uri,
            r.http_status,
            r.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            r.payload if r.warc_type in ("response", "warcinfo") else None,
        )
        for r in ours
    ] == theirs
    response = next(r for r in ours if r.warc_type == "response")
    assert response.http_header("content-type").startswith("text/html")
    assert response.date.tzinfo is not None


def test_garbled_member_is_one_corrupt_record_and_the_rest_still_reads(clean_file: bytes) -> None:
    spans = member_spans(clean_file)
    start, end = spans[len(spans) // 2]
    damaged = bytearray(clean_file)
    for i in range((start + end) // 2, (start + end) // 2 + 16):
        damaged[i] ^= 0x5A
    expected = [summary(item) for item in read(clean_file)]
    expected[len(spans) // 2] = ("corrupt", "gzip_corrupt", start)
    items = read(bytes(damaged))
    assert [summary(item) for item in items] == expected
    corrupt = items[len(spans) // 2]
    assert corrupt.excerpt.startswith(b"WARC/1.0\r\n")  # salvaged from before the damage


def test_truncated_last_record(clean_file: bytes) -> None:
    start, end = member_spans(clean_file)[-1]
    items = read(clean_file[: (start + end) // 2])
    assert [summary(item) for item in items] == [
        *[summary(item) for item in read(clean_file)][:-1],
        ("corrupt", "truncated", start),
    ]


def test_bytes_between_members_are_reported_once(clean_file: bytes) -> None:
    start, _ = member_spans(clean_file)[3]
    junk = b"this is not gzip \x1f\x8b but looks a bit like it" * 3
    items = read(clean_file[:start] + junk + clean_file[start:])
    corrupt = [item for item in items if isinstance(item, CorruptRecord)]
    assert [(c.reason, c.offset) for c in corrupt] == [("gzip_corrupt", start)]
    assert [summary(i) for i in items if isinstance(i, WarcRecord)] == [
        summary(i) for i in read(clean_file)
    ]


def test_plain_warc_reads_like_warcio(clean_file: bytes) -> None:
    plain = gzip.decompress(clean_file)
    ours = read(plain)
    offsets = [it_offset for it_offset, _ in _warcio_offsets(plain)]
    assert [r.offset for r in ours] == offsets
    assert [summary(r)[:4] for r in ours] == [summary(r)[:4] for r in read(clean_file)]
    assert [r.payload for r in ours] == [r.payload for r in read(clean_file)]


def test_one_gzip_stream_of_many_records(clean_file: bytes) -> None:
    plain = gzip.decompress(clean_file)
    items = read(gzip.compress(plain, mtime=0))
    assert [summary(i) for i in items] == [summary(i) for i in read(clean_file)]
    assert {i.offset for i in items} == {0}
    assert [i.offset_in_member for i in items] == [r.offset for r in read(plain)]


def test_bad_header_in_plain_warc_resyncs_at_next_record(clean_file: bytes) -> None:
    plain = gzip.decompress(clean_file)
    records = read(plain)
    victim = records[4]
    header_end = plain.index(b"\r\n\r\n", victim.offset)
    line = plain.rindex(b"Content-Length: ", victim.offset, header_end)
    damaged = plain[:line] + b"Content-Length: 12x4" + plain[plain.index(b"\r\n", line) :]
    items = read(damaged)
    assert [summary(i) for i in items] == [
        *[summary(r) for r in records[:4]],
        ("corrupt", "bad_warc_header", victim.offset),
        *[summary(r) for r in records[5:]],
    ]
    assert "12x4" in items[4].detail


@pytest.mark.parametrize("delta", [+25, -25])
def test_wrong_content_length_loses_only_that_record(clean_file: bytes, delta: int) -> None:
    plain = gzip.decompress(clean_file)
    records = read(plain)
    victim = records[6]
    header_end = plain.index(b"\r\n\r\n", victim.offset)
    line = plain.rindex(b"Content-Length: ", victim.offset, header_end)
    line_end = plain.index(b"\r\n", line)
    length = int(plain[line + len(b"Content-Length: ") : line_end])
    damaged = plain[:line] + f"Content-Length: {length + delta}".encode() + plain[line_end:]
    items = read(damaged)
    corrupt = [i for i in items if isinstance(i, CorruptRecord)]
    assert [(c.reason, c.offset) for c in corrupt] == [("content_length_mismatch", victim.offset)]
    assert [summary(i) for i in items if isinstance(i, WarcRecord)] == [
        summary(r) for r in records if r is not victim
    ]


def test_records_over_the_limit_are_reported_and_skipped(clean_file: bytes) -> None:
    records = read(clean_file)
    limit = 4000
    items = read(clean_file, max_record_bytes=limit)
    big = {r.offset for r in records if len(r.payload) > limit}
    assert big
    assert {i.offset for i in items if isinstance(i, CorruptRecord)} == big
    assert {i.reason for i in items if isinstance(i, CorruptRecord)} == {"oversized"}
    assert len(items) == len(records)


def test_random_damage_never_raises(clean_file: bytes) -> None:
    rng = random.Random(7)
    for _ in range(40):
        damaged = bytearray(clean_file[:30000])
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(damaged))
            damaged[i : i + rng.randint(1, 40)] = rng.randbytes(rng.randint(0, 40))
        items = read(bytes(damaged))
        assert all(isinstance(i, WarcRecord | CorruptRecord) for i in items)
        assert any(isinstance(i, WarcRecord) for i in items)


def _warcio_offsets(data: bytes) -> list[tuple[int, str]]:
    iterator = ArchiveIterator(io.BytesIO(data))
    return [(iterator.get_record_offset(), record.rec_type) for record in iterator]


# --- Hostile files ---------------------------------------------------------------------


def warc_record(
    number: int,
    *,
    body: bytes | None = None,
    http_headers: bytes = b"",
    warc_headers: bytes = b"",
    length: int | None = None,
) -> bytes:
    """One WARC response record for https://example.com/<number>."""
    body = body if body is not None else f"<html><p>Page {number} text.</p></html>".encode()
    block = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + http_headers
        + b"\r\n"
        + body
    )
    header = (
        b"WARC/1.0\r\nWARC-Type: response\r\n"
        + f"WARC-Record-ID: <urn:uuid:{number:08d}>\r\n".encode()
        + f"WARC-Target-URI: https://example.com/{number}\r\n".encode()
        + b"WARC-Date: 2024-01-01T00:00:00Z\r\n"
        + b"Content-Type: application/http; msgtype=response\r\n"
        + warc_headers
        + f"Content-Length: {len(block) if length is None else length}\r\n\r\n".encode()
    )
    return header + block + b"\r\n\r\n"


def uris(items: list[WarcRecord | CorruptRecord]) -> list[str]:
    return [i.target_uri for i in items if isinstance(i, WarcRecord)]


def corrupt(items: list[WarcRecord | CorruptRecord]) -> list[tuple[str, int]]:
    return [(i.reason, i.offset) for i in items if isinstance(i, CorruptRecord)]


def reader_rows(path: Path, **options) -> list[dict]:
    from spark_jobs.sources import Source
    from spark_jobs.web.ingest import WarcReader

    source = Source("web", "web", str(path.parent), "warc", "NOASSERTION", options=options)
    return list(WarcReader().read(pafs.LocalFileSystem(), str(path), path.name, source))


def test_a_content_length_past_the_end_of_the_file_loses_only_that_record(tmp_path) -> None:
    first, second = warc_record(0), warc_record(1, length=10**12)
    data = first + second + warc_record(2)
    items = list(iter_warc_records(io.BytesIO(data), max_record_bytes=LIMIT, file_size=len(data)))
    assert uris(items) == ["https://example.com/0", "https://example.com/2"]
    assert corrupt(items) == [("content_length_mismatch", len(first))]
    (tmp_path / "overrun.warc").write_bytes(data)
    rows = reader_rows(tmp_path / "overrun.warc")
    assert [r.get("reason") for r in rows] == [None, "content_length_mismatch", None]


def test_a_gzip_member_that_expands_past_the_limit_is_a_bomb(tmp_path: Path) -> None:
    bomb = gzip.compress(warc_record(1) + b"\0" * (32 * 2**20), mtime=0)
    members = [gzip.compress(warc_record(0), mtime=0), bomb, gzip.compress(warc_record(2), mtime=0)]
    data = b"".join(members)
    items = list(
        iter_warc_records(io.BytesIO(data), max_record_bytes=LIMIT, max_decompressed_bytes=2**20)
    )
    assert corrupt(items) == [("decompression_bomb", len(members[0]))]
    assert {"https://example.com/0", "https://example.com/2"} <= set(uris(items))
    (tmp_path / "bomb.warc.gz").write_bytes(data)
    rows = reader_rows(tmp_path / "bomb.warc.gz", limits={"max_decompressed_bytes": 2**20})
    assert "decompression_bomb" in [r.get("reason") for r in rows]


def test_an_http_body_gzip_bomb_is_quarantined_not_inflated(tmp_path: Path) -> None:
    body = gzip.compress(b"<html><p>" + b"a" * (64 * 2**20), mtime=0)  # 64 kB -> 64 MB
    record = warc_record(1, body=body, http_headers=b"Content-Encoding: gzip\r\n")
    (tmp_path / "body.warc.gz").write_bytes(
        b"".join(gzip.compress(r, mtime=0) for r in (warc_record(0), record, warc_record(2)))
    )
    rows = reader_rows(tmp_path / "body.warc.gz")
    assert [(r["url"], r.get("reason")) for r in rows] == [
        ("https://example.com/0", None),
        ("https://example.com/1", "oversized"),  # decoded only up to the payload limit
        ("https://example.com/2", None),
    ]


def test_a_huge_header_line_is_never_held_whole() -> None:
    import tracemalloc

    first = warc_record(0)
    junk = b"WARC/1.0\r\nX-Junk: " + b"a" * (24 * 2**20) + b"\r\n\r\n"
    data = first + junk + warc_record(2)
    tracemalloc.start()
    try:
        items = read(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uris(items) == ["https://example.com/0", "https://example.com/2"]
    assert corrupt(items) == [("bad_warc_header", len(first))]
    assert peak < len(data) + 8 * 2**20  # the input itself, plus a few buffers


def test_invalid_utf8_in_a_warc_header_quarantines_that_record() -> None:
    first = warc_record(0)
    bad = warc_record(1, warc_headers=b"WARC-Filename: caf\xe9.warc\r\n")
    items = read(first + bad + warc_record(2))
    assert uris(items) == ["https://example.com/0", "https://example.com/2"]
    [problem] = [i for i in items if isinstance(i, CorruptRecord)]
    assert (problem.reason, problem.offset) == ("bad_warc_header", len(first))
    assert "UTF-8" in problem.detail


def test_latin1_in_an_http_header_is_read_as_latin1(tmp_path: Path) -> None:
    # RFC 9110 lets field values hold ISO-8859-1 bytes: the page is kept, the value lossless.
    record = warc_record(1, http_headers=b"Content-Disposition: inline; filename=caf\xe9\r\n")
    items = read(warc_record(0) + record)
    assert [i.http_header("Content-Disposition") for i in items] == [
        None,
        "inline; filename=café",
    ]
    (tmp_path / "latin1.warc").write_bytes(warc_record(0) + record)
    assert [r.get("disposition", "kept") for r in reader_rows(tmp_path / "latin1.warc")] == [
        "kept",
        "kept",
    ]


@pytest.mark.parametrize("name", ["empty.warc.gz", "empty.warc"])
def test_a_zero_byte_warc_is_one_quarantine_row(tmp_path: Path, name: str) -> None:
    assert corrupt(read(b"")) == [("empty_file", 0)]
    (tmp_path / name).write_bytes(b"")
    [row] = reader_rows(tmp_path / name)
    assert row["disposition"] == "quarantined" and row["reason"] == "empty_file"
