"""HTML extraction on real documentation pages: Debian -doc packages from six generators (Sphinx,
DocBook, Texinfo, man2html, Doxygen, AsciiDoc) in several languages, packed into a WARC and read
back through the ingest reader, scored against a per-generator reference of each page's main text.

    python -m bench.extraction_real            # the test half; downloads ~19 MB the first time
    python -m bench.extraction_real --half tune

The reference comes from each generator's own content container (Sphinx `div[role=main]`,
Doxygen `div.contents`, ...) minus the navigation the generator itself puts inside it, read with
the standard library's html.parser so it shares no code with the extractors under test.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from spark_jobs.web.extract import Page, declared_charset, extract_page
from spark_jobs.web.warc import WarcRecord, iter_warc_records

CACHE = Path("var/bench/extraction_real")
MAX_RECORD_BYTES = 8 * 2**20  # the ingest default
PAGES_PER_PACKAGE = 24  # spread evenly over the package's sorted pages
MAX_PAGE_BYTES = 2 * 2**20


@dataclass(frozen=True)
class Source:
    """A Debian package, the generator of its HTML, and which half of the split it belongs to."""

    package: str
    generator: str
    half: str  # "tune" or "test"; every translation of one document sits in the same half
    root: str  # the folder the pages are under, inside the package
    pattern: str  # glob under root
    languages: str


# The split is by document, fixed here: all translations of a document are in one half, and each
# generator has packages in both. postgresql-doc, git-doc and debian-reference are kept out: they
# are held aside for an independent evaluation.
SOURCES = (
    Source("python-requests-doc", "sphinx", "tune", "usr/share/doc/python-requests-doc/html", "**/*.html", "en"),
    Source("python-attr-doc", "sphinx", "tune", "usr/share/doc/python-attr-doc/html", "*.html", "en"),
    Source("maint-guide", "docbook", "tune", "usr/share/doc/maint-guide/html", "*.html", "en"),
    Source("maint-guide-de", "docbook", "tune", "usr/share/doc/maint-guide-de/html", "*.html", "de"),
    Source("apt-doc", "docbook", "tune", "usr/share/doc/apt-doc", "**/*.html", "en de es fr it ja nl pl pt"),
    Source("gettext-doc", "texinfo", "tune", "usr/share/doc/gettext", "gettext_*.html", "en"),
    Source("manpages", "man2html", "tune", "usr/share/man", "man[157]/*.gz", "en"),
    Source("libtinyxml-doc", "doxygen", "tune", "usr/share/doc/libtinyxml-dev/docs", "*.html", "en"),
    Source("tig", "asciidoc", "tune", "usr/share/doc/tig", "*.html", "en"),
    Source("python-click-doc", "sphinx", "test", "usr/share/doc/python-click-doc/html", "*.html", "en"),
    Source("python-jinja2-doc", "sphinx", "test", "usr/share/doc/python-jinja2-doc/html", "*.html", "en"),
    Source("developers-reference", "sphinx", "test", "usr/share/developers-reference", "*.html", "en"),
    Source("developers-reference-fr", "sphinx", "test", "usr/share/developers-reference/fr", "*.html", "fr"),
    Source("developers-reference-ja", "sphinx", "test", "usr/share/developers-reference/ja", "*.html", "ja"),
    Source("aptitude-doc-en", "docbook", "test", "usr/share/doc/aptitude/html/en", "*.html", "en"),
    Source("aptitude-doc-fr", "docbook", "test", "usr/share/doc/aptitude/html/fr", "*.html", "fr"),
    Source("aptitude-doc-cs", "docbook", "test", "usr/share/doc/aptitude/html/cs", "*.html", "cs"),
    Source("debian-faq", "docbook", "test", "usr/share/doc/debian/FAQ", "*.html", "en"),
    Source("r-doc-html", "texinfo", "test", "usr/share/doc/r-doc-html/manual", "*.html", "en"),
    Source("nano", "texinfo", "test", "usr/share/doc/nano", "nano.html", "en"),
    Source("manpages-de", "man2html", "test", "usr/share/man/de", "man[157]/*.gz", "de"),
    Source("manpages-fr", "man2html", "test", "usr/share/man/fr", "man[157]/*.gz", "fr"),
    Source("libjsoncpp-doc", "doxygen", "test", "usr/share/doc/libjsoncpp-doc", "*.html", "en"),
    Source("lmdb-doc", "doxygen", "test", "usr/share/doc/lmdb-doc/html", "*.html", "en"),
    Source("weechat-doc", "asciidoc", "test", "usr/share/doc/weechat-doc/html", "*.html", "en fr de it ja pl ru cs es sr"),
)  # fmt: skip
TOOL_PACKAGES = ("man2html-base",)  # converts the man pages; run from its extracted .deb
HELD_OUT = ("postgresql-doc", "git-doc", "debian-reference")
# Pages that are link indexes, not documents: tables of contents, indexes, search pages, member
# lists, source listings.
NOT_A_DOCUMENT = re.compile(
    r"(^|/)_modules/"  # Sphinx's highlighted source listings
    r"|(^|/)(index(\.[a-z]{2})?|404|genindex|search|py-modindex|modules|pages|annotated|classes"
    r"|files|hierarchy|namespaces|ix\d+|gettext_(toc|abt|ovr)|deprecated|todo)\.html$"
    r"|(-members|_source)\.html$"
    r"|(^|/)(functions|globals|namespacemembers|dir_)\w*\.html$"
)


# ---------------------------------------------------------------------------------------------
# Getting the packages


def ensure_packages(cache: Path) -> Path:
    """Download (apt-get download) and unpack (dpkg -x) every package, once; return the tree."""
    debs, tree = cache / "debs", cache / "tree"
    debs.mkdir(parents=True, exist_ok=True)
    wanted = [s.package for s in SOURCES] + list(TOOL_PACKAGES)
    assert not set(wanted) & set(HELD_OUT)
    missing = [p for p in wanted if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        policy = subprocess.run(
            ["apt-cache", "policy", missing[0]], capture_output=True, text=True, check=False
        )
        if "Candidate:" not in policy.stdout:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
        print(f"downloading {len(missing)} packages with apt-get download into {debs}")
        subprocess.run(["apt-get", "download", "-q", *missing], cwd=debs, check=True)
    for package in wanted:
        target = tree / package
        if not target.exists():
            (deb,) = debs.glob(f"{package}_*.deb")
            partial = tree / f".{package}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            subprocess.run(["dpkg", "-x", str(deb), str(partial)], check=True)
            partial.rename(target)
    return tree


def _spread(items: Sequence[Path], count: int) -> list[Path]:
    if len(items) <= count:
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def _render_man_pages(tree: Path, source: Source, cache: Path) -> list[tuple[str, bytes]]:
    """Render man pages to HTML with man2html (cached: its footer stamps the time)."""
    out_dir = cache / "man2html" / source.package
    binary = tree / "man2html-base" / "usr/bin/man2html"
    candidates = []
    for path in sorted((tree / source.package / source.root).glob(source.pattern)):
        troff = gzip.decompress(path.read_bytes())
        if troff.lstrip().startswith(b".so ") or not 2_000 < len(troff) < 60_000:
            continue  # a redirect to another page, or a stub, or a very long page
        candidates.append(path)
    pages = []
    for path in _spread(candidates, PAGES_PER_PACKAGE):
        relative = path.relative_to(tree / source.package / source.root)
        html_path = out_dir / relative.with_suffix(".html")
        if not html_path.exists():
            result = subprocess.run(
                [str(binary), "-r"],
                input=gzip.decompress(path.read_bytes()),
                capture_output=True,
                check=True,
            )
            html = result.stdout.split(b"\n\n", 1)[1]  # after its CGI Content-type header
            html_path.parent.mkdir(parents=True, exist_ok=True)
            html_path.write_bytes(html)
        pages.append((str(relative.with_suffix(".html")), html_path.read_bytes()))
    return pages


def source_pages(tree: Path, source: Source, cache: Path) -> list[tuple[str, bytes]]:
    """(path inside the package, HTML bytes) for the pages picked from one package."""
    if source.generator == "man2html":
        return _render_man_pages(tree, source, cache)
    root = tree / source.package / source.root
    paths = [
        p
        for p in sorted(root.glob(source.pattern))
        if p.is_file()
        and not NOT_A_DOCUMENT.search(str(p.relative_to(root)))
        and p.stat().st_size <= MAX_PAGE_BYTES
    ]
    return [(str(p.relative_to(root)), p.read_bytes()) for p in _spread(paths, PAGES_PER_PACKAGE)]


def write_warc(path: Path, pages: Sequence[tuple[str, str, bytes]]) -> None:
    """One response record per (url, content type, HTML) with warcio, as a crawler would."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    partial = path.with_suffix(".partial")
    with partial.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, content_type, body in pages:
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers
                )
            )
    partial.rename(path)


# ---------------------------------------------------------------------------------------------
# A small DOM from html.parser, independent of resiliparse (lexbor) and trafilatura (lxml)

VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
})  # fmt: skip
SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "title", "svg"})
INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
    "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "tt", "u", "var",
    "big", "nobr",
})  # fmt: skip
BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "center",
})  # fmt: skip
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# start tag -> (tags it closes when open, tags that stop the search)
IMPLIED_END = {
    "li": ({"li"}, {"ul", "ol", "menu", "table"}),
    "dt": ({"dt", "dd"}, {"dl", "table"}),
    "dd": ({"dt", "dd"}, {"dl", "table"}),
    "tr": ({"tr", "td", "th"}, {"table", "thead", "tbody", "tfoot"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "thead": ({"thead", "tbody", "tr", "td", "th"}, {"table"}),
    "tbody": ({"thead", "tbody", "tr", "td", "th"}, {"table"}),
    "option": ({"option"}, {"select"}),
}


@dataclass(eq=False)
class Text:
    data: str
    parent: Element | None = None


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | Text] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        """This element and every element below it, in document order."""
        stack: list[Element] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(c for c in reversed(node.children) if isinstance(c, Element))

    def find_all(self, match: Callable[[Element], bool]) -> list[Element]:
        return [node for node in self.iter() if match(node)]

    def find(self, match: Callable[[Element], bool]) -> Element | None:
        return next((node for node in self.iter() if match(node)), None)

    def inside(self, nodes: set[int]) -> bool:
        node: Element | None = self
        while node is not None:
            if id(node) in nodes:
                return True
            node = node.parent
        return False


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def _pop_to(self, index: int) -> None:
        del self.stack[index:]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in IMPLIED_END:
            closes, stops = IMPLIED_END[tag]
            for i in range(len(self.stack) - 1, 0, -1):
                if self.stack[i].tag in stops:
                    break
                if self.stack[i].tag in closes:
                    self._pop_to(i)
                    break
        if tag in BLOCK:  # a block closes an open <p>, as in the HTML parsing algorithm
            for i in range(len(self.stack) - 1, 0, -1):
                if self.stack[i].tag == "p":
                    self._pop_to(i)
                    break
                if self.stack[i].tag not in INLINE:
                    break
        node = Element(tag, {k: v or "" for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                self._pop_to(i)
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(Text(data, self.stack[-1]))


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


CUT = "\x00"  # where render() left out a node, for callers that want the text up to there


def render(node: Element, skip: AbstractSet[int] = frozenset(), pre: bool = False) -> str:
    """Visible text with a line break around every block, whitespace collapsed outside <pre>."""
    parts: list[str] = []
    _render(node, skip, pre, parts)
    return "".join(parts)


def _render(node: Element, skip: AbstractSet[int], pre: bool, parts: list[str]) -> None:
    if node.tag in SKIPPED or id(node) in skip:
        if id(node) in skip and node.tag not in SKIPPED:
            parts.append(CUT + ("\n" if node.tag in BLOCK else ""))
        return
    if "display: none" in node.attrs.get("style", "") or "hidden" in node.attrs:
        return
    block = node.tag in BLOCK or node.tag == "br"
    pre = pre or node.tag in ("pre", "listing", "xmp")
    if block:
        parts.append("\n")
    for child in node.children:
        if isinstance(child, Text):
            if id(child) in skip:
                continue
            parts.append(child.data if pre else re.sub(r"\s+", " ", child.data))
        else:
            _render(child, skip, pre, parts)
        if node.tag == "tr" and isinstance(child, Element):
            parts.append("\t")
    if block:
        parts.append("\n")


def norm(text: str) -> str:
    """Whitespace collapsed to single spaces, no-break spaces included."""
    return " ".join(text.replace("\xa0", " ").split())


def lines_of(text: str) -> list[str]:
    return [line for line in (norm(raw) for raw in text.split("\n")) if line]


_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


def tokens(text: str) -> Counter[str]:
    """Lower-cased words; each CJK character on its own, since Japanese has no spaces."""
    return Counter(_TOKEN.findall(text.lower()))


# ---------------------------------------------------------------------------------------------
# Per-generator main content: (the main nodes, the navigation the generator put inside them)


def _has_class(*names: str) -> Callable[[Element], bool]:
    wanted = set(names)
    return lambda node: bool(node.classes & wanted)


def _body(root: Element) -> Element:
    return root.find(lambda n: n.tag == "body") or root


def _sphinx_main(root: Element) -> tuple[list[Element], list[Element | Text]]:
    main = root.find(lambda n: n.attrs.get("role") == "main") or root.find(_has_class("body"))
    assert main is not None, "no div[role=main] / div.body"
    inside = main.find_all(
        lambda n: (
            (n.tag == "a" and "headerlink" in n.classes)
            or "toctree-wrapper" in n.classes
            or {"contents", "topic"} <= n.classes
        )  # a local table of contents
    )
    return [main], inside


def _docbook_main(root: Element) -> tuple[list[Element], list[Element | Text]]:
    body = _body(root)
    inside = body.find_all(
        _has_class(
            "navheader", "navfooter", "toc", "list-of-tables", "list-of-figures",
            "list-of-examples",
        )
    )  # fmt: skip
    return [body], inside


def _texinfo_main(root: Element) -> tuple[list[Element], list[Element | Text]]:
    body = _body(root)

    def navigation(node: Element) -> bool:
        classes = node.classes
        if classes & {
            "header", "nav-panel", "menu", "section-toc", "mini-toc", "contents",
            "shortcontents", "contents-heading", "shortcontents-heading", "region-contents",
        }:  # fmt: skip
            return True
        if node.tag == "table" and any(
            c.startswith(("index-", "printindex")) or c.endswith(("-letters-header-printindex",
            "-letters-footer-printindex", "-entries-printindex")) for c in classes
        ):  # fmt: skip
            return True
        if node.tag == "table" and any(c.endswith("letters-header") for c in classes):
            return True
        # texi2html: the [ < ] [ > ] [Top] [Contents] bar, and the "generated by" footer
        if (
            node.tag == "table"
            and node.attrs.get("cellpadding") == "1"
            and (node.attrs.get("border") == "0")
        ):
            return True
        return (
            node.tag == "p"
            and node.find(lambda n: n.tag == "font" and n.attrs.get("size") == "-1") is not None
        )

    return [body], body.find_all(navigation)


def _man2html_main(root: Element) -> tuple[list[Element], list[Element | Text]]:
    # man2html writes H1, a "Section/Updated/Index/Return to Main Contents" header ended by <HR>,
    # the page, then <HR>, an index of the sections and a "created by man2html" footer. Unclosed
    # <DL>s in some pages nest that end inside the page, so the cut is made in document order.
    body = _body(root)
    title = body.find(lambda n: n.tag == "h1")
    order: list[Element | Text] = []
    stack: list[Element | Text] = [body]
    while stack:
        node = stack.pop()
        order.append(node)
        if isinstance(node, Element):
            stack.extend(reversed(node.children))
    rules = [i for i, n in enumerate(order) if isinstance(n, Element) and n.tag == "hr"]
    index = next(
        i
        for i, n in enumerate(order)
        if isinstance(n, Element) and n.tag == "a" and n.attrs.get("name") == "index"
    )
    first, last = rules[0], max(i for i in rules if i < index)
    title_ids = {id(n) for n in title.iter()} if title else set()
    outside = [
        n
        for i, n in enumerate(order)
        if isinstance(n, Text) and not first < i < last and id(n.parent) not in title_ids
    ]
    return [body], outside


def _doxygen_main(root: Element) -> tuple[list[Element], list[Element | Text]]:
    title = root.find(_has_class("headertitle"))
    contents = root.find(_has_class("contents"))
    assert contents is not None, "no div.contents"
    return [n for n in (title, contents) if n is not None], []


def _asciidoc_main(root: Element) -> tuple[list[Element], list[Element | Text]]:
    header = root.find(lambda n: n.attrs.get("id") == "header")
    content = root.find(lambda n: n.attrs.get("id") == "content")
    assert content is not None, "no div#content"
    main = [n for n in (header, content) if n is not None]
    inside = [
        node
        for part in main
        for node in part.find_all(
            lambda n: n.attrs.get("id") in ("toc", "toctitle") or "details" in n.classes
        )
    ]
    return main, inside


MAIN_CONTENT = {
    "sphinx": _sphinx_main,
    "docbook": _docbook_main,
    "texinfo": _texinfo_main,
    "man2html": _man2html_main,
    "doxygen": _doxygen_main,
    "asciidoc": _asciidoc_main,
}


@dataclass(frozen=True)
class Reference:
    """What a page's main text is, and what lies outside it."""

    text: str  # the main text, one block per line
    words: Counter[str]
    headings: tuple[str, ...]
    list_items: tuple[str, ...]  # <li> and <dt> text without nested lists
    table_cells: tuple[str, ...]  # cells of data tables (no <pre>, no nested table)
    code_lines: tuple[str, ...]  # lines of <pre> (Doxygen: div.fragment > div.line)
    nav_lines: tuple[str, ...]  # lines outside the main text that it does not contain
    main_share: float  # of the page's visible words; tiny on tables of contents and indexes


# A heading's permalink glyph, compared on neither side: Sphinx's trailing "¶" or icon-font
# character (private use area), Doxygen's leading "◆", MkDocs' "#".
_ANCHOR = re.compile(r"^[^\w(\[\"'`$@<]+|[\s¶#\ue000-\uf8ff]+$")
# A page whose generator puts less than this share of its words in the content container is a
# table of contents or an index (gettext's option index, a DocBook book's title page): a link
# index, not a document, and left out.
MIN_MAIN_SHARE = 0.2
MIN_ITEM_CHARS = 3  # shorter items ("1", "x") would be found anywhere in the output


def reference_of(html: str, generator: str) -> Reference:
    root = parse(html)
    main, inside = MAIN_CONTENT[generator](root)
    removed = {id(n) for n in inside}
    text = "\n".join(render(node, removed) for node in main).replace(CUT, "")
    main_ids = {id(n) for n in main}
    outside = "\n".join(
        [render(_body(root), main_ids)]
        + [n.data if isinstance(n, Text) else render(n) for n in inside]
    ).replace(CUT, "\n")
    flat = norm(text)
    nav = tuple(
        dict.fromkeys(x for x in lines_of(outside) if x not in flat and re.search(r"\w", x))
    )

    def kept_elements(match: Callable[[Element], bool]) -> list[Element]:
        found = []
        for node in main:
            found += [n for n in node.iter() if match(n) and not n.inside(removed)]
        return found

    def items(nodes: Sequence[Element], nested: frozenset[str]) -> tuple[str, ...]:
        out = []
        for node in nodes:
            skip = removed | {id(n) for n in node.iter() if n is not node and n.tag in nested}
            # The text up to the first nested list, <pre> or table: a block in between would
            # rightly separate what comes after it.
            chunks = [norm(c) for c in render(node, skip).split(CUT)]
            item = next((c for c in chunks if c), "")
            if len(item) >= MIN_ITEM_CHARS:
                out.append(item)
        return tuple(out)

    headings = tuple(
        _ANCHOR.sub("", h) for h in items(kept_elements(lambda n: n.tag in HEADINGS), frozenset())
    )
    list_items = tuple(
        stripped
        for item in items(
            kept_elements(lambda n: n.tag in ("li", "dt")),
            frozenset({"ul", "ol", "dl", "pre", "table"}),
        )
        # Texinfo's <dt> items end in a "¶" permalink
        if len(stripped := _ANCHOR.sub("", item)) >= MIN_ITEM_CHARS
    )
    cells = items(
        kept_elements(
            lambda n: (
                n.tag in ("td", "th")
                and n.find(lambda d: d is not n and (d.tag in BLOCK or d.tag == "br")) is None
            )
        ),
        frozenset(),
    )
    code: list[str] = []
    for block in kept_elements(lambda n: n.tag == "pre" or "fragment" in n.classes):
        if block.tag != "pre" and block.find(lambda n: n.tag == "pre") is not None:
            continue  # counted through its <pre>
        code += lines_of(render(block, removed, pre=True).replace(CUT, "\n"))
    return Reference(
        text=text,
        words=tokens(text),
        headings=tuple(h for h in headings if h),
        list_items=list_items,
        table_cells=cells,
        code_lines=tuple(line for line in code if len(line) >= MIN_ITEM_CHARS),
        nav_lines=nav,
        main_share=sum(tokens(text).values()) / max(1, sum(tokens(render(_body(root))).values())),
    )


# ---------------------------------------------------------------------------------------------
# Pages, extractors, scores


@dataclass(frozen=True)
class RealPage:
    source: Source
    record: WarcRecord  # as ingest reads it back from the WARC
    html: str  # decoded once, untimed, for the extractors that take a string
    reference: Reference


def build_pages(cache: Path, halves: Sequence[str]) -> list[RealPage]:
    """Every picked page of the chosen halves: WARC written once per half, then read back."""
    tree = ensure_packages(cache)
    pages, link_indexes = [], []
    for half in halves:
        sources = [s for s in SOURCES if s.half == half]
        warc = cache / f"{half}.warc.gz"
        if not warc.exists():
            records = []
            for source in sources:
                for relative, body in source_pages(tree, source, cache):
                    # man2html declares no charset; its HTTP header says UTF-8
                    declared = b"charset" in body[:2048].lower()
                    content_type = "text/html" if declared else "text/html; charset=utf-8"
                    url = f"https://{source.package}.docs.example/{relative}"
                    records.append((url, content_type, body))
            write_warc(warc, records)
        by_host = {f"{s.package}.docs.example": s for s in sources}
        with warc.open("rb") as stream:
            for record in iter_warc_records(stream, max_record_bytes=MAX_RECORD_BYTES):
                assert isinstance(record, WarcRecord), record
                if record.warc_type != "response":
                    continue
                source = by_host[(record.target_uri or "").split("/")[2]]
                charset, _ = declared_charset(record, record.payload)
                html = record.payload.decode(charset or "utf-8", "replace")
                reference = reference_of(html, source.generator)
                if reference.main_share >= MIN_MAIN_SHARE:
                    pages.append(RealPage(source, record, html, reference))
                else:
                    link_indexes.append(record.target_uri or "")
    if link_indexes:
        print(
            f"left out {len(link_indexes)} link indexes (less than {MIN_MAIN_SHARE:.0%} of the "
            f"page's words in the content container), e.g. {', '.join(link_indexes[:3])}"
        )
    return pages


@dataclass(frozen=True)
class Extractor:
    name: str
    extract: Callable[[RealPage], str]


def _pilehouse(page: RealPage) -> str:
    result = extract_page(page.record)
    return result.text if isinstance(result, Page) else ""


def _resiliparse(main_content: bool) -> Callable[[RealPage], str]:
    def extract(page: RealPage) -> str:
        tree = HTMLTree.parse(page.html)
        return extract_plain_text(
            tree, preserve_formatting=True, main_content=main_content, alt_texts=False
        )

    return extract


def extractors() -> list[Extractor]:
    """Pilehouse's extract_page, bare resiliparse, and the peers that are installed."""
    chosen = [
        Extractor("pilehouse extract_page", _pilehouse),
        Extractor("resiliparse main_content", _resiliparse(True)),
        Extractor("resiliparse whole page", _resiliparse(False)),
    ]
    if importlib.util.find_spec("trafilatura") is None:
        print("trafilatura is not installed (the bench extra): skipping it\n")
        return chosen
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    for label, options in (
        ("trafilatura default", {}),
        ("trafilatura favor_recall", {"favor_recall": True}),
        ("trafilatura favor_precision", {"favor_precision": True}),
    ):
        chosen.append(Extractor(label, lambda p, o=options: trafilatura.extract(p.html, **o) or ""))
    if importlib.util.find_spec("justext") is not None:  # installed with trafilatura
        import justext

        def _justext(page: RealPage) -> str:
            stoplist = justext.get_stoplist("English")
            paragraphs = justext.justext(page.html.encode("utf-8"), stoplist, encoding="utf-8")
            return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)

        chosen.append(Extractor("justext (English stoplist)", _justext))
    return chosen


@dataclass
class Tally:
    """Sums over a group of pages, for one extractor."""

    pages: int = 0
    seconds: float = 0.0
    no_text: int = 0
    recall: float = 0.0  # sums of per-page shares; divided by pages (precision: by pages with text)
    precision: float = 0.0
    kept: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)

    def add(self, reference: Reference, output: str, seconds: float) -> None:
        self.pages += 1
        self.seconds += seconds
        found = tokens(output)
        matched = sum((found & reference.words).values())
        self.recall += matched / max(1, sum(reference.words.values()))
        if found:
            self.precision += matched / sum(found.values())
        else:
            self.no_text += 1
        flat = norm(output)
        heading_lines = {_ANCHOR.sub("", line) for line in lines_of(output)}
        for kind, wanted, present in (
            ("headings", reference.headings, heading_lines.__contains__),
            ("list items", reference.list_items, flat.__contains__),
            ("table cells", reference.table_cells, flat.__contains__),
            ("code lines", reference.code_lines, flat.__contains__),
            ("nav lines left", reference.nav_lines, flat.__contains__),
        ):
            self.total[kind] += len(wanted)
            self.kept[kind] += sum(1 for item in wanted if present(item))

    def share(self, kind: str) -> float:
        return self.kept[kind] / self.total[kind] if self.total[kind] else float("nan")

    @property
    def mean_recall(self) -> float:
        return self.recall / self.pages

    @property
    def mean_precision(self) -> float:
        return self.precision / max(1, self.pages - self.no_text)


KINDS = ("headings", "list items", "table cells", "code lines", "nav lines left")


def run(
    chosen: Sequence[Extractor], pages: Sequence[RealPage], repeat: int
) -> dict[str, dict[str, Tally]]:
    """Per extractor, per generator (and "all"): the tallies. Each page's time is the fastest of
    `repeat` calls, in this process, on one core."""
    results: dict[str, dict[str, Tally]] = {}
    for extractor in chosen:
        for page in pages[:5]:  # warm-up: lazy imports and caches are not billed to page 1
            extractor.extract(page)
        tallies: dict[str, Tally] = {}
        for page in pages:
            best, output = float("inf"), ""
            for _ in range(repeat):
                started = time.perf_counter()
                output = extractor.extract(page)
                best = min(best, time.perf_counter() - started)
            for group in ("all", page.source.generator):
                tallies.setdefault(group, Tally()).add(page.reference, output, best)
        results[extractor.name] = tallies
    return results


def _pct(value: float) -> str:
    return "   -" if value != value else f"{value:6.1%}"


def render_table(results: dict[str, dict[str, Tally]], group: str) -> str:
    header = (
        f"{'extractor':<29} {'pages':>5} {'pages/s':>8} {'no text':>7} {'recall':>7} "
        f"{'precision':>9} {'headings':>8} {'lists':>7} {'tables':>7} {'code':>7} {'nav left':>8}"
    )
    lines = [header]
    for name, tallies in results.items():
        t = tallies.get(group)
        if t is None:
            continue
        lines.append(
            f"{name:<29} {t.pages:>5} {t.pages / t.seconds:>8.1f} {t.no_text:>7} "
            f"{_pct(t.mean_recall):>7} {_pct(t.mean_precision):>9} "
            + " ".join(
                f"{_pct(t.share(k)):>{w}}" for k, w in zip(KINDS, (8, 7, 7, 7, 8), strict=True)
            )
        )
    return "\n".join(lines)


def render_counts(pages: Sequence[RealPage]) -> str:
    """What the reference holds, per generator: the denominators of the share columns."""
    lines = [
        f"{'generator':<10} {'pages':>5} {'languages':<24} {'words':>8} {'headings':>8} "
        f"{'lists':>6} {'cells':>6} {'code':>6} {'nav':>6}"
    ]
    packages = []
    for generator in MAIN_CONTENT:
        group = [p for p in pages if p.source.generator == generator]
        if not group:
            continue
        sources = list(dict.fromkeys(p.source for p in group))
        languages = " ".join(dict.fromkeys(x for s in sources for x in s.languages.split()))
        packages.append(f"  {generator}: {', '.join(s.package for s in sources)}")
        r = [p.reference for p in group]
        lines.append(
            f"{generator:<10} {len(group):>5} {languages:<24} "
            f"{sum(sum(x.words.values()) for x in r):>8} {sum(len(x.headings) for x in r):>8} "
            f"{sum(len(x.list_items) for x in r):>6} {sum(len(x.table_cells) for x in r):>6} "
            f"{sum(len(x.code_lines) for x in r):>6} {sum(len(x.nav_lines) for x in r):>6}"
        )
    return "\n".join([*lines, "packages:", *packages])


def main(argv: list[str] | None = None) -> dict[str, dict[str, Tally]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction_real",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--half", choices=("test", "tune", "both"), default="test")
    parser.add_argument("--repeat", type=int, default=1, help="calls per page; the fastest counts")
    parser.add_argument("--only", help="run only the extractors whose name contains this")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    halves = ("tune", "test") if args.half == "both" else (args.half,)
    load_before = os.getloadavg()
    started = time.perf_counter()
    pages = build_pages(args.cache, halves)
    print(
        f"{len(pages)} pages ({' + '.join(halves)} half) from {args.cache}/*.warc.gz, read back "
        f"with spark_jobs.web.warc; prepared in {time.perf_counter() - started:.1f} s"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)} (1, 5, 15 min)")
    print(f"timing: one process, one core; each page the fastest of {args.repeat} call(s)\n")
    print(render_counts(pages))
    chosen = [e for e in extractors() if not args.only or args.only in e.name]
    results = run(chosen, pages, args.repeat)
    print("\nall generators")
    print(render_table(results, "all"))
    for generator in MAIN_CONTENT:
        if any(p.source.generator == generator for p in pages):
            print(f"\n{generator}")
            print(render_table(results, generator))
    print(
        "\nrecall / precision: mean over pages of the share of reference words in the output /"
        "\n  of output words in the reference (precision over pages with text)"
        "\nheadings: reference headings that are a line of the output; lists, tables, code: "
        "\n  reference <li>/<dt>, data-table cells and <pre> lines found in the output; nav left:"
        "\n  lines outside the main text (not in it) found in the output (lower is better)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
