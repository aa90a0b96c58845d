"""HTML to clean text with resiliparse: a WARC record becomes a Page, or a Skip (valid but not a
document) or a Quarantine (bad input), each with a short reason code and a human detail.

The page text is the whole page less its navigation blocks (see `mark_navigation`), so lists,
tables and code blocks of the content are kept; measured on real documentation HTML by
bench/extraction_real.py."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, detect_mime, map_encoding_to_html5
from resiliparse.parse.html import DOMNode, HTMLTree, NodeType

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
    main_content: bool = True  # drop navigation, sidebars and footers (see mark_navigation)
    # A list or table whose words are at least this share same-site link words, with at least
    # nav_min_links links, is navigation (a menu, a table of contents, a prev/next bar); links to
    # other sites are citations and count as text.
    nav_link_density: float = 0.7
    nav_min_links: int = 3
    # A <main> (or role=main) holding at least this share of the page's text is the page.
    main_element_share: float = 0.5
    # When navigation would leave less than this share of the page's text (a page that is a link
    # list), resiliparse's own main-content heuristics decide instead.
    min_kept_share: float = 0.2
    # Bare text after the last <hr> of <body> (and before the first) up to this size and share
    # of the page's text is the page's footer (header).
    max_furniture_chars: int = 300
    max_furniture_share: float = 0.1


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
        body = page_text(tree, domain, rules).strip()
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


def page_text(tree: HTMLTree, domain: str, rules: ExtractRules = ExtractRules()) -> str:
    """The visible text of a parsed page, less its navigation when rules.main_content is on."""
    if rules.main_content and mark_navigation(tree, domain, rules) >= rules.min_kept_share:
        skip: list[str] | None = [f"[{NAVIGATION_MARK}]"]
        main_content = False
    else:  # main_content off, or a page that is mostly navigation
        skip, main_content = None, rules.main_content
    return extract_plain_text(
        tree,
        preserve_formatting=True,
        main_content=main_content,
        alt_texts=False,
        skip_elements=skip,
    )


NAVIGATION_MARK = "data-pilehouse-navigation"
# ARIA landmarks and widgets that hold navigation, whatever their class names say.
_NAV_ROLES = frozenset(
    {"navigation", "menu", "menubar", "search", "banner", "contentinfo", "complementary"}
)
# The page's own header, footer, sidebar and contact line; inside an article or the main
# element they are the article's (its title, its byline), and kept.
_PAGE_FURNITURE = frozenset({"header", "footer", "aside", "address"})
_CONTENT_ROOTS = "article, main, [role=main]"
# Class or id words of navigation blocks: menus, breadcrumbs, sidebars, tables of contents, page
# footers, prev/next bars (DocBook's navheader, Texinfo's nav-panel), skip links, search boxes.
_NAV_NAMES = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|navheader|navfooter|navpath|nav-panel|breadcrumbs?|"
    r"menu|\w*sidebar|toc|toctree|footer|related|pagination|pager|skip\w*|search\w*|share|"
    r"social)(?:$|[\s_-])",
    re.IGNORECASE,
)
# Lists and tables are judged by their links only: texi2html, for one, names plain lists "toc".
_NAMED_BLOCKS = frozenset({"div", "section", "form"})
_LINK_LISTS = frozenset({"ul", "ol", "dl", "menu"})
# Elements that hold only text and inline markup: the walk looks into them with one query.
_PHRASING = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "pre", "caption", "span", "code", "em",
    "strong", "b", "i", "tt", "small", "big", "font", "kbd", "var", "samp", "cite", "abbr", "sup",
    "sub", "u", "s", "q", "time", "mark", "img", "br", "wbr", "label", "button", "input",
    "select", "textarea",
})  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "dt", "caption"})
_SECTION_TITLES = frozenset({"h2", "h3", "h4", "h5", "h6"})
_INLINE = frozenset({"a", "b", "i", "em", "strong", "span", "font", "small", "br", "img", "tt"})
_SKIPPED = frozenset({"script", "style", "template", "noscript", "svg", "math"})
_BLOCKS = frozenset({"p", "div", "td", "th", "li", "dd", "table", "ul", "ol", "dl", "section"})
_BLOCK_SELECTOR = ", ".join(sorted(_BLOCKS))
_LISTS_AND_TABLES = frozenset({"ul", "ol", "dl", "menu", "table"})
_CONTAINERS = "div, section, nav, aside, header, footer, form, address, table, ul, ol, dl, [role]"
# Links only navigation carries: keyboard shortcuts and rel=next/prev/up (Texinfo, DocBook).
_NAV_RELS = ("next", "prev", "previous", "up")
_NAV_LINKS = ", ".join(["a[accesskey]", *(f"a[rel={rel}]" for rel in _NAV_RELS)])


def mark_navigation(tree: HTMLTree, domain: str, rules: ExtractRules = ExtractRules()) -> float:
    """Mark the page's navigation blocks with NAVIGATION_MARK; return the share of the body's
    text left unmarked.

    Navigation is: <nav> and ARIA navigation landmarks, the page's header/footer/aside outside
    the article, what lies outside a <main> that holds most of the text, blocks named like
    navigation, lists and tables made of same-site links, the block around a keyboard-shortcut
    or rel=next/prev link, and headings' "¶" permalinks. Content lists, tables and code are
    left alone.
    """
    body = tree.body
    if body is None:
        return 1.0
    marker = _NavigationMarker(body, domain, rules)
    marker.drop_rule_delimited_furniture()
    marker.walk()
    return 1 - marker.dropped / marker.total


class _NavigationMarker:
    """One walk over the elements that does not enter what it marks. It walks by sibling links:
    reading the n-th item of a resiliparse query result costs time in proportion to n."""

    def __init__(self, body: DOMNode, domain: str, rules: ExtractRules) -> None:
        self.body, self.domain, self.rules = body, domain, rules
        self.total = len(body.text) or 1
        self.dropped = 0
        self.has_nav_links = body.query_selector(_NAV_LINKS) is not None
        main = body.query_selector("main, [role=main]")
        self.main = (
            main if main is not None and self._share(main) >= rules.main_element_share else None
        )

    def _share(self, node: DOMNode) -> float:
        return len(node.text) / self.total

    def mark(self, node: DOMNode) -> None:
        if node.closest(f"[{NAVIGATION_MARK}]") is None:
            node.setattr(NAVIGATION_MARK, "")
            self.dropped += len(node.text)

    def drop_rule_delimited_furniture(self) -> None:
        """Old-style page header and footer: the bare text and links before the first and after
        the last of several <hr> in <body> (man2html's "Section: ... Updated: ... Return to Main
        Contents" and "This document was created by man2html"). Bare text cannot carry a mark,
        so it is removed from the tree."""
        children = []
        node = self.body.first_child
        while node is not None:
            children.append(node)
            node = node.next_sibling
        hrs = [i for i, n in enumerate(children) if n.type == NodeType.ELEMENT and n.tag == "hr"]
        if len(hrs) < 2:
            return
        header = [n for n in children[: hrs[0]] if n.type == NodeType.TEXT or n.tag in _INLINE]
        footer = children[hrs[-1] + 1 :]
        for part in (header, footer):
            chars = sum(len(n.text) for n in part)
            if chars > min(
                self.rules.max_furniture_chars, self.total * self.rules.max_furniture_share
            ):
                continue
            self.dropped += chars
            for n in part:
                if n.type == NodeType.ELEMENT:
                    n.setattr(NAVIGATION_MARK, "")
                elif n.type == NodeType.TEXT:
                    n.remove()

    def walk(self) -> None:
        # (element, inside the article/main, inside a content list)
        stack: list[tuple[DOMNode, bool, bool]] = [(self.body, False, False)]
        while stack:
            node, in_content, in_list = stack.pop()
            child = node.first_element_child
            while child is not None:
                tag = child.tag
                if tag in _SKIPPED:
                    pass
                elif tag == "a":
                    self._link(child, stack, in_content, in_list)
                elif tag in _PHRASING:
                    self._phrasing(child, tag)
                elif self._is_navigation(child, tag, in_content, in_list):
                    self.mark(child)
                    self._mark_title_of(child)
                elif tag not in _LISTS_AND_TABLES or child.query_selector(_CONTAINERS):
                    # (a list or table of text and links alone has nothing more to mark)
                    content = (
                        in_content
                        or tag in ("article", "main")
                        or (child.getattr("role", "") == "main")
                    )
                    stack.append((child, content, in_list or tag in _LINK_LISTS))
                child = child.next_element_sibling

    def _mark_title_of(self, block: DOMNode) -> None:
        """The heading of a section that holds nothing but navigation ("Table of Contents",
        "Index"); a chapter heading followed by its own list of sections keeps its text."""
        title = block.previous_element_sibling
        if title is None or title.tag not in _SECTION_TITLES or len(title.text) > 80:
            return
        after = block.next_element_sibling
        while after is not None:
            if after.tag != "hr" and not after.hasattr(NAVIGATION_MARK):
                return
            after = after.next_element_sibling
        self.mark(title)

    def _is_navigation(self, node: DOMNode, tag: str, in_content: bool, in_list: bool) -> bool:
        if self.main is not None and not in_content and not node.contains(self.main):
            return node != self.main  # beside the page's main element
        if (
            tag == "nav"
            or node.getattr("role", "") in _NAV_ROLES
            or node.getattr("aria-hidden", "") == "true"
            or node.hasattr("hidden")
            or (tag in _PAGE_FURNITURE and not in_content)
            or (tag in _NAMED_BLOCKS and _NAV_NAMES.search(_names(node)))
        ):
            # A page-wide wrapper named like navigation holds the article: look inside instead.
            return node.query_selector(_CONTENT_ROOTS) is None
        if tag in _LINK_LISTS or tag == "table":
            # Lists inside a content list are the content's; tables may be page layout.
            return not in_list and self._is_link_list(node, self.rules.nav_min_links)
        return False

    def _link(self, link: DOMNode, stack: list, in_content: bool, in_list: bool) -> None:
        if _is_permalink(link):
            self.mark(link)
            return
        if self.has_nav_links and (link.hasattr("accesskey") or link.hasattr("rel")):
            self._mark_link_block(link)
        if link.first_element_child is not None and link.query_selector(_BLOCK_SELECTOR):
            # XHTML's <a id="x"/> read as HTML opens a link that holds the rest of the page.
            stack.append((link, in_content, in_list))

    def _phrasing(self, node: DOMNode, tag: str) -> None:
        if tag in _HEADINGS:
            anchor = node.query_selector('a[href^="#"]')
            if anchor is not None and _is_permalink(anchor):
                self.mark(anchor)
        if self.has_nav_links and tag == "p":
            link = node.query_selector(_NAV_LINKS)
            if link is not None:
                self._mark_link_block(link)

    def _mark_link_block(self, link: DOMNode) -> None:
        """Mark the block around a navigation link (Next: ..., Up: ...) if links fill it."""
        if not link.hasattr("accesskey") and link.getattr("rel", "") not in _NAV_RELS:
            return
        block = link.parent
        while block is not None and block.tag not in _BLOCKS:
            block = block.parent
        if block is not None and block.tag != "body" and self._is_link_list(block, 1):
            self.mark(block)

    def _is_link_list(self, node: DOMNode, min_links: int) -> bool:
        """Whether node's words are mostly same-site link words (punctuation between links, as
        in "[Top] | [Contents]", does not count)."""
        if node.query_selector("a[href]") is None:
            return False
        words = _word_chars(node.text)
        if not words:
            return False
        links = link_words = 0
        stack = [node]
        while stack:
            element = stack.pop()
            child = element.first_element_child
            while child is not None:
                if child.tag == "a" and child.hasattr("href"):
                    if _same_site(child.getattr("href", ""), self.domain):
                        links += 1
                        link_words += _word_chars(child.text)
                elif child.tag not in _SKIPPED:
                    stack.append(child)
                child = child.next_element_sibling
        return links >= min_links and link_words >= words * self.rules.nav_link_density


def _is_permalink(link: DOMNode) -> bool:
    """A heading's "¶" / "#" / icon-font anchor to itself (Sphinx, MkDocs, GitHub READMEs)."""
    if not link.getattr("href", "").startswith("#"):
        return False
    text = link.text.strip()
    return 0 < len(text) <= 2 and not _word_chars(text)


def _names(node: DOMNode) -> str:
    return f"{node.getattr('class', '')} {node.getattr('id', '')}"


_NOT_WORD = re.compile(r"\W+")


def _word_chars(text: str) -> int:
    return len(_NOT_WORD.sub("", text))


def _same_site(href: str, domain: str) -> bool:
    if "//" not in href[:8]:
        return True  # relative: this site
    try:
        return domain_of(href) == domain
    except ValueError:
        return False


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
