"""Reading bytes nobody vetted: the limits every reader works within, and bounded primitives.

Everything under a landing location is untrusted. A reader is handed one object and must not
let it decide how much memory, time or recursion the reader spends: decompression, lines,
JSON nesting and values are all bounded here by `ReadLimits`, and going over a bound raises
`LimitExceeded` with the quarantine reason to record. The per-object time and memory budget
is enforced around the reader by `spark_jobs.isolation`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields

MiB = 2**20


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on the work one landing object may cause; per source under `options.limits`.

    Defaults fit a 2-core, 24 GiB machine with two readers at once.
    """

    # Bytes a single decompression (a .gz file, a gzip member, a tar stream) may produce.
    max_decompressed_bytes: int = 1024 * MiB
    # One line of a JSONL dump or text file; a longer line is quarantined, not split.
    max_line_bytes: int = 64 * MiB
    # Nesting of one JSON record ([ and {), checked before it is parsed.
    max_json_depth: int = 256
    # A landing walk: directory depth under the location, and entries listed in all.
    max_walk_depth: int = 32
    max_walk_entries: int = 1_000_000
    # Wall-clock seconds and resident memory one object may take to read (isolation).
    object_seconds: float = 300.0
    object_memory_bytes: int = 4096 * MiB
    # A source whose units are mostly unreadable fails the run instead of "succeeding".
    max_unreadable_fraction: float = 0.5
    # Units smaller than this many are never failed by the fraction (one bad file of two).
    unreadable_min_units: int = 4

    @classmethod
    def from_options(cls, options: Mapping | None) -> ReadLimits:
        """The limits a source's registry options set (`limits: {name: value}`), else defaults."""
        given = dict((options or {}).get("limits") or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ValueError(
                f"unknown read limit(s) {', '.join(unknown)} in the source's options.limits; "
                f"allowed: {', '.join(known)}"
            )
        values = {}
        for name, value in given.items():
            kind = float if known[name].type in ("float", float) else int
            try:
                values[name] = kind(value)
            except (TypeError, ValueError):
                raise ValueError(f"options.limits.{name} must be a number, not {value!r}") from None
            if values[name] <= 0:
                raise ValueError(f"options.limits.{name} must be positive, not {value!r}")
        return cls(**values)


class LimitExceeded(Exception):
    """An object went over a read limit; `reason` is the quarantine reason to record."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def read_at_most(stream, limit: int, *, what: str = "the file") -> bytes:
    """All of `stream` when it holds at most `limit` bytes; else LimitExceeded(file_too_large)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(
            "file_too_large", f"{what} is over {limit} bytes (source option max_file_bytes)"
        )
    return data


class BoundedGunzip:
    """A gzip (or zlib) decompressor that stops at `limit` output bytes.

    Reads concatenated gzip members like `gzip` does. Going over the limit raises
    LimitExceeded("decompression_bomb"); a damaged stream raises zlib.error / EOFError, as
    gzip would, so callers keep their corrupt-archive handling.
    """

    def __init__(self, raw, limit: int, *, chunk: int = MiB) -> None:
        self.raw = raw
        self.limit = limit
        self.chunk = chunk
        self.produced = 0
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""  # compressed bytes not yet fed (max_length left them over)
        self._eof = False

    def _take(self, out: bytes) -> bytes:
        self.produced += len(out)
        if self.produced > self.limit:
            raise LimitExceeded(
                "decompression_bomb",
                f"decompresses to over {self.limit} bytes (options.limits.max_decompressed_bytes)",
            )
        return out

    def read1(self, size: int = -1) -> bytes:
        """Some decompressed bytes (at most `size`, or one chunk); b"" at the end."""
        want = self.chunk if size is None or size < 0 else max(1, size)
        while not self._eof:
            if self._inflate.unconsumed_tail:
                out = self._inflate.decompress(self._inflate.unconsumed_tail, want)
            elif self._inflate.eof:
                rest = self._inflate.unused_data + self._pending
                self._pending = b""
                if not rest:
                    rest = self.raw.read(self.chunk)
                if not rest.strip(b"\x00"):  # the end, or padding after the last member
                    self._eof = True
                    break
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out = self._inflate.decompress(rest, want)
            else:
                data = self._pending or self.raw.read(self.chunk)
                self._pending = b""
                if not data:
                    if not self._inflate.eof:
                        raise EOFError("compressed file ended before the end-of-stream marker")
                    self._eof = True
                    break
                out = self._inflate.decompress(data, want)
            if out:
                return self._take(out)
        return b""

    def read(self, size: int = -1) -> bytes:
        if size is not None and size >= 0:
            parts, total = [], 0
            while total < size and (part := self.read1(size - total)):
                parts.append(part)
                total += len(part)
            return b"".join(parts)
        parts = []
        while part := self.read1():
            parts.append(part)
        return b"".join(parts)


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """All of a gzip's content when it is at most `limit` bytes (see BoundedGunzip)."""
    import io

    return BoundedGunzip(io.BytesIO(data), limit).read()


@dataclass(frozen=True)
class LongLine:
    """Stands for a line over max_line_bytes: its 1-based number, its length, its first bytes."""

    number: int
    length: int
    head: bytes


def bounded_lines(stream, max_line_bytes: int, *, chunk: int = MiB) -> Iterator[bytes | LongLine]:
    """The lines of a byte stream without their b"\\n", in time linear in the input.

    A line longer than `max_line_bytes` is not kept: a `LongLine` stands in its place and
    the rest of it is skipped as it streams by, so memory stays bounded. Uses `read1` where
    the stream has it so bytes a truncated compressed stream gave before failing are seen.
    """
    read = getattr(stream, "read1", stream.read)
    parts: list[bytes] = []  # pieces of the current line
    size = 0
    number = 0
    skipping: LongLine | None = None
    while chunk_bytes := read(chunk):
        start = 0
        while True:
            end = chunk_bytes.find(b"\n", start)
            piece = chunk_bytes[start:] if end < 0 else chunk_bytes[start:end]
            if skipping is not None:
                skipping = LongLine(skipping.number, skipping.length + len(piece), skipping.head)
            elif size + len(piece) > max_line_bytes:
                head = (b"".join(parts) + piece)[:256]
                skipping = LongLine(number + 1, size + len(piece), head)
                parts, size = [], 0
            elif piece:
                parts.append(piece)
                size += len(piece)
            if end < 0:
                break
            number += 1
            if skipping is not None:
                yield skipping
                skipping = None
            else:
                yield b"".join(parts)
            parts, size = [], 0
            start = end + 1
    if skipping is not None:
        yield skipping
    elif parts:
        yield b"".join(parts)


def json_depth(data: bytes | str, stop_at: int) -> int:
    """The nesting depth of a JSON text's arrays and objects, counted without parsing it;
    stops counting once `stop_at` is passed. Brackets inside strings do not count."""
    text = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # "
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def check_json_depth(data: bytes | str, limits: ReadLimits) -> None:
    """LimitExceeded(too_deep) when a JSON text nests deeper than limits.max_json_depth."""
    if (
        data.count(b"[" if isinstance(data, bytes) else "[")
        + data.count(b"{" if isinstance(data, bytes) else "{")
        <= limits.max_json_depth
    ):
        return  # cannot nest deeper than its brackets: skip the byte walk
    depth = json_depth(data, limits.max_json_depth)
    if depth > limits.max_json_depth:
        raise LimitExceeded(
            "too_deep",
            f"JSON nested over {limits.max_json_depth} levels (options.limits.max_json_depth)",
        )
