"""A streaming WARC reader that survives bad bytes: corrupt gzip members, broken headers, wrong
lengths, truncation and decompression bombs become `CorruptRecord`s, and reading resumes at the
next record. Memory stays bounded whatever the file holds: headers are searched within
MAX_HEADER_BYTES, blocks over max_record_bytes are skipped as they stream by, and one gzip
member may decompress to at most max_decompressed_bytes."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
# A record starts at the beginning of a line with this; used to resync after damage.
WARC_LINE = b"\nWARC/1."
READ_CHUNK = 1 << 20
FEED_CHUNK = 1 << 15
# zlib may emit at most this much per step, so a zip bomb cannot balloon memory.
OUT_CHUNK = 1 << 18
MAX_HEADER_BYTES = 1 << 16
EXCERPT_BYTES = 256
PROBE_BYTES = 512  # of a candidate gzip member found while resyncing, test-decompressed
# Compressed bytes of the current gzip member kept so that, when it fails, the bytes after
# its start can be rescanned for the next member. Standard members (one record each) are
# far smaller; a file that is one gzip stream keeps only its last RESYNC_WINDOW bytes.
RESYNC_WINDOW = 1 << 26
# What one gzip member may decompress to unless the caller says (ReadLimits' default).
MAX_DECOMPRESSED_BYTES = 1 << 30

# Why a stretch of a WARC file could not be read as a record.
CORRUPT_REASONS = {
    "gzip_corrupt": "a gzip member fails to decompress (or bytes between members are not gzip)",
    "truncated": "the file ends inside a record or gzip member",
    "bad_warc_header": "the WARC header is malformed: version line, field syntax, "
    "missing WARC-Type or a non-numeric Content-Length",
    "content_length_mismatch": "the record's block does not end where Content-Length says",
    "oversized": "the record declares more bytes than max_record_bytes",
    "read_error": "the storage layer failed while the file was being read",
    "decompression_bomb": "a gzip member decompresses to over max_decompressed_bytes; the rest "
    "of that member is not read (for a file that is one gzip stream: the rest of the file)",
    "empty_file": "the file has no bytes at all (an upload that did not finish?)",
}

_VERSION_LINE = re.compile(rb"WARC/1\.\d+[ \t]*$")
_HTTP_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)?[ \t]+(\d{3})(?:[ \t]|$)")
_BLANK = re.compile(rb"[\r\n\t ]*")
_ASCII_SPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() strips; str.strip() strips more


Headers = tuple[tuple[str, str], ...]


def _lookup(headers: Headers, name: str, default: str | None) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return default


@dataclass(frozen=True, slots=True)
class WarcRecord:
    """One WARC record.

    `offset` is where to seek to read the record again: the byte offset of its gzip member
    in a .warc.gz (the Common Crawl convention), or of the record itself in a plain .warc.
    `offset_in_member` is non-zero only when a gzip member holds several records.
    For HTTP responses `payload` is the body after the HTTP headers, still in its
    transfer/content encoding; for other records it is the whole block.
    """

    offset: int
    warc_type: str
    record_id: str | None
    target_uri: str | None
    date: datetime | None
    headers: Headers
    http_status: int | None
    http_headers: Headers
    payload: bytes
    offset_in_member: int = 0

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first WARC header called `name` (case-insensitive)."""
        return _lookup(self.headers, name, default)

    def http_header(self, name: str, default: str | None = None) -> str | None:
        """The first HTTP header called `name` (case-insensitive)."""
        return _lookup(self.http_headers, name, default)


@dataclass(frozen=True, slots=True)
class CorruptRecord:
    """A stretch of the file that is not a readable record; `reason` is a CORRUPT_REASONS key."""

    offset: int
    reason: str
    detail: str
    excerpt: bytes
    offset_in_member: int = 0


def iter_warc_records(
    stream: BinaryIO,
    *,
    max_record_bytes: int,
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
    file_size: int | None = None,
    start_offset: int = 0,
    gzipped: bool | None = None,
) -> Iterator[WarcRecord | CorruptRecord]:
    """Read every record of a .warc.gz or .warc stream, in order, without ever raising on bad bytes.

    Compression is detected from the first bytes, not the file name. A .warc.gz may hold one
    gzip member per record (the standard) or be a single gzip stream of many records.
    `file_size`, when known, lets a plain file's record whose Content-Length runs past the
    end be reported without skipping the records after it.

    Reading from a record boundary inside a file (see `range_bounds`): `stream` is positioned
    there, `start_offset` says where that is (offsets stay the file's) and `gzipped` what the
    file's first bytes said.
    """
    source = _Input(stream, start_offset)
    head = source.peek(2)
    if not head:
        if source.read_error:
            detail = f"reading stopped before the first byte: {source.read_error}"
            yield CorruptRecord(start_offset, "read_error", detail, b"")
        elif not start_offset:
            detail = "the file is empty (0 bytes): an upload that did not finish? land it again"
            yield CorruptRecord(0, "empty_file", detail, b"")
        return
    gzipped = head == GZIP_MAGIC[:2] if gzipped is None else gzipped
    units: Iterator[_GzipMember | _PlainStream | CorruptRecord] = (
        _gzip_members(source, max_decompressed_bytes) if gzipped else iter([_PlainStream(source)])
    )
    for unit in units:
        if isinstance(unit, CorruptRecord):
            yield unit
            continue
        # Problems found while parsing a gzip member are held back: if the member then
        # fails its checksum, they are symptoms of that one failure and reported as one.
        pending: list[CorruptRecord] = []
        for item in _parse_unit(unit, max_record_bytes, file_size):
            if isinstance(item, WarcRecord):
                yield from pending
                pending.clear()
                yield item
            else:
                pending.append(item)
        unit.drain()
        if unit.error is None:
            yield from pending
        else:
            yield unit.failure(pending[0] if pending else None)


class _Input:
    """The raw stream, buffered, with absolute offsets; keeps bytes from `mark` on for rescans."""

    def __init__(self, stream: BinaryIO, start: int = 0) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._start = start  # absolute offset of _buf[0]
        self.pos = start
        self.mark = start
        self.eof = False
        self.read_error: str | None = None

    def _read_more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self._stream.read(READ_CHUNK)
        except Exception as exc:  # pyarrow, fsspec and sockets each raise their own types
            self.read_error = f"{type(exc).__name__}: {exc}"
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        drop = max(self.mark, self.pos - RESYNC_WINDOW) - self._start
        if drop > 0:
            del self._buf[:drop]
            self._start += drop
        self._buf += chunk
        return True

    def _available(self) -> int:
        return self._start + len(self._buf) - self.pos

    def peek(self, n: int) -> bytes:
        while self._available() < n and self._read_more():
            pass
        i = self.pos - self._start
        return bytes(self._buf[i : i + n])

    def take(self, n: int) -> bytes:
        if self._available() == 0:
            self._read_more()
        i = self.pos - self._start
        data = bytes(self._buf[i : i + n])
        self.pos += len(data)
        return data

    def bytes_at(self, offset: int, n: int) -> bytes:
        """Up to n bytes at an absolute offset, if still buffered."""
        i = offset - self._start
        return bytes(self._buf[i : i + n]) if i >= 0 else b""

    def seek(self, offset: int) -> None:
        self.pos = max(offset, self._start)

    def find(self, needle: bytes) -> bool:
        """Move to the next occurrence of needle at or after pos, or to the end of the stream."""
        while True:
            i = self._buf.find(needle, self.pos - self._start)
            if i >= 0:
                self.pos = self._start + i
                return True
            # The needle may straddle the next chunk: keep its length minus one.
            self.pos = max(self.pos, self._start + len(self._buf) - len(needle) + 1)
            self.mark = self.pos
            if not self._read_more():
                self.pos = self._start + len(self._buf)
                return False


class _GzipMember:
    """The decompressed bytes of one gzip member, produced on demand."""

    is_member = True

    def __init__(self, source: _Input, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> None:
        self.offset = source.pos
        self.error: tuple[str, str] | None = None
        self.produced = 0
        self.max_bytes = max_bytes
        self._source = source
        self._zlib = zlib.decompressobj(31)
        self._head = b""
        self._raw_head = b""
        self._done = False

    def pull(self) -> bytes | None:
        while not self._done:
            data = self._zlib.unconsumed_tail or self._source.take(FEED_CHUNK)
            if not data:
                if self._source.read_error:
                    self._fail("read_error", f"reading stopped: {self._source.read_error}")
                else:
                    self._fail(
                        "truncated",
                        f"the file ends inside the gzip member at byte {self.offset} "
                        f"after {self.produced} decompressed bytes",
                    )
                return None
            try:
                out = self._zlib.decompress(data, OUT_CHUNK)
            except zlib.error as exc:
                after = f" after {self.produced} bytes of output" if self.produced else ""
                self._fail(
                    "gzip_corrupt",
                    f"gzip member at byte {self.offset} does not decompress{after}: {exc}",
                )
                return None
            if self._zlib.eof:
                # Bytes after the member belong to the next one: hand them back.
                self._source.pos -= len(self._zlib.unused_data)
                self._done = True
            if out:
                if self.produced < EXCERPT_BYTES:
                    self._head = (self._head + out[:EXCERPT_BYTES])[:EXCERPT_BYTES]
                self.produced += len(out)
                if self.produced > self.max_bytes:
                    self._fail(
                        "decompression_bomb",
                        f"gzip member at byte {self.offset} decompresses to over "
                        f"{self.max_bytes} bytes (options.limits.max_decompressed_bytes)",
                    )
                    return None
                return out
        return None

    def _fail(self, reason: str, detail: str) -> None:
        self.error = (reason, detail)
        self._raw_head = self._source.bytes_at(self.offset, EXCERPT_BYTES)
        if not self._head:
            self._head = _salvage_head(self._source.bytes_at(self.offset, 1 << 20))
        self._done = True

    def drain(self) -> None:
        while self.pull() is not None:
            pass

    def failure(self, first_problem: CorruptRecord | None) -> CorruptRecord:
        assert self.error is not None
        reason, detail = self.error
        if first_problem is not None:  # a symptom of this failure: keep only where and what
            excerpt, inner = first_problem.excerpt, first_problem.offset_in_member
        else:
            excerpt, inner = self._head or self._raw_head, 0
        return CorruptRecord(self.offset, reason, detail, excerpt, inner)


class _PlainStream:
    """An uncompressed WARC file as one stream of records."""

    is_member = False

    def __init__(self, source: _Input) -> None:
        self.offset = source.pos  # where the stream starts in the file (a range's start)
        self.error: tuple[str, str] | None = None
        self.produced = 0
        self._source = source

    def pull(self) -> bytes | None:
        self._source.mark = self._source.pos  # nothing to rescan in a plain file
        data = self._source.take(READ_CHUNK)
        if not data:
            if self._source.read_error:
                self.error = ("read_error", f"reading stopped: {self._source.read_error}")
            return None
        self.produced += len(data)
        return data

    def drain(self) -> None:
        pass

    def failure(self, first_problem: CorruptRecord | None) -> CorruptRecord:
        assert self.error is not None
        reason, detail = self.error
        end = self.offset + self.produced
        offset = first_problem.offset if first_problem else end
        excerpt = first_problem.excerpt if first_problem else b""
        return CorruptRecord(offset, reason, f"{detail} at byte {end}", excerpt)


def _gzip_members(source: _Input, max_bytes: int) -> Iterator[_GzipMember | CorruptRecord]:
    resyncing = False  # true from a failure until a member decompresses cleanly
    while True:
        source.mark = source.pos
        head = source.peek(len(GZIP_MAGIC))
        if not head:
            return
        if head != GZIP_MAGIC:
            start, excerpt = source.pos, source.peek(EXCERPT_BYTES)
            source.find(GZIP_MAGIC)
            detail = f"{source.pos - start} bytes at byte {start} are not a gzip member"
            yield CorruptRecord(start, "gzip_corrupt", detail, excerpt)
            resyncing = True
            continue
        if resyncing and not _starts_member(source.peek(PROBE_BYTES)):
            # Bytes inside a damaged stretch (already reported) that only look like a gzip
            # header; a real member's first bytes decompress.
            source.seek(source.pos + 1)
            source.find(GZIP_MAGIC)
            continue
        member = _GzipMember(source, max_bytes)
        yield member
        member.drain()
        if member.error is None:
            resyncing = False
            continue
        resyncing = True
        source.seek(member.offset + 1)
        source.find(GZIP_MAGIC)


def _salvage_head(member: bytes) -> bytes:
    """The first decompressed bytes of a failed member, fed in small steps: zlib discards
    the output of a call that fails, which loses everything for a one-call member."""
    decompressor = zlib.decompressobj(31)
    head = b""
    for i in range(0, len(member), 64):
        try:
            head += decompressor.decompress(member[i : i + 64], EXCERPT_BYTES)
        except zlib.error:
            break
        if len(head) >= EXCERPT_BYTES or decompressor.eof:
            break
    return head[:EXCERPT_BYTES]


def _starts_member(probe: bytes) -> bool:
    try:
        zlib.decompressobj(31).decompress(probe, OUT_CHUNK)
    except zlib.error:
        return False
    return True


class _Window:
    """A unit's decompressed bytes from unit-relative offset `pos` on, pulled on demand."""

    def __init__(self, pull) -> None:
        self._pull = pull
        self.buf = bytearray()
        self.pos = 0
        self.ended = False

    def fill(self, n: int) -> bool:
        while len(self.buf) < n and not self.ended:
            chunk = self._pull()
            if chunk is None:
                self.ended = True
            else:
                self.buf += chunk
        return len(self.buf) >= n

    def consume(self, n: int) -> None:
        del self.buf[:n]
        self.pos += n

    def find(self, needle: bytes, limit: int) -> int:
        """Index of needle starting within the first `limit` bytes, or -1."""
        searched = 0
        while True:
            i = self.buf.find(needle, searched)
            if i >= 0:
                return i if i <= limit else -1
            if len(self.buf) > limit:
                return -1
            searched = max(0, len(self.buf) - len(needle) + 1)
            if not self.fill(len(self.buf) + 1):
                return -1

    def discard(self, n: int) -> int:
        """Drop up to n bytes without holding them all; returns how many there were."""
        dropped = 0
        while dropped < n and (self.buf or self.fill(1)):
            k = min(n - dropped, len(self.buf))
            self.consume(k)
            dropped += k
        return dropped

    def skip_blank(self) -> None:
        while True:
            n = _BLANK.match(self.buf).end()
            if n:
                self.consume(n)
            if self.buf or not self.fill(1):
                return

    def resync(self) -> None:
        """Skip to the next line that starts a WARC record (past the current byte)."""
        self.consume(min(1, len(self.buf)))
        while True:
            i = self.buf.find(WARC_LINE)
            if i >= 0:
                self.consume(i + 1)
                return
            keep = len(WARC_LINE) - 1
            if len(self.buf) > keep:
                self.consume(len(self.buf) - keep)
            if not self.fill(len(self.buf) + 1):
                self.consume(len(self.buf))
                return


def _parse_unit(
    unit: _GzipMember | _PlainStream, max_record_bytes: int, file_size: int | None = None
) -> Iterator[WarcRecord | CorruptRecord]:
    data = _Window(unit.pull)

    def problem(start: int, reason: str, detail: str, excerpt: bytes) -> CorruptRecord:
        if unit.is_member:
            return CorruptRecord(unit.offset, reason, detail, excerpt, start)
        return CorruptRecord(unit.offset + start, reason, detail, excerpt)

    while True:
        data.skip_blank()
        if not data.buf:
            return
        start = data.pos
        data.fill(EXCERPT_BYTES)
        excerpt = bytes(data.buf[:EXCERPT_BYTES])
        header_end = data.find(b"\r\n\r\n", MAX_HEADER_BYTES)
        if header_end < 0:
            if data.ended and len(data.buf) <= MAX_HEADER_BYTES:
                where = "its gzip member" if unit.is_member else "the file"
                reason = "bad_warc_header" if unit.is_member else "truncated"
                detail = f"{where} ends inside a WARC header"
            else:
                reason = "bad_warc_header"
                detail = f"no end of WARC header within {MAX_HEADER_BYTES} bytes"
            yield problem(start, reason, detail, excerpt)
            data.resync()
            continue
        parsed = _parse_warc_header(bytes(data.buf[:header_end]))
        if isinstance(parsed, str):
            yield problem(start, "bad_warc_header", parsed, excerpt)
            data.resync()
            continue
        headers, length = parsed
        block_start = header_end + 4
        block_end = block_start + length
        left = (
            None
            if unit.is_member or file_size is None
            else file_size - unit.offset - start - block_start
        )
        if length > max_record_bytes and left is not None and length > left:
            # A plain file's Content-Length that runs past its end is wrong, not oversized:
            # skipping it would skip every record after it, so resync at the next one.
            detail = f"Content-Length is {length} but the file has {left} bytes after the header"
            yield problem(start, "content_length_mismatch", detail, excerpt)
            data.resync()
            continue
        if length > max_record_bytes:
            data.consume(block_start)
            skipped = data.discard(length)
            detail = f"record declares {length} bytes, over the {max_record_bytes}-byte limit"
            if skipped < length:
                detail += f"; only {skipped} bytes follow"
            yield problem(start, "oversized", detail, excerpt)
            continue
        if not data.fill(block_end):
            got = len(data.buf) - block_start
            if unit.is_member:
                reason = "content_length_mismatch"
                detail = f"Content-Length is {length} but the gzip member ends after {got} bytes"
            else:
                reason = "truncated"
                detail = f"the file ends {got} bytes into a record that declares {length}"
            yield problem(start, reason, detail, excerpt)
            data.resync()
            continue
        data.fill(block_end + 4)
        trailer_ok = data.buf[block_end : block_end + 4] == b"\r\n\r\n" or (
            data.ended and not data.buf[block_end:].strip(b"\r\n\t ")
        )
        if not trailer_ok:
            detail = f"the {length}-byte block (Content-Length) is not followed by CRLF CRLF"
            yield problem(start, "content_length_mismatch", detail, excerpt)
            data.resync()
            continue
        block = bytes(data.buf[block_start:block_end])
        data.consume(block_end)
        data.skip_blank()
        if not data.buf and unit.error is not None:
            # The member failed right after this record (a bad checksum or a cut-off
            # trailer): its bytes are unverified, and the failure is reported instead.
            return
        yield _record(unit, start, headers, block)


def _parse_warc_header(raw: bytes) -> tuple[Headers, int] | str:
    """(headers, Content-Length), or what is wrong with the header."""
    lines = raw.split(b"\r\n")
    if not _VERSION_LINE.match(lines[0]):
        return f"first line {lines[0][:40]!r} is not a WARC/1.x version line"
    fields: list[tuple[str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            # WARC headers are UTF-8; replacing bad bytes would make two URIs one record id.
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"header line {number} is not UTF-8 (byte {exc.start}): {line[:60]!r}"
        if text[:1] in (" ", "\t") and fields:  # a folded continuation line
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {text.strip(_ASCII_SPACE)}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip(_ASCII_SPACE):
            return f"header line {number} is not 'Name: value': {line[:60]!r}"
        fields.append((name, value.strip(_ASCII_SPACE)))
    headers = tuple(fields)
    length = _lookup(headers, "Content-Length", None)
    if length is None:
        return "no Content-Length header"
    if not (length.isascii() and length.isdigit()):
        return f"Content-Length {length[:40]!r} is not a number"
    if not _lookup(headers, "WARC-Type", None):
        return "no WARC-Type header"
    return headers, int(length)


def _record(
    unit: _GzipMember | _PlainStream, start: int, headers: Headers, block: bytes
) -> WarcRecord:
    warc_type = _lookup(headers, "WARC-Type", "") or ""
    target_uri = _lookup(headers, "WARC-Target-URI", None)
    http_status, http_headers, payload = None, (), block
    content_type = (_lookup(headers, "Content-Type", "") or "").lower()
    is_http = content_type.startswith("application/http") or (target_uri or "").startswith("http")
    if warc_type == "response" and is_http:
        parsed = _parse_http(block)
        if parsed is not None:
            http_status, http_headers, payload = parsed
    offset, inner = (unit.offset, start) if unit.is_member else (unit.offset + start, 0)
    return WarcRecord(
        offset=offset,
        warc_type=warc_type,
        record_id=_lookup(headers, "WARC-Record-ID", None),
        target_uri=target_uri.strip("<>") if target_uri else None,
        date=_parse_date(_lookup(headers, "WARC-Date", None)),
        headers=headers,
        http_status=http_status,
        http_headers=http_headers,
        payload=payload,
        offset_in_member=inner,
    )


def _parse_http(block: bytes) -> tuple[int, Headers, bytes] | None:
    """(status, headers, body) of an HTTP response block, or None if it has no status line."""
    end, gap = block.find(b"\r\n\r\n"), 4
    bare = block.find(b"\n\n")  # some crawlers store headers with bare LFs
    if bare >= 0 and (end < 0 or bare < end):
        end, gap = bare, 2
    if end < 0:
        end, gap = len(block), 0  # headers only, no body
    lines = block[:end].split(b"\n")
    status = _HTTP_STATUS_LINE.match(lines[0].rstrip(b"\r"))
    if status is None:
        return None
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        line = line.rstrip(b"\r")
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip().decode('latin-1')}")
            continue
        name, colon, value = line.partition(b":")
        if colon and name.strip():
            fields.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
    return int(status.group(1)), tuple(fields), block[end + gap :]


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- Byte ranges -------------------------------------------------------------------------
# A candidate gzip member at a range boundary is decompressed to its end (up to this many
# compressed bytes) to verify it: it must inflate without error to a `WARC/1.` record.
BOUNDARY_PROBE_BYTES = 1 << 22
_BOUNDARY_STEP = 1 << 16


def range_bounds(file, span, gzipped: bool) -> tuple[int, int]:
    """Where range `span` (spark_jobs.ranges.ByteRange) of a WARC file really starts and ends.

    Each nominal cut point moves to the first verified record start at or after it and before
    the next cut point (`record_boundary`); a cut point with none there (a record longer than
    a range, a single-stream gzip file, damage) is dropped, so the range before it reads on.
    Consecutive ranges therefore meet exactly, and every record is read by the range its start
    falls in. Returns (start, start) for a range that reads nothing.
    """
    from spark_jobs.ranges import nominal_start

    count, size = span.count, span.size
    if span.index == 0:
        start = 0
    else:
        start = record_boundary(file, span.start, span.end, gzipped, size)
        if start is None:
            return span.end, span.end
    end = size
    for index in range(span.index + 1, count):
        cut, after = nominal_start(index, count, size), nominal_start(index + 1, count, size)
        found = record_boundary(file, cut, after, gzipped, size)
        if found is not None:
            end = found
            break
    return start, end


def record_boundary(file, at: int, limit: int, gzipped: bool, size: int) -> int | None:
    """The first offset in [at, limit) where a record verifiably starts, or None.

    Gzip: a gzip member header whose member inflates without error to bytes starting with
    `WARC/1.` (checked to the member's end, up to BOUNDARY_PROBE_BYTES). Plain: `WARC/1.` at
    the start of a line, with a header that parses and a block followed by CRLF CRLF where its
    Content-Length says. A pure function of the file's bytes, so the two ranges meeting at a
    cut point agree on it.
    """
    needle = GZIP_MAGIC if gzipped else WARC_LINE
    # A plain record starts after a newline: search from the byte before `at` (at > 0).
    skip = 0 if gzipped else 1
    position = at - skip
    while position < limit:
        chunk = _read_at(file, position, READ_CHUNK + len(needle) - 1)
        found = chunk.find(needle)
        while found >= 0:
            candidate = position + found + skip
            if candidate >= limit:
                return None
            if candidate >= at and (
                _member_verified(file, candidate)
                if gzipped
                else _plain_record_verified(file, candidate, size)
            ):
                return candidate
            found = chunk.find(needle, found + 1)
        if len(chunk) < READ_CHUNK + len(needle) - 1:
            return None  # the end of the file
        position += READ_CHUNK
    return None


def _member_verified(file, offset: int) -> bool:
    decompressor = zlib.decompressobj(31)
    head = b""
    fed = 0
    while fed < BOUNDARY_PROBE_BYTES:
        data = _read_at(file, offset + fed, _BOUNDARY_STEP)
        if not data:
            return False  # the file ends inside it
        fed += len(data)
        try:
            while data:
                out = decompressor.decompress(data, OUT_CHUNK)
                if len(head) < 7:
                    head += out[: 7 - len(head)]
                    if len(head) >= 7 and head != b"WARC/1.":
                        return False
                if decompressor.eof:
                    return head == b"WARC/1."
                data = decompressor.unconsumed_tail
        except zlib.error:
            return False
    return head == b"WARC/1."  # a member too long to check to its end: its head is a record


def _plain_record_verified(file, offset: int, size: int) -> bool:
    head = _read_at(file, offset, MAX_HEADER_BYTES + 4)
    header_end = head.find(b"\r\n\r\n")
    if header_end < 0:
        return False
    parsed = _parse_warc_header(head[:header_end])
    if isinstance(parsed, str):
        return False
    block_end = offset + header_end + 4 + parsed[1]
    return block_end == size or _read_at(file, block_end, 4) == b"\r\n\r\n"


def _read_at(file, offset: int, n: int) -> bytes:
    file.seek(offset)
    return file.read(n)
