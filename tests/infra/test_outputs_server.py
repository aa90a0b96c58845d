"""The outputs server: Data Docs and reports over http on loopback, nothing outside them, and
the http URLs asset and check metadata link to."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from spark_jobs.analyst.outputs_server import DATA_DOCS_SITE, make_server, output_url, served_roots


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    site = lake / "_quality" / DATA_DOCS_SITE
    (site / "validations").mkdir(parents=True)
    (site / "index.html").write_text("<h1>Data Docs</h1>")
    (site / "validations" / "raw web.html").write_text("<p>raw.web v3</p>")
    (lake / "_reports" / "corpus").mkdir(parents=True)
    (lake / "_reports" / "corpus" / "index.html").write_text("<h1>Corpus report</h1>")
    (lake / "raw" / "web").mkdir(parents=True)
    (lake / "raw" / "web" / "part-0.parquet").write_bytes(b"PAR1 table data")
    (tmp_path / "secret.txt").write_text("not an output")
    return lake


@pytest.fixture
def server(lake: Path):
    httpd = make_server("127.0.0.1", 0, served_roots(str(lake), lake.parent / "home"))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_metadata_urls_open_over_http(lake: Path, server: str):
    roots = served_roots(str(lake), lake.parent / "home")
    page = lake / "_quality" / DATA_DOCS_SITE / "validations" / "raw web.html"
    url = output_url(str(page), roots, server)
    assert url == f"{server}/data-docs/validations/raw web.html"
    assert _get(url.replace(" ", "%20")) == (200, "<p>raw.web v3</p>")
    report = output_url(f"file://{lake}/_reports/corpus/index.html", roots, server + "/")
    assert _get(report) == (200, "<h1>Corpus report</h1>")
    status, index = _get(server + "/")
    assert status == 200 and 'href="/data-docs/"' in index and 'href="/reports/"' in index


def test_nothing_outside_the_output_folders_is_served(lake: Path, server: str):
    roots = served_roots(str(lake), lake.parent / "home")
    assert output_url(str(lake / "raw" / "web" / "part-0.parquet"), roots, server) is None
    assert output_url("s3://bucket/lake/_reports/corpus/index.html", roots, server) is None
    for path in (
        "/raw/web/part-0.parquet",
        "/reports/../raw/web/part-0.parquet",
        "/reports/%2e%2e/%2e%2e/secret.txt",
        "/data-docs/../../../../secret.txt",
    ):
        status, body = _get(server + path)
        assert status == 404, (path, body)


def test_the_site_path_is_the_one_gx_builds():
    from quality.data_docs import SITE

    assert DATA_DOCS_SITE == SITE


def test_data_docs_of_an_s3_lake_are_served_from_home(tmp_path: Path):
    roots = served_roots("s3://bucket/lake", tmp_path)
    assert roots == {"data-docs": tmp_path / "quality" / DATA_DOCS_SITE}
