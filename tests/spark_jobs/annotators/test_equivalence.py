"""The compiled annotators give bit-identical values to the code they replaced.

bench/reference_annotators/ holds the annotators as they were before they were made fast; on
a committed sample of real text (benchmark corpus documents of every kind, Debian package
documentation), man pages in 14 languages and generated adversarial Unicode, every value must
be the same, type and float bits included (bench.annotation_equivalence runs the same check on
the whole benchmark corpus).
"""

import gzip
import json
import random
from collections import Counter

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


def _planted_pii() -> list[str]:
    from bench.pii_planted import planted_documents

    return [d.text for d in planted_documents(150, seed=7)]


def _man_pages_with_pii() -> list[str]:
    from bench import pii_real

    return [d.text for d in pii_real.build_documents(pii_real.load_shipped_pages())]


TEXTS = {
    "committed real-text sample": _sample,
    "man pages": man_pages,
    "adversarial unicode": lambda: adversarial_texts(400, seed=3),
    "adversarial unicode with lone surrogates": lambda: adversarial_texts(100, 5, True),
    "planted PII": _planted_pii,
    "man pages with planted PII": _man_pages_with_pii,
}


@pytest.mark.parametrize(
    "annotator", ["quality_signals", "script", "text_hash", "pii_spans", "redact"]
)
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


# Characters whose lowercase is ASCII (KELVIN SIGN, DOTTED CAPITAL I) make the pre-scan's
# case-folded test differ from `in text.lower()`: the detector must fall back, and agree.
FOLDING_TEXTS = [
    "api_\u212aey = 'Zx9-Value-42'",
    "BSN\u0130 111222333 and bsn: 111222333, \u212a",
    "pa\u017f\u017fword = 'hunter2-Xy9'",  # LONG S uppercases to S, lowercases to itself
    "\u212a Tel. +44 20 7946 0958, mail a@b.example.org, host 192.168.1.20",
    "sofi-nummer 111222333 \u0130",
]


def test_pii_pre_scan_agrees_where_lowercasing_makes_ascii():
    old, new = pairs()["pii_spans"]
    found = [new(text) for text in FOLDING_TEXTS]
    assert found == [old(text) for text in FOLDING_TEXTS]
    assert [kind for kind, _, _ in found[0]] == ["secret"]
    assert found[1] == [("nl_bsn", 24, 33)]


def test_pii_pre_scan_misses_no_value_in_dense_digits():
    # Every digit-led type packed together, separated in every way the patterns allow.
    old, new = pairs()["pii_spans"]
    texts = [
        f"Tel. +44 20 7946 0958{sep}card 4111 1111 1111 1111{sep}SSN 078-05-1121{sep}"
        f"DNI 12345678Z{sep}NIE X1234567L{sep}IBAN DE89 3704 0044 0532 0130 00{sep}"
        f"NI AB 12 34 56 C{sep}ip 10.1.2.3{sep}(415) 555-0199{sep}Kontakt: 0301234567"
        for sep in (" ", "\n", "; ", ", ", "\t", "/", "-", "")
    ]
    for text in texts:
        assert new(text) == old(text), text
    assert {kind for kind, _, _ in new(texts[0])} >= {
        "phone",
        "card",
        "us_ssn",
        "es_dni",
        "iban",
        "uk_nino",
        "ipv4",
    }


def _contact_word_texts() -> list[tuple[str, int, str]]:
    """(text, how far before the number its contact word starts, what is glued before it)."""
    labels = ["Tel.", "tél", "TÉLÉPHONE", "Kontakt", "mobİle", "\u212aontakt", "телефон", "Моб."]  # noqa: RUF001
    labels += ["call me at", "ph.", "Contattİ", "Fax", "WhatsApp"]
    texts = []
    for label in labels:
        for glue in ("", "x", "-", " ", "_", "é"):
            for shift in range(len(label) + 4, 70):
                filler = "q" * (shift - len(label) - 3)
                texts.append((f"Lorem {glue}{label} {filler}: 0301234567 now", shift, glue))
    return texts


def test_pii_pre_scan_takes_contact_words_only_where_the_check_can():
    # The pre-scan tries a bare number as a phone number only where a contact word's prefix
    # starts in the 64 characters before it: at a word start, or at the window's first
    # character, where the check sees nothing before it (so "xtel" counts there).
    old, new = pairs()["pii_spans"]
    by = {}
    for text, shift, glue in _contact_word_texts():
        spans = new(text)
        assert spans == old(text), text
        by[text, shift, glue] = any(kind == "phone" for kind, _, _ in spans)
    assert any(f for (t, s, g), f in by.items() if s == 64 and g == "x")  # the window's edge
    assert not any(f for (t, s, g), f in by.items() if s == 65)  # outside the window
    assert any(f for (t, s, g), f in by.items() if s < 64 and g == " ")
    assert not any(f for (t, s, g), f in by.items() if s < 64 and g == "x")  # inside a word


def _colon_and_key_texts() -> list[str]:
    """Colon groups of every length (IPv6 is tried only where "::" or seven groups occur) and
    Stripe-like keys glued to what may precede them (tried only at "k_live_" / "k_test_")."""
    rng = random.Random(11)
    texts = []
    for _ in range(600):
        groups = [
            "".join(rng.choice(HEX) for _ in range(rng.choice(LENGTHS)))
            for _ in range(rng.choice([1, 2, 3, 5, 6, 7, 8, 8, 9]))
        ]
        texts.append(f"addr {rng.choice(['', '[', ':'])}{':'.join(groups)}{rng.choice(ENDS)} end")
        glue = rng.choice(["", "x", "s", "_", "-", " ", "sk", "rk", "sk_live_"])
        prefix = rng.choice(["sk_live_", "rk_test_", "k_live_", "sk_test_", "Sk_live_", "rk_tesT_"])
        tail = "".join(rng.choice("abcXYZ019" * 5 + "_-") for _ in range(rng.randint(10, 30)))
        texts.append(f"key {glue}{prefix}{tail}{rng.choice(ENDS)}sk_test_{tail[::-1]}")
    return texts


HEX = "0123456789abcdefABCDEF" * 4 + "gx"
LENGTHS = [0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 5]
ENDS = [" ", "\n", ", ", "]", "x", ":", "::", ".", ""]


def test_pii_ipv6_and_stripe_shortcuts_agree_with_the_full_scans():
    old, new = pairs()["pii_spans"]
    texts = _colon_and_key_texts()
    found = [new(text) for text in texts]
    assert found == [old(text) for text in texts]
    kinds = Counter(kind for spans in found for kind, _, _ in spans)
    assert kinds["ipv6"] >= 20 and kinds["stripe_key"] >= 50
