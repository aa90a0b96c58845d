"""Great Expectations Data Docs: static HTML of the suites and their validations, under the lake."""

from __future__ import annotations

import copy
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import great_expectations as gx
import pyarrow.fs as pafs
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from quality.validation import ValidationReport
from spark_jobs.lake import Lake
from spark_jobs.storage import is_s3

SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"
VENDORED = Path(__file__).with_name("data_docs_static")
# CDN assets GX pages load -> the vendored copy (None: drop the tag; the bundle has popper).
OFFLINE_ASSETS = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": None,
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.bundle.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "bootstrap-datepicker.min.css",
    # The status icons (fa-check-circle, ...); its CSS finds the fonts in static/webfonts/.
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed.min.js",
    # A dark colour scheme for browsers that prefer one: the pages read well without it.
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": None,
}
# GX's logo from its web-assets bucket (the light one carries a tracking query) -> the copy
# GX ships in the site's static/images.
LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(?:logo-long|full_logo_dark)\.png[^\"')\s]*"
)


def project_dir(lake: Lake, home: Path) -> Path:
    """Where the GX project (stores and site) lives: under a local lake, else under home."""
    if is_s3(lake.root_uri):
        return home / "quality"
    return Path(lake.root_uri) / "_quality"


@dataclass(frozen=True)
class Published:
    index: Path  # the site's index.html
    pages: list[Path]  # this validation's result pages, one per batch of the suite


def publish(report: ValidationReport, *, project: Path, run_name: str, batch: str) -> Published:
    """Store the report's suites and results in the GX project and rebuild their pages.

    Only the pages of this validation (and the index) are rebuilt, so the cost does not grow
    with the history.
    """
    context = gx.get_context(mode="file", project_root_dir=str(project))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    touched: list = []
    results: list[ValidationResultIdentifier] = []
    for suite, result in report.gx_results:
        stored = gx.ExpectationSuite(
            name=suite.name,
            expectations=[copy.copy(e) for e in suite.expectations],
        )
        context.suites.add_or_update(stored)
        suite_id = ExpectationSuiteIdentifier(name=suite.name)
        result_id = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id,
            run_id=RunIdentifier(run_name=run_name, run_time=result.meta["run_id"].run_time),
            batch_identifier=batch,
        )
        context.validation_results_store.set(result_id, result)
        touched += [suite_id, result_id]
        results.append(result_id)
    context.build_data_docs(resource_identifiers=touched)
    _use_vendored_assets(project / SITE)
    pages = [
        Path(url2pathname(urlparse(site["site_url"]).path))
        for result_id in results
        for site in context.get_docs_sites_urls(resource_identifier=result_id, only_if_exists=True)
    ]
    return Published(project / SITE / "index.html", pages)


def _use_vendored_assets(site: Path) -> None:
    """Point pages at vendored scripts and styles: the lake may be read where no CDN is
    reachable, and GX's index renders its lists with bootstrap-table, so without them it is
    an empty page. Pages already rewritten are left alone."""
    vendor = site / "static" / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    for asset in [*VENDORED.glob("*.*s"), *VENDORED.glob("webfonts/*.woff2")]:
        # static/vendor/x.css and static/webfonts/: where the font CSS's ../webfonts/ points.
        target = (vendor if asset.parent == VENDORED else site / "static" / "webfonts") / asset.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(asset, target)
    for page in site.rglob("*.html"):
        html = page.read_text()
        if not any(url in html for url in OFFLINE_ASSETS) and not LOGO.search(html):
            continue
        static = "../" * (len(page.relative_to(site).parts) - 1) + "static/"
        for url, name in OFFLINE_ASSETS.items():
            if name is None:
                html = re.sub(rf'<script[^>]*src="{re.escape(url)}"[^>]*></script>', "", html)
                html = re.sub(rf'<link[^>]*href="{re.escape(url)}"[^>]*>', "", html)
            else:
                html = html.replace(url, static + "vendor/" + name)
        html = LOGO.sub(static + "images/logo-long.png", html)
        # Subresource-integrity and CORS attributes block file:// scripts (and name the CDN
        # builds' hashes): drop them from the vendored tags only.
        html = re.sub(r"<(?:script|link)[^>]*static/vendor/[^>]*>", _local_tag, html)
        page.write_text(html)


def _local_tag(match: re.Match) -> str:
    return re.sub(r'\s(?:integrity|crossorigin)(?:="[^"]*")?', "", match.group(0))


def copy_site(project: Path, lake: Lake) -> str:
    """Copy the built site to <lake>/_quality/data_docs on an object store; returns its index."""
    target = f"{lake.root_uri.rstrip('/')}/_quality/data_docs"
    fs, path = lake.store.filesystem(target)
    pafs.copy_files(str(project / SITE), path, destination_filesystem=fs)
    return f"{target}/index.html"
