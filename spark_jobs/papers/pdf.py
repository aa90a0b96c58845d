"""A PDF's text layer via pypdf; scans without one, encrypted and corrupt files are reported
with a reason instead of yielding empty or garbled text."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from pypdf import PasswordType, PdfReader

MAX_PAGES = 2000
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


def read_pdf(data: bytes, *, max_pages: int = MAX_PAGES) -> PdfDocument:
    """Text and document information of a PDF given as bytes; raises PdfError."""
    if b"%PDF-" not in data[:1024]:
        raise PdfError(
            "pdf_corrupt", f"not a PDF: no %PDF- header in the first 1024 bytes ({data[:16]!r})"
        )
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
    except Exception as exc:  # pypdf raises many types on broken files
        raise PdfError(
            "pdf_corrupt", f"pypdf cannot parse the file: {type(exc).__name__}: {exc}"
        ) from exc
    texts: list[str] = []
    failures: list[str] = []
    for number in range(min(count, max_pages)):
        try:
            page_text = pages[number].extract_text() or ""
        except Exception as exc:  # one broken page must not lose the others
            failures.append(f"page {number + 1}: {type(exc).__name__}: {exc}")
            continue
        page_text = _normalize(page_text)
        if page_text:
            texts.append(page_text)
    if not texts:
        if failures:
            raise PdfError("pdf_corrupt", f"no page could be read ({'; '.join(failures[:3])})")
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
