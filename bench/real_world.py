"""Real-world quality in one place (issue 17): each evaluation set built from real material that
Pilehouse did not generate, scored on its test half, one section per set and a summary.

    python -m bench.real_world                      # every set, test halves (downloads the first time)
    python -m bench.real_world --only licenses,pii  # some sets
    python -m bench.real_world --quick              # the small real subsets shipped in bench/data
    python -m bench.real_world --write-quick-set    # rewrite the shipped pages from the cache

Sets (each one's own script holds the details and the tune/test split):
- extraction: Debian documentation pages of six HTML generators in several languages, packed
  into a WARC (bench/extraction_real.py): word recall / precision against each generator's own
  content container, headings, lists, table cells and code lines kept, navigation lines left,
  pages per second; Pilehouse's extract_page beside resiliparse (main content on and off),
  trafilatura and jusText where installed.
- recipes: the same pages through each preset's rule sets, keep rate and agreement with
  datatrove 0.10.1's filters configured as the preset's reference ran them
  (bench/recipes_agreement.py), and the default web recipe's keep rate with its reasons.
- gates: the distribution gate (quality.bounds.judge_measures, bounds.yaml) on the measures of
  those pages under the default web recipe: the first version of the crawl, then two broken
  next versions judged against it (an extractor that keeps only each page's first 80
  characters; the crawl's language flipped to its non-English pages).
- pii: Faker values planted into translated man pages in 14 languages with false-positive traps
  (bench/pii_real.py): recall / precision per type and per locale, planted values left after
  redaction, beside Presidio's pattern recognizers.
- licenses: Debian DEP-5 copyright files (bench/licenses_real.py): license family, exact SPDX
  id and class accuracy of the license texts, with the misses.

--quick runs every set on a few real items: the pages in bench/data/real_world/pages.warc.gz (two
of each generator, from the test half), the PII subset in bench/data/pii_real and the license
subset in bench/data/licenses_real; nothing is downloaded. Its figures show that the sets run, not
how good Pilehouse is: quote the full run's. The figures of the last run go to
var/bench/real_world.json.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK_PAGES = ROOT / "bench" / "data" / "real_world" / "pages.warc.gz"
OUT = ROOT / "var" / "bench" / "real_world.json"
SETS = ("extraction", "recipes", "gates", "pii", "licenses")
PAGES_PER_GENERATOR = 2  # in the quick set


# --- pages (extraction, recipes, gates) -------------------------------------------------------


def quick_pages(path: Path = QUICK_PAGES) -> list:
    """The shipped pages, read back through the ingest WARC reader like extraction_real's."""
    from bench.extraction_real import MIN_MAIN_SHARE, SOURCES, RealPage, reference_of
    from spark_jobs.web.extract import declared_charset
    from spark_jobs.web.warc import WarcRecord, iter_warc_records

    by_host = {f"{s.package}.docs.example": s for s in SOURCES}
    pages = []
    with path.open("rb") as stream:
        for record in iter_warc_records(stream, max_record_bytes=8 * 2**20):
            if not isinstance(record, WarcRecord) or record.warc_type != "response":
                continue
            source = by_host[(record.target_uri or "").split("/")[2]]
            charset, _ = declared_charset(record, record.payload)
            html = record.payload.decode(charset or "utf-8", "replace")
            reference = reference_of(html, source.generator)
            if reference.main_share >= MIN_MAIN_SHARE:
                pages.append(RealPage(source, record, html, reference))
    return pages


def write_quick_pages(path: Path = QUICK_PAGES) -> int:
    """The smallest PAGES_PER_GENERATOR test-half pages of each generator, as a WARC."""
    from bench.extraction_real import CACHE, build_pages, write_warc

    chosen = []
    pages = build_pages(CACHE, ["test"])
    for generator in dict.fromkeys(p.source.generator for p in pages):
        group = sorted(
            (p for p in pages if p.source.generator == generator),
            key=lambda p: (len(p.record.payload), p.record.target_uri),
        )
        # Not the very smallest: those are stubs; the smallest with 200+ reference words.
        group = [p for p in group if sum(p.reference.words.values()) >= 200]
        chosen += group[:PAGES_PER_GENERATOR]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    write_warc(
        path,
        [
            (
                p.record.target_uri or "",
                p.record.http_header("Content-Type") or "text/html; charset=utf-8",
                p.record.payload,
            )
            for p in chosen
        ],
    )
    return len(chosen)


def load_pages(quick: bool) -> list:
    if quick:
        return quick_pages()
    from bench.extraction_real import CACHE, build_pages

    return build_pages(CACHE, ["test"])


# --- the sets ---------------------------------------------------------------------------------


def run_extraction(pages: Sequence, quick: bool) -> dict[str, float]:
    from bench.extraction_real import KINDS, extractors, render_counts, render_table, run

    print(render_counts(pages))
    results = run(extractors(), pages, repeat=1)
    print("\nall generators (test half)" if not quick else "\nall generators (quick set)")
    print(render_table(results, "all"))
    figures: dict[str, float] = {"pages": float(len(pages))}
    for name, tallies in results.items():
        t = tallies["all"]
        figures[f"{name}: recall"] = t.mean_recall
        figures[f"{name}: precision"] = t.mean_precision
        for kind in KINDS:
            figures[f"{name}: {kind}"] = t.share(kind)
        figures[f"{name}: pages/s"] = t.pages / t.seconds if t.seconds else math.nan
    return figures


def _texts(pages: Sequence) -> list[tuple[str, str]]:
    from bench.extraction_real import _pilehouse

    out = [(p.record.target_uri or "", _pilehouse(p)) for p in pages]
    return [(url, text) for url, text in out if text.strip()]


def _default_verdict(text: str, signals: dict, recipe) -> str | None:
    """The default web recipe's reason for removing one page (None: kept): language, then its
    rule sets in order, as the curate stage applies them (dedup and licence aside)."""
    from bench.recipes_agreement import pilehouse_verdict
    from spark_jobs.annotators.language import identify_language

    language, confidence = identify_language(text)
    if recipe.languages is not None:
        if language not in recipe.languages:
            return "language_not_allowed"
        if confidence < recipe.min_language_score:
            return "language_score_low"
    return pilehouse_verdict(signals, recipe)


def _default_recipe():
    from spark_jobs.recipe import CurationRecipe

    return CurationRecipe.from_yaml(ROOT / "orchestration" / "recipes" / "web-default.yaml")


def run_recipes(pages: Sequence, quick: bool) -> dict[str, float]:
    from bench.recipes_agreement import (
        PRESETS,
        datatrove_filters,
        datatrove_verdict,
        pilehouse_verdict,
    )
    from spark_jobs.annotators.quality import quality_signals
    from spark_jobs.recipe import CurationRecipe

    texts = _texts(pages)
    signals = {url: quality_signals(text) for url, text in texts}
    figures: dict[str, float] = {"pages with text": float(len(texts))}
    recipe = _default_recipe()
    reasons = Counter(_default_verdict(text, signals[url], recipe) for url, text in texts)
    kept = reasons.pop(None, 0)
    figures["web-default keep rate"] = kept / len(texts)
    print(
        f"{len(texts)} pages with text; web-default keeps {kept} ({kept / len(texts):.1%}); "
        "removed: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common())
    )
    if importlib.util.find_spec("datatrove") is None:
        print("datatrove is not installed (the bench extra): no agreement figures")
        return figures
    factories = datatrove_filters()
    agreements = []
    print(f"{'preset':22} {'pilehouse keeps':>15} {'datatrove keeps':>15} {'agreement':>10}")
    for path in sorted(PRESETS.glob("*.yaml")):
        preset = CurationRecipe.from_yaml(path)
        steps = [factories[name]() for name in preset.rules]
        agree = kept_ours = kept_theirs = 0
        for url, text in texts:
            ours = pilehouse_verdict(signals[url], preset)
            theirs = datatrove_verdict(text, steps)
            kept_ours += ours is None
            kept_theirs += theirs is None
            agree += (ours is None) == (theirs is None)
        n = len(texts)
        figures[f"{preset.name} keep rate"] = kept_ours / n
        figures[f"{preset.name} datatrove keep rate"] = kept_theirs / n
        figures[f"{preset.name} agreement"] = agree / n
        agreements.append(agree / n)
        print(
            f"{preset.name:22} {kept_ours / n:15.1%} {kept_theirs / n:15.1%} "
            f"{agree / n:10.2%}  ({agree}/{n})"
        )
    figures["lowest preset agreement with datatrove"] = min(agreements, default=math.nan)
    return figures


def crawl_measures(texts: Sequence[tuple[str, str]], source: str, version: int = -1) -> list:
    """A version's measures as the curate stage records them (quality.measures.source_profile):
    removal rates overall and per reason, language shares and byte-length quantiles of the kept
    pages, under the default web recipe."""
    from quality.bounds import BYTE_LENGTH, LANGUAGE_SHARE, REMOVAL, Measure
    from spark_jobs.annotators.language import identify_language
    from spark_jobs.annotators.quality import quality_signals

    recipe = _default_recipe()
    reasons: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    lengths = []
    for _, text in texts:
        reason = _default_verdict(text, quality_signals(text), recipe)
        if reason:
            reasons[reason] += 1
        else:
            languages[identify_language(text)[0]] += 1
            lengths.append(len(text.encode()))
    n, kept = len(texts), len(lengths)
    measures = [Measure(source, REMOVAL, "curate: *", sum(reasons.values()) / n, n, version)]
    measures += [
        Measure(source, REMOVAL, f"curate: {r}", c / n, n, version) for r, c in reasons.items()
    ]
    if kept:
        lengths.sort()
        measures += [
            Measure(source, LANGUAGE_SHARE, lang, c / kept, kept, version)
            for lang, c in languages.items()
        ]
        measures += [
            Measure(source, BYTE_LENGTH, f"p{q}", float(lengths[(kept - 1) * q // 100]), kept)
            for q in (10, 50, 90)
        ]
    return measures


def run_gates(pages: Sequence, quick: bool) -> dict[str, float]:
    from dataclasses import replace

    from quality.bounds import judge_measures, load_bounds
    from spark_jobs.annotators.language import identify_language

    settings = load_bounds("curated.web")["distribution"]
    texts = _texts(pages)
    first = crawl_measures(texts, "real-docs")
    history = [replace(m, version=0) for m in first]
    truncated = [(url, text[:80]) for url, text in texts]
    english = [(u, t) for u, t in texts if identify_language(t)[0] == "en"]
    other = [(u, t) for u, t in texts if identify_language(t)[0] != "en"]
    cases = [
        ("first version of the crawl", first, [], True),
        (
            "next version, extractor keeps 80 chars",
            crawl_measures(truncated, "real-docs"),
            history,
            False,
        ),
    ]
    if english and other:
        english_history = [replace(m, version=0) for m in crawl_measures(english, "real-docs")]
        cases.append(
            (
                "next version, language flipped",
                crawl_measures(other, "real-docs"),
                english_history,
                False,
            )
        )
    figures: dict[str, float] = {}
    removal = next(m.value for m in first if m.key == "curate: *")
    print(
        f"{len(texts)} pages; first version removes {removal:.1%} under web-default "
        f"(first-version ceiling {settings['first_version']['max_removal_rate']['stages']['curate']})"
    )
    right = 0
    for label, measures, past, should_pass in cases:
        judged = judge_measures(measures, past, settings)
        failing = sorted(j.measure.name for j in judged if not j.within)
        passed = not failing
        right += passed == should_pass
        figures[f"{label}: passes"] = float(passed)
        verdict = "passes" if passed else "blocks"
        wanted = "as it should" if passed == should_pass else "WRONG"
        print(
            f"  {label:42} {verdict} ({wanted})"
            + (f": {', '.join(failing[:4])}" if failing else "")
        )
    figures["gate verdicts right"] = right / len(cases)
    return figures


def run_pii(quick: bool) -> dict[str, float]:
    from bench import pii_real

    return pii_real.main(["--shipped"] if quick else [])


def run_licenses(quick: bool) -> dict[str, float]:
    from bench import licenses_real

    return licenses_real.main(["--shipped"] if quick else [])


# --- the entry point --------------------------------------------------------------------------


def _run_set(name: str, quick: bool, pages: Callable[[], list]) -> dict[str, float]:
    if name == "extraction":
        return run_extraction(pages(), quick)
    if name == "recipes":
        return run_recipes(pages(), quick)
    if name == "gates":
        return run_gates(pages(), quick)
    if name == "pii":
        return run_pii(quick)
    return run_licenses(quick)


SUMMARY = {
    "extraction": (
        "pilehouse extract_page: recall",
        "pilehouse extract_page: precision",
        "pilehouse extract_page: nav lines left",
        "trafilatura default: recall",
        "trafilatura default: precision",
        "resiliparse main_content: recall",
        "resiliparse main_content: precision",
    ),
    "recipes": ("web-default keep rate", "lowest preset agreement with datatrove"),
    "gates": ("gate verdicts right",),
    "pii": ("pii_real min recall", "pii_real min precision", "pii_real residual"),
    "licenses": ("text family accuracy", "text exact-id accuracy", "text class accuracy"),
}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.real_world",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", help=f"comma-separated sets: {', '.join(SETS)}")
    parser.add_argument("--quick", action="store_true", help="the small shipped subsets")
    parser.add_argument("--out", type=Path, default=OUT, help="where the figures go (JSON)")
    parser.add_argument("--write-quick-set", action="store_true")
    args = parser.parse_args(argv)
    if args.write_quick_set:
        print(f"wrote {write_quick_pages()} pages to {QUICK_PAGES}")
        return {}
    chosen = SETS if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = [s for s in chosen if s not in SETS]
    if unknown:
        parser.error(f"unknown set {', '.join(unknown)}; sets: {', '.join(SETS)}")
    cached: list = []

    def pages() -> list:
        if not cached:
            cached.extend(load_pages(args.quick))
        return cached

    results: dict[str, dict[str, float]] = {}
    failed: list[str] = []
    for name in chosen:
        print(f"\n=== {name}{' (quick)' if args.quick else ''} ===", flush=True)
        started = time.perf_counter()
        try:
            results[name] = _run_set(name, args.quick, pages)
        except Exception:  # one set's failure is reported; the others still run
            traceback.print_exc()
            failed.append(name)
            continue
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    print(
        "\n=== summary"
        + (
            " (quick: shipped subsets, not the product's figures)"
            if args.quick
            else " (test halves)"
        )
        + " ==="
    )
    for name, figures in results.items():
        for key in SUMMARY[name]:
            if key in figures:
                print(f"  {name:10} {key:42} {figures[key]:.4f}")
    for name in failed:
        print(f"  {name:10} FAILED (see above)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"quick": args.quick, "sets": results, "failed": failed}, indent=1, default=str)
    )
    print(f"figures: {args.out}")
    if failed:
        raise SystemExit(1)
    return results


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        main(sys.argv[1:])
