"""The compiled annotators give bit-identical values to the code they replaced.

bench/reference_annotators/ holds the annotators as they were before they were made fast; on
a committed sample of real text (benchmark corpus documents of every kind, Debian package
documentation), man pages in 14 languages and generated adversarial Unicode, every value must
be the same, type and float bits included (bench.annotation_equivalence runs the same check on
the whole benchmark corpus).
"""

import gzip
import json

import pytest

from bench.annotation_equivalence import (
    SAMPLE,
    adversarial_texts,
    differences,
    identical,
    man_pages,
    pairs,
)


def _sample() -> list[str]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines]


TEXTS = {
    "committed real-text sample": _sample,
    "man pages": man_pages,
    "adversarial unicode": lambda: adversarial_texts(400, seed=3),
    "adversarial unicode with lone surrogates": lambda: adversarial_texts(100, 5, True),
}


@pytest.mark.parametrize("annotator", ["quality_signals", "script", "text_hash"])
@pytest.mark.parametrize("source", list(TEXTS))
def test_new_annotator_values_are_identical_to_the_reference(annotator, source):
    texts = TEXTS[source]()
    assert len(texts) >= 100
    old, new = pairs()[annotator]
    assert differences(texts, old, new) == 0


def test_the_sample_is_real_text_of_many_kinds():
    texts = _sample()
    assert len(texts) >= 150 and sum(map(len, texts)) > 300_000
    assert any("Copyright" in t or "copyright" in t for t in texts)  # Debian documentation


def test_the_comparison_sees_a_changed_bit():
    # The harness must fail on the smallest difference: a float one ulp off, an int as a float.
    a = {"x": 0.1, "n": 3}
    assert identical(a, {"x": 0.1, "n": 3})
    assert not identical(a, {"x": 0.1 + 2**-56, "n": 3})
    assert not identical(a, {"x": 0.1, "n": 3.0})
    assert not identical(a, {"x": 0.1})
