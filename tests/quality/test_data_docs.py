"""Data Docs render offline: every script, style, font and image a GX page loads from the
internet is rewritten to a copy inside the site (quality/data_docs_static, GX's own images);
on a lake on S3 a validation sends only what it rebuilt."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from quality.data_docs import OFFLINE_ASSETS, SITE, _use_vendored_assets, copy_site
from spark_jobs.lake import Lake
from spark_jobs.storage import ObjectStore

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


@pytest.mark.s3
def test_a_lake_on_s3_gets_the_site_once_and_then_only_what_a_validation_rebuilt(s3, tmp_path):
    s3.create_bucket("docs-lake")
    store = ObjectStore(endpoint_url=s3.endpoint_url)
    lake = Lake("s3://docs-lake/lake", store)
    site = tmp_path / "project" / SITE
    index, first = site / "index.html", site / "validations" / "a" / "run-1.html"
    font = site / "static" / "webfonts" / "icons.woff2"
    for file, body in ((index, "index 1"), (first, "run 1"), (font, "font 1")):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(body)
    fs, root = store.filesystem("s3://docs-lake/lake/_quality/data_docs")

    def remote() -> dict[str, str]:
        files = fs.get_file_info(pafs.FileSelector(root, recursive=True))
        return {
            f.path[len(root) + 1 :]: fs.open_input_stream(f.path).read().decode()
            for f in files
            if f.type == pafs.FileType.File
        }

    url = copy_site(tmp_path / "project", lake, [index, first])
    assert url == "s3://docs-lake/lake/_quality/data_docs/index.html"
    assert remote() == {
        "index.html": "index 1",
        "validations/a/run-1.html": "run 1",
        "static/webfonts/icons.woff2": "font 1",
    }

    # The next validation: its page and the index travel; the store's static files and older
    # pages are not sent again (changed here only to show it); a page the store lost is.
    second = site / "validations" / "b" / "run-2.html"
    second.parent.mkdir(parents=True)
    second.write_text("run 2")
    index.write_text("index 2")
    font.write_text("font 2")
    first.write_text("run 1, not rebuilt")
    lost = site / "validations" / "c" / "run-0.html"
    lost.parent.mkdir(parents=True)
    lost.write_text("run 0")
    copy_site(tmp_path / "project", lake, [index, second])
    assert remote() == {
        "index.html": "index 2",
        "validations/a/run-1.html": "run 1",
        "validations/b/run-2.html": "run 2",
        "validations/c/run-0.html": "run 0",
        "static/webfonts/icons.woff2": "font 1",
    }
