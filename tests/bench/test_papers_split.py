"""The papers evaluation set's split: every package in one half, the packages kept aside for an
independent evaluation in neither, and the former test halves (rounds 1-2 to 7) now tune
material."""

from __future__ import annotations

from pathlib import Path

from bench.papers_data import (
    FIRST_TUNE_PACKAGES,
    FORMER_TEST_PACKAGES,
    PACKAGES,
    ROUND3_TEST_PACKAGES,
    ROUND4_TEST_PACKAGES,
    ROUND5_TEST_PACKAGES,
    ROUND6_TEST_PACKAGES,
    ROUND7_TEST_PACKAGES,
    ROUND9_SCAN_PACKAGES,
    TEST_PACKAGES,
    TUNE_PACKAGES,
    document_name,
)

KEPT_ASIDE = ("texlive-publishers-doc", "texlive-humanities-doc")


def test_the_halves_are_disjoint_and_the_held_out_packages_unused() -> None:
    groups = [
        set(FIRST_TUNE_PACKAGES),
        set(FORMER_TEST_PACKAGES),
        set(ROUND3_TEST_PACKAGES),
        set(ROUND4_TEST_PACKAGES),
        set(ROUND5_TEST_PACKAGES),
        set(ROUND6_TEST_PACKAGES),
        set(ROUND7_TEST_PACKAGES),
        set(TEST_PACKAGES),
    ]
    assert sum(len(group) for group in groups) == len(set().union(*groups)) == len(PACKAGES)
    assert not set(KEPT_ASIDE) & set(PACKAGES)


def test_the_former_test_halves_are_tune_material_and_the_test_half_is_new() -> None:
    former = (
        FORMER_TEST_PACKAGES
        + ROUND3_TEST_PACKAGES
        + ROUND4_TEST_PACKAGES
        + ROUND5_TEST_PACKAGES
        + ROUND6_TEST_PACKAGES
        + ROUND7_TEST_PACKAGES
    )
    assert {PACKAGES[package] for package in former} == {"tune"}
    assert {package for package, half in PACKAGES.items() if half == "test"} == set(TEST_PACKAGES)


def test_the_round8_test_half_is_outside_tex_live_and_never_used_before() -> None:
    # every package of rounds 1-7 is tune material (the test above), so TUNE_PACKAGES is
    # everything used before
    used_before = TUNE_PACKAGES
    assert set(ROUND7_TEST_PACKAGES) <= set(used_before)
    assert len(TEST_PACKAGES) == 29
    assert not any(package.startswith("texlive-") for package in TEST_PACKAGES)
    assert {"gap-aclib", "pari-doc", "eyes17", "fonts-texgyre-math"} <= set(TEST_PACKAGES)
    assert not set(TEST_PACKAGES) & set(used_before)


def test_the_round9_scans_are_r_vignettes_never_used_before() -> None:
    # round 9's scans test half: every 7th of the 287 R packages with a vignette PDF, sorted,
    # none of them a package of any earlier round (LaTeX, PDF or scans)
    assert len(ROUND9_SCAN_PACKAGES) == len(set(ROUND9_SCAN_PACKAGES)) == 41
    assert list(ROUND9_SCAN_PACKAGES) == sorted(ROUND9_SCAN_PACKAGES)
    assert all(package.startswith(("r-cran-", "r-bioc-")) for package in ROUND9_SCAN_PACKAGES)
    assert not set(ROUND9_SCAN_PACKAGES) & set(PACKAGES)
    assert not set(KEPT_ASIDE) & set(ROUND9_SCAN_PACKAGES)


def test_documents_of_one_package_never_share_a_name() -> None:
    # eyes17 ships its help's cover page and preface once per language, in folders named
    # alike (bn/cover/coverpage.tex, en/cover/coverpage.tex): one name overwrote the other's
    # files, so round 8's first run scored 32 of the 41 test documents
    names: set[str] = set()
    sources = [
        Path(f"usr/share/eyes17/helpFiles/{language}/cover/{stem}.tex")
        for language in ("bn", "en", "es")
        for stem in ("coverpage", "preface")
    ]
    found = [document_name("eyes17", source, names) for source in sources]
    assert len(set(found)) == len(found) == 6
    assert found[:3] == [
        "eyes17__cover__coverpage",
        "eyes17__cover__preface",
        "eyes17__en-cover__coverpage",
    ]
