"""Hostile metadata dumps (JSONL, gzipped JSONL, Parquet) through the papers and licensed
readers, called directly: one bad record costs that record, never the records beside it, and
no record makes the reader spend more memory than the source's limits allow."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.papers.reader import PapersReader
from spark_jobs.sources import Source

RECORDS = 1000
BAD_AT = (0, RECORDS // 2, RECORDS - 1)  # start, middle, end
READERS = {
    "papers": (PapersReader, "paper_id"),
    "licensed": (LicensedReader, "doc_id"),
}
# Records that break today's reader, by what they break; papers read authors, licensed not.
DEEP = '{"id": "deep", "text": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
SURROGATE = json.dumps({"id": "surrogate", "title": "T", "text": "half a pair: \ud800"})
NUMBER_AUTHOR = json.dumps({"id": "number", "authors": [{"name": 5}], "text": "By a number."})
BAD_LINES = {
    "papers": [(NUMBER_AUTHOR, "malformed_record"), (DEEP, "too_deep"), (SURROGATE, "undecodable")],
    "licensed": [(SURROGATE, "undecodable"), (DEEP, "too_deep"), ('{"id": "cut', "malformed_json")],
}


def good_record(i: int) -> dict:
    return {
        "id": f"r{i}",
        "title": f"Record {i}",
        "authors": [{"name": "Ada Lovelace"}, {"given": "Alan", "family": "Turing"}],
        "abstract": "An abstract.",
        "text": f"The text of record {i}.",
        "license": "cc-by-4.0",
    }


def read(family: str, root: Path, relative: str, **limits) -> list[dict]:
    reader_class, _ = READERS[family]
    options = {"limits": limits} if limits else {}
    source = Source("hostile", family, str(root), "mixed", "CC-BY-4.0", options=options)
    fs = pafs.LocalFileSystem()
    return list(reader_class().read(fs, str(root / relative), relative, source))


def kept_ids(family: str, rows: list[dict]) -> list[str]:
    _, id_field = READERS[family]
    return [r[id_field] for r in rows if r.get("disposition", "kept") == "kept"]


def quarantined(rows: list[dict]) -> dict[str, str]:
    return {r["locator"]: r["reason"] for r in rows if r.get("disposition") == "quarantined"}


def jsonl_with_bad_lines(family: str) -> tuple[bytes, list[str]]:
    """A 1,000-line dump whose lines at BAD_AT are the family's bad records."""
    lines, good = [], []
    bad = dict(zip(BAD_AT, BAD_LINES[family], strict=True))
    for i in range(RECORDS):
        if i in bad:
            lines.append(bad[i][0])
        else:
            lines.append(json.dumps(good_record(i)))
            good.append(f"r{i}")
    return ("\n".join(lines) + "\n").encode(), good


def assert_arrow_can_hold(rows: list[dict]) -> None:
    """Every row converts to Arrow: a lone surrogate left in a string would fail here."""
    pa.Table.from_pylist([{k: v for k, v in r.items() if isinstance(v, str)} for r in rows])


@pytest.mark.parametrize("family", READERS)
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_each_bad_jsonl_record_is_quarantined_alone(tmp_path: Path, family: str, suffix) -> None:
    data, good = jsonl_with_bad_lines(family)
    (tmp_path / f"dump{suffix}").write_bytes(gzip.compress(data) if suffix.endswith("gz") else data)
    rows = read(family, tmp_path, f"dump{suffix}")
    assert len(rows) == RECORDS
    assert kept_ids(family, rows) == good
    assert quarantined(rows) == {
        f"dump{suffix}#line={i + 1}": reason
        for i, (_, reason) in zip(BAD_AT, BAD_LINES[family], strict=True)
    }
    for row in rows:
        if row.get("disposition") == "quarantined":
            assert row["detail"] and row["excerpt"], row["locator"]
    assert_arrow_can_hold(rows)


def test_a_conversion_error_names_the_record_and_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "dump.jsonl").write_text(NUMBER_AUTHOR + "\n" + json.dumps(good_record(1)) + "\n")
    bad, good = read("papers", tmp_path, "dump.jsonl")
    assert bad["locator"] == "dump.jsonl#line=1" and bad["reason"] == "malformed_record"
    assert "AttributeError" in bad["detail"] and b'"name": 5' in bad["excerpt"]
    assert good["paper_id"] == "r1" and good["authors"] == "Ada Lovelace; Alan Turing"


@pytest.mark.parametrize("family", READERS)
def test_a_line_over_the_limit_is_one_row_and_the_next_lines_are_read(tmp_path, family) -> None:
    long_line = json.dumps({"id": "long", "text": "w " * 3_000_000})  # ~6 MB
    lines = [json.dumps(good_record(0)), long_line, json.dumps(good_record(2))]
    (tmp_path / "dump.jsonl").write_text("\n".join(lines))  # no final newline
    rows = read(family, tmp_path, "dump.jsonl", max_line_bytes=2**20)
    assert kept_ids(family, rows) == ["r0", "r2"]
    [long_row] = [r for r in rows if r.get("disposition") == "quarantined"]
    assert long_row["locator"] == "dump.jsonl#line=2" and long_row["reason"] == "line_too_long"
    assert long_row["excerpt"].startswith(b'{"id": "long"')


def test_a_gzipped_dump_stops_at_the_decompression_limit(tmp_path: Path) -> None:
    lines = [json.dumps(good_record(i)) for i in range(3)] + [" " * (8 * 2**20)]
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    rows = read("papers", tmp_path, "bomb.jsonl.gz", max_decompressed_bytes=2**20)
    assert kept_ids("papers", rows) == ["r0", "r1", "r2"]
    [bomb] = [r for r in rows if r.get("disposition") == "quarantined"]
    assert bomb["reason"] == "decompression_bomb" and "3 records" in bomb["detail"]


def test_a_truncated_gzip_says_how_many_records_came_before(tmp_path: Path) -> None:
    data = "\n".join(json.dumps(good_record(i)) for i in range(50)).encode()
    compressor = zlib.compressobj(wbits=31)
    packed = compressor.compress(data) + compressor.flush()
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    rows = read("licensed", tmp_path, "cut.jsonl.gz")
    *kept, broken = rows
    assert broken["reason"] == "corrupt_archive" and f"{len(kept)} records" in broken["detail"]
    assert kept_ids("licensed", kept) == [f"r{i}" for i in range(len(kept))] and kept


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.jsonl.gz", "empty.parquet"])
def test_a_zero_byte_dump_is_one_quarantine_row(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    [row] = read("licensed", tmp_path, name)
    assert row["disposition"] == "quarantined" and row["reason"] == "empty_file"


# --- Parquet ---------------------------------------------------------------------------


def invalid_utf8(values: list[bytes]) -> pa.Array:
    """A string array holding the given bytes unvalidated, as a careless writer leaves it."""
    offsets = np.cumsum([0, *map(len, values)], dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(values))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def parquet_with_bad_rows(family: str, path: Path) -> tuple[list[str], dict[int, str]]:
    """1,000 rows: invalid UTF-8 at the start, an oversized text in the middle and at the end
    a record the family cannot convert (papers: an author named 5) or invalid UTF-8."""
    start, middle, end = BAD_AT
    records = [good_record(i) for i in range(RECORDS)]
    titles = [r["title"].encode() for r in records]
    titles[start] = b"caf\xe9"
    texts = [r["text"].encode() for r in records]
    texts[middle] = b"x" * 100_000
    names = [None] * RECORDS  # papers: list<struct<name: int64>>; most rows have no authors
    bad = {start: "undecodable", middle: "value_too_large"}
    if family == "papers":
        names[end] = [{"name": 5}]
        bad[end] = "malformed_record"
    else:
        texts[end] = b"\xff\xfe not UTF-8"
        bad[end] = "undecodable"
    table = pa.table(
        {
            "id": [r["id"] for r in records],
            "title": invalid_utf8(titles),
            "authors": pa.array(names, pa.list_(pa.struct([("name", pa.int64())]))),
            "text": invalid_utf8(texts),
        }
    )
    pq.write_table(table, path, row_group_size=300)
    return [f"r{i}" for i in range(RECORDS) if i not in bad], bad


@pytest.mark.parametrize("family", READERS)
def test_each_bad_parquet_row_is_quarantined_alone(tmp_path: Path, family: str) -> None:
    good, bad = parquet_with_bad_rows(family, tmp_path / "dump.parquet")
    rows = read(family, tmp_path, "dump.parquet", max_line_bytes=50_000)
    assert len(rows) == RECORDS
    assert kept_ids(family, rows) == good
    assert quarantined(rows) == {f"dump.parquet#row={i}": reason for i, reason in bad.items()}
    assert_arrow_can_hold(rows)


def test_a_huge_dictionary_value_is_not_expanded_row_by_row(tmp_path: Path) -> None:
    """A small file whose dictionary page holds one 16 MiB value that 200 rows point to: 3 GiB
    if decoded, so each of those rows is quarantined from its size, without decoding it."""
    value = "x" * (16 * 2**20)
    rows_in = 200
    indices = pa.array([0] * rows_in + [1, 2], pa.int32())
    text = pa.DictionaryArray.from_arrays(indices, pa.array([value, "Small 1.", "Small 2."]))
    table = pa.table({"id": [f"r{i}" for i in range(rows_in + 2)], "text": text})
    pq.write_table(table, tmp_path / "bomb.parquet", compression="zstd")
    assert (tmp_path / "bomb.parquet").stat().st_size < 64_000
    pool = pa.default_memory_pool()
    ceiling = max(pool.max_memory(), 160 * 2**20)
    rows = read("licensed", tmp_path, "bomb.parquet", max_line_bytes=2**20)
    assert pool.max_memory() <= ceiling  # ~16 MiB once, not 200 times
    assert kept_ids("licensed", rows) == [f"r{rows_in}", f"r{rows_in + 1}"]
    assert Counter(quarantined(rows).values()) == {"value_too_large": rows_in}


def test_a_parquet_file_stops_where_it_decodes_past_the_file_budget(tmp_path: Path) -> None:
    """Rows under the value limit, but 40 of them pointing at one 4 MiB value: 160 MiB from a
    few kB. The file's decoded bytes are charged against max_decompressed_bytes."""
    text = pa.DictionaryArray.from_arrays(pa.array([0] * 40, pa.int32()), pa.array(["z" * 2**22]))
    table = pa.table({"id": [f"r{i}" for i in range(40)], "text": text})
    pq.write_table(table, tmp_path / "amplified.parquet", compression="zstd")
    rows = read("licensed", tmp_path, "amplified.parquet", max_decompressed_bytes=18 * 2**20)
    *kept, stop = rows
    assert kept_ids("licensed", kept) == [f"r{i}" for i in range(len(kept))]
    assert 0 < len(kept) <= 4
    assert stop["reason"] == "decompression_bomb"
    assert stop["locator"] == f"amplified.parquet#rows={len(kept)}-39"


def test_a_row_group_over_the_budget_is_refused_from_the_footer(tmp_path: Path) -> None:
    texts = [f"Short {i}." for i in range(100)] + [f"{i} " + "y" * 20_000 for i in range(100)]
    table = pa.table({"id": [f"r{i}" for i in range(200)], "text": texts})
    pq.write_table(table, tmp_path / "groups.parquet", row_group_size=100)
    rows = read("licensed", tmp_path, "groups.parquet", max_decompressed_bytes=2**20)
    assert kept_ids("licensed", rows) == [f"r{i}" for i in range(100)]
    [group] = [r for r in rows if r.get("disposition") == "quarantined"]
    assert group["reason"] == "row_group_too_large"
    assert group["locator"] == "groups.parquet#rows=100-199" and "100 rows" in group["detail"]


def test_a_corrupt_footer_is_one_row_for_the_file(tmp_path: Path) -> None:
    table = pa.table({"id": ["r0", "r1"], "text": ["One.", "Two."]})
    pq.write_table(table, tmp_path / "whole.parquet")
    data = (tmp_path / "whole.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[:-12])
    [row] = read("papers", tmp_path, "cut.parquet")
    assert row["reason"] == "corrupt_parquet" and "0 rows" in row["detail"]
