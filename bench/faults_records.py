"""Fault cases for record readers: hostile dumps (JSONL, gzipped JSONL, Parquet) for the papers
and licensed families, hostile plain-text books and hostile WARC files, each beside good records.

    python -m bench.faults_records              # all cases, printed as a table
    python -m bench.faults_records --keep DIR   # write the files under DIR and leave them there

`cases(workdir)` returns one dict per case (group "records"): attack, expected, observed (rows
counted by disposition/reason), ok, seconds, peak_rss_mb, records_in (records the file really
holds, good and bad), records_out (rows the reader produced). A case is ok when every good
record is kept (once) and every bad record, or the container row standing for several, is
there with its expected reason, and nothing else is.

Each case is read by the family's own `read(fs, path, relative, source)` in a fresh spawned
child process: `seconds` is the read alone, `peak_rss_mb` is the child's peak resident memory
(VmHWM in /proc/self/status; getrusage's ru_maxrss is no use here, as Linux carries the
parent's peak at fork into it), and `base_rss_mb` the same figure just before the read (the
interpreter plus pyarrow, pyspark's Python modules and the reader). Limits are the
defaults (spark_jobs.untrusted.ReadLimits) unless a case names one in `options`. The 200 MB
lines and the oversized book are sparse files, so they take no disk; each case's files are
deleted once read.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import shutil
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GROUP = "records"
RECORDS = 1000
BAD_AT = (0, RECORDS // 2, RECORDS - 1)  # start, middle, end
CASE_TIMEOUT_S = 300.0
MiB = 2**20
ID_FIELDS = {"papers": "paper_id", "licensed": "doc_id", "web": "url"}


@dataclass
class Case:
    """A hostile file, what a right reading of it is, and how to write it."""

    attack: str
    family: str  # papers | licensed | web
    relative: str
    expected: str
    write: Callable[[Path], tuple[list[str], dict[str, tuple[str, int]]]]
    options: dict = field(default_factory=dict)
    # write() returns (good ids, {locator: (reason, records it stands for)}).


# ---------------------------------------------------------------------------------------
# Dumps
# ---------------------------------------------------------------------------------------

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
        "text": f"The text of record {i}. " * 5,
        "license": "cc-by-4.0",
    }


def jsonl_case(family: str, gzipped: bool) -> Case:
    relative = "dump.jsonl.gz" if gzipped else "dump.jsonl"
    kinds = ", ".join(
        f"line {i + 1} {r}" for i, (_, r) in zip(BAD_AT, BAD_LINES[family], strict=True)
    )

    def write(path: Path):
        bad = dict(zip(BAD_AT, BAD_LINES[family], strict=True))
        lines = [bad[i][0] if i in bad else json.dumps(good_record(i)) for i in range(RECORDS)]
        data = ("\n".join(lines) + "\n").encode()
        path.write_bytes(gzip.compress(data) if gzipped else data)
        good = [f"r{i}" for i in range(RECORDS) if i not in bad]
        return good, {f"{relative}#line={i + 1}": (r, 1) for i, (_, r) in bad.items()}

    attack = f"{family} {relative}: bad records at start/middle/end"
    return Case(attack, family, relative, f"{RECORDS - 3} kept; {kinds}", write)


def invalid_utf8(values: list[bytes]):
    import numpy as np
    import pyarrow as pa

    offsets = np.cumsum([0, *map(len, values)], dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(values))]
    return pa.Array.from_buffers(pa.large_string(), len(values), buffers)


def parquet_case(family: str) -> Case:
    start, middle, end = BAD_AT
    last = "malformed_record (an author named 5)" if family == "papers" else "undecodable"
    expected = (
        f"{RECORDS - 3} kept; row {start} undecodable, row {middle} value_too_large "
        f"(a 65 MiB text), row {end} {last.split()[0]}"
    )

    def write(path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        titles = [f"Record {i}".encode() for i in range(RECORDS)]
        texts = [f"The text of record {i}.".encode() for i in range(RECORDS)]
        names = [None] * RECORDS
        titles[start] = b"caf\xe9"
        texts[middle] = b"x" * (65 * MiB)
        bad = {start: "undecodable", middle: "value_too_large"}
        if family == "papers":
            names[end] = [{"name": 5}]
            bad[end] = "malformed_record"
        else:
            texts[end] = b"\xff\xfe not UTF-8"
            bad[end] = "undecodable"
        table = pa.table(
            {
                "id": [f"r{i}" for i in range(RECORDS)],
                "title": invalid_utf8(titles),
                "authors": pa.array(names, pa.list_(pa.struct([("name", pa.int64())]))),
                "text": invalid_utf8(texts),
            }
        )
        pq.write_table(table, path, compression="zstd", row_group_size=300)
        good = [f"r{i}" for i in range(RECORDS) if i not in bad]
        return good, {f"dump.parquet#row={i}": (r, 1) for i, r in bad.items()}

    attack = f"{family} dump.parquet: bad rows at start/middle/end"
    return Case(attack, family, "dump.parquet", expected, write)


def long_line_case() -> Case:
    def write(path: Path):
        with path.open("wb") as out:
            out.write((json.dumps(good_record(0)) + "\n").encode())
            out.seek(200 * MiB, 1)  # a 200 MB line of NUL bytes, sparse on disk
            out.write(b"\n" + (json.dumps(good_record(2)) + "\n").encode())
        return ["r0", "r2"], {"long.jsonl#line=2": ("line_too_long", 1)}

    expected = "2 kept; line 2 line_too_long (skipped as it streams, never held)"
    return Case("papers long.jsonl: one 200 MB line", "papers", "long.jsonl", expected, write)


def zeros_gzip(size: int) -> bytes:
    """One gzip member holding `size` zero bytes (about a thousandth of that compressed)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    block = bytes(16 * MiB)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


def jsonl_bomb_case(bomb: bytes) -> Case:
    def write(path: Path):
        lines = "".join(json.dumps(good_record(i)) + "\n" for i in range(10))
        path.write_bytes(gzip.compress(lines.encode()) + bomb)
        return [f"r{i}" for i in range(10)], {
            "bomb.jsonl.gz#decompression_bomb": ("decompression_bomb", 1)
        }

    expected = "10 kept; then decompression_bomb at 1 GiB (the rest of the file is the bomb)"
    attack = "licensed bomb.jsonl.gz: 10 records, then 1.25 GiB of zeros"
    return Case(attack, "licensed", "bomb.jsonl.gz", expected, write)


def dictionary_bomb_case() -> Case:
    rows = 110

    def write(path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        value = "x" * (64 * MiB)
        indices = pa.array([1, 2] + [0] * rows + [3], pa.int32())
        dictionary = pa.array([value, "Good one.", "Good two.", "Good three."])
        table = pa.table(
            {
                "id": [f"r{i}" for i in range(rows + 3)],
                "text": pa.DictionaryArray.from_arrays(indices, dictionary),
            }
        )
        pq.write_table(table, path, compression="zstd")
        bad = {f"dictbomb.parquet#row={i}": ("value_too_large", 1) for i in range(2, rows + 2)}
        return ["r0", "r1", f"r{rows + 2}"], bad

    expected = f"3 kept; {rows} rows value_too_large, found from the dictionary, none decoded"
    attack = f"licensed dictbomb.parquet: one 64 MiB dictionary value x {rows} rows (7 GB)"
    return Case(attack, "licensed", "dictbomb.parquet", expected, write)


def row_group_case() -> Case:
    def write(path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        texts = [f"Short {i}." for i in range(100)] + [f"{i} " + "y" * 60_000 for i in range(100)]
        table = pa.table({"id": [f"r{i}" for i in range(200)], "text": texts})
        pq.write_table(table, path, row_group_size=100, use_dictionary=False)
        return [f"r{i}" for i in range(100)], {
            "groups.parquet#rows=100-199": ("row_group_too_large", 100)
        }

    return Case(
        "licensed groups.parquet: a 6 MB row group, limit 4 MiB",
        "licensed",
        "groups.parquet",
        "100 kept; rows 100-199 row_group_too_large, from the footer",
        write,
        options={"limits": {"max_decompressed_bytes": 4 * MiB}},
    )


def corrupt_footer_case() -> Case:
    def write(path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({"id": [f"r{i}" for i in range(50)], "text": ["Some text."] * 50})
        pq.write_table(table, path)
        path.write_bytes(path.read_bytes()[:-10])
        return [], {"cut.parquet#corrupt_parquet": ("corrupt_parquet", 50)}

    expected = "one corrupt_parquet row for the file (0 rows read)"
    return Case("papers cut.parquet: footer cut off", "papers", "cut.parquet", expected, write)


# ---------------------------------------------------------------------------------------
# Books
# ---------------------------------------------------------------------------------------

BOOK = "A Tale of Two Files\n\nIt was the best of bytes, it was the worst of bytes. Ünïcödé\n" * 40


def book_case(attack: str, relative: str, expected: str, data: Callable[[], bytes], reason) -> Case:
    doc_id = relative.split(".")[0]

    def write(path: Path):
        path.write_bytes(data())
        return ([doc_id], {}) if reason is None else ([], {relative: (reason, 1)})

    return Case(attack, "licensed", relative, expected, write)


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 8000


def control_bytes() -> bytes:
    return bytes(range(0, 32)) * 500 + b"a few words of text"


def oversized_book_case() -> Case:
    def write(path: Path):
        with path.open("wb") as sparse:
            sparse.truncate(600 * MiB)  # over the 512 MiB default, nothing on disk
        return [], {"huge.txt": ("file_too_large", 1)}

    expected = "file_too_large from its size, nothing read"
    return Case("licensed huge.txt: a 600 MB book", "licensed", "huge.txt", expected, write)


def book_bomb_case(bomb: bytes) -> Case:
    def write(path: Path):
        path.write_bytes(bomb)
        return [], {"bomb.txt.gz": ("file_too_large", 1)}

    expected = "file_too_large once 512 MiB (max_file_bytes) are out"
    return Case(
        "licensed bomb.txt.gz: 1.3 MB -> 1.25 GiB", "licensed", "bomb.txt.gz", expected, write
    )


# ---------------------------------------------------------------------------------------
# WARC
# ---------------------------------------------------------------------------------------


def warc_record(
    number: int,
    *,
    body: bytes | None = None,
    http_headers: bytes = b"",
    warc_headers: bytes = b"",
    length: int | None = None,
) -> bytes:
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
        + b"WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
        + warc_headers
        + f"Content-Length: {len(block) if length is None else length}\r\n\r\n".encode()
    )
    return header + block + b"\r\n\r\n"


def url(number: int) -> str:
    return f"https://example.com/{number}"


def warc_case(
    attack: str,
    relative: str,
    expected: str,
    middle: Callable[[], bytes],
    reason: str,
    *,
    gzipped: bool,
    by_url: bool = False,
    packed: bool = False,
) -> Case:
    """Records 0 and 2 good, record 1 the attack (`packed`: already its gzip member);
    `by_url`: the attack's row is the page's own (a URL locator), not a corrupt stretch."""

    def write(path: Path):
        pack = (lambda b: gzip.compress(b, mtime=0)) if gzipped else (lambda b: b)
        first = pack(warc_record(0))
        with path.open("wb") as out:
            out.write(first)
            out.write(middle() if packed else pack(middle()))
            out.write(pack(warc_record(2)))
        locator = url(1) if by_url else f"{relative}#offset={len(first)}"
        return [url(0), url(2)], {locator: (reason, 1)}

    return Case(attack, "web", relative, expected, write)


_BOMB: list[bytes] = []  # the shared 1.25 GiB gzip member, made once


def warc_long_header_case() -> Case:
    def write(path: Path):
        first = warc_record(0)
        with path.open("wb") as out:
            out.write(first)
            out.write(b"WARC/1.0\r\nX-Junk: ")
            out.seek(200 * MiB, 1)  # sparse NUL bytes: one 200 MB header line
            out.write(b"\r\n\r\n" + warc_record(2))
        return [url(0), url(2)], {f"longline.warc#offset={len(first)}": ("bad_warc_header", 1)}

    expected = "2 kept; bad_warc_header, resynced at the next record, line never held"
    return Case("web longline.warc: a 200 MB header line", "web", "longline.warc", expected, write)


def empty_case(family: str, relative: str, reason: str, disposition_locator: str) -> Case:
    def write(path: Path):
        path.write_bytes(b"")
        return [], {disposition_locator: (reason, 0)}

    return Case(f"{family} {relative}: zero bytes", family, relative, f"one {reason} row", write)


def all_cases(bomb: bytes) -> list[Case]:
    return [
        jsonl_case("papers", gzipped=False),
        jsonl_case("papers", gzipped=True),
        parquet_case("papers"),
        jsonl_case("licensed", gzipped=False),
        jsonl_case("licensed", gzipped=True),
        parquet_case("licensed"),
        long_line_case(),
        jsonl_bomb_case(bomb),
        dictionary_bomb_case(),
        row_group_case(),
        corrupt_footer_case(),
        book_case(
            "licensed utf16.txt: UTF-16-LE with a BOM",
            "utf16.txt",
            "kept, decoded",
            lambda: b"\xff\xfe" + BOOK.encode("utf-16-le"),
            None,
        ),
        book_case(
            "licensed utf32.txt: UTF-32-BE with a BOM",
            "utf32.txt",
            "kept, decoded",
            lambda: b"\x00\x00\xfe\xff" + BOOK.encode("utf-32-be"),
            None,
        ),
        book_case("licensed elf.txt: an ELF binary", "elf.txt", "binary", elf_bytes, "binary"),
        book_case(
            "licensed control.txt: UTF-8, mostly control bytes",
            "control.txt",
            "binary",
            control_bytes,
            "binary",
        ),
        oversized_book_case(),
        book_bomb_case(bomb),
        warc_case(
            "web overrun.warc: Content-Length 10^12 mid-file",
            "overrun.warc",
            "2 kept; content_length_mismatch, the record after it read",
            lambda: warc_record(1, length=10**12),
            "content_length_mismatch",
            gzipped=False,
        ),
        warc_case(
            "web overrun.warc.gz: Content-Length past its member",
            "overrun.warc.gz",
            "2 kept; content_length_mismatch, the next member read",
            lambda: warc_record(1, length=5000),
            "content_length_mismatch",
            gzipped=True,
        ),
        warc_case(
            "web bomb.warc.gz: a member of 1.25 GiB zeros",
            "bomb.warc.gz",
            "2 kept; decompression_bomb at 1 GiB, the next member read",
            lambda: _BOMB[0],
            "decompression_bomb",
            gzipped=True,
            packed=True,
        ),
        warc_case(
            "web body.warc.gz: HTTP body gzip, 1.3 MB -> 1.25 GiB",
            "body.warc.gz",
            "2 kept; the page oversized (decoded only to 4 MiB)",
            lambda: warc_record(1, body=_BOMB[0], http_headers=b"Content-Encoding: gzip\r\n"),
            "oversized",
            gzipped=True,
            by_url=True,
        ),
        warc_long_header_case(),
        warc_case(
            "web badutf8.warc: invalid UTF-8 in a WARC header",
            "badutf8.warc",
            "2 kept; bad_warc_header",
            lambda: warc_record(1, warc_headers=b"WARC-Filename: caf\xe9.warc\r\n"),
            "bad_warc_header",
            gzipped=False,
        ),
        Case(
            "web latin1.warc.gz: Latin-1 bytes in an HTTP header",
            "web",
            "latin1.warc.gz",
            "3 kept (HTTP field values may be ISO-8859-1)",
            lambda path: _write_latin1_warc(path),
        ),
        empty_case("web", "empty.warc.gz", "empty_file", "empty.warc.gz#offset=0"),
        empty_case("papers", "empty.jsonl.gz", "empty_file", "empty.jsonl.gz"),
        empty_case("licensed", "empty.parquet", "empty_file", "empty.parquet"),
        book_case("licensed empty.txt: zero bytes", "empty.txt", "empty_text", bytes, "empty_text"),
    ]


def _write_latin1_warc(path: Path):
    records = [
        warc_record(0),
        warc_record(1, http_headers=b"Content-Disposition: inline; filename=caf\xe9\r\n"),
        warc_record(2),
    ]
    path.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in records))
    return [url(0), url(1), url(2)], {}


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------


def peak_rss_kb() -> int:
    """This process's peak resident memory in KiB (since exec, unlike ru_maxrss)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _read_in_child(connection, family: str, path: str, relative: str, options: dict) -> None:
    """In the spawned child: read one file with the family's reader; send back its rows."""
    import pyarrow.fs as pafs

    from spark_jobs.sources import Source

    if family == "papers":
        from spark_jobs.papers.reader import PapersReader as Reader
    elif family == "licensed":
        from spark_jobs.licensed.reader import LicensedReader as Reader
    else:
        from spark_jobs.web.ingest import WarcReader as Reader
    source = Source("faults", family, str(Path(path).parent), "mixed", "CC-BY-4.0", options=options)
    base = peak_rss_kb()
    started = time.monotonic()
    rows = []
    try:
        for row in Reader().read(pafs.LocalFileSystem(), path, relative, source):
            rows.append(
                (
                    row["locator"],
                    row.get("disposition") or "kept",
                    row.get("reason"),
                    row.get(ID_FIELDS[family]),
                )
            )
        error = None
    except Exception as exc:  # the reader raised: ingest would quarantine the rest
        error = f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.monotonic() - started
    peak = peak_rss_kb()
    connection.send({"rows": rows, "error": error, "seconds": seconds, "peak": peak, "base": base})
    connection.close()


def _run_child(case: Case, path: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_read_in_child, args=(send, case.family, str(path), case.relative, case.options)
    )
    child.start()
    send.close()
    try:
        if not receive.poll(CASE_TIMEOUT_S):
            raise TimeoutError(f"no answer within {CASE_TIMEOUT_S:.0f} s")
        return receive.recv()
    except EOFError:
        return {"error": f"child died (exit code {child.join(5) or child.exitcode})"}
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def check(good: list[str], bad: dict[str, tuple[str, int]], rows: list[tuple]) -> list[str]:
    """What is wrong with the rows (empty: nothing)."""
    problems = []
    kept = [identifier for _, disposition, _, identifier in rows if disposition == "kept"]
    if Counter(kept) != Counter(good):
        lost = sorted(set(good) - set(kept))
        extra = sorted(set(kept) - set(good))
        problems.append(f"kept {len(kept)} of {len(good)} good; lost {lost[:3]} extra {extra[:3]}")
    others = {locator: reason for locator, disposition, reason, _ in rows if disposition != "kept"}
    for locator, (reason, _) in bad.items():
        if others.get(locator) != reason:
            problems.append(f"{locator}: {others.get(locator)!r}, not {reason}")
    unexpected = sorted(set(others) - set(bad))
    if unexpected:
        problems.append(f"unexpected rows {unexpected[:3]}")
    return problems


def run_case(case: Case, workdir: Path) -> dict[str, Any]:
    folder = workdir / case.relative.replace(".", "_")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / case.relative
    try:
        good, bad = case.write(path)
        outcome = _run_child(case, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = outcome.get("rows", [])
    problems = check(good, bad, rows)
    if outcome.get("error"):
        problems.insert(0, f"reader raised {outcome['error']}")
    counted = Counter(
        disposition if disposition == "kept" else f"{disposition}/{reason}"
        for _, disposition, reason, _ in rows
    )
    return {
        "group": GROUP,
        "attack": case.attack,
        "expected": case.expected,
        "observed": ", ".join(f"{name} {n}" for name, n in counted.most_common()) or "no rows",
        "ok": not problems,
        "problems": problems,
        "seconds": round(outcome.get("seconds", float("nan")), 2),
        "peak_rss_mb": round(outcome.get("peak", 0) / 1024, 1),
        "base_rss_mb": round(outcome.get("base", 0) / 1024, 1),
        "records_in": len(good) + sum(count for _, count in bad.values()),
        "records_out": len(rows),
    }


def cases(workdir: Path) -> list[dict[str, Any]]:
    """Write each hostile file under workdir, read it in a child, and report one dict each."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if not _BOMB:
        _BOMB.append(zeros_gzip(1280 * MiB))
    results = []
    for case in all_cases(_BOMB[0]):
        try:
            results.append(run_case(case, workdir))
        except Exception as error:  # a harness failure is a failed case, not a crash
            results.append(
                {
                    "group": GROUP,
                    "attack": case.attack,
                    "expected": case.expected,
                    "observed": f"harness error: {error!r}"[:300],
                    "ok": False,
                    "seconds": 0.0,
                    "peak_rss_mb": 0.0,
                    "records_in": 0,
                    "records_out": 0,
                }
            )
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    header = f"{'ok':<3} {'attack':<58} {'in':>5} {'out':>5} {'s':>6} {'rss MB':>7}  observed"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{'ok' if r['ok'] else 'NO':<3} {r['attack'][:58]:<58} {r['records_in']:>5} "
            f"{r['records_out']:>5} {r['seconds']:>6.2f} {r['peak_rss_mb']:>7.0f}  {r['observed']}"
        )
        for problem in r.get("problems", []):
            print(f"      ! {problem}")
    base = [r["base_rss_mb"] for r in results if r.get("base_rss_mb")]
    if base:
        print(f"(child RSS before reading: {min(base):.0f}-{max(base):.0f} MB)")
    print(f"{sum(r['ok'] for r in results)}/{len(results)} cases ok")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(
        prog="bench.faults_records", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--keep", type=Path, help="write the files under this directory")
    args = parser.parse_args(argv)
    if args.keep:
        results = cases(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="faults-records-") as scratch:
            results = cases(Path(scratch))
    print_table(results)
    return {
        "cases ok": sum(r["ok"] for r in results),
        "cases": len(results),
        "max peak rss MB": max(r["peak_rss_mb"] for r in results),
    }


if __name__ == "__main__":
    main()
