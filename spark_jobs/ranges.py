"""Byte ranges of big landing files, so one file can be read by many tasks.

A landing file over the ingest's split size whose reader can read a part of it is cut into
`ByteRange`s of about that size. The cut points are nominal: the reader moves each one to the
next record boundary the format allows, and every range reads the records that *start* in its
part, so the ranges of a file read every record exactly once (nothing twice, nothing dropped
at an edge):

- lines (plain JSONL): a range's first line is the one after the first newline at or after
  its start (byte 0 for the first range), its last line the one that crosses its end (the
  Hadoop line-split rule). Line numbers stay absolute: an ingest counts the newlines of each
  range first (`count_newlines`, one cheap pass in the tasks) and gives every range the count
  before it.
- warc (gzip or plain WARC/WET): a boundary is the first verified record start at or after a
  cut point (`spark_jobs.web.warc.record_boundary`); a range reads from its boundary to the
  next one, so the records it reads keep their absolute offsets and ids.

Gzip single-stream JSONL and Parquet files are not split. A pure module: no Spark.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.fs as pafs

LINES, WARC = "lines", "warc"
SPLIT_KINDS = (LINES, WARC)
# Bytes read at a time while counting or scanning.
SCAN_CHUNK = 1 << 20


@dataclass(frozen=True)
class ByteRange:
    """Range `index` of the `count` equal nominal ranges of a file of `size` bytes.

    `lines_before`: for line-split files, the newlines in the bytes before `start` (so the
    first line a range reads gets its absolute number); None for other formats.
    """

    index: int
    count: int
    size: int
    lines_before: int | None = None

    @property
    def start(self) -> int:
        return nominal_start(self.index, self.count, self.size)

    @property
    def end(self) -> int:
        return nominal_start(self.index + 1, self.count, self.size)

    @property
    def length(self) -> int:
        return self.end - self.start

    def locator(self, relative: str) -> str:
        """What names this range in a quarantine row: `<file>#bytes=<start>-<end>`."""
        return f"{relative}#bytes={self.start}-{self.end}"


def nominal_start(index: int, count: int, size: int) -> int:
    """Where nominal range `index` of `count` starts (index == count: the file's end)."""
    return index * size // count


def split(size: int, split_bytes: int, kind: str | None) -> tuple[ByteRange, ...]:
    """The ranges a file of `size` bytes is read in: more than one only when the reader can
    split it (`kind`), splitting is on (split_bytes > 0) and the file is over split_bytes."""
    if kind not in SPLIT_KINDS or split_bytes <= 0 or size <= split_bytes:
        return ()
    count = -(-size // split_bytes)
    return tuple(ByteRange(i, count, size) for i in range(count))


def count_newlines(fs: pafs.FileSystem, path: str, start: int, end: int) -> int:
    """The b"\\n" bytes in [start, end) of a file."""
    count = 0
    with fs.open_input_file(path) as file:
        file.seek(start)
        left = end - start
        while left > 0:
            chunk = file.read(min(SCAN_CHUNK, left))
            if not chunk:
                break
            count += chunk.count(b"\n")
            left -= len(chunk)
    return count


def first_line_start(file, start: int) -> int:
    """Where the first line starting at or after `start` begins (the file's size if none):
    `start` itself when it is 0 or follows a newline, else just past the next newline."""
    if start == 0:
        return 0
    position = start - 1
    file.seek(position)
    while True:
        chunk = file.read(SCAN_CHUNK)
        if not chunk:
            return position
        newline = chunk.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(chunk)


class LineRange:
    """The lines of one range of a line-split file, as a byte stream for `bounded_lines`:
    it starts at the range's first line; the caller stops taking lines once `position`
    (the absolute offset of the next line) reaches `end`."""

    def __init__(self, file, span: ByteRange) -> None:
        self._file = file
        self.end = span.end
        self.position = first_line_start(file, span.start)
        # Line numbers are 1-based: the newlines before the first line, plus one.
        skipped_newline = 1 if self.position > span.start else 0
        self.first_number = 1 + (span.lines_before or 0) + skipped_newline
        file.seek(self.position)

    def read(self, n: int = -1) -> bytes:
        return self._file.read(n)

    def advance(self, line_bytes: int) -> None:
        """A line of `line_bytes` bytes (without its newline) was taken."""
        self.position += line_bytes + 1

    @property
    def done(self) -> bool:
        return self.position >= self.end
