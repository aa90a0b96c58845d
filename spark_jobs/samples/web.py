"""A seeded sample crawl: WARC files of HTML pages built from real English prose, with planted
duplicates, junk, foreign-language, error, non-HTML, undecodable and corrupt records in known numbers."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import random
import re
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from faker import Faker

from spark_jobs.samples.manifest import JsonManifest


@dataclass(frozen=True)
class Plant:
    """A planted case: its share of the pages (at least one page) and what ingest must make of it."""

    category: str
    share: float
    disposition: str
    reason: str | None = None


# Everything not planted is a "clean" page: unique English prose, kept.
PLANTS = (
    Plant("exact_duplicate", 0.015, "kept"),  # the same page body at another URL
    Plant("normalized_duplicate", 0.005, "kept"),  # the same, lower-cased, whitespace-padded
    Plant("low_quality", 0.03, "kept"),  # a few words and a link list (fails Gopher rules)
    Plant("non_english", 0.03, "kept"),
    Plant("refetch", 0.005, "kept"),  # a clean page's URL fetched again, with new text
    Plant("http_404", 0.005, "skipped", "http_status_404"),
    Plant("http_500", 0.005, "skipped", "http_status_500"),
    Plant("image_png", 0.005, "skipped", "not_html:image/png"),
    Plant("application_pdf", 0.005, "skipped", "not_html:application/pdf"),
    Plant("empty", 0.001, "skipped", "empty_text"),
    Plant("undecodable", 0.001, "quarantined", "undecodable"),
    Plant("binary", 0.001, "quarantined", "binary_content"),
    Plant("garbled_member", 0.001, "quarantined", "gzip_corrupt"),
    Plant("truncated_record", 0.001, "quarantined", "truncated"),  # at most one per file
    Plant("bad_warc_header", 0.001, "quarantined", "bad_warc_header"),
)
CORRUPT_CATEGORIES = ("garbled_member", "truncated_record", "bad_warc_header")

# locale, ISO 639-1 code, charset, where the charset is declared ("http", "meta" or "none")
LOCALES = (
    ("de_DE", "de", "iso-8859-1", "http"),
    ("fr_FR", "fr", "utf-8", "http"),
    ("es_ES", "es", "utf-8", "meta"),
    ("it_IT", "it", "utf-8", "http"),
    ("ru_RU", "ru", "windows-1251", "meta"),
    ("nl_NL", "nl", "utf-8", "meta"),
    ("pl_PL", "pl", "utf-8", "none"),
)
SECTIONS = ("reference", "tutorial", "library", "howto", "faq", "glossary")
USER_AGENT = "PilehouseSampleBot/1.0 (+https://pilehouse.example.org/bot)"


@dataclass
class WebSampleManifest(JsonManifest):
    """What a generated sample contains, so tests can assert exact ingest outcomes."""

    seed: int
    pages: int  # response records written, including the ones then corrupted
    files: list[str]  # WARC file names, relative to the sample directory
    damaged_files: list[str]  # the files holding a corrupt record (the others read cleanly)
    counts: dict[str, int]  # pages per category: "clean" and every Plant.category
    urls: dict[str, list[str]]  # the URLs of each category
    duplicate_of: dict[str, str] = field(default_factory=dict)  # duplicate URL -> original
    languages: dict[str, str] = field(default_factory=dict)  # non-English URL -> ISO 639-1
    undecodable_offsets: dict[str, int] = field(default_factory=dict)  # URL -> payload offset
    response_records: int = 0  # readable response records (pages minus corrupt ones)
    corrupt_records: int = 0  # records the reader must report as CorruptRecord
    request_records: int = 0
    warcinfo_records: int = 0
    expected_dispositions: dict[str, int] = field(default_factory=dict)
    expected_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Page:
    """One response. An article page keeps only which prose paragraphs it holds and renders
    its HTML when written, so generating N pages does not hold N bodies in memory."""

    category: str
    url: str
    status: int
    content_type: str
    stored_body: bytes | None = None  # None: rendered from article_ids
    article_ids: tuple[int, ...] | None = None  # indexes into _prose(), in page order

    @property
    def article(self) -> tuple[str, list[str]]:
        """Title and paragraphs of an article page."""
        assert self.article_ids is not None
        prose = _prose()
        title = prose[self.article_ids[0]][0].replace("-", " ").title()
        return title, [prose[i][1] for i in self.article_ids]

    @property
    def body(self) -> bytes:
        if self.stored_body is not None:
            return self.stored_body
        title, paragraphs = self.article
        return _html(title, paragraphs, site=_host(self.url)).encode()

    @body.setter
    def body(self, value: bytes) -> None:
        self.stored_body = value


def generate_web_sample(
    out_dir: str | Path, *, pages: int = 2000, files: int = 4, seed: int = 0
) -> WebSampleManifest:
    """Write `files` .warc.gz files holding `pages` responses (plus warcinfo and request
    records) and `_manifest.json` to out_dir; the same seed gives the same bytes."""
    if files < 1 or pages < max(40, 10 * files):
        raise ValueError(
            f"need files >= 1 and pages >= max(40, 10 * files); got {pages=}, {files=}"
        )
    rng = random.Random(seed)
    counts = {plant.category: max(1, round(pages * plant.share)) for plant in PLANTS}
    counts["truncated_record"] = min(counts["truncated_record"], files)
    counts["clean"] = pages - sum(counts.values())
    builder = _PageBuilder(rng)

    clean = [builder.article_page("clean") for _ in range(counts["clean"])]
    planted: list[_Page] = []
    manifest = WebSampleManifest(
        seed=seed, pages=pages, files=[], damaged_files=[], counts=counts, urls={}
    )
    originals = rng.sample(clean, counts["exact_duplicate"] + counts["normalized_duplicate"])
    for i, original in enumerate(originals):
        normalized = i >= counts["exact_duplicate"]
        page = builder.duplicate_page(original, normalized)
        manifest.duplicate_of[page.url] = original.url
        planted.append(page)
    for original in rng.sample(clean, counts["refetch"]):
        planted.append(builder.article_page("refetch", url=original.url))
    planted += [builder.low_quality_page() for _ in range(counts["low_quality"])]
    for i in range(counts["non_english"]):
        page, language = builder.foreign_page(LOCALES[i % len(LOCALES)])
        manifest.languages[page.url] = language
        planted.append(page)
    planted += [builder.error_page(404) for _ in range(counts["http_404"])]
    planted += [builder.error_page(500) for _ in range(counts["http_500"])]
    planted += [builder.png_page() for _ in range(counts["image_png"])]
    planted += [builder.pdf_page() for _ in range(counts["application_pdf"])]
    planted += [builder.empty_page() for _ in range(counts["empty"])]
    for _ in range(counts["undecodable"]):
        page, offset = builder.undecodable_page()
        manifest.undecodable_offsets[page.url] = offset
        planted.append(page)
    planted += [builder.binary_page() for _ in range(counts["binary"])]
    corrupt = [
        builder.article_page(category)
        for category in CORRUPT_CATEGORIES
        for _ in range(counts[category])
    ]

    layout = _lay_out(rng, clean + planted, corrupt, files)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
    writer = _WarcWriter(rng, start)
    for number, file_pages in enumerate(layout):
        name = f"crawl-sample-{seed}-{number:05d}.warc.gz"
        (out / name).write_bytes(writer.file_bytes(name, file_pages))
        manifest.files.append(name)
        if any(page.category in CORRUPT_CATEGORIES for page in file_pages):
            manifest.damaged_files.append(name)

    for page in clean + planted + corrupt:
        manifest.urls.setdefault(page.category, []).append(page.url)
    disposition = {plant.category: plant for plant in PLANTS}
    manifest.expected_dispositions = {"kept": 0, "skipped": 0, "quarantined": 0}
    for category, count in counts.items():
        plant = disposition.get(category, Plant("clean", 0, "kept"))
        manifest.expected_dispositions[plant.disposition] += count
        if plant.reason:
            manifest.expected_reasons[plant.reason] = count
    manifest.corrupt_records = sum(counts[c] for c in CORRUPT_CATEGORIES)
    manifest.response_records = pages - manifest.corrupt_records
    manifest.request_records = pages
    manifest.warcinfo_records = files
    (out / "_manifest.json").write_text(manifest.to_json())
    return manifest


def _lay_out(
    rng: random.Random, pages: list[_Page], corrupt: list[_Page], files: int
) -> list[list[_Page]]:
    """Spread pages over files; damaged members go mid-file, truncated records last."""
    pages = list(pages)
    rng.shuffle(pages)
    size = -(-len(pages) // files)
    layout = [pages[i * size : (i + 1) * size] for i in range(files)]
    truncated = [page for page in corrupt if page.category == "truncated_record"]
    for i, page in enumerate(p for p in corrupt if p.category != "truncated_record"):
        chunk = layout[i % files]
        chunk.insert(rng.randrange(1, len(chunk)), page)
    for chunk, page in zip(layout, truncated, strict=False):
        chunk.append(page)
    return layout


@functools.cache
def _prose() -> tuple[tuple[str, str], ...]:
    """(topic, paragraph) pairs of English prose from the Python docs bundled with the stdlib."""
    from pydoc_data.topics import topics

    seen: set[str] = set()
    paragraphs = []
    for topic in sorted(topics):
        for block in re.split(r"\n\s*\n", topics[topic]):
            if ">>>" in block or "::=" in block:  # code samples and grammar, not prose
                continue
            text = " ".join(block.split())
            letters = sum(c.isalpha() or c == " " for c in text)
            if len(text.split()) >= 15 and letters / len(text) >= 0.9 and text not in seen:
                seen.add(text)
                paragraphs.append((topic, text))
    return tuple(paragraphs)


class _PageBuilder:
    """Makes the HTML (or other) bodies of every kind of page, from one seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.prose = _prose()
        self.hosts = self._hosts()
        self.fakers = {locale: Faker(locale) for locale, *_ in LOCALES}
        self._used_urls: set[str] = set()
        self._used_articles: set[tuple[int, ...]] = set()

    def _hosts(self) -> list[str]:
        names = ("docs-mirror", "pyref", "learn-python", "codenotes", "devguide", "manual-cache")
        tlds = ("example.org", "example.com", "example.net")
        hosts = [f"{names[i % 6]}-{i}.{tlds[i % 3]}" for i in range(36)]
        # Real crawls see www. prefixes and explicit ports; domain normalisation must strip them.
        hosts[1::7] = [f"www.{host}" for host in hosts[1::7]]
        hosts[3::11] = [f"{host}:8443" for host in hosts[3::11]]
        return hosts

    def new_url(self, slug: str) -> str:
        while True:
            host = self.rng.choice(self.hosts)
            url = f"https://{host}/{self.rng.choice(SECTIONS)}/{slug}-{self.rng.randrange(10**6)}"
            if url not in self._used_urls:
                self._used_urls.add(url)
                return url

    def article(self) -> tuple[int, ...]:
        """A unique choice of 150-1500 words of paragraphs from the prose pool (indexes); the
        first paragraph's topic is the title."""
        while True:
            target = self.rng.randint(150, 1500)
            chosen: list[int] = []
            words = 0
            while words < target:
                i = self.rng.randrange(len(self.prose))
                if i not in chosen:
                    chosen.append(i)
                    words += len(self.prose[i][1].split())
            ids = tuple(chosen)
            if ids not in self._used_articles:
                self._used_articles.add(ids)
                return ids

    def article_page(self, category: str, url: str | None = None) -> _Page:
        page = _Page(category, "", 200, "text/html; charset=utf-8", article_ids=self.article())
        page.url = url or self.new_url(_slug(page.article[0]))
        return page

    def duplicate_page(self, original: _Page, normalized: bool) -> _Page:
        title, paragraphs = original.article
        if normalized:  # same words, other case and spacing: equal after normalisation only
            title = title.lower()
            paragraphs = ["  ".join(p.lower().split()) + " \n  " for p in paragraphs]
        category = "normalized_duplicate" if normalized else "exact_duplicate"
        url = self.new_url(_slug(title))
        body = _html(title, paragraphs, site=_host(url)).encode()
        return _Page(category, url, 200, "text/html; charset=utf-8", body)

    def low_quality_page(self) -> _Page:
        word = self.rng.choice(("deals", "offers", "coupons", "prizes", "downloads", "tips"))
        title = f"Top {word} {self.rng.randrange(1000)}"
        links = "".join(
            f'<li><a href="/{word}/{self.rng.randrange(10**4)}">{text}</a></li>'
            for text in ("Home", "Login", "Sign up", "Click here", "More")
        )
        pitch = f"Best {word} today, number {self.rng.randrange(10**6)}. Click here!"
        body = (
            f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f"<main><h1>{title}</h1><ul>{links}</ul><p>{pitch}</p></main></body></html>"
        ).encode()
        return _Page("low_quality", self.new_url(word), 200, "text/html; charset=utf-8", body)

    def foreign_page(self, locale: tuple[str, str, str, str]) -> tuple[_Page, str]:
        name, language, charset, declared = locale
        fake = self.fakers[name]
        fake.seed_instance(self.rng.getrandbits(32))
        title = fake.sentence(nb_words=5).rstrip(".")
        paragraphs = [
            fake.text(max_nb_chars=self.rng.randint(400, 900)).replace("\n", " ")
            for _ in range(self.rng.randint(3, 6))
        ]
        url = self.new_url(f"{language}-page")
        meta = charset if declared == "meta" else None
        page = _html(title, paragraphs, site=_host(url), lang=language, meta_charset=meta)
        content_type = f"text/html; charset={charset}" if declared == "http" else "text/html"
        return _Page("non_english", url, 200, content_type, page.encode(charset)), language

    def error_page(self, status: int) -> _Page:
        phrase = _REASON_PHRASES[status]
        body = (
            f"<!DOCTYPE html><html><head><title>{status} {phrase}</title></head><body>"
            f"<h1>{phrase}</h1><p>The server could not serve this request.</p>"
            "<hr><address>nginx/1.24.0</address></body></html>"
        ).encode()
        category = f"http_{status}"
        return _Page(category, self.new_url("page"), status, "text/html; charset=utf-8", body)

    def png_page(self) -> _Page:
        return _Page("image_png", self.new_url("figure") + ".png", 200, "image/png", self._png())

    def _png(self) -> bytes:
        width, height = 24, 16
        shade = self.rng.randrange(256)
        rows = b"".join(  # filter byte 0, then RGB pixels of a gradient
            b"\x00" + bytes(v for x in range(width) for v in (x * 10 % 256, y * 15 % 256, shade))
            for y in range(height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            crc = zlib.crc32(kind + data)
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b"")
        )

    def pdf_page(self) -> _Page:
        text = f"Sample document {self.rng.randrange(10**6)}"
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        body = (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
            b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n"
            + f"4 0 obj << /Length {len(stream)} >> stream\n".encode()
            + stream
            + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        )
        return _Page(
            "application_pdf", self.new_url("paper") + ".pdf", 200, "application/pdf", body
        )

    def empty_page(self) -> _Page:
        body = (
            b"<!DOCTYPE html><html><head><title>Loading</title>"
            b"<script>document.location.hash = '#app';</script></head><body></body></html>"
        )
        return _Page("empty", self.new_url("app"), 200, "text/html; charset=utf-8", body)

    def undecodable_page(self) -> tuple[_Page, int]:
        page = self.article_page("undecodable")
        # Latin-1 bytes pasted into a page that says it is UTF-8: invalid UTF-8 from here on.
        offset = page.body.index(b"<p>") + 3
        page.body = page.body[:offset] + "Caf\xe9 cr\xe8me: ".encode("latin-1") + page.body[offset:]
        return page, offset + 3

    def binary_page(self) -> _Page:
        body = self.rng.randbytes(4096)
        return _Page("binary", self.new_url("download"), 200, "text/html", body)


_REASON_PHRASES = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}


def _html(
    title: str,
    paragraphs: list[str],
    *,
    site: str,
    lang: str = "en",
    meta_charset: str | None = "utf-8",
) -> str:
    """A page with the boilerplate real sites have around the article: nav, sidebar, footer."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    body = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>{meta}'
        f"<title>{html.escape(title)} | {site}</title>"
        '<link rel="stylesheet" href="/static/site.css">'
        "<script>window.dataLayer = window.dataLayer || [];</script></head>\n<body>\n"
        f'<header class="site-header"><a class="logo" href="/">{site}</a><nav><ul>'
        '<li><a href="/">Home</a></li><li><a href="/reference/">Reference</a></li>'
        '<li><a href="/tutorial/">Tutorial</a></li><li><a href="/search">Search</a></li>'
        "</ul></nav></header>\n"
        f"<main><article><h1>{html.escape(title, quote=False)}</h1>\n{body}\n</article></main>\n"
        '<aside class="sidebar"><h2>Related</h2><ul><li><a href="/reference/">Reference index'
        '</a></li><li><a href="/glossary/">Glossary</a></li></ul></aside>\n'
        f"<footer><p>&copy; 2024 {site}. Mirrored documentation, provided as is.</p>"
        '<p><a href="/privacy">Privacy</a> &middot; <a href="/terms">Terms</a></p></footer>\n'
        "</body>\n</html>\n"
    )


def _host(url: str) -> str:
    return url.split("/")[2]


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "page"


def _digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _gzip_member(data: bytes) -> bytes:
    # zlib writes a gzip header with mtime 0, so the bytes depend only on the data.
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def _warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    lines = ["WARC/1.0", *(f"{name}: {value}" for name, value in headers)]
    lines.append(f"Content-Length: {len(block)}")
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"


class _WarcWriter:
    """Writes Common Crawl-shaped files: warcinfo, then request + response per page."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.clock = start

    def _record_id(self) -> str:
        return f"<urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}>"

    def _tick(self) -> str:
        self.clock += timedelta(seconds=self.rng.randint(1, 30))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def file_bytes(self, name: str, pages: list[_Page]) -> bytes:
        info_id = self._record_id()
        info = (
            f"software: pilehouse-sample/1.0\r\nformat: WARC File Format 1.0\r\n"
            f"isPartOf: pilehouse-sample\r\noperator: pilehouse\r\nrobots: obey\r\n"
            f"user-agent: {USER_AGENT}\r\n"
        ).encode()
        members = [
            _gzip_member(
                _warc_record(
                    [
                        ("WARC-Type", "warcinfo"),
                        ("WARC-Date", self._tick()),
                        ("WARC-Filename", name),
                        ("WARC-Record-ID", info_id),
                        ("Content-Type", "application/warc-fields"),
                    ],
                    info,
                )
            )
        ]
        for page in pages:
            request, response = self._exchange(page, info_id)
            members.append(_gzip_member(request))
            members.append(self._damaged(page, response))
        return b"".join(members)

    def _exchange(self, page: _Page, info_id: str) -> tuple[bytes, bytes]:
        date = self._tick()
        host = _host(page.url)
        path = "/" + page.url.split("/", 3)[3]
        request_block = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            "Accept-Language: en-US,en;q=0.5\r\nConnection: close\r\n\r\n"
        ).encode()
        request_id, response_id = self._record_id(), self._record_id()
        common = [("WARC-Warcinfo-ID", info_id), ("WARC-IP-Address", self._ip())]
        request = _warc_record(
            [
                ("WARC-Type", "request"),
                ("WARC-Date", date),
                ("WARC-Record-ID", request_id),
                ("Content-Type", "application/http; msgtype=request"),
                *common,
                ("WARC-Target-URI", page.url),
                ("WARC-Block-Digest", _digest(request_block)),
            ],
            request_block,
        )
        http_date = datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ")
        body = page.body  # rendered here, one page at a time
        response_head = (
            f"HTTP/1.1 {page.status} {_REASON_PHRASES[page.status]}\r\n"
            f"Date: {http_date.strftime('%a, %d %b %Y %H:%M:%S GMT')}\r\n"
            f"Server: nginx/1.24.0\r\nContent-Type: {page.content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        response_block = response_head + body
        response = _warc_record(
            [
                ("WARC-Type", "response"),
                ("WARC-Date", date),
                ("WARC-Record-ID", response_id),
                ("Content-Type", "application/http; msgtype=response"),
                *common,
                ("WARC-Concurrent-To", request_id),
                ("WARC-Target-URI", page.url),
                ("WARC-Payload-Digest", _digest(body)),
                ("WARC-Block-Digest", _digest(response_block)),
                ("WARC-Identified-Payload-Type", page.content_type.split(";")[0]),
            ],
            response_block,
        )
        return request, response

    def _ip(self) -> str:
        return f"192.0.2.{self.rng.randrange(1, 255)}"  # TEST-NET-1, never routable

    def _damaged(self, page: _Page, record: bytes) -> bytes:
        """The response's gzip member, damaged the way its category says."""
        if page.category == "bad_warc_header":
            # A letter O typed for a zero: the one header a reader cannot guess around.
            record = re.sub(
                rb"Content-Length: (\d+)\r\n\r\n", rb"Content-Length: \1O\r\n\r\n", record, count=1
            )
        member = _gzip_member(record)
        if page.category == "truncated_record":
            return member[: len(member) // 2]
        if page.category == "garbled_member":
            return _garble(member)
        return member


def _garble(member: bytes) -> bytes:
    """Flip bytes mid-member, as a bad disk or transfer would; checked to break the member."""
    for shift in range(0, len(member) // 4, 7):
        damaged = bytearray(member)
        middle = len(member) // 2 + shift
        for i in range(middle, min(middle + 16, len(member) - 8)):
            damaged[i] ^= 0x5A
        decompressor = zlib.decompressobj(31)
        try:
            decompressor.decompress(bytes(damaged))
        except zlib.error:
            return bytes(damaged)
        if not decompressor.eof:
            return bytes(damaged)
    raise AssertionError("could not garble the member")  # unreachable for real deflate data
