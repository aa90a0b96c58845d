"""HTML extraction verdicts on small real records: pages, skips and quarantines with reasons."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from spark_jobs.web.extract import Page, Quarantine, Skip, domain_of, extract_page
from spark_jobs.web.warc import WarcRecord

FETCHED = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)

ARTICLE = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Assignment statements | docs-mirror-3</title></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/reference/">Reference</a></li></ul></nav></header>
<main><article><h1>Assignment statements</h1>
<p>Assignment statements are used to (re)bind names to values and to modify attributes.</p>
<p>An assignment statement evaluates the expression list and assigns the single resulting
object to each of the target lists, from left to right.</p></article></main>
<footer><p>&copy; 2024 docs-mirror-3. Mirrored documentation, provided as is.</p></footer>
</body></html>"""


def response(
    body: bytes,
    *,
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    url: str = "https://WWW.Docs-Mirror-3.example.org:8443/reference/assignment.html",
    extra_headers: tuple[tuple[str, str], ...] = (),
) -> WarcRecord:
    http_headers = (("Content-Type", content_type),) if content_type else ()
    return WarcRecord(
        offset=0,
        warc_type="response",
        record_id="<urn:uuid:00000000-0000-4000-8000-000000000000>",
        target_uri=url,
        date=FETCHED,
        headers=(("WARC-Type", "response"), ("WARC-Target-URI", url)),
        http_status=status,
        http_headers=http_headers + extra_headers,
        payload=body,
    )


def test_page_keeps_title_main_text_and_normalised_domain() -> None:
    page = extract_page(response(ARTICLE))
    assert isinstance(page, Page)
    assert page.title == "Assignment statements | docs-mirror-3"
    assert page.text.startswith("Assignment statements\n\nAssignment statements are used")
    assert "from left to right." in page.text
    assert "Mirrored documentation" not in page.text  # footer boilerplate
    assert "Reference" not in page.text  # navigation
    assert page.domain == "docs-mirror-3.example.org"
    assert page.url.startswith("https://WWW.")
    assert page.content_type == "text/html"
    assert page.http_status == 200
    assert page.fetch_date == FETCHED
    assert page.byte_length == len(page.text.encode("utf-8"))


def test_error_status_is_skipped() -> None:
    verdict = extract_page(response(b"<html><body><h1>Not Found</h1></body></html>", status=404))
    assert verdict == Skip("http_status_404", "the server answered 404")


def test_image_is_skipped_as_not_html() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    verdict = extract_page(response(png, content_type="image/png"))
    assert isinstance(verdict, Skip)
    assert verdict.reason == "not_html:image/png"


def test_missing_content_type_is_sniffed() -> None:
    assert isinstance(extract_page(response(ARTICLE, content_type=None)), Page)
    pdf = extract_page(response(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", content_type=None))
    assert isinstance(pdf, Skip) and pdf.reason == "not_html:application/pdf"


def test_invalid_utf8_is_quarantined_with_its_offset() -> None:
    body = ARTICLE.replace(b"are used", b"are us\xe9d")
    verdict = extract_page(response(body))
    assert isinstance(verdict, Quarantine)
    assert verdict.reason == "undecodable"
    offset = body.index(b"\xe9")
    assert f"at byte {offset}" in verdict.detail
    assert "declared utf-8 (HTTP Content-Type)" in verdict.detail
    assert b"us\xe9d" in verdict.excerpt


def test_undeclared_bytes_valid_in_no_candidate_encoding_are_quarantined() -> None:
    # Neither UTF-8 nor cp1252 (what uchardet detects here) defines byte 0x81.
    body = b"<html><body><p>caf\xe9 \x81 r\xe9sum\xe9 na\xefve</p></body></html>"
    verdict = extract_page(response(body, content_type="text/html"))
    assert isinstance(verdict, Quarantine) and verdict.reason == "undecodable"
    assert "UTF-8 (no charset declared)" in verdict.detail
    offset = body.index(b"\x81")
    assert f"at byte {offset}" in verdict.detail


def test_charset_from_meta_and_from_detection() -> None:
    russian = "Привет мир, как дела? Это небольшой тест на русском языке."
    declared = (
        f'<html><head><meta charset="windows-1251"></head><body><p>{russian}</p></body></html>'
    )
    page = extract_page(response(declared.encode("windows-1251"), content_type="text/html"))
    assert isinstance(page, Page) and page.text == russian
    undeclared = f"<html><body><p>{russian}</p></body></html>".encode("windows-1251")
    page = extract_page(response(undeclared, content_type="text/html"))
    assert isinstance(page, Page) and page.text == russian


def test_binary_served_as_html_is_quarantined() -> None:
    body = bytes(range(256)) * 8
    verdict = extract_page(response(body, content_type="text/html"))
    assert isinstance(verdict, Quarantine)
    assert verdict.reason == "binary_content"
    assert verdict.excerpt == body[:256]


def test_page_without_visible_text_is_skipped_as_empty() -> None:
    body = b"<html><head><title>Loading</title><script>go()</script></head><body></body></html>"
    verdict = extract_page(response(body))
    assert isinstance(verdict, Skip) and verdict.reason == "empty_text"


def test_gzip_content_encoding_is_undone() -> None:
    record = response(gzip.compress(ARTICLE), extra_headers=(("Content-Encoding", "gzip"),))
    page = extract_page(record)
    assert isinstance(page, Page) and "from left to right." in page.text


def test_record_without_target_uri_is_quarantined() -> None:
    verdict = extract_page(response(ARTICLE, url=""))
    assert isinstance(verdict, Quarantine) and verdict.reason == "bad_url"


def test_domain_of() -> None:
    assert domain_of("http://www.Example.COM:8080/a?b") == "example.com"
    assert domain_of("https://user:pw@docs.example.org./x") == "docs.example.org"
    assert domain_of("not a url") == ""


CITATIONS = b"""<html><head><meta charset="utf-8"><title>Shared libraries</title></head><body>
<div class="sidebar"><ul><li><a href="/guide/">Guide</a></li><li><a href="/guide/build.html">Building</a>
</li><li><a href="/guide/upload.html">Uploading</a></li></ul></div>
<div class="chapter"><h1>Shared libraries</h1>
<p>Packaging a shared library takes care; read these first:</p>
<ul><li><a href="https://www.debian.org/doc/debian-policy/ch-sharedlibs.html">Policy 8, Shared
libraries</a></li><li><a href="https://wiki.debian.org/Multiarch">Debian wiki, Multiarch</a></li>
<li><a href="https://wiki.debian.org/RpathIssue">Debian wiki, RpathIssue</a></li></ul>
<ul><li><a href="/guide/symbols.html">Symbols files</a></li><li><a href="/guide/shlibs.html">shlibs
files</a></li><li><a href="/guide/multiarch.html">Multiarch paths</a></li></ul>
<pre>$ dpkg-gensymbols -v1.1 -plibfoo1</pre></div></body></html>"""


def test_site_menus_are_dropped_and_lists_citing_other_sites_kept() -> None:
    page = extract_page(response(CITATIONS))
    assert isinstance(page, Page)
    assert "Debian wiki, RpathIssue" in page.text  # links to other sites: citations
    assert "$ dpkg-gensymbols -v1.1 -plibfoo1" in page.text
    assert "Uploading" not in page.text  # the sidebar, by its class name
    assert "Symbols files" not in page.text  # a list of links within the site: navigation


def test_page_wide_wrapper_named_like_navigation_does_not_empty_the_page() -> None:
    # Marking the wrapper would leave nothing: resiliparse's main-content heuristics decide.
    body = (
        ARTICLE.replace(b"<body>", b'<body><div class="menu-layout">')
        .replace(b"</body>", b"</div></body>")
        .replace(b"<main>", b"")
        .replace(b"</main>", b"")
        .replace(b"<article>", b"")
        .replace(b"</article>", b"")
    )
    page = extract_page(response(body))
    assert isinstance(page, Page)
    assert "from left to right." in page.text
