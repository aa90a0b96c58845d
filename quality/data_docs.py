"""Great Expectations Data Docs: static HTML of the suites and their validations, under the lake."""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import great_expectations as gx
import pyarrow.fs as pafs
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.render.view.view import DefaultJinjaView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

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
    rebuilt: tuple[Path, ...] = ()  # every page this publish wrote (results, suites, index)


def publish(report: ValidationReport, *, project: Path, run_name: str, batch: str) -> Published:
    """Store the report's suites and results in the GX project and rebuild their pages.

    Only the pages of this validation (and the index) are built and rewritten, so the cost
    grows with the history only by GX's index page (which reads every stored result).
    """
    context = _context(project)
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
    pages = {key: _pages(context, key) for key in touched}
    index = project / SITE / "index.html"
    rebuilt = (index, *[p for built in pages.values() for p in built])
    _use_vendored_assets(project / SITE, list(rebuilt))
    return Published(index, [page for key in results for page in pages[key]], rebuilt)


def _pages(context: AbstractDataContext, key: object) -> list[Path]:
    """The local pages GX built for a suite or result identifier."""
    return [
        Path(url2pathname(urlparse(site["site_url"]).path))
        for site in context.get_docs_sites_urls(resource_identifier=key, only_if_exists=True)
    ]


# One GX project context per project directory and process: opening one reads and
# substitutes its whole configuration (about a tenth of a second), and its stores read and
# write the files themselves, so a kept context sees what other processes stored.
_CONTEXTS: dict[Path, AbstractDataContext] = {}


def _context(project: Path) -> AbstractDataContext:
    key = project.resolve()
    context = _CONTEXTS.get(key)
    if context is None or not (key / "gx" / "great_expectations.yml").is_file():
        context = gx.get_context(mode="file", project_root_dir=str(project))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _read_each_result_once(context)
        _CONTEXTS[key] = context
    return context


def _read_each_result_once(context: AbstractDataContext) -> None:
    """GX's index page reads every stored validation result on every build, so each build
    cost more than the last. A stored result never changes (its key holds its run time):
    this context reads each one once per process."""
    read = context.get_validation_result
    kept: dict[tuple, object] = {}

    def get_validation_result(
        expectation_suite_name,
        run_id=None,
        batch_identifier=None,
        validation_results_store_name=None,
        failed_only=False,
    ):
        arguments = (
            expectation_suite_name,
            run_id,
            batch_identifier,
            validation_results_store_name,
        )
        if run_id is None or batch_identifier is None or failed_only:
            return read(*arguments, failed_only=failed_only)
        key = (
            expectation_suite_name,
            run_id.to_tuple(),
            batch_identifier,
            validation_results_store_name,
        )
        if key not in kept:
            result = read(*arguments)
            if not result:  # not stored (yet): ask again next time
                return result
            kept[key] = result
        return kept[key]

    context.get_validation_result = get_validation_result


class _CompiledTemplates(BytecodeCache):
    """GX's page views make a new Jinja environment per page and so compile every template
    again for every page, which was most of a page's cost. This keeps each template's
    compiled code in memory for the process; Jinja checks the source's checksum on load."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


COMPILED_TEMPLATES = _CompiledTemplates()
_gx_view_init = DefaultJinjaView.__init__


def _view_init(self: DefaultJinjaView, *args: object, **kwargs: object) -> None:
    _gx_view_init(self, *args, **kwargs)
    self.env.bytecode_cache = COMPILED_TEMPLATES


if DefaultJinjaView.__init__ is not _view_init:
    DefaultJinjaView.__init__ = _view_init


def _use_vendored_assets(site: Path, pages: list[Path] | None = None) -> None:
    """Point pages (default: every page of the site) at vendored scripts and styles: the
    lake may be read where no CDN is reachable, and GX's index renders its lists with
    bootstrap-table, so without them it is an empty page. Pages already rewritten are left
    alone."""
    vendor = site / "static" / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    for asset in [*VENDORED.glob("*.*s"), *VENDORED.glob("webfonts/*.woff2")]:
        # static/vendor/x.css and static/webfonts/: where the font CSS's ../webfonts/ points.
        target = (vendor if asset.parent == VENDORED else site / "static" / "webfonts") / asset.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(asset, target)
    for page in site.rglob("*.html") if pages is None else pages:
        if not page.is_file():
            continue
        html = page.read_text()
        if not any(url in html for url in OFFLINE_ASSETS) and not LOGO.search(html):
            continue
        depth = len(page.resolve().relative_to(site.resolve()).parts) - 1
        static = "../" * depth + "static/"
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


def copy_site(project: Path, lake: Lake, rebuilt: Iterable[Path]) -> str:
    """Copy the built site to <lake>/_quality/data_docs on an object store; returns its index.

    Only what changed travels: the `rebuilt` pages (a publish's) and every file of the site
    the store does not hold yet (the static assets the first time, pages a failed copy left
    out). The whole site (about 7 MB, most of it scripts, styles and fonts) was copied on
    every validation before, the largest cost of a gate on a small table on S3.
    """
    site = project / SITE
    target = f"{lake.root_uri.rstrip('/')}/_quality/data_docs"
    fs, path = lake.store.filesystem(target)
    held = {
        info.path[len(path) :].lstrip("/")
        for info in fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
        if info.type == pafs.FileType.File
    }
    changed = {page.resolve() for page in rebuilt}
    folders: set[str] = set()
    for local in sorted(p for p in site.rglob("*") if p.is_file()):
        relative = local.relative_to(site).as_posix()
        if relative in held and local.resolve() not in changed:
            continue
        destination = f"{path}/{relative}"
        folder = destination.rsplit("/", 1)[0]
        if folder not in folders:
            fs.create_dir(folder, recursive=True)
            folders.add(folder)
        with fs.open_output_stream(destination) as out:
            out.write(local.read_bytes())
    return f"{target}/index.html"
