"""A PDF's text, read per page by the cheapest route that reads it right: the text layer
through pypdfium2 (PDFium; Apache-2.0/BSD), or OCR (Tesseract) for pages that are images.

Routing (the AdaParse / FinePDFs idea) uses cheap per-page features: characters on the page,
the share of them that are garbled (replacement glyphs, private-use or control characters),
and the share of the page images cover. The text layer is clipped to the page's crop box,
read in column order on two-column pages, and cleaned: hyphenated line breaks joined when
the joined word is a word, spacing accents recomposed (NFC), ligatures spelled out, running
headers, footers and page numbers repeated across pages dropped.

PDFs are untrusted: before PDFium sees one, pypdf walks its structure under bounds that follow
the source's max_decompressed_bytes (also bounding the pages' content streams together) and
catches page-tree cycles and depth and form XObjects that draw themselves; what it catches
becomes a quarantine reason (decompression_bomb, too_deep, pdf_corrupt). Encrypted files and
files without any readable page are reported with a reason instead of yielding empty text.
"""

from __future__ import annotations

import ctypes
import functools
import io
import itertools
import os
import re
import shutil
import statistics
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from pypdf import PasswordType, PdfReader, apply_configuration, get_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import IndirectObject

from spark_jobs.papers.pdf_prescan import vouch
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
# (str.replace per ligature: str.translate looks each character up, many times slower)
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}


# Routing: a page is read from its text layer when it has at least this many characters
# (not blanks) and at most this share of them garbled; else OCR'd when images cover at least
# this share of it. Tuned on the tune half of bench.papers_data (see docs/corpora/papers.md).
MIN_TEXT_CHARS = 20
MAX_GARBLED_SHARE = 0.3
MIN_IMAGE_SHARE = 0.3
# An image counts towards that share only at this resolution on the page or more: below it a
# page's text could not be read from the image at all (10 pt type is under 4 pixels high),
# so the image is a picture, not a scan. Since round 7: hvfloat's paper-default1s1c (round
# 6's test half) shows a 107x133-pixel drawing of a rose over a whole page (13 ppi), which
# made a typeset PDF `mixed` and cost two OCR calls that read nothing of the document.
MIN_SCAN_PPI = 50
GUTTER = 6.0  # points either side of a page's middle that a two-column gutter leaves empty
TWO_COLUMN_LINES = 6
TWO_COLUMN_SHARE = 0.8
OCR_DPI = 200
OCR_MAX_PIXELS = 40_000_000  # a page rendered for OCR is scaled down past this
OCR_PAGE_SECONDS = 120  # one page's Tesseract call; the object's own budget bounds the whole
# "auto": Tesseract's script detection (osd) picks a model per page: the installed script
# model named as the script OSD reports (Debian's tesseract-ocr-script-* packages: Latin,
# Cyrillic, Greek, Arabic...), or one of those below, falling back to the Latin model, then
# eng. A source can name models instead (options.ocr_languages: "eng+deu").
OCR_LANGUAGES = "auto"
OCR_FALLBACK_MODEL = "Latin"
# OSD's script name -> the models that read it, best first, where the name is not the model's.
# Korean pages read best with the Korean language model (tesseract-ocr-kor): on the tune
# half's Korean scans it found 0.82 and 0.56 of the words where the Hangul script model found
# 0.55 and 0.28 (with the Latin model beside each).
_SCRIPT_MODELS = {
    "Han": ("HanS",),
    "Katakana": ("Japanese",),
    "Hiragana": ("Japanese",),
    "Korean": ("kor", "Hangul"),
    "Hangul": ("kor", "Hangul"),
}
# A document whose pages OSD finds in another script than Latin on at least this share of
# its OCR'd pages (and one) has its other pages read with that script's model too: OSD names
# one script per page, and pages that mix Latin with Chinese or Korean were named Latin (the
# Chinese TeX Live guide's first page, 45% Han), their Han or Hangul text lost.
OCR_DOCUMENT_SCRIPT_SHARE = 0.25
# A first or last line of a page repeated (digits aside) on this many pages is a running
# header or footer (and at least this share of the pages).
FURNITURE_MIN_PAGES = 3
FURNITURE_MIN_SHARE = 0.3
# ... at one height on those pages, give or take this many points: a running header or footer
# stands where the page style puts it, while a line that ends many pages' text, as a
# listing's `\end{pspicture}` at the foot of PSTricks manuals' pages, stands where the text
# ends (since round 8 of the papers set: pst-knot, pst-rubans and pst-magneticfield lost
# every such line).
FURNITURE_HEIGHT_SLACK = 2.0
_PAGE_NUMBER = re.compile(
    r"^[\W_]*(?:page\s+|seite\s+|p\.\s*)?(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:of|/|von)\s*\d{1,4})?[\W_]*$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
# Spacing accents some typesetters place before the letter they belong on (an acute accent,
# U+00B4, then "e": pypdf reads Théorème set that way as Th, U+00B4, eor`eme).
_SPACING_ACCENTS = {
    "\u00b4": "\u0301",
    "`": "\u0300",
    "\u00a8": "\u0308",
    "\u02c6": "\u0302",
    "^": "\u0302",
    "\u02dc": "\u0303",
    "\u00b8": "\u0327",
    "\u02c7": "\u030c",
    "\u02d8": "\u0306",
    "\u02d9": "\u0307",
    "\u02da": "\u030a",
    "\u00af": "\u0304",
}
_DETACHED_ACCENT = re.compile(
    r"(?<=[^\W\d_])([\u00b4`\u00a8\u02c6\u02dc\u00b8\u02c7\u02d8\u02d9\u02da\u00af])([a-zA-Z\u0131])"
    r"|(?<![^\s])([\u00b4\u00a8\u02c6\u02dc\u00b8\u02c7\u02d8\u02d9\u02da\u00af])([a-zA-Z\u0131])"
    # a grave accent alone before a one-letter word: Italian and French `è`, `à` (`\`e` in
    # TeX's OT1 fonts); a backtick before a longer word is more likely a quote or code
    r"|(?<![^\s])(`)([aeiouAEIOU])(?=[\s,.;:!?)]|$)"
)
# Each match of _DETACHED_ACCENT holds one of these: text without any is left as it is (a
# character class is searched fast; the pattern above is tried at every position).
_ANY_DETACHED = re.compile("[\u00b4`\u00a8\u02c6\u02dc\u00b8\u02c7\u02d8\u02d9\u02da\u00af]")
# PDFium marks a hyphen it found at a line end (and joined the lines at) with U+FFFE. A word
# is matched from its first letter only (the lookbehind): tried from each of its letters, the
# search costs the square of the word's length, and finds the same matches.
_SOFT_HYPHEN = re.compile(
    r"(?<![^\W\d_])([^\W\d_]++)[\ufffe\u00ad]([^\W\d_]+)|[\ufffe\u00ad](?=\s|$)"
)
_LINE_END_HYPHEN = re.compile(r"(?<![^\W\d_])([^\W\d_]++)-\n[ \t]*([^\W\d_]+)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
_WORD = re.compile(r"[^\W\d_]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Garbled: replacement glyphs, private-use characters, and control characters that are not blanks.
_GARBLED = re.compile("[\ufffd\ue000-\uf8ff\x00-\x08\x0e-\x1b]")
# Tesseract puts a blank between the words it finds in Chinese and Japanese, which write
# none: a blank between two Han, kana or CJK punctuation characters is not the text's.
_CJK = "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
_CJK_BLANK = re.compile(f"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")
# The TeX logos as Tesseract reads them (since round 6 of the papers set): TeX's lowered E
# comes out as F or as E with a dot below (`TFX Live`, `TẸX`, `BibTẸX`), and LaTeX's raised
# small A merges with the L into I, B, E or L (`IATEX`, `BTFX`, `ETFX distributions`). Neither
# `TFX` nor `TẸX` is a word; in the tune half's scans of TeX manuals they were 41 and 26 of the
# words Tesseract read that the page does not show. A letter or two before such a TeX make
# LaTeX; `LATEX`, `ATEX` and `BTEX` without the F or Ẹ are left as they are (words of their own).
_OCR_TEX = re.compile("T(?:\u1eb8F?|F)X")
_OCR_LATEX = re.compile("(?<![^\\W\\d_])(?:(?:[IBELŁØ]|IA|IS|£-A|A)TeX|IATEX)(?![^\\W\\d_])")
# ++: no backtracking into a word; the lookbehind: tried from a word's first letter only
_COMPOUND = re.compile(r"(?<![^\W\d_])[^\W\d_]++-[^\W\d_]+")


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
    route: str = "text_layer"  # text_layer | ocr | mixed (some pages each way)
    parser: str = "pypdfium2"
    parser_version: str = ""
    route_reason: str = ""
    pages_ocr: int = 0
    clipped_lines: int = 0  # text outside the page's crop box, left out
    furniture_lines: int = 0  # running headers, footers and page numbers left out
    # Read with OCR deferred (`read_pdf(..., ocr="defer")`) and some page needs it: no text
    # yet; the OCR stage reads the whole document again with OCR (spark_jobs/papers/routes.py).
    ocr_pending: bool = False


@dataclass(frozen=True)
class PageFeatures:
    """What routing looks at for one page."""

    chars: int  # non-blank characters of the text layer
    garbled: float  # share of them that are replacement, private-use or control characters
    image_share: float  # share of the page area images cover (capped at 1; 0 when not needed)

    def route(self) -> str:
        if self.chars >= MIN_TEXT_CHARS and self.garbled <= MAX_GARBLED_SHARE:
            return "text_layer"
        if self.image_share >= MIN_IMAGE_SHARE:
            return "ocr"
        return "text_layer"  # little or no text and no picture of text: a blank or figure page


@dataclass
class _Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def pdf_to_text(data: bytes) -> str:
    """The text of a PDF; raises PdfError (pdf_corrupt, pdf_encrypted, pdf_no_text_layer)."""
    return read_pdf(data).text


def read_pdf(
    data: bytes,
    *,
    max_pages: int = MAX_PAGES,
    limits: ReadLimits | None = None,
    ocr: bool | str = True,
    ocr_languages: str = OCR_LANGUAGES,
    ocr_workers: int = 1,
) -> PdfDocument:
    """Text and document information of a PDF given as bytes; raises PdfError.

    `ocr`: True reads pages that are pictures of text with Tesseract (`ocr_workers` pages at
    a time), False leaves them out, "defer" stops short of OCR and returns a document marked
    `ocr_pending` (no text) when some page needs it, for the OCR stage to read.
    """
    if not data:
        raise PdfError("pdf_corrupt", "the file is empty (0 bytes); re-fetch it")
    if b"%PDF-" not in data[:1024]:
        raise PdfError(
            "pdf_corrupt", f"not a PDF: no %PDF- header in the first 1024 bytes ({data[:16]!r})"
        )
    limits = limits or ReadLimits()
    info: dict | None = None
    count: int | None = None
    if vouch(data, limits.max_decompressed_bytes) is not None:  # the exact pass decides
        with apply_configuration(**_bounds(limits)):
            info, count = _check_structure(data, max_pages, limits.max_decompressed_bytes)
        count = min(count, max_pages)
    return _read(data, count, max_pages, info, ocr, ocr_languages, max(1, ocr_workers))


def _check_structure(data: bytes, max_pages: int, max_decoded: int) -> tuple[dict, int]:
    """pypdf's bounded walk of the document: encryption, the page tree, each page's content
    streams and form XObjects (decompressed, counted together); raises PdfError for what a
    hostile file does. Returns the document information and the page count."""
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
    decoded = _DecodedContent(max_decoded)
    for number in range(min(count, max_pages)):
        try:
            decoded.add_page(pages[number], number + 1)
        except PdfError:
            raise
        except (LimitReachedError, RecursionError) as exc:
            error = _over_limit(exc, f"page {number + 1}")
            if error.reason != "pdf_corrupt":
                raise error from exc
        except Exception:  # one broken page must not lose the others; PDFium reads it or not
            continue
    return _information(reader), count


class _DecodedContent:
    """Bytes the pages' content streams and form XObjects decompress to, each stream counted
    once: a bound on their sum is what keeps thousands of pages from holding gigabytes. A form
    that draws itself (directly or through others) is a hostile file."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._seen: set = set()

    def add_page(self, page, number: int) -> None:
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else []
        for stream in contents if isinstance(contents, list) else [contents]:
            self._count(stream, number)
        self._forms(page.get("/Resources"), number, ())

    def _count(self, stream, number: int) -> None:
        key = (
            (stream.idnum, stream.generation) if isinstance(stream, IndirectObject) else id(stream)
        )
        if key in self._seen:
            return
        self._seen.add(key)
        stream = stream.get_object()
        get_data = getattr(stream, "get_data", None)
        if get_data is None:
            return
        self.total += len(get_data())
        if self.total > self.limit:
            raise PdfError(
                "decompression_bomb",
                f"the content streams of pages 1-{number} decompress to over "
                f"{self.limit} bytes (options.limits.max_decompressed_bytes)",
            )

    def _forms(self, resources, number: int, path: tuple) -> None:
        if len(path) > 32:
            raise PdfError("too_deep", f"page {number}: form XObjects nest over 32 deep")
        resources = resources.get_object() if resources is not None else None
        if not hasattr(resources, "get"):
            return
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not hasattr(xobjects, "items"):
            return
        for name, reference in xobjects.items():
            form = reference.get_object()
            if not hasattr(form, "get") or form.get("/Subtype") != "/Form":
                continue
            key = (
                (reference.idnum, reference.generation)
                if isinstance(reference, IndirectObject)
                else id(form)
            )
            if key in path:
                raise PdfError(
                    "pdf_corrupt",
                    f"page {number} draws a form XObject inside itself ({name}); "
                    "only a broken or hostile PDF does",
                )
            self._count(reference, number)
            self._forms(form.get("/Resources"), number, (*path, key))


def _read(
    data: bytes,
    count: int | None,
    max_pages: int,
    info: dict | None,
    ocr: bool | str,
    ocr_languages: str,
    workers: int,
) -> PdfDocument:
    """The document read by PDFium; `count` and `info` as the exact structure pass found them,
    or None when the prescan vouched for the file (PDFium's own then)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception as exc:  # PdfiumError: the file is beyond what PDFium repairs
        raise PdfError("pdf_corrupt", f"PDFium cannot open the file: {exc}") from exc
    if count is None:
        count = min(len(document), max_pages)
        info = _pdfium_information(document)
    pages: list[list[str] | Future] = []
    heights: list[list[float] | None] = []  # each text-layer line's height on its page
    readers: list = []  # pypdf's reader of `data`, opened when a page needs glyph names
    glyph_cache: dict[int, dict] = {}
    numbers: list[int] = []  # each page's number in the document
    routes: list[str] = []
    features: list[PageFeatures] = []
    clipped = 0
    failures: list[str] = []
    # PDFium renders on this thread (it is not thread-safe); Tesseract runs as a process per
    # page, `workers` of them at once (the pool made, and Tesseract looked for, at the first
    # page that needs it).
    pool: ThreadPoolExecutor | None = None
    try:
        for number in range(min(count, len(document))):
            try:
                page = document[number]
            except Exception as exc:
                failures.append(f"page {number + 1}: {exc}")
                continue
            try:
                textpage = page.get_textpage()
                lines, page_clipped, feature = _text_layer(
                    page,
                    textpage,
                    functools.partial(_glyph_names_of, data, number, readers, glyph_cache),
                )
                textpage.close()
                route = feature.route()
                text: list[str] | Future = [line.text for line in lines]
                height: list[float] | None = [(line.y0 + line.y1) / 2 for line in lines]
                if route == "ocr" and ocr is True and tesseract_version() is not None:
                    pool = pool or ThreadPoolExecutor(max_workers=workers)
                    _wait_for_room(pages, 2 * workers)
                    png, dpi = _page_image(page)
                    text = pool.submit(_ocr_image, png, dpi, ocr_languages)
                    height = None
                elif route == "ocr":
                    route = "ocr" if ocr == "defer" else "ocr_unavailable"
                    text, height = [], None
                clipped += page_clipped
            finally:
                page.close()
            pages.append(text)
            heights.append(height)
            numbers.append(number)
            routes.append(route)
            features.append(feature)
        pages = [page.result() if isinstance(page, Future) else page for page in pages]
        if ocr_languages == "auto" and pool is not None:
            _read_in_document_script(document, pages, numbers, pool, workers)
        pages = [page[0] if isinstance(page, tuple) else page for page in pages]
    finally:
        document.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if ocr == "defer" and "ocr" in routes:
        return PdfDocument(
            text="",
            title=info.get("title"),
            author=info.get("author"),
            pages=count,
            pages_with_text=0,
            **_route_columns(routes, features),
            ocr_pending=True,
        )
    pages, furniture = _drop_furniture(pages, heights)
    texts = [_clean("\n".join(lines)) for lines in pages]
    vocabulary = _vocabulary(texts)
    texts = [_join_hyphens(text, vocabulary) for text in texts]
    kept = [text for text in texts if text]
    if not kept:
        if failures:
            raise PdfError("pdf_corrupt", f"no page could be read ({'; '.join(failures[:3])})")
        if "ocr_unavailable" in routes:
            raise PdfError(
                "pdf_no_text_layer",
                f"none of the {count} pages has a text layer and OCR is not installed: "
                "apt-get install tesseract-ocr tesseract-ocr-eng",
            )
        ocr_pages = routes.count("ocr")
        raise PdfError(
            "pdf_no_text_layer",
            f"none of the {count} pages has a text layer"
            + (f", and OCR read no text on the {ocr_pages} that are images" if ocr_pages else "")
            + " (a blank scan or pictures only)",
        )
    return PdfDocument(
        text="\n\n".join(kept),
        title=info.get("title"),
        author=info.get("author"),
        pages=count,
        pages_with_text=len(kept),
        **_route_columns(routes, features),
        clipped_lines=clipped,
        furniture_lines=furniture,
    )


def _read_in_document_script(
    document, pages: list, numbers: list[int], pool: ThreadPoolExecutor, workers: int
) -> None:
    """The OCR'd pages (`pages[i]` a (lines, model) pair; page `numbers[i]` of `document`)
    that the fallback model read, read again with the document's script model
    (`_document_script`), in place; at most 2 * `workers` rendered pages wait at a time."""
    ocred = {index: page[1] for index, page in enumerate(pages) if isinstance(page, tuple)}
    model = _document_script(list(ocred.values()))
    if model is None:
        return
    fallback = _fallback_model()
    again: dict[int, Future] = {}
    for index, used in ocred.items():
        if used != fallback:
            continue
        _wait_for_room(list(again.values()), 2 * workers)
        page = document[numbers[index]]
        try:
            png, dpi = _page_image(page)
        finally:
            page.close()
        again[index] = pool.submit(_ocr_image, png, dpi, f"script:{model}")
    for index, future in again.items():
        pages[index] = future.result()


def _route_columns(routes: list[str], features: list[PageFeatures]) -> dict:
    ocr_pages = routes.count("ocr")
    text_pages = len(routes) - ocr_pages
    median_chars = int(statistics.median(f.chars for f in features)) if features else 0
    max_garbled = max((f.garbled for f in features), default=0.0)
    image_pages = sum(1 for f in features if f.image_share >= MIN_IMAGE_SHARE)
    reason = (
        f"{text_pages} page(s) text layer, {ocr_pages} OCR; median {median_chars} chars/page, "
        f"garbled share at most {max_garbled:.2f}, {image_pages} page(s) mostly image"
    )
    pdfium_version = _pdfium_version()
    if ocr_pages and not text_pages:
        return {
            "route": "ocr",
            "parser": "tesseract",
            "parser_version": f"tesseract {tesseract_version()}; {pdfium_version}",
            "route_reason": reason,
            "pages_ocr": ocr_pages,
        }
    if ocr_pages:
        return {
            "route": "mixed",
            "parser": "pypdfium2+tesseract",
            "parser_version": f"{pdfium_version}; tesseract {tesseract_version()}",
            "route_reason": reason,
            "pages_ocr": ocr_pages,
        }
    return {
        "route": "text_layer",
        "parser": "pypdfium2",
        "parser_version": pdfium_version,
        "route_reason": reason,
        "pages_ocr": 0,
    }


@functools.cache
def _pdfium_version() -> str:
    import pypdfium2 as pdfium

    return f"pypdfium2 {pdfium.PYPDFIUM_INFO} (pdfium {pdfium.PDFIUM_INFO})"


@functools.cache
def tesseract_version() -> str | None:
    """Tesseract's version, or None when the `tesseract` command is not installed."""
    binary = shutil.which("tesseract")
    if binary is None:
        return None
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (done.stdout or done.stderr).decode("utf-8", "replace").split("\n", 1)[0]
    return first.removeprefix("tesseract ").strip() or "unknown"


def _text_layer(page, textpage, glyph_names=None) -> tuple[list[_Line], int, PageFeatures]:
    """The page's text lines inside its crop box, in reading order; the lines left out for
    lying outside it; and the page's routing features. `glyph_names`, when given, returns
    the page's fonts' glyph names by code (see _named_ligatures)."""
    raw_text = _page_text(textpage)
    text = _place_accents(raw_text, textpage)
    text = _fixed_pitch_blanks(text, textpage)
    text = _type3_ligatures(_math_symbol_brackets(text, textpage), textpage)
    if glyph_names is not None:
        text = _named_ligatures(text, textpage, glyph_names)
        text = _control_named_glyphs(text, textpage, glyph_names)
    text = _unmapped_glyphs(text, raw_text, textpage)
    text = _mirrored_e(text, textpage)
    text = _overprinted_glyphs(text, textpage)
    # the page's visible area: its crop box within its media box, each inherited from the
    # page tree when the page has none of its own (xdvipdfmx, XeTeX's driver, writes the
    # MediaBox once on the /Pages node). pypdfium2's get_cropbox() reads the page's own
    # entries only, and without them fell back to US Letter: an A4 page lost its top 50 pt,
    # an A3 landscape exam its right half (since round 6 of the papers set).
    left, bottom, right, top = page.get_bbox()
    charbox = _charbox_reader(textpage)
    lines: list[_Line] = []
    clipped = 0
    index = 0
    for raw in text.replace("\r\n", "\n").split("\n"):
        start = index
        length = len(raw)
        index += length + (2 if text[index + length : index + length + 1] == "\r" else 1)
        unindented = raw.lstrip(_STRIPPED)
        if not unindented:
            continue
        a0, a1, a2, a3 = charbox(start + length - len(unindented))
        b0, b1, b2, b3 = charbox(start + len(raw.rstrip(_STRIPPED)) - 1)
        box = (min(a0, b0), min(a1, b1), max(a2, b2), max(a3, b3))  # the two boxes' union
        inside = _inside(box, left, bottom, right, top)
        if inside == "out":
            clipped += 1
            continue
        if inside == "partly":
            kept = "".join(
                char
                for offset, char in enumerate(raw)
                if char.isspace()
                or _inside(charbox(start + offset), left, bottom, right, top) != "out"
            )
            if not kept.strip(_STRIPPED):
                clipped += 1
                continue
            raw = kept
        lines.append(_Line(raw.replace(DELETED, "").strip(), *box))
    lines = _split_at_gutter(textpage, lines, left, right)
    features = _features(page, raw_text.replace(DELETED, ""), right - left, top - bottom)
    return _reading_order(lines, (left + right) / 2), clipped, features


def _page_text(textpage) -> str:
    """PDFium's text of the page, one character per character index (the index its box is
    looked up by). FPDFText_GetText, which get_text_range() calls, leaves out a character
    beyond the Basic Multilingual Plane that PDFium holds as one code point (the math italic
    letters of unicode-math's fonts, U+1D44E...: perfectcut's formulas lost every letter),
    and gives one it holds as two UTF-16 halves as one character; either way every later
    index was one off, so boxes were looked up for the wrong characters (gerdoc's accents
    stood apart: `unterst ¨ utzt`). Where the text is shorter than the page's characters, it
    is read from FPDFText_GetUnicode: a character beyond the plane held as two halves is put
    at the first index, DELETED at the second (since round 6 of the papers set)."""
    import pypdfium2.raw as pdfium_c

    text = textpage.get_text_range()
    count = textpage.count_chars()
    if len(text) >= count:
        return text
    codes = [pdfium_c.FPDFText_GetUnicode(textpage, index) for index in range(count)]
    chars = []
    index = 0
    while index < count:
        code = codes[index]
        if 0xD800 <= code < 0xDC00 and index + 1 < count and 0xDC00 <= codes[index + 1] < 0xE000:
            chars += [chr(0x10000 + ((code - 0xD800) << 10) + codes[index + 1] - 0xDC00), DELETED]
            index += 2
            continue
        if code == 2:  # PDFium's mark of a hyphen at a line end, U+FFFE in its text
            chars.append("\ufffe")
        else:
            chars.append("\ufffd" if 0xD800 <= code < 0xE000 or code > 0x10FFFF else chr(code))
        index += 1
    return "".join(chars)


def _charbox_reader(textpage):
    """textpage.get_charbox as one PDFium call with its arguments made once (the wrapper makes
    four ctypes doubles a call): the character's (left, bottom, right, top); raises
    PdfiumError as the wrapper does for a character without a box."""
    from pypdfium2 import PdfiumError

    get, raw, left, bottom, right, top, pointers = _charbox_call(textpage)

    def charbox(index: int) -> tuple[float, float, float, float]:
        if not get(raw, index, *pointers):
            raise PdfiumError("Failed to get charbox.")
        return left.value, bottom.value, right.value, top.value

    return charbox


def _charbox_or_none(textpage):
    """As _charbox_reader, None for a character without a box instead of raising."""
    get, raw, left, bottom, right, top, pointers = _charbox_call(textpage)

    def charbox(index: int) -> tuple[float, float, float, float] | None:
        if not get(raw, index, *pointers):
            return None
        return left.value, bottom.value, right.value, top.value

    return charbox


def _charbox_call(textpage) -> tuple:
    """PDFium's FPDFText_GetCharBox called with plain addresses (the text page's, four doubles'
    it writes the box to: left, right, bottom, top), which ctypes passes about twice as fast
    as the typed pointers of pypdfium2's binding; the doubles are returned with it."""
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    addresses = [ctypes.addressof(value) for value in (left, right, bottom, top)]
    raw = ctypes.cast(textpage.raw, ctypes.c_void_p).value
    return _char_box_function(), raw, left, bottom, right, top, addresses


@functools.cache
def _char_box_function():
    import pypdfium2.raw as pdfium_c

    address = ctypes.cast(pdfium_c.FPDFText_GetCharBox, ctypes.c_void_p).value
    pointer = ctypes.c_void_p
    signature = ctypes.CFUNCTYPE(ctypes.c_int, pointer, ctypes.c_int, *[pointer] * 4)
    return signature(address)


# Spacing accents are placed by where they sit on the page, not where PDFium puts them in
# the text: TeX draws an accent as a glyph of its own over or under its letter, and PDFium
# gives it before the letter (`u ˙zytkowania`), after it (`s`, U+00B4, `c` for `ść`), after
# the word (`Sedmitecná ˇ`, `fur ¨`), or with the next word (the accent of one word's `ć`
# given among the letters of the next). The letter is the one whose box holds the accent's middle,
# just above or below it, among the characters either side of the accent in the text.
_ACCENT_CHARS = "\u00b4`\u00a8\u02c6^\u02dc\u00b8\u02c7\u02d8\u02d9\u02da\u00af\u02db\u02dd"
_ACCENT = re.compile(f"[{re.escape(_ACCENT_CHARS)}]")
_ACCENT_MARKS = {
    **{accent: mark for accent, mark in _SPACING_ACCENTS.items()},
    "\u02db": "\u0328",  # ogonek
    "\u02dd": "\u030b",  # double acute (Hungarian ő, ű)
}
_ACCENT_REACH = 80  # characters either side of the accent looked at for its letter
_ACCENT_SLACK = 0.75  # points the accent's middle may lie outside its letter's box
# A blank PDFium generated beside a moved accent (it saw a gap where the accent's glyph sat)
# is dropped when the letters either side of it are closer than this share of their height.
_ACCENT_GAP_SHARE = 0.3
DELETED = "\x00"  # a character left out of the text, keeping the indices boxes are looked up by
_STRIPPED = " \t\r\n\x0b\x0c" + DELETED


def _place_accents(text: str, textpage) -> str:
    """`text` with each spacing accent composed onto the letter under it, found by position,
    when the pair makes one precomposed letter. The accent's place, and the blanks PDFium
    generated around it between two letters that touch, become DELETED (removed when the
    text is cleaned), so the text keeps its length."""
    if not _ACCENT.search(text):
        return text
    import pypdfium2.raw as pdfium_c

    chars = list(text)
    boxes: dict[int, tuple | None] = {}
    raw = textpage.raw
    charbox = _charbox_or_none(textpage)

    def box(index: int) -> tuple | None:
        if index not in boxes:
            boxes[index] = charbox(index)
        return boxes[index]

    for match in _ACCENT.finditer(text):
        index = match.start()
        accent = box(index)
        if accent is None:
            continue
        middle = (accent[0] + accent[2]) / 2
        below = text[index] in _ACCENTS_BELOW
        # the letter on the accent's line (PDFium's), nearest to it in the text first
        first = max(text.rfind("\n", 0, index) + 1, index - _ACCENT_REACH)
        end = text.find("\n", index)
        end = min(len(text) if end < 0 else end, index + _ACCENT_REACH)
        found = None
        for distance in range(1, max(index - first, end - index - 1) + 1):
            for other in (index - distance, index + distance):
                if not first <= other < end or not chars[other].isalpha():
                    continue
                letter = box(other)
                if (
                    letter is not None
                    and letter[0] - _ACCENT_SLACK <= middle <= letter[2] + _ACCENT_SLACK
                    and _beside(accent, letter, below=below)
                ):
                    found = other
                    break
            if found is not None:
                break
        if found is None:
            continue
        other = found
        base = "i" if chars[other] == "\u0131" else chars[other]
        composed = unicodedata.normalize("NFC", base + _ACCENT_MARKS[text[index]])
        if len(composed) != 1:
            continue
        chars[other] = composed
        chars[index] = DELETED
        _drop_generated_blanks(chars, index, box, raw, pdfium_c)
    return "".join(chars)


# PDFium puts a blank between two characters where it finds a word's end by the font's
# metrics, and in some fixed-pitch fonts it finds one between every two letters: the
# letter-spaced listings of countriesofeurope (Libertinus Mono, XeTeX; a tune document) came
# out as `\ E U C o u n t r y`, where pdftotext reads `\EUCountry`. (pst-sigsys-doc's
# listings, `p s p i c t u r e` in Ghostscript's Type 3 fonts, which PDFium reads at 0.12 pt,
# are beyond the cell bound below and stay so.) Box gaps tell nothing (an f's overhang or a Greek
# accent brings words as close as letters), but in a fixed-pitch font every character
# advances one cell and a word space a whole cell more: in a run of lone characters between
# blanks whose origins step by whole multiples of one cell (within FIXED_PITCH_SLACK of it),
# a blank PDFium generated where the step is one cell is dropped.
FIXED_PITCH_SLACK = 0.05
# ... and a cell narrower than this share of the font size: a fixed-pitch Latin font's cell is
# about half an em, while a table of characters set one to a cell of a grid (greek-utf8's
# alphabets, cjk-ko-doc's syllables) or CJK text (an em a character) steps wider
FIXED_PITCH_MAX_CELL = 0.75
_SPACED_RUN = re.compile(r"(?<![^\s\x00])(?:[^\s\x00] ){3,}[^\s\x00](?![^\s\x00])")


def _fixed_pitch_blanks(text: str, textpage) -> str:
    """`text` with the blanks PDFium generated between the letters of words set in a
    fixed-pitch font DELETED (see above); one character for one, so indices stay."""
    if not _SPACED_RUN.search(text):
        return text
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    x, y = ctypes.c_double(), ctypes.c_double()
    chars: list[str] | None = None
    for match in _SPACED_RUN.finditer(text):
        lone = range(match.start(), match.end(), 2)
        origins = []
        for index in lone:
            if not pdfium_c.FPDFText_GetCharOrigin(raw, index, x, y):
                break
            origins.append((x.value, y.value))
        if len(origins) < len(lone) or max(abs(b - origins[0][1]) for _, b in origins) > 1.0:
            continue  # a character without an origin, or not all on one line
        steps = [b[0] - a[0] for a, b in itertools.pairwise(origins)]
        cell = min(steps)
        if not 0 < cell < FIXED_PITCH_MAX_CELL * pdfium_c.FPDFText_GetFontSize(raw, lone[0]) or any(
            abs(step / cell - round(step / cell)) > FIXED_PITCH_SLACK for step in steps
        ):
            continue
        for index, step in zip(lone, steps, strict=False):
            if step < 1.5 * cell and pdfium_c.FPDFText_IsGenerated(raw, index + 1):
                chars = chars if chars is not None else list(text)
                chars[index + 1] = DELETED
    return text if chars is None else "".join(chars)


# PSTricks draws a figure's dots as glyphs of a Type 3 font without a ToUnicode map, two
# glyphs on one spot for each dot (its fill and its outline); PDFium flags them and gives
# their codes as letters, so pst-coxeterp-doc's figures (a tune document) came out as 11,074
# words `bc` (and `qp`, `ut`). A line of nothing but words of
# up to three letters is looked at: flagged characters that stand on the very spot of a
# flagged neighbour (boxes equal within OVERPRINT_SLACK points) are a drawing, not text,
# and are dropped, as pdftotext drops them.
OVERPRINT_SLACK = 0.01
_SHORT_WORDS_LINE = re.compile(r"(?m)^[ \t]*(?:[^\W\d_]{1,3}[ \t]+)*[^\W\d_]{1,3}[ \t]*\r?$")


def _overprinted_glyphs(text: str, textpage) -> str:
    """`text` with the flagged characters drawn on one spot as a neighbour's DELETED (see
    above); one character for one, so indices stay."""
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    chars: list[str] | None = None
    box = _charbox_or_none(textpage)

    for line in _SHORT_WORDS_LINE.finditer(text):
        start, end = line.span()
        for index in range(start, end - 1):
            if not (text[index].isalpha() and text[index + 1].isalpha()):
                continue
            if not (
                pdfium_c.FPDFText_HasUnicodeMapError(raw, index)
                and pdfium_c.FPDFText_HasUnicodeMapError(raw, index + 1)
            ):
                continue
            first, second = box(index), box(index + 1)
            if first is None or second is None:
                continue
            if all(abs(a - b) <= OVERPRINT_SLACK for a, b in zip(first, second, strict=True)):
                chars = chars if chars is not None else list(text)
                chars[index] = chars[index + 1] = DELETED
    return text if chars is None else "".join(chars)


# TeX's math symbol fonts (OMS encoding: cmsy, Latin Modern's LMMathSymbols, txfonts',
# newtx's and pxfonts' symbol fonts) hold the angle brackets at the codes of `h` and `i`;
# without a ToUnicode map PDFium gives the code as the letter, so `\meta{name}` or
# `$\langle x \rangle$` came out as `hnamei`, glued to the word. PDFium flags such characters
# (a Unicode map error); a flagged `h` at a word's start or `i` at its end in one of these
# fonts is the bracket.
_OMS_FONT = re.compile(r"(?i)^(?:[A-Z]{6}\+)?(?:cmb?sy\d*|lmmathsymbols|r?tx(?:b?sy|msy)|pxb?sy)")
# dvips and Metafont make Type 3 bitmap fonts, without names, of TeX's T1-encoded (EC) fonts
# when no Type 1 version is installed; their glyph names (`/a28`) map to nothing, and PDFium
# gives the code: T1 holds the ff, fi, fl, ffi and ffl ligatures at 0x1B-0x1F, so `first`
# came out as 0x1C, `rst`.
# (read as the Unicode ligature characters, which _clean spells out)
_LIGATURE_MARKS = {
    "\x1b": "\ufb00",
    "\x1c": "\ufb01",
    "\x1d": "\ufb02",
    "\x1e": "\ufb03",
    "\x1f": "\ufb04",
}
_T1_LIGATURE = re.compile("[\x1b-\x1f]")
# (the letter first, then what lies before it: the search skips to each `h` and `i` fast)
_OMS_BRACKET_CANDIDATE = re.compile(r"h(?<![^\W\d_]h)(?=[^\W\d_])|i(?<=[^\W\d_]i)(?![^\W\d_])")
_OMS_BRACKETS = {"h": "\u27e8", "i": "\u27e9"}


def _unmapped_matches(
    text: str, textpage, pattern: re.Pattern, flagged: bool = True
) -> Iterator[tuple[int, str]]:
    """(index, base font name) of each match of `pattern` in `text` whose character PDFium
    flags as unmapped (with `flagged` False: that PDFium read from the page, not generated);
    each font's name is read once ("" for a nameless font)."""
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    names: dict[int, str] = {}
    for match in pattern.finditer(text):
        index = match.start()
        if (
            not pdfium_c.FPDFText_HasUnicodeMapError(raw, index)
            if flagged
            else pdfium_c.FPDFText_IsGenerated(raw, index)
        ):
            continue
        text_object = pdfium_c.FPDFText_GetTextObject(raw, index)
        font = pdfium_c.FPDFTextObj_GetFont(text_object) if text_object else None
        if not font:
            continue
        key = ctypes.cast(font, ctypes.c_void_p).value or 0
        if key not in names:
            buffer = ctypes.create_string_buffer(256)
            pdfium_c.FPDFFont_GetBaseFontName(font, buffer, 256)
            names[key] = buffer.value.decode("latin-1")
        yield index, names[key]


def _math_symbol_brackets(text: str, textpage) -> str:
    """`text` with the angle brackets of a TeX math symbol font read as brackets (see
    _OMS_FONT); one character for one, so indices stay."""
    chars: list[str] | None = None
    for index, font in _unmapped_matches(text, textpage, _OMS_BRACKET_CANDIDATE):
        if _OMS_FONT.match(font):
            chars = chars if chars is not None else list(text)
            chars[index] = _OMS_BRACKETS[text[index]]
    return text if chars is None else "".join(chars)


def _type3_ligatures(text: str, textpage) -> str:
    """`text` with the ligatures of nameless (Type 3 bitmap) T1 fonts as Unicode ligatures;
    one character for one, so indices stay."""
    if not _T1_LIGATURE.search(text):
        return text
    chars = list(text)
    for index, font in _unmapped_matches(text, textpage, _T1_LIGATURE):
        if not font:
            chars[index] = _LIGATURE_MARKS[text[index]]
    return "".join(chars)


# A ligature glyph that a font's encoding names in the underscore form of the Adobe Glyph List
# (`f_f`, `f_f_i`; Linux Libertine's Type 1 fonts), which PDFium does not map: it flags the
# glyph and gives its character code, a control character (listofitems' `di\x1derent`, the
# code of /f_f). The name, read from the font's /Encoding /Differences, gives the letters, as
# pdftotext reads them. (One character for one: the Unicode ligature, which _clean spells
# out.)
_CONTROL_CODE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LIGATURE_NAMES = {
    "ff": "\ufb00",
    "fi": "\ufb01",
    "fl": "\ufb02",
    "ffi": "\ufb03",
    "ffl": "\ufb04",
    "st": "\ufb06",
}
MAX_DIFFERENCES = 4096  # entries of one font's /Differences read
# a subset font's tag (`QUCCUA+LinLibertineT`), which PDFium's base font name leaves out
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")


def _named_ligatures(text: str, textpage, glyph_names) -> str:
    """`text` with each unmapped control code whose font's encoding names it a ligature read
    as that ligature; one character for one, so indices stay."""
    if not _CONTROL_CODE.search(text):
        return text
    chars = list(text)
    for index, font in _unmapped_matches(text, textpage, _CONTROL_CODE):
        name = glyph_names().get(_SUBSET_TAG.sub("", font), {}).get(ord(text[index]))
        ligature = _LIGATURE_NAMES.get((name or "").replace("_", ""))
        if ligature and (name in _LIGATURE_NAMES or "_" in (name or "")):
            chars[index] = ligature
    return "".join(chars)


# Ghostscript names the glyphs of the Type 3 bitmap fonts it makes from dvips output by their
# codes, two characters in base 36 (`/CR` is code 99, `c`; `/BS` 64, `@`; `/AS` 28). Where
# such a name is also an ASCII control character's name, Ghostscript's ToUnicode map gives
# the glyph that control character, and PDFium reads it so, unflagged: pst-sigsys-doc (a tune document, dvips + Ghostscript 8.64)
# read `pa\rkage`, `ma\rros`, `fdelgosha\x08gmail`, and every `c` was lost. A control
# character PDFium did not generate, whose font's encoding gives its control name to one
# code, is that code's character, as pdftotext reads it (one character for one).
_CONTROL_NAMES = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "HT",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]
_CONTROL_GLYPH = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)")


def _control_named_glyphs(text: str, textpage, glyph_names) -> str:
    """`text` with each control character that a glyph named like it stands for (see
    _CONTROL_NAMES) read as the glyph's code; one character for one, so indices stay."""
    if not _CONTROL_GLYPH.search(text):
        return text
    chars: list[str] | None = None
    for index, font in _unmapped_matches(text, textpage, _CONTROL_GLYPH, flagged=False):
        name = _CONTROL_NAMES[ord(text[index])]
        names = glyph_names().get(_SUBSET_TAG.sub("", font), {})
        codes = [code for code, glyph in names.items() if glyph == name]
        if len(codes) == 1 and (0x20 <= codes[0] < 0x7F or 0xA0 <= codes[0] <= 0xFF):
            chars = chars if chars is not None else list(text)
            chars[index] = chr(codes[0])
    return text if chars is None else "".join(chars)


def _glyph_names_of(data: bytes, number: int, readers: list, cache: dict) -> dict:
    if number not in cache:
        cache[number] = _page_glyph_names(data, number, readers)
    return cache[number]


def _page_glyph_names(data: bytes, number: int, readers: list) -> dict[str, dict[int, str]]:
    """Base font name -> {code: glyph name} from the /Differences of the fonts of page
    `number` (pypdf, opened once per document into `readers`); codes that two fonts of one
    name name differently are left out. Anything unreadable gives what was read."""
    names: dict[str, dict[int, str]] = {}
    conflicts: set[tuple[str, int]] = set()
    try:
        if not readers:
            readers.append(PdfReader(io.BytesIO(data)))
        resources = readers[0].pages[number].get("/Resources")
        resources = resources.get_object() if resources is not None else None
        fonts = resources.get("/Font") if hasattr(resources, "get") else None
        fonts = fonts.get_object() if fonts is not None else None
        for reference in (fonts or {}).values():
            font = reference.get_object()
            encoding = font.get("/Encoding")
            encoding = encoding.get_object() if encoding is not None else None
            differences = encoding.get("/Differences") if hasattr(encoding, "get") else None
            if differences is None:
                continue
            base = _SUBSET_TAG.sub("", str(font.get("/BaseFont", "")).removeprefix("/"))
            table = names.setdefault(base, {})
            code = 0
            for item in list(differences.get_object())[:MAX_DIFFERENCES]:
                item = item.get_object() if hasattr(item, "get_object") else item
                if isinstance(item, int):
                    code = item
                    continue
                name = str(item).removeprefix("/")
                if table.get(code, name) != name:
                    conflicts.add((base, code))
                table[code] = name
                code += 1
    except Exception:  # a font dictionary pypdf cannot read names no glyph
        pass
    for base, code in conflicts:
        names[base].pop(code, None)
    return names


# A letter beyond Latin-1 that PDFium flags as unmapped and that sits, in another script,
# between letters of one: PDFium found no Unicode for the glyph (no ToUnicode entry, as
# XeTeX leaves for the conjuncts and vowel-sign forms of Devanagari or the contextual forms
# of Arabic) and gave its character code, a CID font's glyph number, as if it were one:
# `आЭण` for आणि, Cyrillic, Greek and Armenian letters amid Marathi or Arabic words. Such a
# character is no text: it becomes a blank (the glyph stands between the letters either
# side, which are not one word with nothing between them), as pdftotext reads it. PDFium
# flags glyphs it named from their glyph names too (Greek letters of a Type 1 font,
# quotes, arrows), which are right: a flagged letter in its neighbours' script, or beside
# no letter, stays, and so does every character that is not a letter or a mark.
_MULTIBYTE = re.compile("[^\\x00-\\xff]")


# The XeTeX and XeLaTeX logos: an X, then a mirrored E (drawn through a reflection, its
# origin at its right edge) tucked under the X's right side, then TeX or LaTeX. PDFium orders
# the mirrored E by its origin and sees a gap before it: `X TEEX`, `X ELATEX`. The mirrored
# E goes after the X, where the page shows it: `XETEX`, as pdftotext reads it.
_XE_LOGO = re.compile(r"X[ \r\n]{1,3}(?=[A-Z]{0,2}E)")
_XE_REACH = 2.0  # points the mirrored E may start right of the X's right edge


def _mirrored_e(text: str, textpage) -> str:
    """`text` with the mirrored E of each XeTeX logo moved after its X (see _XE_LOGO); one
    character for one, so indices stay."""
    if "X" not in text or not _XE_LOGO.search(text):
        return text
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    charbox = _charbox_reader(textpage)
    matrix = pdfium_c.FS_MATRIX()
    chars = list(text)
    for match in _XE_LOGO.finditer(text):
        x = match.start()
        mirrored = None
        for e in range(match.end(), min(match.end() + 3, len(text))):
            if text[e] != "E":
                continue
            if pdfium_c.FPDFText_GetMatrix(raw, e, ctypes.byref(matrix)) and matrix.a < 0:
                mirrored = e
                break
        if mirrored is None or charbox(mirrored)[0] > charbox(x)[2] + _XE_REACH:
            continue
        # X, the E, then the letters PDFium put before the E; the blanks' places DELETED
        letters = [c for c in text[x + 1 : mirrored] if not c.isspace()]
        moved = ["E", *letters]
        for offset, index in enumerate(range(x + 1, mirrored + 1)):
            chars[index] = moved[offset] if offset < len(moved) else DELETED
    return "".join(chars)


def _script(char: str) -> str:
    """The first word of the character's Unicode name: its script for letters (LATIN,
    CYRILLIC, DEVANAGARI...), COMBINING for most marks."""
    return unicodedata.name(char, "").split(" ", 1)[0]


def _letter_or_mark(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM"


def _unmapped_glyphs(text: str, raw_text: str, textpage) -> str:
    """`text` with each unmapped glyph code of PDFium's `raw_text` (see _MULTIBYTE) a blank,
    where the rules before (brackets, ligatures, accents) left it as it was; one character
    for one, so indices stay."""
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    chars: list[str] | None = None
    for match in _MULTIBYTE.finditer(raw_text):
        index = match.start()
        char = match.group()
        if text[index] != char or not _letter_or_mark(char):
            continue
        neighbours = [raw_text[i] for i in (index - 1, index + 1) if 0 <= i < len(raw_text)]
        letters = [n for n in neighbours if _letter_or_mark(n)]
        if not letters or _script(char) in {_script(n) for n in letters}:
            continue
        if pdfium_c.FPDFText_HasUnicodeMapError(raw, index):
            chars = chars if chars is not None else list(text)
            chars[index] = " "
    return text if chars is None else "".join(chars)


_ACCENTS_BELOW = "\u00b8\u02db"  # a cedilla and an ogonek hang under their letter


def _beside(accent: tuple, letter: tuple, *, below: bool) -> bool:
    """Whether an accent's box sits where its letter's accent goes: over the letter (its
    bottom in the letter's upper part, at most one letter height above it), or, for a
    cedilla or ogonek, under it. A quote on the next line is not an accent of this one."""
    _, y0, _, y1 = letter
    height = max(y1 - y0, 1.0)
    if below:
        return y0 - height <= accent[3] <= y1 - 0.3 * height
    return y0 + 0.3 * height <= accent[1] <= y1 + height


def _drop_generated_blanks(chars: list[str], index: int, box, raw, pdfium_c) -> None:
    """The blanks PDFium generated either side of a removed accent, when the characters
    beyond them are letters that touch on the page (one word the accent split)."""
    run = [index]
    start = index
    while start > 0 and chars[start - 1] in (" ", DELETED):
        start -= 1
        run.append(start)
    end = index
    while end + 1 < len(chars) and chars[end + 1] in (" ", DELETED):
        end += 1
        run.append(end)
    blanks = [i for i in run if chars[i] == " "]
    if not blanks or start == 0 or end + 1 >= len(chars):
        return
    if not (chars[start - 1].isalpha() and chars[end + 1].isalpha()):
        return
    if not all(pdfium_c.FPDFText_IsGenerated(raw, i) for i in blanks):
        return
    left, right = box(start - 1), box(end + 1)
    if left is None or right is None:
        return
    height = max(left[3] - left[1], right[3] - right[1], 1.0)
    if (
        abs(right[1] - left[1]) > height
        or not -height < right[0] - left[2] < _ACCENT_GAP_SHARE * height
    ):
        return
    for i in blanks:
        chars[i] = DELETED


def _split_at_gutter(textpage, lines: list[_Line], left: float, right: float) -> list[_Line]:
    """Lines PDFium joined across the gutter of a two-column page (both columns' lines on one
    baseline, drawn row by row) as their left and right parts. A page is taken as set in two
    columns when at least TWO_COLUMN_LINES of its lines cross the middle with no character
    within GUTTER points of it, they are nearly all (TWO_COLUMN_SHARE) of the lines that
    cross it, those are half the page's lines, and most of them end at one right margin: a
    table's or a code listing's wide rows do not make a page two-column."""
    middle = (left + right) / 2
    crossing = [
        index
        for index, line in enumerate(lines)
        if line.x0 < middle - GUTTER and line.x1 > middle + GUTTER
    ]
    if len(crossing) < TWO_COLUMN_LINES or len(crossing) < 0.5 * len(lines):
        return lines
    # Looking a character up by position scans the page's characters: the look stops as soon
    # as too few crossing lines are left to make the page two-column.
    needed = max(TWO_COLUMN_LINES, TWO_COLUMN_SHARE * len(crossing))
    gutters = set()
    misses = 0
    for index in crossing:
        line = lines[index]
        height = max(line.y1 - line.y0, 1.0)
        center = (line.y0 + line.y1) / 2
        if textpage.get_index(middle, center, GUTTER, height / 2 + 1) is None:
            gutters.add(index)
        else:
            misses += 1
            if len(crossing) - misses < needed:
                return lines
    if not _justified([lines[index] for index in gutters]):
        return lines
    out: list[_Line] = []
    for index, line in enumerate(lines):
        if index not in gutters:
            out.append(line)
            continue
        bottom, top = line.y0 - 0.5, line.y1 + 0.5
        parts = [
            textpage.get_text_bounded(max(line.x0 - 1, left), bottom, middle, top),
            textpage.get_text_bounded(middle, bottom, min(line.x1 + 1, right), top),
        ]
        parts = [" ".join(part.split()) for part in parts]
        if not all(parts):
            out.append(line)
            continue
        out.append(_Line(parts[0], line.x0, line.y0, middle - GUTTER, line.y1))
        out.append(_Line(parts[1], middle + GUTTER, line.y0, line.x1, line.y1))
    return out


def _justified(lines: list[_Line]) -> bool:
    """Whether most lines are prose ending at one right margin, as justified columns are (a
    code listing's or a table's rows end anywhere; a contents page's leaders and a glyph
    chart's rows are not prose)."""
    margin = max(line.x1 for line in lines)
    aligned = sum(1 for line in lines if line.x1 >= margin - 3)
    prose = sum(1 for line in lines if _is_prose(line.text))
    return aligned >= 0.7 * len(lines) and prose >= 0.8 * len(lines)


def _is_prose(text: str) -> bool:
    visible = [char for char in text if not char.isspace()]
    letters = sum(1 for char in visible if char.isalpha())
    return ". . ." not in text and letters >= 0.7 * max(len(visible), 1)


def _inside(box: tuple, left: float, bottom: float, right: float, top: float) -> str:
    x0, y0, x1, y1 = box[:4]
    if x1 < left or x0 > right or y1 < bottom or y0 > top:
        return "out"
    if x0 >= left - 1 and x1 <= right + 1 and y0 >= bottom - 1 and y1 <= top + 1:
        return "in"
    return "partly"


def _features(page, text: str, width: float, height: float) -> PageFeatures:
    """The page's routing features. The image share is looked up only for a page whose text
    layer does not already decide it (walking page objects costs more than reading text)."""
    visible = sum(map(len, text.split()))  # str.split's blanks are exactly re's \s
    garbled = len(_GARBLED.findall(text))
    share = garbled / visible if visible else 0.0
    if visible >= MIN_TEXT_CHARS and share <= MAX_GARBLED_SHARE:
        return PageFeatures(chars=visible, garbled=share, image_share=0.0)
    return PageFeatures(
        chars=visible, garbled=share, image_share=_image_share(page, width * height)
    )


def _image_share(page, area: float) -> float:
    import pypdfium2.raw as pdfium_c

    covered = 0.0
    try:
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
            x0, y0, x1, y1 = image.get_bounds()
            width, height = max(0.0, x1 - x0), max(0.0, y1 - y0)
            if width and height and _image_ppi(image, width, height) < MIN_SCAN_PPI:
                continue  # a picture blown up past any readable text: not a scan
            covered += width * height
    except Exception:  # an image PDFium cannot place counts as none
        return 0.0
    return min(covered / max(area, 1.0), 1.0)


def _image_ppi(image, width: float, height: float) -> float:
    """An image's pixels per inch on the page (its shorter side's, so a rotated image is
    measured the same); an image whose pixel size PDFium does not give counts as sharp."""
    try:
        pixels = image.get_px_size()
    except Exception:
        return float("inf")
    if not pixels or min(pixels) <= 0:
        return float("inf")
    return min(pixels) * 72 / min(width, height)


def _reading_order(lines: list[_Line], middle: float) -> list[_Line]:
    """Lines in column order when the page is set in two columns (many lines wholly left of
    the middle and many wholly right of it): lines spanning the middle split the page into
    bands, read top to bottom, each band its left column and then its right one."""
    left = [line for line in lines if line.x1 < middle]
    right = [line for line in lines if line.x0 > middle]
    if len(left) < 5 or len(right) < 5 or (len(left) + len(right)) < 0.6 * len(lines):
        return lines
    ordered: list[_Line] = []
    band: list[_Line] = []
    for line in sorted(lines, key=lambda line: (-line.y1, line.x0)):
        if line.x0 <= middle <= line.x1:  # spans both columns
            ordered += _columns(band, middle)
            band = []
            ordered.append(line)
        else:
            band.append(line)
    return ordered + _columns(band, middle)


def _columns(band: list[_Line], middle: float) -> list[_Line]:
    return [line for line in band if line.x1 < middle] + [
        line for line in band if line.x1 >= middle
    ]


def _wait_for_room(pages: list, limit: int) -> None:
    """Block until fewer than `limit` rendered pages wait for Tesseract (bounds memory)."""
    waiting = [page for page in pages if isinstance(page, Future) and not page.done()]
    while len(waiting) >= limit:
        wait(waiting, return_when=FIRST_COMPLETED)
        waiting = [page for page in waiting if not page.done()]


def _page_image(page) -> tuple[bytes, str]:
    """The page rendered for OCR at OCR_DPI in gray (scaled down past OCR_MAX_PIXELS), as PNG,
    and the resolution it was rendered at."""
    width, height = page.get_size()
    scale = OCR_DPI / 72
    pixels = width * scale * height * scale
    if pixels > OCR_MAX_PIXELS:
        scale *= (OCR_MAX_PIXELS / pixels) ** 0.5
    bitmap = page.render(scale=scale, grayscale=True)
    image = bitmap.to_pil()
    dpi = round(scale * 72)
    image = erase_dot_leaders(image.convert("L"), dpi)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    bitmap.close()
    return buffer.getvalue(), str(dpi)


# Dot leaders (a contents page's `Introduction . . . . . 1`): Tesseract reads each dot as a
# letter and garbles the words beside them (`Interrompere i display` became `Intoromperei
# display =s : <> s cu cma`). Before OCR, a row of at least LEADER_MIN_DOTS dots (blobs of at
# most LEADER_DOT_INCHES across with nothing else within LEADER_RING_INCHES) spaced regularly
# at most LEADER_GAP_INCHES apart is erased. Set on the tune half (docs/corpora/papers.md).
LEADER_MIN_DOTS = 4
LEADER_DOT_INCHES = 0.03
LEADER_RING_INCHES = 0.02
LEADER_GAP_INCHES = 0.16
_LEADER_STRIP = 256  # rows looked at together (bounds the memory the search takes)


def erase_dot_leaders(image, dpi: int):
    """The gray page image with its dot leaders painted white (a new image when any)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image)
    height, width = pixels.shape
    size = max(2, round(dpi * LEADER_DOT_INCHES))
    ring = max(2, round(dpi * LEADER_RING_INCHES))
    gap = dpi * LEADER_GAP_INCHES
    if height < size + 2 * ring or width < size + 2 * ring:
        return image
    erase: list[tuple[int, int]] = []
    for top in range(0, height - size - 2 * ring + 1, _LEADER_STRIP):
        bottom = min(height, top + _LEADER_STRIP + size + 2 * ring)
        dark = (pixels[top:bottom] < 160).astype(np.int32)
        total = np.zeros((dark.shape[0] + 1, width + 1), np.int32)
        total[1:, 1:] = dark.cumsum(0).cumsum(1)
        outer_side = size + 2 * ring
        # ink in each (size + 2 ring)-square window, and in the size-square at its middle
        outer = (
            total[outer_side:, outer_side:]
            - total[:-outer_side, outer_side:]
            - total[outer_side:, :-outer_side]
            + total[:-outer_side, :-outer_side]
        )
        inner_total = total[
            ring : ring + outer.shape[0] + size, ring : ring + outer.shape[1] + size
        ]
        inner = (
            inner_total[size:, size:]
            - inner_total[:-size, size:]
            - inner_total[size:, :-size]
            + inner_total[:-size, :-size]
        )
        rows, columns = np.nonzero((inner > 0) & (inner == outer))
        by_row: dict[int, list[int]] = {}
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
            by_row.setdefault(row + top + ring, []).append(column + ring)
        for row, columns_found in by_row.items():
            for dots in _leader_runs(sorted(columns_found), size, gap):
                erase += [(row, column) for column in dots]
    if not erase:
        return image
    out = pixels.copy()
    for row, column in erase:
        out[row : row + size, column : column + size] = 255
    return Image.fromarray(out)


def _leader_runs(columns: list[int], size: int, gap: float) -> list[list[int]]:
    """Runs of at least LEADER_MIN_DOTS dots, evenly spaced at most `gap` apart, among the
    left edges of the windows that hold one isolated dot (a dot fits several windows)."""
    dots: list[int] = []
    for column in columns:
        if dots and column - dots[-1] <= size:
            continue  # the same dot in the next window
        dots.append(column)
    runs, run = [], dots[:1]
    for column in dots[1:]:
        if column - run[-1] <= gap:
            run.append(column)
        else:
            runs.append(run)
            run = [column]
    runs.append(run)
    kept = []
    for run in runs:
        if len(run) < LEADER_MIN_DOTS:
            continue
        steps = [b - a for a, b in itertools.pairwise(run)]
        if max(steps) - min(steps) <= max(size, 0.25 * statistics.median(steps)):
            kept.append(run)
    return kept


def _ocr_image(png: bytes, dpi: str, languages: str) -> tuple[list[str], str | None]:
    """Tesseract's lines for one rendered page, one thread, and the script model that read it
    (None where the source named its languages). With languages "auto", Tesseract's script
    detection picks the installed model for the page's script; "script:NAME" reads the page
    with the script model NAME (and the Latin one beside it)."""
    if languages == "auto":
        model = _model_for(_tesseract(png, dpi, "--psm", "0", "-l", "osd"))
    elif languages.startswith("script:"):
        model = languages.removeprefix("script:")
    else:
        return _ocr_lines(_tesseract(png, dpi, "-l", languages)), None
    return _ocr_lines(_tesseract(png, dpi, "-l", _with_fallback(model))), model


def _ocr_lines(out: str) -> list[str]:
    """Tesseract's text as lines, without the blanks it puts between CJK characters, TeX's
    logos as their names."""
    lines = [_CJK_BLANK.sub("", line.strip()) for line in out.split("\n")]
    return [_ocr_logos(line) if "X" in line else line for line in lines]


def _ocr_logos(line: str) -> str:
    if "TF" in line or "T\u1eb8" in line:
        line = _OCR_TEX.sub("TeX", line)
    if "TeX" in line or "IATEX" in line:
        line = _OCR_LATEX.sub("LaTeX", line)
    return line


def _tesseract(png: bytes, dpi: str, *options: str) -> str:
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "--dpi", dpi, *options],
            input=png,
            capture_output=True,
            timeout=OCR_PAGE_SECONDS,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        return ""
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


def _model_for(osd: str) -> str:
    """The installed Tesseract model for the script OSD reported, else the fallback model
    (OCR_FALLBACK_MODEL, or eng without it)."""
    found = re.search(r"^Script: (\w+)", osd, re.MULTILINE)
    script = found.group(1) if found else ""
    installed = tesseract_models()
    for model in _SCRIPT_MODELS.get(script, (script,)):
        if model and model != "osd" and model in installed:
            return model
    return _fallback_model()


def _fallback_model() -> str:
    return OCR_FALLBACK_MODEL if OCR_FALLBACK_MODEL in tesseract_models() else "eng"


def _with_fallback(model: str) -> str:
    """A page in another script than Latin is read with that script's model and the Latin one
    together ("Cyrillic+Latin"): papers in any script quote Latin-script names, commands and
    references, which a Cyrillic model alone reads as Cyrillic look-alikes (`TeX` as `тех`)."""
    fallback = _fallback_model()
    if model != fallback and fallback in tesseract_models():
        return f"{model}+{fallback}"
    return model


def _document_script(models: list[str | None]) -> str | None:
    """The script model most of a document's OCR'd pages other than Latin were read with,
    where those are at least OCR_DOCUMENT_SCRIPT_SHARE of its OCR'd pages; else None."""
    fallback = _fallback_model()
    others = Counter(model for model in models if model and model != fallback)
    if not others:
        return None
    model, count = others.most_common(1)[0]
    return model if count >= OCR_DOCUMENT_SCRIPT_SHARE * len(models) else None


@functools.cache
def tesseract_models() -> frozenset[str]:
    """The models (languages and scripts) the installed Tesseract has."""
    try:
        done = subprocess.run(["tesseract", "--list-langs"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip())


def _furniture_key(line: str) -> str:
    return " ".join(_DIGITS.sub("#", line).lower().split())


def _drop_furniture(
    pages: list[list[str]], heights: list[list[float] | None] | None = None
) -> tuple[list[list[str]], int]:
    """Pages without running headers, footers and page numbers: a first or last two lines of a
    page repeated, digits aside, on FURNITURE_MIN_PAGES pages (and FURNITURE_MIN_SHARE of
    them) at one height on the page (within FURNITURE_HEIGHT_SLACK; `heights`, each line's,
    None for a page read by OCR, whose lines count at any height), or a lone page number at
    the top or bottom of a page of a multi-page document."""
    if len(pages) < 2:
        return pages, 0
    heights = heights or [None] * len(pages)
    seen: dict[str, list[float | None]] = {}
    for lines, height in zip(pages, heights, strict=True):
        edge = {*range(min(2, len(lines))), *range(max(0, len(lines) - 2), len(lines))}
        keys: dict[str, float | None] = {}
        for index in sorted(edge):
            if lines[index].strip():
                keys.setdefault(_furniture_key(lines[index]), height and height[index])
        for key, at in keys.items():
            seen.setdefault(key, []).append(at)
    threshold = max(FURNITURE_MIN_PAGES, FURNITURE_MIN_SHARE * len(pages))
    repeated = {
        key: band
        for key, found in seen.items()
        if len(found) >= threshold and (band := _furniture_band(found, threshold)) is not None
    }
    dropped = 0
    out = []
    for lines, height in zip(pages, heights, strict=True):
        edge = {*range(min(2, len(lines))), *range(max(0, len(lines) - 2), len(lines))}
        drop = {
            index
            for index in edge
            if _PAGE_NUMBER.match(lines[index].strip())
            or (
                (band := repeated.get(_furniture_key(lines[index]))) is not None
                and (height is None or abs(height[index] - band) <= FURNITURE_HEIGHT_SLACK)
            )
        }
        dropped += len(drop)
        out.append(
            [line for index, line in enumerate(lines) if index not in drop] if drop else lines
        )
    return out, dropped


def _furniture_band(found: list[float | None], threshold: float) -> float | None:
    """The height at which a repeated line stands on at least `threshold` pages (a line whose
    height is unknown stands at any), or None."""
    known = sorted(at for at in found if at is not None)
    unknown = len(found) - len(known)
    if not known:
        return 0.0 if unknown >= threshold else None
    best, at = 0, known[0]
    start = 0
    for end, value in enumerate(known):
        while value - known[start] > 2 * FURNITURE_HEIGHT_SLACK:
            start += 1
        if end - start + 1 > best:
            best, at = end - start + 1, (known[start] + value) / 2
    return at if best + unknown >= threshold else None


def _clean(text: str) -> str:
    for ligature, letters in _LIGATURES.items():
        if ligature in text:
            text = text.replace(ligature, letters)
    if _ANY_DETACHED.search(text):
        text = _DETACHED_ACCENT.sub(_recompose, text)
    text = _CONTROL.sub(lambda m: m.group() if m.group() == "\ufffe" else "", text)
    text = unicodedata.normalize("NFC", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _recompose(match: re.Match) -> str:
    accent = match.group(1) or match.group(3) or match.group(5)
    letter = match.group(2) or match.group(4) or match.group(6)
    if letter == "\u0131":  # a dotless i under an accent is an i
        letter = "i"
    return unicodedata.normalize("NFC", letter + _SPACING_ACCENTS[accent])


def _vocabulary(texts: list[str]) -> set[str]:
    """The document's words, and its hyphenated compounds written on one line."""
    found: set[str] = set()
    for text in texts:
        found.update(_WORD.findall(text.replace("\ufffe", " ")))
        if "-" in text:  # a compound lies within a line: only lines with a hyphen are searched
            for line in text.split("\n"):
                if "-" in line:
                    found.update(_COMPOUND.findall(line))
    return {word.lower() for word in found}


def _join_hyphens(text: str, vocabulary: set[str]) -> str:
    """Hyphenated line breaks joined when the joined word is a word: the document uses it
    elsewhere, or the hyphenated form is not one it uses and the tail goes on in lower case
    (TeX hyphenates words far more often than it breaks compounds at their hyphen)."""

    def join(head: str, tail: str, between: str) -> str:
        if f"{head}-{tail}".lower() in vocabulary:
            return f"{head}-{tail}"
        if (head + tail).lower() in vocabulary or tail[:1].islower():
            return head + tail
        return f"{head}-{tail}"

    def soft(match: re.Match) -> str:
        if match.group(1) is None:  # a hyphen before a blank: "Fleisch- und Wurst"
            return "-"
        return join(match.group(1), match.group(2), "")

    # Each pattern is run only where it can match (same result, far less text searched): a
    # soft hyphen's match lies within a line, a line-end hyphen's within a line ending in
    # `-` and the next line.
    if "\ufffe" in text or "\u00ad" in text:
        text = "\n".join(
            _SOFT_HYPHEN.sub(soft, line) if "\ufffe" in line or "\u00ad" in line else line
            for line in text.split("\n")
        )
    if "-\n" in text:
        text = _line_end_groups(
            text, lambda group: _LINE_END_HYPHEN.sub(lambda m: join(m[1], m[2], "\n"), group)
        )
    return text.replace("\ufffe", "")


def _line_end_groups(text: str, change) -> str:
    """`text` with `change` applied to each run of lines that end in `-` together with the
    line after the run, the other lines as they are."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        end = index
        while end + 1 < len(lines) and lines[end].endswith("-"):
            end += 1
        if end == index:
            out.append(lines[index])
        else:
            out.append(change("\n".join(lines[index : end + 1])))
        index = end + 1
    return "\n".join(out)


def _bounds(limits: ReadLimits) -> dict[str, int]:
    defaults = get_configuration()
    return {
        name: min(getattr(defaults, name), limits.max_decompressed_bytes)
        for name in _DECOMPRESSION_SETTINGS
    }


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


def _pdfium_information(document) -> dict[str, str]:
    try:
        metadata = document.get_metadata_dict(skip_empty=True)
    except Exception:  # a broken information dictionary is not a broken document
        return {}
    found = {"title": metadata.get("Title"), "author": metadata.get("Author")}
    return {key: " ".join(value.split()) for key, value in found.items() if value and value.strip()}


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
