"""Recipe presets against the pipelines they reproduce: on real documentation pages, the keep /
remove decision of each preset's rule sets (Pilehouse's stored signals) against datatrove
0.10.1's filters configured as the reference pipeline ran them, in the same order.

    python -m bench.recipes_agreement            # both halves of bench/extraction_real's pages
    python -m bench.recipes_agreement --misses 5

Pages: the Debian documentation pages of bench/extraction_real.py (six HTML generators,
several languages; fetched with apt-get download the first time), extracted by Pilehouse's
web extractor as ingest does. Every page goes through the quality stages; the language step is
left out of the comparison (both use fastText lid.176, but datatrove's LanguageFilter downloads
its model, which cannot happen here) and so is dedup. datatrove's C4QualityFilter rewrites the
text it keeps, as in the real pipeline, so later filters see the rewritten text.
Needs the bench extra (datatrove, spacy, nltk, fasteners).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from spark_jobs.annotators.quality import quality_signals
from spark_jobs.annotators.rulesets import verdict_from_signals
from spark_jobs.recipe import CurationRecipe

PRESETS = Path(__file__).resolve().parents[1] / "orchestration" / "recipes" / "presets"


def datatrove_filters() -> dict[str, Callable[[], object]]:
    """Each Pilehouse rule set -> a factory of the datatrove filter the presets' references ran."""
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return {
        "gopher_quality": GopherQualityFilter,
        "gopher_repetition": GopherRepetitionFilter,
        "c4": C4QualityFilter,
        "c4_no_terminal_punct": lambda: C4QualityFilter(filter_no_terminal_punct=False),
        "fineweb": FineWebQualityFilter,
        "fineweb_after_c4": FineWebQualityFilter,
    }


def datatrove_verdict(text: str, steps: list[object]) -> str | None:
    """The first datatrove filter that removes the document (its reason), or None: kept."""
    from datatrove.data import Document

    doc = Document(text=text, id="page")
    for step in steps:
        result = step.filter(doc)  # C4QualityFilter rewrites doc.text, as in the pipeline
        if result is not True and result != (True, None):
            reason = result[1] if isinstance(result, tuple) else "removed"
            return f"{type(step).__name__}:{reason}"
    return None


def pilehouse_verdict(signals: dict, recipe: CurationRecipe) -> str | None:
    for name, thresholds in recipe.rules.items():
        reason = verdict_from_signals(signals, name, dict(thresholds))
        if reason:
            return reason
    return None


def real_pages() -> list[tuple[str, str]]:
    """(url, extracted text) of every page of bench/extraction_real's tune and test halves."""
    from bench.extraction_real import CACHE, _pilehouse, build_pages

    pages = build_pages(CACHE, ["tune", "test"])
    return [(p.record.target_uri or "", _pilehouse(p)) for p in pages]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=3, help="disagreements to show per preset")
    args = parser.parse_args(argv)
    pages = [(url, text) for url, text in real_pages() if text.strip()]
    signals = {url: quality_signals(text) for url, text in pages}
    factories = datatrove_filters()
    figures: dict[str, float] = {}
    print(f"{len(pages)} real pages with text")
    print(f"{'preset':22} {'pilehouse keeps':>15} {'datatrove keeps':>15} {'agreement':>10}")
    for path in sorted(PRESETS.glob("*.yaml")):
        recipe = CurationRecipe.from_yaml(path)
        steps = [factories[name]() for name in recipe.rules]
        agree, kept_ours, kept_theirs = 0, 0, 0
        misses: list[str] = []
        why: Counter[tuple[str, str]] = Counter()
        for url, text in pages:
            ours = pilehouse_verdict(signals[url], recipe)
            theirs = datatrove_verdict(text, steps)
            kept_ours += ours is None
            kept_theirs += theirs is None
            if (ours is None) == (theirs is None):
                agree += 1
            else:
                why[(str(ours), str(theirs))] += 1
                misses.append(f"    {url}: pilehouse={ours} datatrove={theirs}")
        rate = agree / len(pages)
        figures[f"{recipe.name} agreement"] = rate
        print(
            f"{recipe.name:22} {kept_ours / len(pages):15.1%} {kept_theirs / len(pages):15.1%} "
            f"{rate:10.2%}  ({agree}/{len(pages)})"
        )
        for (ours, theirs), count in why.most_common(4):
            print(f"    {count} x pilehouse={ours} datatrove={theirs}")
        print("\n".join(misses[: args.misses]))
    return figures


if __name__ == "__main__":
    main()
