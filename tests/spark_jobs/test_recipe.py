"""CurationRecipe parsing and validation (orchestration/recipes/*.yaml)."""

from pathlib import Path

import pytest

from spark_jobs.recipe import CurationRecipe, DecontaminationPolicy, DedupPolicy, PiiPolicy

RECIPES = Path(__file__).parents[2] / "orchestration" / "recipes"


def _write(tmp_path, text):
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


def test_shipped_recipes_parse():
    web = CurationRecipe.from_yaml(RECIPES / "web-default.yaml")
    assert list(web.rules) == ["gopher_quality", "gopher_repetition", "c4", "fineweb"]
    assert web.pii == PiiPolicy("redact", None, None)
    assert web.decontamination == DecontaminationPolicy("all", 13)
    assert web.dedup == DedupPolicy(exact=True, fuzzy=True)
    code = CurationRecipe.from_yaml(RECIPES / "code-default.yaml")
    assert list(code.rules) == ["code"] and code.languages is None
    for name in ("papers", "licensed"):
        CurationRecipe.from_yaml(RECIPES / f"{name}-default.yaml")


def test_full_recipe(tmp_path):
    recipe = CurationRecipe.from_yaml(
        _write(
            tmp_path,
            """
name: strict
corpus: web
languages: [en, de]
rules:
  fineweb: {max_char_dup_ratio: 0.05}
  c4: {}
pii: {policy: drop, max_spans: 2, types: [email, phone]}
decontamination: {benchmarks: [tiny-qa], ngram: 8}
dedup: {exact: true, fuzzy: false, max_duplicate_paragraph_fraction: 0.5}
keep_order: [id]
""",
        )
    )
    assert recipe.rules == {"fineweb": {"max_char_dup_ratio": 0.05}, "c4": {}}
    assert recipe.pii == PiiPolicy("drop", 2, ("email", "phone"))
    assert recipe.decontamination == DecontaminationPolicy(("tiny-qa",), 8)
    assert recipe.dedup == DedupPolicy(True, False, 0.5)
    assert recipe.languages == ("en", "de") and recipe.keep_order == ("id",)


def test_fingerprint_is_stable_and_changes_with_a_threshold(tmp_path):
    a = CurationRecipe.from_yaml(_write(tmp_path, "name: a\nrules: {c4: {}}\n"))
    assert (
        a.fingerprint
        == CurationRecipe.from_yaml(_write(tmp_path, "name: a\nrules: {c4: {}}\n")).fingerprint
    )
    b = CurationRecipe.from_yaml(_write(tmp_path, "name: a\nrules: {c4: {min_num_sentences: 3}}\n"))
    assert a.fingerprint != b.fingerprint and len(a.fingerprint) == 16


def test_null_policies_disable(tmp_path):
    recipe = CurationRecipe.from_yaml(
        _write(tmp_path, "name: x\nrules: null\npii: null\ndecontamination: null\n")
    )
    assert recipe.rules == {} and recipe.pii is None and recipe.decontamination is None


def test_old_style_recipe_maps_into_rules(tmp_path):
    recipe = CurationRecipe.from_yaml(
        _write(tmp_path, "name: old\ngopher_quality:\n  min_doc_words: 10\nexact_dedup: false\n")
    )
    assert recipe.rules == {"gopher_quality": {"min_doc_words": 10}}
    assert recipe.pii == PiiPolicy("drop", 0) and recipe.dedup.exact is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nlanguage: [en]\n", r"2: language: unknown key \(did you mean languages\?\)"),
        ("name: x\nrules: {gopher: {}}\n", "2: rules.gopher: 'gopher' is not a rule set"),
        (
            "name: x\nrules: {c4: {min_sentences: 3}}\n",
            "2: rules.c4.min_sentences: unknown threshold of rule set c4",
        ),
        ("name: x\npii: {policy: mask}\n", "2: pii.policy: 'mask' is not a PII policy"),
        ("name: x\npii: {policy: drop}\n", "2: pii.max_spans: required when policy is drop"),
        ("name: x\npii: {policy: redact, spans: 1}\n", "2: pii.spans: unknown key"),
        ("name: x\ndecontamination: {ngram: 0}\n", "2: decontamination.ngram: 0 is too small"),
        ("name: x\ndedup: {exact: true, minhash: true}\n", "2: dedup.minhash: unknown key"),
    ],
)
def test_invalid_recipes_are_rejected_with_a_clear_error(tmp_path, text, message):
    with pytest.raises(ValueError, match=f"recipe.yaml:{message}"):
        CurationRecipe.from_yaml(_write(tmp_path, text))
