"""Links that open: after a real run, `pilehouse ui` serves the Data Docs and the corpus report
over http, and in Chromium the links in an asset check's and the report asset's metadata open
those pages, fully offline (no request leaves loopback). The screenshots (the asset graph, the
check, its Data Docs page, the report) are copied to PILEHOUSE_DOCS_IMG (docs/img) when it is
set."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from orchestration.instance import prepare_dagster_home
from orchestration.pipeline import materialize_all
from orchestration.settings import load_settings
from spark_jobs.samples.web import generate_web_sample

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.spark]

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 420  # the code location loads slowly on a busy 2-core machine
REGISTRY = """
sources:
  sample-crawl:
    corpus: web
    format: warc
    location: "{landing}/web/sample-crawl"
    license: PSF-2.0
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_lake(spark, chromium, tmp_path, monkeypatch):
    """A web-only lake curated by the real pipeline, then `pilehouse ui` over it; yields
    (Dagster URL, outputs URL)."""
    ui_port, outputs_port = _free_port(), _free_port()
    env = {
        "PILEHOUSE_HOME": str(tmp_path / "home"),
        "PILEHOUSE_SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "PILEHOUSE_OUTPUTS_PORT": str(outputs_port),
    }
    (tmp_path / "sources.yaml").write_text(REGISTRY)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    prepare_dagster_home(settings)
    generate_web_sample(Path(settings.landing_uri) / "web" / "sample-crawl", pages=120, files=2)
    with dg.DagsterInstance.get() as instance:
        results = materialize_all(instance, settings)
    assert all(r.success for r in results), [r.run_id for r in results if not r.success]

    log = (tmp_path / "ui.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("pilehouse")), "ui", "--port", str(ui_port)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{ui_port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{base}/server_info", timeout=5) as response,
            ):
                if response.status == 200:
                    break
            assert time.monotonic() < deadline, (tmp_path / "ui.log").read_text()[-3000:]
            time.sleep(2)
        yield base, f"http://127.0.0.1:{outputs_port}"
    finally:
        os.kill(process.pid, signal.SIGTERM)  # `pilehouse ui` stops its whole tree
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)


SCREENSHOTS = (
    "dagster-asset-graph.png",
    "dagster-check.png",
    "data-docs-check.png",
    "corpus-report.png",
)


def _open_link(page, prefix: str):
    """Click the first link whose href starts with `prefix`; return the page it opens."""
    link = page.locator(f"a[href^='{prefix}']").first
    link.wait_for(timeout=120_000)
    with page.context.expect_page(timeout=60_000) as opened:
        link.click(modifiers=["ControlOrMeta"])  # in a new tab, as a user keeps the UI open
    target = opened.value
    target.wait_for_load_state("load")
    return target


def test_check_links_to_its_data_docs_and_the_report_asset_to_the_report(
    served_lake, chromium, tmp_path
):
    base, outputs = served_lake
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    outside: list[tuple[str, str]] = []  # (url, the page that asked for it)

    def offline(route):  # the machine is offline; record anything asked of the internet
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append((route.request.url, route.request.headers.get("referer", "")))
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    # The community dialog of a first visit comes up after a while, over whatever is open.
    page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())

    # The asset graph of the curated lake, zoomed out so every group is drawn.
    page.goto(f"{base}/asset-groups", timeout=120_000)
    page.get_by_text("Global asset lineage").wait_for(timeout=120_000)
    page.wait_for_timeout(5000)
    for _ in range(4):
        page.locator("button:has([aria-label='zoom_out'])").click()
        page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "dagster-asset-graph.png"))

    # An asset check, then its Data Docs page. The check's name also labels a hidden <option>
    # of the page's filter: click the visible one.
    page.goto(f"{base}/assets/curated/web?view=checks", timeout=120_000)
    page.get_by_text("curated_documents", exact=True).filter(visible=True).first.click(
        timeout=120_000
    )
    page.get_by_text("Latest execution").wait_for(timeout=60_000)
    page.screenshot(path=str(tmp_path / "dagster-check.png"))
    docs = _open_link(page, f"{outputs}/data-docs/validations/curated_documents/")
    docs.wait_for_load_state("networkidle")
    assert docs.title() == "Data documentation compiled by Great Expectations"
    docs.get_by_text("curated_documents.documents").first.wait_for(timeout=60_000)
    assert "Succeeded" in docs.inner_text("body")
    # Status icons (Font Awesome) and the logo come from the served site, not a CDN.
    assert docs.locator("i.fa-check-circle").count() > 0
    assert docs.evaluate(
        "() => [...document.fonts].some(f => f.family.includes('Font Awesome') "
        "&& f.status === 'loaded')"
    )
    assert docs.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    docs.screenshot(path=str(tmp_path / "data-docs-check.png"), full_page=False)

    page.goto(f"{base}/assets/reports/corpus", timeout=120_000)
    report = _open_link(page, f"{outputs}/reports/corpus/")
    assert report.title() or report.locator("h1").count()
    images = report.locator("img")
    assert images.count() > 0
    # Every chart loaded (a broken image has no natural width).
    assert all(img.evaluate("i => i.complete && i.naturalWidth > 0") for img in images.all())
    report.screenshot(path=str(tmp_path / "corpus-report.png"), full_page=False)

    # Data Docs and the report render fully offline: neither asked the internet for anything.
    assert not [url for url, referer in outside if referer.startswith(outputs)], outside
    if os.environ.get("PILEHOUSE_DOCS_IMG"):
        for name in SCREENSHOTS:
            shutil.copyfile(tmp_path / name, Path(os.environ["PILEHOUSE_DOCS_IMG"]) / name)
