"""HTML to clean text with resiliparse: a WARC record becomes a Page, or a Skip (valid but not a
document) or a Quarantine (bad input), each with a short reason code and a human detail."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, detect_mime, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

from spark_jobs.web.warc import EXCERPT_BYTES, WarcRecord

DOCUMENT_RECORD_TYPES = ("response", "resource", "conversion")

# The verdict reasons, for whoever reads the rejects and quarantine tables.
SKIP_REASONS = {
    "http_status_<code>": "the server answered with a non-2xx status",
    "not_html:<mime>": "the content type (declared, else sniffed) is not HTML",
    "empty_text": "the page has no visible main-content text",
    "not_a_document:<warc type>": "a request, metadata, warcinfo... record",
}
QUARANTINE_REASONS = {
    "bad_url": "WARC-Target-URI is missing or has no host",
    "bad_http_header": "a response record without an HTTP status line",
    "bad_content_encoding": "gzip/deflate Content-Encoding that does not decompress",
    "unsupported_content_encoding": "a Content-Encoding other than gzip/deflate (e.g. br)",
    "oversized": "the payload exceeds ExtractRules.max_payload_bytes",
    "binary_content": "too many control bytes for text: binary data served as HTML",
    "undecodable": "bytes invalid in the declared charset, or, with none declared, in both "
    "UTF-8 and the detected encoding (strict decoding; the detail says at which byte)",
    "unparsable_html": "resiliparse could not parse the document",
}
HTML_TYPES = ("text/html", "application/xhtml+xml")

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_HTML_START = re.compile(rb"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)", re.I | re.S)
# Control bytes that do not occur in text (tab, LF, FF and CR do).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


@dataclass(frozen=True)
class ExtractRules:
    """Thresholds of the extractor, as data."""

    max_payload_bytes: int = 4 * 2**20
    max_control_share: float = 0.05  # of the sampled bytes; text has ~none, binary ~11%
    control_sample_bytes: int = 1 << 16
    main_content: bool = True  # drop navigation, sidebars and footers


@dataclass(frozen=True, slots=True)
class Page:
    """A document: the clean text of an HTML page and what is known about its fetch."""

    url: str
    domain: str
    title: str | None
    fetch_date: datetime | None
    http_status: int | None
    content_type: str
    text: str
    byte_length: int  # UTF-8 bytes of text


@dataclass(frozen=True, slots=True)
class Skip:
    """A valid record that is not a document (an error page, an image, an empty page)."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Quarantine:
    """A record whose bytes are bad; `excerpt` is raw bytes around the problem."""

    reason: str
    detail: str
    excerpt: bytes = b""


def extract_page(
    record: WarcRecord, rules: ExtractRules = ExtractRules()
) -> Page | Skip | Quarantine:
    """Decide what a response/resource/conversion record is, and extract its text if a page."""
    if record.warc_type not in DOCUMENT_RECORD_TYPES:
        return Skip(
            f"not_a_document:{record.warc_type}",
            "only response, resource and conversion records hold pages",
        )
    url = record.target_uri or ""
    domain = domain_of(url)
    if not domain:
        return Quarantine("bad_url", f"WARC-Target-URI {url[:200]!r} has no host")
    if record.warc_type == "response" and record.http_status is None:
        return Quarantine(
            "bad_http_header",
            "response record without an HTTP status line",
            record.payload[:EXCERPT_BYTES],
        )
    status = record.http_status
    if status is not None and not 200 <= status < 300:
        return Skip(f"http_status_{status}", f"the server answered {status}")

    payload = record.payload
    decoded = _undo_http_encodings(record, payload, rules.max_payload_bytes + 1)
    if isinstance(decoded, Quarantine):
        return decoded
    payload = decoded
    if len(payload) > rules.max_payload_bytes:
        return Quarantine(
            "oversized",
            f"payload is {len(payload)} bytes, over the {rules.max_payload_bytes}-byte limit",
            payload[:EXCERPT_BYTES],
        )
    if record.warc_type == "conversion":
        # WET: the crawler already extracted the text (UTF-8, per the WET format).
        return _plain_text_page(record, payload, url, domain)
    mime = mime_type(record) or _sniff_mime(payload)
    if mime not in HTML_TYPES:
        return Skip(f"not_html:{mime}", f"content type {mime} is not HTML")

    charset, declared_by = declared_charset(record, payload)
    if not (charset or "").startswith("utf-16"):
        sample = payload[: rules.control_sample_bytes]
        controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
        if sample and controls / len(sample) > rules.max_control_share:
            return Quarantine(
                "binary_content",
                f"{controls / len(sample):.0%} of the first {len(sample)} bytes are control "
                f"bytes (limit {rules.max_control_share:.0%}): binary data served as {mime}",
                payload[:EXCERPT_BYTES],
            )
    text = _decode(payload, charset, declared_by)
    if isinstance(text, Quarantine):
        return text

    try:
        tree = HTMLTree.parse(text)
        body = extract_plain_text(
            tree,
            preserve_formatting=True,
            main_content=rules.main_content,
            alt_texts=False,
        ).strip()
        title = (tree.title or "").strip() or None
    except Exception as exc:  # resiliparse raises its own HTMLParserException
        return Quarantine(
            "unparsable_html", f"{type(exc).__name__}: {exc}", payload[:EXCERPT_BYTES]
        )
    if not body:
        return Skip("empty_text", "the page has no visible main-content text")
    return Page(
        url=url,
        domain=domain,
        title=title,
        fetch_date=record.date,
        http_status=status,
        content_type=mime,
        text=body,
        byte_length=len(body.encode("utf-8")),
    )


def _plain_text_page(
    record: WarcRecord, payload: bytes, url: str, domain: str
) -> Page | Skip | Quarantine:
    text = _decode(payload, "utf-8", "the WET format")
    if isinstance(text, Quarantine):
        return text
    body = text.strip()
    if not body:
        return Skip("empty_text", "the conversion record holds no text")
    return Page(
        url=url,
        domain=domain,
        title=None,
        fetch_date=record.date,
        http_status=None,
        content_type="text/plain",
        text=body,
        byte_length=len(body.encode("utf-8")),
    )


def domain_of(url: str) -> str:
    """Lower-case host without port, credentials or a leading www.; '' if the URL has none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def mime_type(record: WarcRecord) -> str | None:
    """The declared media type (no parameters): the HTTP one for responses, else the WARC one."""
    if record.warc_type == "response":
        declared = record.http_header("Content-Type")
    else:
        declared = record.header("Content-Type")
    mime = (declared or "").split(";")[0].strip().lower()
    return mime or None


def declared_charset(record: WarcRecord, payload: bytes) -> tuple[str | None, str | None]:
    """(WHATWG encoding name, where it was declared): byte order mark, HTTP header or <meta>."""
    for bom, name in _BOMS:
        if payload.startswith(bom):
            return name, "byte order mark"
    header = record.http_header("Content-Type") or record.header("Content-Type") or ""
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", header, re.I)
    if match:
        name = map_encoding_to_html5(match.group(1), fallback_utf8=False)
        if name:
            return name, "HTTP Content-Type"
    match = _META_CHARSET.search(payload[:2048])
    if match:
        name = map_encoding_to_html5(match.group(1).decode("ascii"), fallback_utf8=False)
        if name:
            return name, "<meta> charset"
    return None, None


def _decode(payload: bytes, charset: str | None, declared_by: str | None) -> str | Quarantine:
    """Strict decoding: invalid bytes quarantine the page instead of becoming U+FFFD."""
    if charset:
        return _strict(payload, charset, f"declared {charset} ({declared_by})")
    as_utf8 = _strict(payload, "utf-8", "UTF-8 (no charset declared)")
    if not isinstance(as_utf8, Quarantine):
        return as_utf8
    detected = detect_encoding(payload)
    if detected == "utf-8":
        return as_utf8
    as_detected = _strict(payload, detected, f"detected {detected}")
    if not isinstance(as_detected, Quarantine):
        return as_detected
    return Quarantine("undecodable", f"{as_utf8.detail}; {as_detected.detail}", as_utf8.excerpt)


def _strict(payload: bytes, charset: str, label: str) -> str | Quarantine:
    codec = "utf-8-sig" if charset == "utf-8" else charset
    try:
        return payload.decode(codec, "strict")
    except UnicodeDecodeError as exc:
        around = payload[max(0, exc.start - 64) : exc.start + EXCERPT_BYTES - 64]
        return Quarantine(
            "undecodable",
            f"not valid {label}: {exc.reason} at byte {exc.start} "
            f"({payload[exc.start : exc.start + 4]!r})",
            around,
        )
    except LookupError:
        return Quarantine("undecodable", f"no decoder for {label}", payload[:EXCERPT_BYTES])


def _undo_http_encodings(record: WarcRecord, payload: bytes, limit: int) -> bytes | Quarantine:
    """Remove chunked transfer coding and gzip/deflate content coding, where the crawler kept them."""
    if record.warc_type != "response":
        return payload
    transfer = (record.http_header("Transfer-Encoding") or "").lower()
    if "chunked" in transfer:
        payload = _dechunk(payload)
    coding = (record.http_header("Content-Encoding") or "").strip().lower()
    if coding in ("", "identity"):
        return payload
    if coding in ("gzip", "x-gzip", "deflate"):
        attempts = (31,) if coding != "deflate" else (15, -15)  # deflate is zlib or raw in the wild
        for wbits in attempts:
            try:
                # Bounded: a page past the limit is quarantined as oversized anyway.
                return zlib.decompressobj(wbits).decompress(payload, limit)
            except zlib.error:
                continue
        return Quarantine(
            "bad_content_encoding",
            f"Content-Encoding {coding} does not decode",
            payload[:EXCERPT_BYTES],
        )
    return Quarantine(
        "unsupported_content_encoding",
        f"Content-Encoding {coding} is not supported",
        payload[:EXCERPT_BYTES],
    )


def _dechunk(payload: bytes) -> bytes:
    """Undo chunked transfer coding; payloads that only claim to be chunked pass unchanged."""
    out, pos = bytearray(), 0
    while True:
        line_end = payload.find(b"\r\n", pos)
        if line_end < 0:
            return payload
        size_text = payload[pos:line_end].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return payload
        if size == 0:
            return bytes(out)
        out += payload[line_end + 2 : line_end + 2 + size]
        pos = line_end + 2 + size + 2


def _sniff_mime(payload: bytes) -> str:
    """A media type for records that declare none, from their first bytes."""
    if _HTML_START.match(payload[:1024]):  # detect_mime misses HTML after leading blanks
        return "text/html"
    return detect_mime(payload[:1024])
