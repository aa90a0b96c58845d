"""Distribution bounds learned per source from its own history (quality.bounds, quality.history):
an ordinary first crawl and an ordinary next version pass; a broken version blocks."""

from __future__ import annotations

from quality.bounds import (
    BYTE_LENGTH,
    LANGUAGE_SHARE,
    REMOVAL,
    Judged,
    Measure,
    judge_measures,
    load_bounds,
)
from quality.history import profile_history, record_profile
from spark_jobs.lake import Lake

SETTINGS = load_bounds("curated.web")["distribution"]
SOURCE = "docs-crawl"


def crawl(
    *,
    pages: int = 2000,
    ingest_removed: float = 0.04,
    reasons: dict[str, float] | None = None,
    languages: dict[str, float] | None = None,
    p50: float = 6000.0,
    version: int = -1,
    source: str = SOURCE,
) -> list[Measure]:
    """The measures of one version of a crawl of ordinary documentation pages: a few HTTP
    errors and non-HTML responses at ingest; at curation a share removed for language, for
    Gopher's rules and as duplicates (the default recipe on real Debian HTML kept about a
    third of the pages)."""
    reasons = reasons or {
        "language_not_allowed": 0.18,
        "gopher_quality": 0.35,
        "c4": 0.05,
        "exact_duplicate": 0.06,
    }
    languages = languages or {"en": 1.0}
    ingested = round(pages * (1 - ingest_removed))
    kept = round(ingested * (1 - sum(reasons.values())))
    measures = [
        Measure(source, REMOVAL, "ingest: *", ingest_removed, pages, version),
        Measure(source, REMOVAL, "ingest: http_error", ingest_removed, pages, version),
        Measure(source, REMOVAL, "curate: *", sum(reasons.values()), ingested, version),
        *[
            Measure(source, REMOVAL, f"curate: {r}", v, ingested, version)
            for r, v in reasons.items()
        ],
        *[Measure(source, LANGUAGE_SHARE, lang, v, kept, version) for lang, v in languages.items()],
        Measure(source, BYTE_LENGTH, "p10", p50 / 5, kept, version),
        Measure(source, BYTE_LENGTH, "p50", p50, kept, version),
        Measure(source, BYTE_LENGTH, "p90", p50 * 4, kept, version),
    ]
    return measures


def failing(judged: list[Judged]) -> set[str]:
    return {j.measure.name for j in judged if not j.within}


def test_a_first_crawl_of_ordinary_pages_passes_on_the_first_version_rule():
    judged = judge_measures(crawl(), [], SETTINGS)
    assert failing(judged) == set()
    assert {j.basis for j in judged if j.measure.kind == REMOVAL} == {
        "first version: ceiling",
        "first version: ceiling (policy removals not counted)",  # curate: * (language refusals)
    }


def test_a_first_version_that_loses_nearly_everything_blocks():
    broken = crawl(reasons={"gopher_quality": 0.95})
    assert failing(judge_measures(broken, [], SETTINGS)) == {
        f"{SOURCE}: removal curate: *",
        f"{SOURCE}: removal curate: gopher_quality",
    }


def test_a_first_version_in_a_language_the_recipe_refuses_blocks():
    flipped = crawl(reasons={"language_not_allowed": 0.97})
    assert f"{SOURCE}: removal curate: language_not_allowed" in failing(
        judge_measures(flipped, [], SETTINGS)
    )


def test_a_source_of_a_few_documents_is_shown_not_judged():
    tiny = crawl(pages=6, reasons={"gopher_quality": 1.0})
    judged = judge_measures(tiny, [], SETTINGS)
    assert failing(judged) == set()
    assert all(j.basis.startswith("not judged") for j in judged if j.measure.kind == REMOVAL)


def test_an_ordinary_next_version_passes_against_its_history():
    history = crawl(version=0) + crawl(
        version=1,
        p50=6500.0,
        reasons={
            "language_not_allowed": 0.2,
            "gopher_quality": 0.33,
            "c4": 0.06,
            "exact_duplicate": 0.05,
        },
    )
    nxt = crawl(
        pages=2300,
        p50=5200.0,
        reasons={
            "language_not_allowed": 0.22,
            "gopher_quality": 0.38,
            "c4": 0.04,
            "exact_duplicate": 0.09,
        },
    )
    judged = judge_measures(nxt, history, SETTINGS)
    assert failing(judged) == set()
    assert all(j.basis.startswith("learned from 2") for j in judged if j.measure.kind == REMOVAL)


def test_a_version_with_95_percent_removed_blocks_against_its_history():
    history = crawl(version=0)
    broken = crawl(reasons={"gopher_quality": 0.95})
    assert {
        f"{SOURCE}: removal curate: *",
        f"{SOURCE}: removal curate: gopher_quality",
        # Rules that stopped firing count as 0 in this version: a shift, not a failure alone.
    } <= failing(judge_measures(broken, history, SETTINGS))


def test_a_flipped_language_blocks_against_its_history():
    """A multilingual recipe keeps the flipped crawl, so the shares themselves must catch it."""
    history = crawl(version=0, languages={"en": 0.9, "de": 0.1})
    flipped = crawl(languages={"de": 0.93, "fr": 0.07})
    assert failing(judge_measures(flipped, history, SETTINGS)) == {
        f"{SOURCE}: language_share en",  # vanished: judged as 0
        f"{SOURCE}: language_share de",
    }


def test_bounds_are_per_source():
    """A big source's history does not judge a new small one, nor another source's shift."""
    history = crawl(version=0, source="big")
    judged = judge_measures(crawl(source="new", reasons={"gopher_quality": 0.7}), history, SETTINGS)
    assert failing(judged) == set()


def test_lengths_are_held_to_a_factor_of_their_history():
    history = crawl(version=0, p50=6000.0)
    assert failing(judge_measures(crawl(p50=2000.0), history, SETTINGS)) == {
        f"{SOURCE}: byte_length p10",
        f"{SOURCE}: byte_length p50",
        f"{SOURCE}: byte_length p90",
    }
    assert failing(judge_measures(crawl(p50=4000.0), history, SETTINGS)) == set()


def test_history_keeps_accepted_versions_only_and_honours_relearn(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    good = judge_measures(crawl(), [], SETTINGS)
    record_profile(lake, good, table="curated.web", version=0, run_id="r0")
    bad = judge_measures(crawl(reasons={"gopher_quality": 0.95}), [], SETTINGS)
    record_profile(lake, bad, table="curated.web", version=1, run_id="r1")
    history = profile_history(lake, "curated.web", before=5, window=10)
    assert {m.version for m in history} == {0}
    assert profile_history(lake, "curated.web", before=0, window=10) == []
    # A re-validation of version 1 that passed (bounds widened) makes it accepted.
    wide = {
        **SETTINGS,
        "first_version": {
            "max_removal_rate": {"stages": {"curate": 1.0}, "rules": {"default": 1.0}}
        },
    }
    record_profile(
        lake,
        judge_measures(crawl(reasons={"gopher_quality": 0.95}), [], wide),
        table="curated.web",
        version=1,
        run_id="r2",
    )
    assert {m.version for m in profile_history(lake, "curated.web", before=5, window=10)} == {0, 1}
    assert {m.version for m in profile_history(lake, "curated.web", before=5, window=1)} == {1}
    relearned = profile_history(lake, "curated.web", before=5, window=10, relearn_from={SOURCE: 1})
    assert {m.version for m in relearned} == {1}


def test_a_multilingual_first_crawl_curated_for_one_language_passes():
    """Real Debian documentation HTML in several languages under an English recipe: about half
    refused for language and some for licence (the owner's choices), the rest for quality.
    Those choices do not count against the curate stage's ceiling; quality removals do."""
    reasons = {
        "language_not_allowed": 0.47,
        "license_not_allowed": 0.084,
        "language_score_low": 0.13,
        "gopher_quality": 0.22,
    }
    judged = judge_measures(crawl(reasons=reasons), [], SETTINGS)
    assert failing(judged) == set()
    [stage] = [j for j in judged if j.measure.key == "curate: *"]
    assert stage.measure.value > 0.9 and stage.high == 1.0
    assert stage.basis == "first version: ceiling (policy removals not counted)"
    worse = crawl(reasons={"language_not_allowed": 0.05, "gopher_quality": 0.93})
    assert f"{SOURCE}: removal curate: *" in failing(judge_measures(worse, [], SETTINGS))
