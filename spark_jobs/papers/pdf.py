"""A PDF's text layer via pypdf; scans without one, encrypted and corrupt files are reported
with a reason instead of yielding empty or garbled text.

PDFs are untrusted: pypdf's bounds on decompressed bytes follow the source's
max_decompressed_bytes, which also bounds the pages' content streams together; what pypdf's
bounds (those, page tree depth, cycles) catch becomes a quarantine reason
(decompression_bomb, too_deep, pdf_corrupt).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pypdf import PageObject, PasswordType, PdfReader, apply_configuration, get_configuration
from pypdf.errors import LimitReachedError

from spark_jobs.untrusted import ReadLimits

MAX_PAGES = 2000
# pypdf's bounds on decompressed bytes; each is lowered to max_decompressed_bytes when that
# is smaller (pypdf's defaults, 75 MB a stream, stay when the source allows more).
_DECOMPRESSION_SETTINGS = (
    "maximum_declared_stream_length",
    "array_based_stream_maximum_output_length",
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "jbig2_maximum_output_length",
    "brotli_maximum_output_length",
    "image_maximum_buffer_size",
    "stream_decoding_work_maximum_length",
    "xfa_decoding_work_maximum_length",
    "xmp_maximum_input_length",
)
# How pypdf words the bounds on decompressed bytes (its other bounds: tokens, entries).
_DECOMPRESSION_BOUND = re.compile(
    r"decompress|decoding|declared stream length|array-based stream has at least|memory limit",
    re.IGNORECASE,
)
# Typesetters emit ligature glyphs; models should see the letters.
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}
)


class PdfError(ValueError):
    """A PDF yields no text; `reason` is the quarantine reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PdfDocument:
    text: str  # pages separated by blank lines
    title: str | None  # from the document information dictionary, when set
    author: str | None
    pages: int
    pages_with_text: int


def pdf_to_text(data: bytes) -> str:
    """The text layer of a PDF; raises PdfError (pdf_corrupt, pdf_encrypted, pdf_no_text_layer)."""
    return read_pdf(data).text


def read_pdf(
    data: bytes, *, max_pages: int = MAX_PAGES, limits: ReadLimits | None = None
) -> PdfDocument:
    """Text and document information of a PDF given as bytes; raises PdfError."""
    if not data:
        raise PdfError("pdf_corrupt", "the file is empty (0 bytes); re-fetch it")
    if b"%PDF-" not in data[:1024]:
        raise PdfError(
            "pdf_corrupt", f"not a PDF: no %PDF- header in the first 1024 bytes ({data[:16]!r})"
        )
    limits = limits or ReadLimits()
    with apply_configuration(**_bounds(limits)), _cycles_seen() as cycles:
        return _read(data, max_pages, limits.max_decompressed_bytes, cycles)


def _read(data: bytes, max_pages: int, max_decoded: int, cycles: list[str]) -> PdfDocument:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise PdfError(
                "pdf_encrypted", "the PDF is encrypted with a user password; supply an open copy"
            )
        pages = reader.pages
        count = len(pages)
    except PdfError:
        raise
    except (LimitReachedError, RecursionError) as exc:
        raise _over_limit(exc, "the document") from exc
    except Exception as exc:  # pypdf raises many types on broken files
        raise PdfError(
            "pdf_corrupt", f"pypdf cannot parse the file: {type(exc).__name__}: {exc}"
        ) from exc
    texts: list[str] = []
    failures: list[PdfError] = []
    decoded = _DecodedContent()
    for number in range(min(count, max_pages)):
        try:
            page_text = pages[number].extract_text() or ""
            if decoded.add(pages[number]) > max_decoded:
                raise PdfError(
                    "decompression_bomb",
                    f"the content streams of pages 1-{number + 1} decompress to over "
                    f"{max_decoded} bytes (options.limits.max_decompressed_bytes)",
                )
        except PdfError:
            raise
        except (LimitReachedError, RecursionError) as exc:
            error = _over_limit(exc, f"page {number + 1}")
            if error.reason == "decompression_bomb":  # no real page inflates that far
                raise error from exc
            failures.append(error)  # a huge plot can pass pypdf's token bound: skip the page
            continue
        except Exception as exc:  # one broken page must not lose the others
            failures.append(
                PdfError("pdf_corrupt", f"page {number + 1}: {type(exc).__name__}: {exc}")
            )
            continue
        if cycles:
            raise PdfError(
                "pdf_corrupt",
                f"page {number + 1} draws a form XObject inside itself (pypdf: {cycles[0]}); "
                "only a broken or hostile PDF does",
            )
        page_text = _normalize(page_text)
        if page_text:
            texts.append(page_text)
    if not texts:
        if failures:
            details = "; ".join(failure.detail for failure in failures[:3])
            raise PdfError(failures[0].reason, f"no page could be read ({details})")
        raise PdfError(
            "pdf_no_text_layer",
            f"none of the {count} pages has a text layer (a scan or images only); "
            "it needs OCR, which this reader does not do",
        )
    info = _information(reader)
    return PdfDocument(
        text="\n\n".join(texts),
        title=info.get("title"),
        author=info.get("author"),
        pages=count,
        pages_with_text=len(texts),
    )


def _bounds(limits: ReadLimits) -> dict[str, int]:
    defaults = get_configuration()
    return {
        name: min(getattr(defaults, name), limits.max_decompressed_bytes)
        for name in _DECOMPRESSION_SETTINGS
    }


class _DecodedContent:
    """Bytes the pages' content streams decompressed to, each stream counted once: pypdf
    bounds each stream and keeps each decoded one, so a bound on their sum is what keeps
    thousands of pages from holding gigabytes."""

    def __init__(self) -> None:
        self.total = 0
        self._seen: set[int] = set()

    def add(self, page: PageObject) -> int:
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else []
        for stream in contents if isinstance(contents, list) else [contents]:
            stream = stream.get_object()
            decoded = getattr(stream, "decoded_self", None)  # set by extract_text
            if decoded is not None and id(stream) not in self._seen:
                self._seen.add(id(stream))
                self.total += len(decoded.get_data())
        return self.total


def _over_limit(exc: Exception, where: str) -> PdfError:
    """The quarantine for a bound pypdf (or Python's recursion limit) stopped at."""
    message = f"{where}: {type(exc).__name__}: {exc}"
    if isinstance(exc, RecursionError) or "depth" in str(exc).lower():
        return PdfError("too_deep", f"{message}; the PDF nests deeper than any reader follows")
    if _DECOMPRESSION_BOUND.search(str(exc)):
        return PdfError(
            "decompression_bomb",
            f"{message} (options.limits.max_decompressed_bytes, at most pypdf's own bound)",
        )
    return PdfError("pdf_corrupt", f"{message}; the PDF is beyond pypdf's bounds")


class _CycleRecords(logging.Handler):
    """Collects pypdf's warnings that it skipped a cyclic form XObject: it logs them instead
    of raising. (Where an application turns pypdf's warnings off, such a PDF is kept with
    the text pypdf read around the cycle.)"""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("Detected cyclic form XObject"):
            self.seen.append(record.getMessage())


@contextmanager
def _cycles_seen() -> Iterator[list[str]]:
    records = _CycleRecords()
    logger = logging.getLogger("pypdf")
    logger.addHandler(records)
    try:
        yield records.seen
    finally:
        logger.removeHandler(records)


def _normalize(text: str) -> str:
    text = text.translate(_LIGATURES).replace("\x00", "")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _information(reader: PdfReader) -> dict[str, str]:
    try:
        metadata = reader.metadata
    except Exception:  # a broken information dictionary is not a broken document
        return {}
    if metadata is None:
        return {}
    found = {"title": metadata.title, "author": metadata.author}
    return {
        key: " ".join(str(value).split())
        for key, value in found.items()
        if value and str(value).strip()
    }
