"""The papers `FileReader`: LaTeX source tarballs and PDFs (one paper per file) and JSONL/Parquet
metadata dumps (one paper per record) become raw.papers rows, each with its license."""

from __future__ import annotations

import bz2
import io
import lzma
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import replace

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
    read_dump,
)
from spark_jobs.papers.dumps import split_kind as dump_split_kind
from spark_jobs.papers.latex import LATEX_PARSER_VERSION, LatexError, latex_to_text
from spark_jobs.papers.pdf import PdfError, read_pdf
from spark_jobs.ranges import ByteRange
from spark_jobs.sources import Source
from spark_jobs.untrusted import BoundedGunzip, LimitExceeded, ReadLimits, gunzip_bounded

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
MAX_FILE_BYTES = 256 * 2**20  # one paper's tarball or PDF; source option max_file_bytes
MAX_TEX_BYTES = 64 * 2**20  # decompressed .tex sources of one paper
MAX_MEMBERS = 100_000  # files in one paper's tarball; tarfile keeps a header for each
# Dump columns, by the names they go by in common dumps; source option `fields` adds one.
DUMP_FIELDS = {
    "id": ("id", "paper_id", "arxiv_id", "doi"),
    "title": ("title",),
    "authors": ("authors", "author"),
    "abstract": ("abstract",),
    "text": ("text", "full_text", "body"),
    "license": ("license", "licence", "license_url"),
}
# inputenc options, and the Python codec that reads files written in them.
_INPUTENC = {
    "utf8": "utf-8",
    "utf8x": "utf-8",
    "latin1": "latin-1",
    "latin2": "iso8859-2",
    "latin3": "iso8859-3",
    "latin4": "iso8859-4",
    "latin5": "iso8859-9",
    "latin9": "iso8859-15",
    "latin10": "iso8859-16",
    "cp1250": "cp1250",
    "cp1251": "cp1251",
    "cp1252": "cp1252",
    "cp1257": "cp1257",
    "ansinew": "cp1252",
    "cp437": "cp437",
    "cp850": "cp850",
    "cp852": "cp852",
    "cp866": "cp866",
    "koi8-r": "koi8-r",
    "koi8-u": "koi8-u",
    "applemac": "mac-roman",
    "macce": "mac-latin2",
}
_DECLARED_INPUTENC = re.compile(rb"\\usepackage\s*\[([^\]]{0,200})\]\s*\{inputenc\}")
LATEX_PARSER = "pilehouse-latex"
# The disposition of a row whose document a heavier route reads in a stage of its own (its
# `route` names which: spark_jobs/papers/routes.py); never a final verdict.
ROUTED = "routed"


class PapersReader:
    """Reads a papers source. Registry options: `fields` (dump field -> column name, for
    dumps whose columns have other names) and `max_file_bytes` (per tarball or PDF).

    `ocr`: True OCRs the pages that are pictures of text here (`ocr_workers` at a time; what
    `pilehouse extract` and the benchmarks do), "defer" yields a PDF that needs OCR as a
    ROUTED row for the OCR stage (what ingest does), False leaves such pages out.
    """

    corpus = "papers"
    suffixes = (*ARCHIVE_SUFFIXES, ".tex", ".tex.gz", ".pdf", *DUMP_SUFFIXES)
    extra_fields = (
        pa.field("paper_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("authors", pa.string()),  # "; "-joined
        pa.field("abstract", pa.string()),
        pa.field("format", pa.string()),  # latex | pdf | jsonl | parquet
        # How the text was read: latex | text_layer | ocr | mixed (pages of both) | record
        pa.field("route", pa.string()),
        pa.field("parser", pa.string()),  # pilehouse-latex | pypdfium2 | tesseract | ...
        pa.field("parser_version", pa.string()),
        pa.field("route_reason", pa.string()),  # the features that chose the route
        # LaTeX: the codec each file was read with ("utf-8", or "a.tex: cp1252; b.tex: utf-8")
        pa.field("source_encoding", pa.string()),
    )

    def __init__(self, ocr: bool | str = True, ocr_workers: int = 1) -> None:
        self.ocr = ocr
        self.ocr_workers = ocr_workers

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
        name = relative.lower()
        if name.endswith(DUMP_SUFFIXES):
            yield from self._dump_rows(fs, path, relative, source, span)
            return
        paper_format = "pdf" if name.endswith(".pdf") else "latex"
        row = {"locator": relative, "paper_id": paper_id_of(relative), "format": paper_format}
        limits = ReadLimits.from_options(source.options)
        limit = int(source.options.get("max_file_bytes", MAX_FILE_BYTES))
        with fs.open_input_stream(path, compression=None) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            detail = f"the file is over {limit} bytes (source option max_file_bytes)"
            yield _quarantined(row, "file_too_large", detail, data[:256])
        elif paper_format == "pdf":
            yield _pdf_row(row, data, limits, self.ocr, self.ocr_workers)
        else:
            yield _latex_row(row, data, limits)

    def _dump_rows(
        self,
        fs: pafs.FileSystem,
        path: str,
        relative: str,
        source: Source,
        span: ByteRange | None = None,
    ) -> Iterator[dict]:
        names = field_names(DUMP_FIELDS, source.options)
        paper_format = dump_format(relative)
        limits = ReadLimits.from_options(source.options)
        # read_dump quarantines a record alone when _dump_row fails on it.
        yield from read_dump(
            fs, path, relative, limits, lambda item: _dump_row(item, names, paper_format), span
        )


def paper_id_of(relative: str) -> str:
    """The file name without its paper suffix: 2401.01234v2.tar.gz -> 2401.01234v2."""
    name = posixpath.basename(relative)
    for suffix in (*ARCHIVE_SUFFIXES, ".tex.gz", ".tex", ".pdf"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _pdf_row(row: dict, data: bytes, limits: ReadLimits, ocr: bool | str, workers: int) -> dict:
    try:
        document = read_pdf(data, limits=limits, ocr=ocr, ocr_workers=workers)
    except PdfError as exc:
        return _quarantined(row, exc.reason, exc.detail, data[:256])
    if document.pages_ocr and not document.ocr_pending:
        document = replace(
            document, route_reason=f"{document.route_reason}; OCR {workers} page(s) at a time"
        )
    if document.ocr_pending:
        return row | {
            "disposition": ROUTED,
            "route": "ocr",
            "route_reason": document.route_reason,
            "detail": f"{document.pages_ocr} of {document.pages} page(s) to OCR",
        }
    return row | {
        "text": document.text,
        "title": document.title,
        "authors": document.author,
        "route": document.route,
        "parser": document.parser,
        "parser_version": document.parser_version,
        "route_reason": document.route_reason,
    }


def _latex_row(row: dict, data: bytes, limits: ReadLimits) -> dict:
    row |= {"route": "latex", "parser": LATEX_PARSER, "parser_version": LATEX_PARSER_VERSION}
    try:
        sources, passed_over, encodings = _tex_sources(data, limits)
    except (_Unreadable, LimitExceeded) as exc:
        return _quarantined(row, exc.reason, exc.detail, data[:256])
    row["source_encoding"] = _encoding_summary(encodings)
    row["route_reason"] = "LaTeX source"
    try:
        paper = latex_to_text(sources)
    except (LatexError, LimitExceeded) as exc:
        return _quarantined(row, exc.reason, exc.detail, None)
    row |= {
        "title": paper.title,
        "authors": "; ".join(paper.authors) or None,
        "abstract": paper.abstract,
    }
    if not paper.text.strip():
        detail = f"{paper.main_file} has no text between \\begin{{document}} and \\end{{document}}"
        return row | {"disposition": SKIPPED, "reason": "empty_text", "detail": detail}
    if passed_over:
        row["detail"] = _passed_over_detail(passed_over)
    return row | {"text": paper.text}


class _Unreadable(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _tex_sources(
    data: bytes, limits: ReadLimits
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """The .tex files of a source tarball, decoded, the members passed over as unsafe, and
    the codec each file was read with; arXiv also serves a lone gzipped .tex."""
    try:
        raw, passed_over = _tar_members(data, limits)
    except (tarfile.TarError, EOFError, zlib.error, OSError, lzma.LZMAError) as exc:
        raw, passed_over = _lone_tex(data, limits), []
        if raw is None:
            raise _Unreadable(
                "corrupt_archive",
                f"not a readable tar archive: {type(exc).__name__}: {exc}; re-fetch the source",
            ) from exc
    declared = _declared_encoding(raw)
    decoded = {name: decode_tex(source, declared) for name, source in raw.items()}
    sources = {name: text for name, (text, _) in decoded.items()}
    return sources, passed_over, {name: codec for name, (_, codec) in decoded.items()}


def _tar_members(data: bytes, limits: ReadLimits) -> tuple[dict[str, bytes], list[str]]:
    """The regular .tex members of a tar (plain, gzip, bzip2 or xz), read as a stream whose
    decompressed bytes, members and .tex bytes are all bounded; links, devices and members
    named outside the archive (`..`, absolute) are never read, only listed."""
    files: dict[str, bytes] = {}
    passed_over: list[str] = []
    total = 0
    stream = _decompressed(data, limits.max_decompressed_bytes)
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        # Iterating to the end reads every header, so a truncated archive raises here
        # instead of silently losing its last files.
        for count, member in enumerate(archive, start=1):
            if count > MAX_MEMBERS:
                raise LimitExceeded(
                    "archive_too_large", f"the archive holds over {MAX_MEMBERS} members"
                )
            if member.isdir():
                continue
            unsafe = _unsafe_member(member)
            if unsafe:
                passed_over.append(f"{member.name[:200]} ({unsafe})")
                continue
            name = posixpath.normpath(member.name)
            if not name.lower().endswith(".tex"):
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
    return files, passed_over


def _unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why a member is not read (it is never followed or written anywhere), else None."""
    if member.issym() or member.islnk():
        return f"a link to {member.linkname[:200]}"
    if not member.isfile():
        return "not a regular file"
    name = member.name.replace("\\", "/")
    if name.startswith("/") or re.match(r"[A-Za-z]:/", name) or ".." in name.split("/"):
        return "named outside the archive"
    return None


def _passed_over_detail(passed_over: list[str]) -> str:
    shown = "; ".join(passed_over[:5])
    more = f" and {len(passed_over) - 5} more" if len(passed_over) > 5 else ""
    return f"archive members not read: {shown}{more}"


def _decompressed(data: bytes, limit: int):
    """A stream of the archive's bytes, decompressed by its magic, going over `limit`
    decompressed bytes raising LimitExceeded("decompression_bomb")."""
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        return BoundedGunzip(raw, limit)
    if data[:3] == b"BZh":
        return _AtMost(bz2.BZ2File(raw), limit)
    if data[:6] == b"\xfd7zXZ\x00":
        return _AtMost(lzma.LZMAFile(raw), limit)
    return raw  # a plain tar: no bigger than the file, which max_file_bytes bounds


class _AtMost:
    """A decompressing stream that raises LimitExceeded past `limit` bytes (bzip2, xz)."""

    def __init__(self, inner, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.produced = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(self.limit + 1 - self.produced if size < 0 else size)
        self.produced += len(data)
        if self.produced > self.limit:
            raise LimitExceeded(
                "decompression_bomb",
                f"decompresses to over {self.limit} bytes (options.limits.max_decompressed_bytes)",
            )
        return data


def _lone_tex(data: bytes, limits: ReadLimits) -> dict[str, bytes] | None:
    """A lone .tex (plain, or gzipped as arXiv serves single-file papers), else None."""
    if data[:2] != b"\x1f\x8b":
        is_tex = b"\\documentclass" in data or b"\\documentstyle" in data
        return {"main.tex": data} if is_tex and len(data) <= MAX_TEX_BYTES else None
    limit = min(limits.max_decompressed_bytes, MAX_TEX_BYTES)
    try:
        content = gunzip_bounded(data, limit)
    except (EOFError, OSError, zlib.error):
        return None
    except LimitExceeded as exc:
        raise LimitExceeded(
            "decompression_bomb",
            f"the gzipped file is no tar and decompresses to over {limit} bytes, more than "
            f"one paper's .tex may hold (options.limits.max_decompressed_bytes, at most "
            f"{MAX_TEX_BYTES})",
        ) from exc
    if b"\\documentclass" not in content and b"\\documentstyle" not in content:
        return None
    return {"main.tex": content}


def _declared_encoding(sources: dict[str, bytes]) -> str | None:
    """The codec an inputenc declaration names anywhere in the paper's files, in any
    spelling (\\usepackage[T1,latin1] {inputenc}); None when none names a known one."""
    for tex in sources.values():
        for declared in _DECLARED_INPUTENC.finditer(tex):
            for option in declared.group(1).decode("ascii", "replace").split(","):
                codec = _INPUTENC.get(option.strip().lower())
                if codec is not None:
                    return codec
    return None


def decode_tex(source: bytes, declared: str | None) -> tuple[str, str]:
    """A .tex file's text and the codec that read it: the declared inputenc, then UTF-8, then
    cp1252, then Latin-1 (which reads any bytes), so no paper is lost to its encoding."""
    for codec in dict.fromkeys((declared or "utf-8", "utf-8", "cp1252")):
        try:
            return source.decode(codec).lstrip("\ufeff"), codec
        except UnicodeDecodeError:
            continue
    return source.decode("latin-1"), "latin-1"


def _encoding_summary(encodings: dict[str, str]) -> str | None:
    codecs = set(encodings.values())
    if len(codecs) <= 1:
        return next(iter(codecs), None)
    return "; ".join(f"{name}: {codec}" for name, codec in sorted(encodings.items()))[:1000]


def _dump_row(item: DumpRecord, names: dict[str, tuple[str, ...]], paper_format: str) -> dict:
    row = {
        "locator": item.locator,
        "format": paper_format,
        "route": "record",  # the dump holds the text already
        "parser": f"pilehouse-{paper_format}",
        "route_reason": "metadata dump record",
    }
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
