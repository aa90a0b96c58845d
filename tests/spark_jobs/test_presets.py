"""Recipe presets (orchestration/recipes/presets/): each loads, states its provenance, and the
FineWeb preset's C4 step is C4 without the terminal-punctuation line rule, as datatrove runs it."""

from __future__ import annotations

import pydoc_data.topics
from pathlib import Path

import pytest

from spark_jobs.annotators.rulesets import verdict
from spark_jobs.recipe import CurationRecipe

# The reference the presets are compared with (the `bench` extra; CI installs it).
PEER = "datatrove and spacy are not installed: make install-bench"
PRESETS = Path(__file__).resolve().parents[2] / "orchestration" / "recipes" / "presets"
EXPECTED = {
    "c4": ["c4"],
    "common-pile": ["gopher_repetition"],
    "dclm": ["gopher_repetition", "gopher_quality"],
    "fineweb": ["gopher_repetition", "gopher_quality", "c4_no_terminal_punct", "fineweb_after_c4"],
    "gopher": ["gopher_quality", "gopher_repetition"],
}
# Five sentences on lines without terminal punctuation (a list, a table, headings).
UNPUNCTUATED = "\n".join(
    f"Item {i} of the list has a description that runs on for a while without a stop"
    for i in range(8)
)


def test_every_preset_loads_with_its_rule_sets_and_provenance():
    found = {p.stem: p for p in PRESETS.glob("*.yaml")}
    assert set(found) == set(EXPECTED)
    for stem, path in found.items():
        recipe = CurationRecipe.from_yaml(path)
        assert list(recipe.rules) == EXPECTED[stem]
        assert path.read_text().startswith("# Preset: "), f"{path} states no provenance"


def test_the_common_pile_preset_puts_license_first():
    recipe = CurationRecipe.from_yaml(PRESETS / "common-pile.yaml")
    assert recipe.license_policy == "platform"


def test_fineweb_c4_settings_keep_lines_without_terminal_punctuation():
    assert verdict(UNPUNCTUATED, "c4") == "c4_too_few_sentences"
    assert verdict(UNPUNCTUATED, "c4_no_terminal_punct") is None


TEXTS = [
    UNPUNCTUATED,
    UNPUNCTUATED + "\nfunction() { return 1 }",
    "Short line.\nlorem ipsum dolor sit amet, consectetur\n" + UNPUNCTUATED,
    *list(pydoc_data.topics.topics.values())[:40],
]


@pytest.mark.parametrize("text", TEXTS)
def test_c4_without_terminal_punct_agrees_with_datatrove(text):
    filters = pytest.importorskip("datatrove.pipeline.filters", reason=PEER)
    pytest.importorskip("spacy", reason=PEER)
    from datatrove.data import Document

    result = filters.C4QualityFilter(filter_no_terminal_punct=False).filter(Document(text, "x"))
    theirs = None if result is True else result[1]
    ours = verdict(text, "c4_no_terminal_punct")
    assert (ours is None) == (theirs is None), (ours, theirs)


# Navigation-like short lines that C4 drops, around enough prose to pass C4: FineWeb's filter on
# the whole text fails it (repeated lines), on the text C4 leaves it passes.
NAVIGATION = (
    "\n".join(["Home", "Up", "Next", "Index"] * 6) + "\n" + pydoc_data.topics.topics["assignment"]
)


@pytest.mark.parametrize("text", [*TEXTS, NAVIGATION])
def test_the_fineweb_steps_agree_with_datatrove_after_its_c4_rewrite(text):
    filters = pytest.importorskip("datatrove.pipeline.filters", reason=PEER)
    pytest.importorskip("spacy", reason=PEER)
    from datatrove.data import Document

    doc = Document(text, "x")
    theirs = None
    for step in (
        filters.C4QualityFilter(filter_no_terminal_punct=False),
        filters.FineWebQualityFilter(),
    ):
        result = step.filter(doc)  # C4 rewrites doc.text, as in the FineWeb pipeline
        if result is not True:
            theirs = result[1]
            break
    ours = verdict(text, "c4_no_terminal_punct") or verdict(text, "fineweb_after_c4")
    assert (ours is None) == (theirs is None), (ours, theirs)


def test_navigation_lines_fail_fineweb_on_the_whole_text_but_not_after_c4():
    assert verdict(NAVIGATION, "fineweb") == "fineweb_char_dup_ratio"
    assert verdict(NAVIGATION, "c4_no_terminal_punct") is None
    assert verdict(NAVIGATION, "fineweb_after_c4") is None
