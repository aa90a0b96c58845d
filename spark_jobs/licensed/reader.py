"""The licensed-collections `FileReader`: a plain-text file is one document (a book), a JSONL or
Parquet dump holds one document per record; a record's own license wins over the source's."""

from __future__ import annotations

import gzip
import io
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
    iter_dump_records,
)
from spark_jobs.sources import Source

TEXT_SUFFIXES = (".txt.gz", ".txt")
MAX_FILE_BYTES = 512 * 2**20  # one book, decompressed; source option max_file_bytes
MAX_TITLE_CHARS = 300
DUMP_FIELDS = {
    "id": ("id", "doc_id"),
    "title": ("title",),
    "text": ("text", "content", "body"),
    "license": ("license", "licence"),
}
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
    (default utf-8), `fields` (dump field -> column name) and `max_file_bytes`."""

    corpus = "licensed"
    suffixes = (*TEXT_SUFFIXES, *DUMP_SUFFIXES)
    extra_fields = (
        pa.field("doc_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("format", pa.string()),  # text | jsonl | parquet
    )

    def read(self, fs: pafs.FileSystem, path: str, relative: str, source: Source) -> Iterator[dict]:
        if relative.lower().endswith(DUMP_SUFFIXES):
            names = field_names(DUMP_FIELDS, source.options)
            for item in iter_dump_records(fs, path, relative):
                yield _dump_row(item, names, dump_format(relative))
        else:
            yield _text_row(fs, path, relative, source)


def _text_row(fs: pafs.FileSystem, path: str, relative: str, source: Source) -> dict:
    row = {"locator": relative, "doc_id": _doc_id(relative), "format": "text"}
    limit = int(source.options.get("max_file_bytes", MAX_FILE_BYTES))
    with fs.open_input_stream(path, compression=None) as stream:
        head = stream.read(limit + 1)
    data = head
    if relative.lower().endswith(".gz") and len(head) <= limit:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(head)) as unzipped:
                data = unzipped.read(limit + 1)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            detail = f"the gzip stream is damaged or truncated: {type(exc).__name__}: {exc}"
            return _quarantined(row, "corrupt_archive", detail, head[:256])
    if len(data) > limit:
        detail = f"the text is over {limit} bytes (source option max_file_bytes)"
        return _quarantined(row, "file_too_large", detail, data[:256])
    encoding = source.options.get("encoding", "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        detail = (
            f"not {encoding} at byte {exc.start} ({data[exc.start : exc.start + 4]!r}); "
            "if the collection uses another encoding, set the source option `encoding`"
        )
        return _quarantined(row, "undecodable", detail, data[max(0, exc.start - 64) :][:256])
    text, header_title = strip_gutenberg_boilerplate(text.lstrip("\ufeff").replace("\r\n", "\n"))
    text = text.strip()
    if not text:
        return row | {
            "disposition": SKIPPED,
            "reason": "empty_text",
            "detail": "the file has no text",
        }
    first_line = next(line.strip() for line in text.split("\n") if line.strip())
    return row | {"title": (header_title or first_line)[:MAX_TITLE_CHARS], "text": text}


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
