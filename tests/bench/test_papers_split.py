"""The papers evaluation set's split: every package in one half, the packages kept aside for an
independent evaluation in neither, and the former test half now tune material."""

from __future__ import annotations

from bench.papers_data import (
    FIRST_TUNE_PACKAGES,
    FORMER_TEST_PACKAGES,
    PACKAGES,
    TEST_PACKAGES,
)

KEPT_ASIDE = ("texlive-publishers-doc", "texlive-humanities-doc")


def test_the_halves_are_disjoint_and_the_held_out_packages_unused() -> None:
    groups = [set(FIRST_TUNE_PACKAGES), set(FORMER_TEST_PACKAGES), set(TEST_PACKAGES)]
    assert sum(len(group) for group in groups) == len(set().union(*groups)) == len(PACKAGES)
    assert not set(KEPT_ASIDE) & set(PACKAGES)


def test_the_former_test_half_is_tune_material_and_the_test_half_is_new() -> None:
    assert {PACKAGES[package] for package in FORMER_TEST_PACKAGES} == {"tune"}
    assert {package for package, half in PACKAGES.items() if half == "test"} == set(TEST_PACKAGES)
