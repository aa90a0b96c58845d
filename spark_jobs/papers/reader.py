"""The papers `FileReader`: LaTeX source tarballs and PDFs (one paper per file) and JSONL/Parquet
metadata dumps (one paper per record) become raw.papers rows, each with its license."""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
import zlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.fs as pafs

from spark_jobs.ingest import QUARANTINED, SKIPPED
from spark_jobs.papers.dumps import (
    DUMP_SUFFIXES,
    DumpRecord,
    authors_string,
    dump_format,
    field_names,
    finish_record_row,
    first_present,
    iter_dump_records,
)
from spark_jobs.papers.latex import LatexError, latex_to_text
from spark_jobs.papers.pdf import PdfError, read_pdf
from spark_jobs.sources import Source

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
MAX_FILE_BYTES = 256 * 2**20  # one paper's tarball or PDF; source option max_file_bytes
MAX_TEX_BYTES = 64 * 2**20  # decompressed .tex sources of one paper
# Dump columns, by the names they go by in common dumps; source option `fields` adds one.
DUMP_FIELDS = {
    "id": ("id", "paper_id", "arxiv_id", "doi"),
    "title": ("title",),
    "authors": ("authors", "author"),
    "abstract": ("abstract",),
    "text": ("text", "full_text", "body"),
    "license": ("license", "licence", "license_url"),
}
# inputenc options whose files are not UTF-8, and the codec that reads them.
_INPUTENC = {
    b"latin1": "latin-1",
    b"latin9": "iso8859-15",
    b"cp1252": "cp1252",
    b"ansinew": "cp1252",
}


class PapersReader:
    """Reads a papers source. Registry options: `fields` (dump field -> column name, for
    dumps whose columns have other names) and `max_file_bytes` (per tarball or PDF)."""

    corpus = "papers"
    suffixes = (*ARCHIVE_SUFFIXES, ".pdf", *DUMP_SUFFIXES)
    extra_fields = (
        pa.field("paper_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("authors", pa.string()),  # "; "-joined
        pa.field("abstract", pa.string()),
        pa.field("format", pa.string()),  # latex | pdf | jsonl | parquet
    )

    def read(self, fs: pafs.FileSystem, path: str, relative: str, source: Source) -> Iterator[dict]:
        name = relative.lower()
        if name.endswith(DUMP_SUFFIXES):
            yield from self._dump_rows(fs, path, relative, source)
            return
        paper_format = "pdf" if name.endswith(".pdf") else "latex"
        row = {"locator": relative, "paper_id": paper_id_of(relative), "format": paper_format}
        limit = int(source.options.get("max_file_bytes", MAX_FILE_BYTES))
        with fs.open_input_stream(path, compression=None) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            detail = f"the file is over {limit} bytes (source option max_file_bytes)"
            yield _quarantined(row, "file_too_large", detail, data[:256])
        elif paper_format == "pdf":
            yield _pdf_row(row, data)
        else:
            yield _latex_row(row, data, relative)

    def _dump_rows(
        self, fs: pafs.FileSystem, path: str, relative: str, source: Source
    ) -> Iterator[dict]:
        names = field_names(DUMP_FIELDS, source.options)
        for item in iter_dump_records(fs, path, relative):
            yield _dump_row(item, names, dump_format(relative))


def paper_id_of(relative: str) -> str:
    """The file name without its paper suffix: 2401.01234v2.tar.gz -> 2401.01234v2."""
    name = posixpath.basename(relative)
    for suffix in (*ARCHIVE_SUFFIXES, ".pdf"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _pdf_row(row: dict, data: bytes) -> dict:
    try:
        document = read_pdf(data)
    except PdfError as exc:
        return _quarantined(row, exc.reason, exc.detail, data[:256])
    return row | {"text": document.text, "title": document.title, "authors": document.author}


def _latex_row(row: dict, data: bytes, relative: str) -> dict:
    try:
        sources = _tex_sources(data)
    except _Unreadable as exc:
        return _quarantined(row, exc.reason, exc.detail, data[:256])
    try:
        paper = latex_to_text(sources)
    except LatexError as exc:
        return _quarantined(row, exc.reason, exc.detail, None)
    row |= {
        "title": paper.title,
        "authors": "; ".join(paper.authors) or None,
        "abstract": paper.abstract,
    }
    if not paper.text.strip():
        detail = f"{paper.main_file} has no text between \\begin{{document}} and \\end{{document}}"
        return row | {"disposition": SKIPPED, "reason": "empty_text", "detail": detail}
    return row | {"text": paper.text}


class _Unreadable(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _tex_sources(data: bytes) -> dict[str, str]:
    """The .tex files of a source tarball, decoded; arXiv also serves a lone gzipped .tex."""
    try:
        raw = _tar_members(data)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raw = _lone_gzipped_tex(data)
        if raw is None:
            raise _Unreadable(
                "corrupt_archive",
                f"not a readable tar archive: {type(exc).__name__}: {exc}; re-fetch the source",
            ) from exc
    return {name: _decode_tex(name, source, raw) for name, source in raw.items()}


def _tar_members(data: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        # Iterating to the end reads every header, so a truncated archive raises here
        # instead of silently losing its last files.
        for member in archive:
            name = posixpath.normpath(member.name.lstrip("/"))
            if not member.isfile() or not name.lower().endswith(".tex"):
                continue
            if posixpath.basename(name).startswith("._"):  # macOS resource forks
                continue
            total += member.size
            if total > MAX_TEX_BYTES:
                raise _Unreadable(
                    "archive_too_large", f"the .tex files hold over {MAX_TEX_BYTES} bytes"
                )
            content = archive.extractfile(member).read()
            if len(content) != member.size:
                raise tarfile.ReadError(
                    f"{name} is cut short ({len(content)} of {member.size} bytes)"
                )
            files[name] = content
    return files


def _lone_gzipped_tex(data: bytes) -> dict[str, bytes] | None:
    try:
        content = gzip.decompress(data)
    except (EOFError, OSError, zlib.error):
        return None
    if b"\\documentclass" not in content and b"\\documentstyle" not in content:
        return None
    return {"main.tex": content}


def _decode_tex(name: str, source: bytes, sources: dict[str, bytes]) -> str:
    try:
        return source.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        for option, codec in _INPUTENC.items():  # declared anywhere in the paper's files
            if any(b"\\usepackage[" + option + b"]{inputenc}" in tex for tex in sources.values()):
                return source.decode(codec)
        raise _Unreadable(
            "undecodable",
            f"{name} is not UTF-8 (byte {exc.start}) and declares no 8-bit inputenc encoding",
        ) from exc


def _dump_row(item: DumpRecord, names: dict[str, tuple[str, ...]], paper_format: str) -> dict:
    row = {"locator": item.locator, "format": paper_format}
    if item.record is None:
        return _quarantined(row, item.reason, item.detail, item.raw)
    record = item.record
    paper_id = first_present(record, names["id"])
    text = first_present(record, names["text"])
    row |= {
        "paper_id": None if paper_id is None else str(paper_id),
        "title": _string(first_present(record, names["title"])),
        "authors": authors_string(first_present(record, names["authors"])),
        "abstract": _string(first_present(record, names["abstract"])),
    }
    return finish_record_row(row, record, names, paper_id, text)


def _string(value) -> str | None:
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def _quarantined(row: dict, reason: str | None, detail: str | None, raw: bytes | None) -> dict:
    return row | {"disposition": QUARANTINED, "reason": reason, "detail": detail, "excerpt": raw}
