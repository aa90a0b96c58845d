"""The English tokenizer splits as spaCy's blank("en") does (expected tokens taken from spaCy)."""

import pytest

from spark_jobs.annotators.tokenizer import english, split_into_words


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        (
            "Hello, world! It's 3.5 USD (approx.) in 1999.",
            [
                "Hello",
                ",",
                "world",
                "!",
                "It",
                "'s",
                "3.5",
                "USD",
                "(",
                "approx",
                ".",
                ")",
                "in",
                "1999",
                ".",
            ],
        ),
        ("don't e.g. U.S.A. #tag ...", ["do", "n't", "e.g.", "U.S.A.", "#", "tag", "..."]),
        ("http://x.com/a?b=1 :)", ["http://x.com/a?b=1", ":)"]),
        ("well-known 10km 5%", ["well", "-", "known", "10", "km", "5", "%"]),
        ("say:* below): x", ["say", ":*", "below", "):", "x"]),  # special cases put back
        ("x c.Emin", ["x", "c.", "Emin"]),
        ("Hello...world!!!", ["Hello", "...", "world", "!", "!", "!"]),
        ("  \n\t ", []),
    ],
)
def test_words_match_spacy(text, tokens):
    assert split_into_words(text) == tokens


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Dr. Smith went home. He slept! Then... nothing? Yes.", 4),
        ("One sentence without a stop", 1),
        ("First. Second. Third.", 3),
        ('Ends with quote." Next one.', 2),
    ],
)
def test_sentences_match_spacy_sentencizer(text, count):
    assert english().sentence_count(text) == count
