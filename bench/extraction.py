"""HTML-to-text extraction benchmark: resiliparse (what Pilehouse uses) against trafilatura, on the
HTML pages of a generated sample crawl, for single-core speed and for article words kept and
boilerplate words leaked.

    python -m bench.extraction --pages 2000
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import DOMNode, HTMLTree, NodeType

from spark_jobs.samples.web import WebSampleManifest, generate_web_sample
from spark_jobs.web.extract import Page, declared_charset, extract_page, mime_type
from spark_jobs.web.warc import WarcRecord, iter_warc_records

MAX_RECORD_BYTES = 8 * 2**20  # the ingest default
WARMUP_PAGES = 10  # untimed calls first, so lazy imports and caches are not billed to page 1
# The generator puts the article in <article> inside <main> (link-list pages have <main> only)
# and the site's boilerplate in a header with <nav>, a sidebar <aside> and a <footer>.
ARTICLE_SELECTORS = ("article", "main")
BOILERPLATE_SELECTOR = "header, nav, aside, footer"
# Kinds of page the quality figures are broken down by, from the generator's categories.
PAGE_KINDS = {
    "non_english": "non-English article",
    "low_quality": "link list",
    "empty": "no text",
    "binary": "random bytes",
}
ARTICLE_KIND = "English article"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SamplePage:
    """A 200 text/html response of the sample crawl and the words known to be on it."""

    record: WarcRecord
    kind: str  # a PAGE_KINDS value or ARTICLE_KIND
    html: str  # decoded once, untimed, for the extractors that take a string
    html_bytes: int
    article: Counter[str] | None  # None when the page has no <article>/<main> (random bytes)
    boilerplate: Counter[str]


@dataclass(frozen=True)
class Extractor:
    """One way of turning a page into text."""

    name: str
    extract: Callable[[SamplePage], str]


@dataclass(frozen=True)
class ExtractionResult:
    """Speed and quality of one extractor over the sample pages."""

    name: str
    pages: int
    seconds: float
    html_bytes: int
    no_text: int  # pages for which the extractor returned nothing
    scored: int  # pages with a known article, which recall and leak are averaged over
    recall: float  # mean share of each page's article words found in the output
    leak: float  # mean share of each page's boilerplate words found in the output
    recall_by_kind: dict[str, float]

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.html_bytes / 1e6 / self.seconds


def words(text: str) -> Counter[str]:
    """Lower-cased word tokens with their counts."""
    return Counter(_WORD.findall(text.lower()))


def _text_nodes(node: DOMNode) -> Iterator[str]:
    # node.text glues sibling elements together ("HomeReference"); text nodes do not.
    if node.type == NodeType.TEXT:
        yield node.text
    for child in node.child_nodes:
        yield from _text_nodes(child)


def known_words(html: str) -> tuple[Counter[str] | None, Counter[str]]:
    """(article words, boilerplate words) of a generated page, read from its DOM."""
    tree = HTMLTree.parse(html)
    if tree.body is None:
        return None, Counter()
    article = None
    for selector in ARTICLE_SELECTORS:
        node = tree.body.query_selector(selector)
        if node is not None:
            article = words(" ".join(_text_nodes(node)))
            break
    boilerplate = Counter[str]()
    for node in tree.body.query_selector_all(BOILERPLATE_SELECTOR):
        if node.parent is None or node.parent.tag != "header":  # a header's <nav> once
            boilerplate += words(" ".join(_text_nodes(node)))
    return article or None, boilerplate


def recall(output: Counter[str], article: Counter[str]) -> float:
    """Share of the article's words (with multiplicity) that the output holds."""
    return sum((output & article).values()) / sum(article.values())


def leak(output: Counter[str], article: Counter[str], boilerplate: Counter[str]) -> float:
    """Share of the boilerplate's words in the output, not counting ones the article explains."""
    if not boilerplate:
        return 0.0
    beyond_article = output - article  # "Reference" in the nav and in the article text
    return sum((beyond_article & boilerplate).values()) / sum(boilerplate.values())


def load_sample_pages(directory: Path, manifest: WebSampleManifest) -> list[SamplePage]:
    """The 200 text/html responses of every WARC file in directory, in file order."""
    kinds = {
        url: PAGE_KINDS.get(category, ARTICLE_KIND)
        for category, urls in manifest.urls.items()
        for url in urls
    }
    pages = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in iter_warc_records(stream, max_record_bytes=MAX_RECORD_BYTES):
                if not isinstance(record, WarcRecord) or record.warc_type != "response":
                    continue
                if record.http_status != 200 or mime_type(record) != "text/html":
                    continue
                html = _decode(record)
                article, boilerplate = known_words(html)
                kind = kinds[record.target_uri or ""]
                pages.append(
                    SamplePage(record, kind, html, len(record.payload), article, boilerplate)
                )
    return pages


def _decode(record: WarcRecord) -> str:
    # Lenient on purpose: the bare extractors get every page; extract_page decides for itself.
    charset, _ = declared_charset(record, record.payload)
    return bytes_to_str(
        record.payload, charset or detect_encoding(record.payload), errors="replace"
    )


def _pilehouse(page: SamplePage) -> str:
    result = extract_page(page.record)
    return result.text if isinstance(result, Page) else ""


def _resiliparse(page: SamplePage) -> str:
    tree = HTMLTree.parse(page.html)
    return extract_plain_text(tree, main_content=True, preserve_formatting=True)


def extractors(*, favor_precision: bool) -> list[Extractor]:
    """The extractors to compare; trafilatura only where it is installed."""
    chosen = [
        Extractor("resiliparse: extract_page", _pilehouse),
        Extractor("resiliparse: extract_plain_text", _resiliparse),
    ]
    if importlib.util.find_spec("trafilatura") is None:
        print(
            "trafilatura is not installed: skipping it. Install the bench extra "
            "(.venv/bin/pip install trafilatura==2.3.1) to compare against it.\n"
        )
        return chosen
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # "empty page" notes per page
    chosen.append(Extractor("trafilatura: default", lambda p: trafilatura.extract(p.html) or ""))
    if favor_precision:
        chosen.append(
            Extractor(
                "trafilatura: favor_precision",
                lambda p: trafilatura.extract(p.html, favor_precision=True) or "",
            )
        )
    return chosen


def run_extractor(
    extractor: Extractor, pages: Sequence[SamplePage], repeat: int = 3
) -> ExtractionResult:
    """Time one extractor over all pages in this process (the fastest of `repeat` passes: on a
    shared machine the slower ones measure the neighbours), then score its outputs untimed."""
    for page in pages[:WARMUP_PAGES]:
        extractor.extract(page)
    seconds = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        outputs = [extractor.extract(page) for page in pages]
        seconds = min(seconds, time.perf_counter() - started)
    recalls, leaks = [], []
    by_kind: dict[str, list[float]] = {}
    for page, text in zip(pages, outputs, strict=True):
        if page.article is None:
            continue
        found = words(text)
        recalls.append(recall(found, page.article))
        leaks.append(leak(found, page.article, page.boilerplate))
        by_kind.setdefault(page.kind, []).append(recalls[-1])
    return ExtractionResult(
        name=extractor.name,
        pages=len(pages),
        seconds=seconds,
        html_bytes=sum(page.html_bytes for page in pages),
        no_text=sum(not text.strip() for text in outputs),
        scored=len(recalls),
        recall=sum(recalls) / len(recalls),
        leak=sum(leaks) / len(leaks),
        recall_by_kind={kind: sum(r) / len(r) for kind, r in by_kind.items()},
    )


def render_results(results: Sequence[ExtractionResult]) -> str:
    lines = [
        f"{'extractor':<32} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'MB/s':>6} "
        f"{'no text':>7} {'scored':>6} {'article kept':>12} {'boilerplate':>11}"
    ]
    for r in results:
        lines.append(
            f"{r.name:<32} {r.pages:>6} {r.seconds:>8.2f} {r.pages_per_second:>8.1f} "
            f"{r.mb_per_second:>6.2f} {r.no_text:>7} {r.scored:>6} {r.recall:>12.1%} "
            f"{r.leak:>11.1%}"
        )
    return "\n".join(lines)


def render_recall_by_kind(results: Sequence[ExtractionResult], pages: Sequence[SamplePage]) -> str:
    """Article words kept, per kind of page: where an extractor loses text."""
    counts = Counter(page.kind for page in pages if page.article is not None)
    kinds = sorted(counts, key=lambda kind: -counts[kind])
    lines = [f"{'article kept, by page kind':<32} " + " ".join(f"{k:>20}" for k in kinds)]
    lines.append(f"{'(pages)':<32} " + " ".join(f"{counts[k]:>20}" for k in kinds))
    for r in results:
        lines.append(f"{r.name:<32} " + " ".join(f"{r.recall_by_kind[k]:>20.1%}" for k in kinds))
    return "\n".join(lines)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else ("1.000" if not a else "inf")


def render_ratios(results: Sequence[ExtractionResult]) -> str:
    """trafilatura / resiliparse for speed, article words kept and boilerplate leaked."""
    baselines = [r for r in results if r.name.startswith("resiliparse")]
    others = [r for r in results if r.name.startswith("trafilatura")]
    lines = [
        f"{'trafilatura / resiliparse':<62} {'pages/s':>8} {'article kept':>12} {'boilerplate':>11}"
    ]
    for other in others:
        for base in baselines:
            name = f"{other.name} / {base.name}"
            lines.append(
                f"{name:<62} {_ratio(other.pages_per_second, base.pages_per_second):>8} "
                f"{_ratio(other.recall, base.recall):>12} {_ratio(other.leak, base.leak):>11}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__)
    parser.add_argument("--pages", type=int, help="sample crawl size (responses; default 2000)")
    parser.add_argument("--quick", action="store_true", help="300 pages, one timed pass")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, help="timed passes; the fastest counts (default 3)")
    parser.add_argument(
        "--no-favor-precision",
        dest="favor_precision",
        action="store_false",
        help="skip the trafilatura favor_precision=True run",
    )
    args = parser.parse_args(argv)
    if args.pages is None:
        args.pages = 300 if args.quick else 2000
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3

    with tempfile.TemporaryDirectory(prefix="pilehouse-bench-") as tmp:
        started = time.perf_counter()
        manifest = generate_web_sample(tmp, pages=args.pages, seed=args.seed)
        pages = load_sample_pages(Path(tmp), manifest)
    print(
        f"sample crawl: {args.pages} responses (seed {args.seed}), {len(pages)} are 200 "
        f"text/html, {sum(p.html_bytes for p in pages) / 1e6:.1f} MB of HTML; prepared in "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(
        f"timing: one process, one core, wall clock; fastest of {args.repeat} passes over "
        f"all pages, after a {WARMUP_PAGES}-page warm-up\n"
    )
    chosen = extractors(favor_precision=args.favor_precision)
    results = [run_extractor(e, pages, args.repeat) for e in chosen]
    print(render_results(results))
    print()
    print("article kept: mean share of each page's <article> (else <main>) words in the output")
    print("boilerplate: mean share of its header/nav/aside/footer words in the output")
    print("no text: includes pages extract_page skips or quarantines by design (empty, binary,")
    print("  undecodable); those score 0 article words kept")
    print()
    print(render_recall_by_kind(results, pages))
    if any(r.name.startswith("trafilatura") for r in results):
        print()
        print(render_ratios(results))
    figures: dict[str, float] = {"pages": len(pages)}
    for r in results:
        figures[f"{r.name} pages/s"] = r.pages_per_second
        figures[f"{r.name} MB/s"] = r.mb_per_second
        figures[f"{r.name} article kept"] = r.recall
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
