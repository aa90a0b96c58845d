import datetime as dt
import pydoc_data.topics

import pytest

from spark_jobs.annotate import annotate_documents
from spark_jobs.select import CurationRecipe, PiiPolicy, filter_documents, select_documents

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


# The Gopher paper's alpha-words rule (datatrove's default counts punctuation tokens).
PAPER_GOPHER = {
    "gopher_quality": {
        "min_alpha_words_ratio": None,
        "min_alpha_words_ratio_excluding_punctuation": 0.8,
    }
}


@pytest.fixture(scope="module")
def annotated(spark, tmp_path_factory):
    """The documents annotated once and stored: every selection below reads the stored
    annotations, so a recipe change never re-runs annotation."""
    path = str(tmp_path_factory.mktemp("annotated") / "annotated")
    annotate_documents(_documents(spark)).write.parquet(path)
    return spark.read.parquet(path)


def test_each_document_gets_exactly_one_outcome_with_a_reason(annotated):
    recipe = CurationRecipe(rules=PAPER_GOPHER, pii=PiiPolicy("drop", 0))
    kept, rejects = select_documents(annotated, recipe, run_id="r1")
    kept_ids = {r.id for r in kept.collect()}
    reasons = {r.id: (r.reason, r.detail) for r in rejects.collect()}
    assert kept_ids == {"b", "c"}
    assert reasons["a"][0] == "exact_duplicate" and reasons["a"][1].endswith(" b")
    assert reasons["d"][0] == "language_not_allowed" and "language de" in reasons["d"][1]
    assert reasons["e"][0] == "gopher_too_many_ellipsis_lines"
    assert reasons["e"][1].startswith("gopher_quality: ellipsis_lines_ratio = ")
    assert reasons["e"][1].endswith("(> 0.3); recipe default")
    assert reasons["f"] == (
        "license_not_allowed",
        "license CC-BY-NC-4.0 is restricted; policy platform does not allow it",
    )
    assert reasons["g"][0] == "license_not_allowed"
    assert reasons["h"] == ("pii_above_threshold", "holds 1 email, 1 phone; recipe allows 0 spans")
    assert kept_ids.isdisjoint(reasons) and len(kept_ids) + len(reasons) == 8
    assert {r.stage for r in rejects.collect()} == {"curate"}


def test_low_language_confidence_is_its_own_reason(annotated):
    """An allowed language identified with too little confidence is language_score_low; a
    language the recipe does not allow stays language_not_allowed, whatever its score."""
    recipe = CurationRecipe(rules={}, pii=None, min_language_score=0.999)
    _, rejects = filter_documents(annotated, recipe, run_id="r2")
    reasons = {r.id: (r.reason, r.detail) for r in rejects.collect()}
    scores = {r.id: (r.language, r.language_score) for r in annotated.collect()}
    assert reasons["d"][0] == "language_not_allowed"
    licensed = {i for i, (reason, _) in reasons.items() if reason != "license_not_allowed"}
    low = {i for i in licensed if scores[i][0] == "en" and scores[i][1] < 0.999}
    assert low, "the sample needs an English document scored below 0.999"
    assert {i for i, (reason, _) in reasons.items() if reason == "language_score_low"} == low
    some = sorted(low)[0]
    assert reasons[some][1] == (
        f"language en with score {scores[some][1]:.2f} < min_language_score 0.999; recipe default"
    )


def test_redact_policy_keeps_the_document_with_placeholders(annotated):
    recipe = CurationRecipe(rules=PAPER_GOPHER, pii=PiiPolicy("redact"))
    kept, rejects = filter_documents(annotated, recipe, run_id="r3")
    rows = {r.id: r for r in kept.collect()}
    assert set(rows) == {"a", "b", "c", "h"}  # no dedup in filter_documents
    h = rows["h"]
    assert "jane.doe@example.com" not in h.text and "415-555-0199" not in h.text
    assert "<EMAIL>" in h.text and "<PHONE>" in h.text
    assert (h.pii_redacted.email, h.pii_redacted.phone) == (1, 1)
    assert h.pii_counts.email == 0 and h.pii_counts.phone == 0
    assert rows["c"].text == OTHER_ENGLISH and rows["c"].pii_redacted.email == 0
    assert "pii_above_threshold" not in {r.reason for r in rejects.collect()}
    # Only the listed types are redacted.
    only_email = CurationRecipe(rules=PAPER_GOPHER, pii=PiiPolicy("redact", types=("email",)))
    h = {r.id: r for r in filter_documents(annotated, only_email, "r4")[0].collect()}["h"]
    assert "<EMAIL>" in h.text and "415-555-0199" in h.text and h.pii_counts.phone == 1


def test_recipe_thresholds_change_the_selection_without_reannotation(annotated, tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "name: lenient\nlanguages: [en, de]\nrules:\n  gopher_quality:\n"
        "    max_ellipsis_lines_ratio: 1.0\n    max_symbol_word_ratio: 1.0\n"
        "    min_stop_words: null\n    min_alpha_words_ratio: null\n"
        "pii: {policy: drop, max_spans: 0}\n"
    )
    recipe = CurationRecipe.from_yaml(path)
    strict = CurationRecipe(rules=PAPER_GOPHER, pii=PiiPolicy("drop", 0))
    assert recipe.fingerprint != strict.fingerprint
    kept, rejects = select_documents(annotated, recipe, run_id="r2")
    # Selection read the stored annotations: nothing in its plan annotates again.
    assert "MapInArrow" not in kept._jdf.queryExecution().executedPlan().toString()
    assert {r.id for r in kept.collect()} == {"b", "c", "d"}
    # e now passes the filters, and only then is found to repeat c's words (punctuation aside).
    assert {r.id: r.reason for r in rejects.collect()} == {
        "a": "exact_duplicate",
        "e": "exact_duplicate",
        "f": "license_not_allowed",
        "g": "license_not_allowed",
        "h": "pii_above_threshold",
    }
    # The same stored annotations under datatrove's default alpha rule reject b and c too.
    datatrove = CurationRecipe(rules={"gopher_quality": {}}, pii=PiiPolicy("drop", 0))
    kept, rejects = filter_documents(annotated, datatrove, run_id="r5")
    assert kept.count() == 0
    assert {r.id: r.reason for r in rejects.collect()}["c"] == "gopher_below_alpha_words_ratio"


def test_unknown_recipe_key_is_reported(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("name: x\nlanguage: [en]\n")
    with pytest.raises(ValueError, match=r"recipe\.yaml:2: language: unknown key"):
        CurationRecipe.from_yaml(path)
