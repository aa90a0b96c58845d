import datetime as dt
import pydoc_data.topics

import pytest

from spark_jobs.annotate import annotate_documents
from spark_jobs.select import PiiPolicy, Recipe, select_documents

pytestmark = pytest.mark.spark

ENGLISH = pydoc_data.topics.topics["assert"]
OTHER_ENGLISH = pydoc_data.topics.topics["if"]
# English, but every line trails off: fails Gopher's ellipsis-lines rule.
TEASER = "\n".join(line + " ..." for line in OTHER_ENGLISH.splitlines() if line.strip())
GERMAN = (
    "Die Anweisung prüft eine Bedingung und löst einen Fehler aus, wenn sie nicht erfüllt ist. "
    * 10
)


def _documents(spark):
    rows = [
        ("a", ENGLISH, dt.datetime(2024, 1, 2)),
        (
            "b",
            ENGLISH.replace(" ", "  ") + "!",
            dt.datetime(2024, 1, 1),
        ),  # same words, earlier: kept
        ("c", OTHER_ENGLISH, dt.datetime(2024, 1, 3)),
        ("d", GERMAN, dt.datetime(2024, 1, 3)),
        ("e", TEASER, dt.datetime(2024, 1, 3)),
    ]
    licenses = {"f": "CC-BY-NC-4.0", "g": "NOASSERTION"}  # not open / not known: never kept
    rows += [(i, OTHER_ENGLISH + f" Copy {i}.", dt.datetime(2024, 1, 1)) for i in licenses]
    # A page that leaks an email address and a phone number.
    rows += [
        (
            "h",
            OTHER_ENGLISH + " Write to jane.doe@example.com or call 415-555-0199.",
            dt.datetime(2024, 1, 1),
        )
    ]
    return spark.createDataFrame(
        [(i, "web", "s", f"https://x/{i}", licenses.get(i, "MIT"), t, d) for i, t, d in rows],
        "id string, corpus string, source string, locator string, license string, text string, "
        "fetch_date timestamp",
    )


def test_each_document_gets_exactly_one_outcome_with_a_reason(spark):
    annotated = annotate_documents(_documents(spark))
    kept, rejects = select_documents(annotated, Recipe(pii=PiiPolicy("drop", 0)), run_id="r1")
    kept_ids = {r.id for r in kept.collect()}
    reasons = {r.id: (r.reason, r.detail) for r in rejects.collect()}
    assert kept_ids == {"b", "c"}
    assert reasons["a"][0] == "exact_duplicate" and reasons["a"][1].endswith(" b")
    assert reasons["d"][0] == "language_not_allowed" and "language de" in reasons["d"][1]
    assert reasons["e"][0].startswith("gopher_too_many_ellipsis")
    assert reasons["f"] == (
        "license_not_allowed",
        "license CC-BY-NC-4.0 is unknown; policy platform does not allow it",
    )
    assert reasons["g"][0] == "license_not_allowed"
    assert reasons["h"] == ("pii_above_threshold", "holds 1 email, 1 phone; recipe allows 0 spans")
    assert kept_ids.isdisjoint(reasons) and len(kept_ids) + len(reasons) == 8
    assert {r.stage for r in rejects.collect()} == {"curate"}


def test_recipe_thresholds_change_the_selection(spark, tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "name: lenient\nlanguages: [en, de]\ngopher_quality:\n  max_ellipsis_lines_ratio: 1.0\n  max_symbol_word_ratio: 1.0\n  min_stop_words: null\n"
    )
    recipe = Recipe.from_yaml(path)
    assert recipe.fingerprint != Recipe().fingerprint
    kept, rejects = select_documents(annotate_documents(_documents(spark)), recipe, run_id="r2")
    assert {r.id for r in kept.collect()} == {"b", "c", "d"}
    # e now passes the filters, and only then is found to repeat c's words (punctuation aside).
    assert {r.id: r.reason for r in rejects.collect()} == {
        "a": "exact_duplicate",
        "e": "exact_duplicate",
        "f": "license_not_allowed",
        "g": "license_not_allowed",
        "h": "pii_above_threshold",
    }


def test_unknown_recipe_key_is_reported(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("name: x\nlanguage: [en]\n")
    with pytest.raises(ValueError, match="unknown keys \\['language'\\]"):
        Recipe.from_yaml(path)
