"""The licensed-collections `FileReader`: a plain-text file is one document (a book), a JSONL or
Parquet dump holds one document per record; a record's own license wins over the source's."""

from __future__ import annotations

import posixpath
import re
import zlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.fs as pafs

from spark_jobs.ingest import QUARANTINED, SKIPPED
from spark_jobs.papers.dumps import (
    DUMP_SUFFIXES,
    DumpRecord,
    dump_format,
    field_names,
    finish_record_row,
    first_present,
    read_dump,
)
from spark_jobs.papers.dumps import split_kind as dump_split_kind
from spark_jobs.ranges import ByteRange
from spark_jobs.sources import Source
from spark_jobs.untrusted import BoundedGunzip, LimitExceeded, ReadLimits, read_at_most

TEXT_SUFFIXES = (".txt.gz", ".txt")
MAX_FILE_BYTES = 512 * 2**20  # one book, decompressed; source option max_file_bytes
MAX_TITLE_CHARS = 300
DUMP_FIELDS = {
    "id": ("id", "doc_id"),
    "title": ("title",),
    "text": ("text", "content", "body"),
    "license": ("license", "licence"),
}
# A byte order mark names the encoding whatever the source's `encoding` says; UTF-32's
# marks first, as UTF-32-LE's begins with UTF-16-LE's.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Executables and object files that a .txt name can hide: ELF, Mach-O (32/64-bit, either
# byte order, fat), and PE (an MZ stub whose e_lfanew points at "PE\0\0").
_EXECUTABLE_MAGIC = (
    (b"\x7fELF", "an ELF executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary or Java class"),
)
# Text has almost no control characters other than tab, newline, form feed and carriage
# return; binary data decoded as UTF-8 (or as Latin-1) has many.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_CONTROL_SHARE = 0.05  # of the sampled characters
CONTROL_SAMPLE_CHARS = 1 << 16  # from the start, the middle and the end of the text
# Project Gutenberg wraps every book in a header and a footer about the project, not the book.
_GUTENBERG_START = re.compile(
    r"^\*{3} ?START OF (?:THE|THIS) PROJECT GUTENBERG E?BOOK.*$", re.MULTILINE | re.IGNORECASE
)
_GUTENBERG_END = re.compile(
    r"^\*{3} ?END OF (?:THE|THIS) PROJECT GUTENBERG E?BOOK", re.MULTILINE | re.IGNORECASE
)
_TITLE_HEADER = re.compile(r"^Title:[ \t]*(\S.*)$", re.MULTILINE)


class LicensedReader:
    """Reads an openly licensed collection. Registry options: `encoding` of plain-text files
    (default utf-8; a byte order mark overrides it), `fields` (dump field -> column name),
    `max_file_bytes` (one book) and `limits` (spark_jobs.untrusted.ReadLimits)."""

    corpus = "licensed"
    suffixes = (*TEXT_SUFFIXES, *DUMP_SUFFIXES)
    extra_fields = (
        pa.field("doc_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("format", pa.string()),  # text | jsonl | parquet
    )

    def split_kind(self, relative: str) -> str | None:
        """Plain JSONL dumps can be read in byte ranges (spark_jobs.ranges); nothing else."""
        return dump_split_kind(relative)

    def read(
        self,
        fs: pafs.FileSystem,
        path: str,
        relative: str,
        source: Source,
        span: ByteRange | None = None,
    ) -> Iterator[dict]:
        limits = ReadLimits.from_options(source.options)
        if relative.lower().endswith(DUMP_SUFFIXES):
            names = field_names(DUMP_FIELDS, source.options)
            doc_format = dump_format(relative)
            # read_dump quarantines a record alone when _dump_row fails on it.
            yield from read_dump(
                fs, path, relative, limits, lambda item: _dump_row(item, names, doc_format), span
            )
        else:
            yield _text_row(fs, path, relative, source, limits)


def _text_row(
    fs: pafs.FileSystem, path: str, relative: str, source: Source, limits: ReadLimits
) -> dict:
    row = {"locator": relative, "doc_id": _doc_id(relative), "format": "text"}
    limit = int(source.options.get("max_file_bytes", MAX_FILE_BYTES))
    size = fs.get_file_info(path).size
    if size is not None and size > limit:  # refused from its size: nothing of it is read
        detail = f"the file is {size} bytes, over {limit} (source option max_file_bytes)"
        return _quarantined(row, "file_too_large", detail, None)
    try:
        data = _book_bytes(fs, path, relative, limit, limits)
    except LimitExceeded as exc:
        return _quarantined(row, exc.reason, exc.detail, _head(fs, path))
    except (EOFError, OSError, zlib.error) as exc:
        detail = f"the gzip stream is damaged or truncated: {type(exc).__name__}: {exc}"
        return _quarantined(row, "corrupt_archive", detail, _head(fs, path))
    executable = _executable(data)
    if executable:
        detail = f"the file is {executable}, not text"
        return _quarantined(row, "binary", detail, data[:256])
    text = _decode_book(data, source.options.get("encoding", "utf-8"))
    if isinstance(text, tuple):
        reason, detail, excerpt = text
        return _quarantined(row, reason, detail, excerpt)
    controls = _control_share(text)
    if controls > MAX_CONTROL_SHARE:
        detail = (
            f"{controls:.0%} of the sampled characters are control characters (limit "
            f"{MAX_CONTROL_SHARE:.0%}): binary data, not a book"
        )
        return _quarantined(row, "binary", detail, data[:256])
    text, header_title = strip_gutenberg_boilerplate(text.replace("\r\n", "\n"))
    text = text.strip()
    if not text:
        return row | {
            "disposition": SKIPPED,
            "reason": "empty_text",
            "detail": "the file has no text",
        }
    first_line = next(line.strip() for line in text.split("\n") if line.strip())
    return row | {"title": (header_title or first_line)[:MAX_TITLE_CHARS], "text": text}


def _book_bytes(
    fs: pafs.FileSystem, path: str, relative: str, limit: int, limits: ReadLimits
) -> bytes:
    """The book's bytes, gunzipped for .gz; LimitExceeded past max_file_bytes (or, for .gz,
    max_decompressed_bytes when that is lower)."""
    with fs.open_input_stream(path, compression=None) as stream:
        if not relative.lower().endswith(".gz"):
            return read_at_most(stream, limit)  # the size may have changed since it was listed
        bound = min(limit, limits.max_decompressed_bytes)
        try:
            return BoundedGunzip(stream, bound).read()
        except LimitExceeded as exc:
            if bound < limit:
                raise
            raise LimitExceeded(
                "file_too_large",
                f"the text decompresses to over {limit} bytes (source option max_file_bytes)",
            ) from exc


def _head(fs: pafs.FileSystem, path: str) -> bytes | None:
    try:
        with fs.open_input_stream(path, compression=None) as stream:
            return stream.read(256)
    except OSError:
        return None


def _executable(data: bytes) -> str | None:
    """What kind of executable the bytes are, from their magic number; None for others."""
    for magic, kind in _EXECUTABLE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:2] == b"MZ" and len(data) >= 0x40:
        pe = int.from_bytes(data[0x3C:0x40], "little")
        if data[pe : pe + 4] == b"PE\0\0":
            return "a Windows (PE) executable"
    return None


def _decode_book(data: bytes, encoding: str) -> str | tuple[str, str, bytes]:
    """The text, or (reason, detail, excerpt) when it does not decode."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            body, label = data[len(bom) :], f"{codec} (its byte order mark says so)"
            break
    else:
        body, codec, label = data, encoding, encoding
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        detail = (
            f"not {label} at byte {exc.start} ({body[exc.start : exc.start + 4]!r}); "
            "if the collection uses another encoding, set the source option `encoding`"
        )
        return "undecodable", detail, body[max(0, exc.start - 64) :][:256]
    except LookupError:
        detail = f"no decoder for encoding {codec!r}: fix the source option `encoding`"
        return "undecodable", detail, data[:256]


def _control_share(text: str) -> float:
    """The share of control characters in samples from the start, middle and end of text."""
    n = CONTROL_SAMPLE_CHARS
    if len(text) <= 3 * n:
        sample = text
    else:
        middle = len(text) // 2
        sample = text[:n] + text[middle : middle + n] + text[-n:]
    if not sample:
        return 0.0
    return len(_CONTROL_CHARS.findall(sample)) / len(sample)


def strip_gutenberg_boilerplate(text: str) -> tuple[str, str | None]:
    """The book between Project Gutenberg's START and END markers, and the header's title;
    text without the markers comes back unchanged."""
    start = _GUTENBERG_START.search(text)
    if start is None:
        return text, None
    end = _GUTENBERG_END.search(text, start.end())
    title = _TITLE_HEADER.search(text, 0, start.start())
    body = text[start.end() : end.start() if end else None]
    return body, title.group(1).strip() if title else None


def _doc_id(relative: str) -> str:
    for suffix in TEXT_SUFFIXES:
        if relative.lower().endswith(suffix):
            return relative[: -len(suffix)]
    return posixpath.splitext(relative)[0]


def _dump_row(item: DumpRecord, names: dict[str, tuple[str, ...]], doc_format: str) -> dict:
    row = {"locator": item.locator, "format": doc_format}
    if item.record is None:
        return _quarantined(row, item.reason, item.detail, item.raw)
    record = item.record
    doc_id = first_present(record, names["id"])
    text = first_present(record, names["text"])
    title = " ".join(str(first_present(record, names["title"]) or "").split())
    row |= {
        "doc_id": None if doc_id is None else str(doc_id),
        "title": title[:MAX_TITLE_CHARS] or None,
    }
    return finish_record_row(row, record, names, doc_id, text)


def _quarantined(row: dict, reason: str | None, detail: str | None, raw: bytes | None) -> dict:
    return row | {"disposition": QUARANTINED, "reason": reason, "detail": detail, "excerpt": raw}
