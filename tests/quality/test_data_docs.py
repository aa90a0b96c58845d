"""Data Docs render offline: every script, style, font and image a GX page loads from the
internet is rewritten to a copy inside the site (quality/data_docs_static, GX's own images)."""

from __future__ import annotations

import re
from pathlib import Path

from quality.data_docs import OFFLINE_ASSETS, _use_vendored_assets

LOGO = (
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png"
    "?d=20261204T145818.522009Z&dataContextId=6ba1a37d"
)
DARK_LOGO = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png"


def _gx_page() -> str:
    """The head and brand of a page as GX 1.x writes it (every CDN asset it loads)."""
    tags = []
    for url in OFFLINE_ASSETS:
        if url.endswith(".css") or url.endswith("bootstrap-prefers-dark.css"):
            tags.append(f'<link rel="stylesheet" href="{url}" integrity="sha-x" crossorigin/>')
        else:
            tags.append(f'<script src="{url}" integrity="sha-y" crossorigin="anonymous"></script>')
    return (
        "<html><head>" + "\n".join(tags) + f"<style>.navbar-brand a {{ background: "
        f"url('{DARK_LOGO}') 0 0 no-repeat; }}</style></head><body>"
        f'<img class="NO-CACHE" src="{LOGO}" alt="Great Expectations"/>'
        '<a href="https://greatexpectations.io">a link, not a load</a></body></html>'
    )


def test_pages_load_nothing_from_the_internet_and_every_local_reference_exists(tmp_path: Path):
    site = tmp_path / "local_site"
    page = site / "validations" / "suite" / "batch" / "run" / "time" / "table.html"
    page.parent.mkdir(parents=True)
    page.write_text(_gx_page())
    (site / "index.html").write_text(_gx_page())
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "logo-long.png").write_bytes(b"\x89PNG")  # GX copies it

    _use_vendored_assets(site)
    _use_vendored_assets(site)  # a second build leaves rewritten pages alone

    for html_file in (page, site / "index.html"):
        html = html_file.read_text()
        loads = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url\('([^']+)'\)", html)
        loads = [url for url in loads if url != "https://greatexpectations.io"]
        assert [url for url in loads if "://" in url] == [], html
        assert "integrity" not in html and "crossorigin" not in html
        for url in loads:
            assert (html_file.parent / url).resolve().is_file(), url
    # The icon font the vendored CSS names, where its ../webfonts/ points.
    css = (site / "static" / "vendor" / "fontawesome-all.min.css").read_text()
    for font in set(re.findall(r"url\(\.\./webfonts/([^)]+\.woff2)\)", css)):
        assert (site / "static" / "webfonts" / font).is_file(), font
