"""Quality signals on hand-made texts, against values computed by hand."""

import random
from collections import Counter

import pytest

from spark_jobs.annotators.quality import (
    DUP_NGRAMS,
    SIGNAL_NAMES,
    TOP_NGRAMS,
    ngram_repetition,
    quality_signals,
    vocabulary,
)
from spark_jobs.annotators.script import dominant_script

TEXT = "Hello, world!\nHello, world!\n\nThe end..."


def test_signals_of_a_small_text_match_hand_computed_values():
    s = quality_signals(TEXT)
    assert set(s) == set(SIGNAL_NAMES)
    # Tokens: Hello , world ! Hello , world ! The end ...  (11; 6 are words)
    assert (s["char_count"], s["line_count"], s["token_count"], s["word_count"]) == (39, 4, 11, 6)
    assert s["mean_word_length"] == 26 / 6
    assert s["ellipsis_word_ratio"] == 1 / 11 and s["hash_word_ratio"] == 0
    assert s["ellipsis_lines_ratio"] == 1 / 4 and s["bullet_lines_ratio"] == 0
    assert s["alpha_words_ratio"] == 1.0 and s["alpha_token_ratio"] == 6 / 11
    assert s["stop_word_count"] == 0  # "The" is not "the": datatrove compares as is
    assert s["lines_end_punct_ratio"] == 3 / 4
    assert s["uppercase_fraction"] == 3 / 39
    # Lines split on \n+: one of three repeats, 13 of 39 characters.
    assert s["dup_line_frac"] == 1 / 3 and s["dup_line_char_frac"] == 13 / 39
    assert s["dup_para_frac"] == 0 and s["dup_para_char_frac"] == 0
    # "Hello ," occurs twice (7 characters each); "Hello , world" twice.
    assert s["top_2_gram_char_frac"] == 14 / 39
    assert s["top_3_gram_char_frac"] == 26 / 39
    assert s["dup_5_gram_char_frac"] == 0
    # C4 keeps no line: two have fewer than 3 words, one ends in an ellipsis.
    assert (s["c4_lines_kept"], s["c4_sentence_count"]) == (0, 0)
    assert s["nonblank_line_count"] == 3
    assert s["fineweb_line_punct_ratio"] == 1.0 and s["fineweb_short_line_ratio"] == 1.0
    assert s["fineweb_char_dup_ratio"] == 13 / 36  # newlines do not count
    assert s["fineweb_list_ratio"] == 3 / 11
    assert (s["max_line_length"], s["mean_line_length"]) == (13, 9.0)
    assert s["alphanum_fraction"] == 26 / 39


def test_repeated_ngrams_count_once_and_the_walk_jumps_past_them():
    # 10 tokens "a b c d e a b c d e": the second 5-gram "a b c d e" repeats (5 characters
    # joined without spaces); the walk then jumps past it.
    s = quality_signals("a b c d e a b c d e")
    assert s["dup_5_gram_char_frac"] == 5 / 19
    # 2-grams ab bc cd de ea AB -> jump to CD: two repeats of 2 characters.
    assert s["dup_2_gram_char_frac"] == 4 / 19
    assert s["dup_3_gram_char_frac"] == 3 / 19 and s["dup_4_gram_char_frac"] == 4 / 19
    assert s["dup_6_gram_char_frac"] == 0


def _repetition(words: list[str]) -> tuple[dict[int, int], dict[int, int]]:
    """The compiled n-gram figures of a word list: {n: top n-gram chars}, {n: repeated chars}."""
    vocab = vocabulary()
    ids = vocab.token_ids(words)
    vocab.add_new_tokens()
    tops, dups = ngram_repetition(ids, vocab)
    return dict(zip(TOP_NGRAMS, tops, strict=True)), dict(zip(DUP_NGRAMS, dups, strict=True))


def _find_all_duplicate(words: list[str], n: int) -> int:
    """datatrove 0.10.1's find_all_duplicate (gopher_repetition_filter.py), as written there."""
    n_words = len(words)
    unique = set()
    repeated_chars, idx = 0, 0
    while idx < n_words - n + 1:
        n_gram = "".join(words[idx : idx + n])
        if n_gram in unique:
            repeated_chars += len(n_gram)
            idx += n
        else:
            unique.add(n_gram)
            idx += 1
    return repeated_chars


def test_duplicate_ngram_characters_equal_datatrove_walk_on_adversarial_words():
    # Few distinct words, so n-grams repeat often; "ab"+"a" and "a"+"ba" join to the same
    # n-gram, which must count as a repeat although the words differ. Non-BMP and lone
    # surrogate characters must hash like any other.
    rng = random.Random(7)
    vocab = ["a", "b", "ab", "ba", "aa", "é", "🙂", "\ud800", "longer-word"]
    for _ in range(2000):
        words = [rng.choice(vocab[: rng.randint(2, 9)]) for _ in range(rng.randint(0, 80))]
        dups = _repetition(words)[1]
        for n in DUP_NGRAMS:
            assert dups[n] == _find_all_duplicate(words, n), (words, n)


def _top_ngram_reference(words: list[str], n: int) -> int:
    """datatrove's GopherRepetitionFilter top n-gram: Counter over space-joined n-grams."""
    grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0
    gram, count = Counter(grams).most_common(1)[0]
    return len(gram) * count


def test_top_ngram_characters_equal_counter_most_common_with_its_tie_break():
    # Words of different lengths: equally frequent n-grams differ in characters, so the
    # first-seen tie break of most_common decides the figure.
    rng = random.Random(11)
    vocab = ["a", "bb", "ccc", "dddd", "é", "🙂", "a-b"]
    for _ in range(2000):
        words = [rng.choice(vocab[: rng.randint(1, 7)]) for _ in range(rng.randint(0, 40))]
        tops = _repetition(words)[0]
        for n in (2, 3, 4):
            assert tops[n] == _top_ngram_reference(words, n), (words, n)


def test_a_repeat_that_differs_only_in_word_boundaries_counts():
    # The 2-grams "ab"+"c" (position 0) and "a"+"bc" (position 2) are both "abc".
    words = ["ab", "c", "a", "bc"]
    assert _find_all_duplicate(words, 2) == 3
    assert _repetition(words)[1][2] == 3


def test_c4_line_filter_counts_sentences_of_kept_lines_only():
    text = "\n".join(
        [
            "Dr. Smith went home. He slept well!",  # 2 sentences: "Dr." is one token
            "Please enable JavaScript to see this page.",  # dropped: javascript
            "We use cookies to track you here.",  # dropped: policy
            "A line without a final stop",  # dropped: no terminal punctuation
            "Too short.",  # dropped: fewer than 3 words
            "See the notes [1] for this.",  # citation removed, kept: 1 sentence
        ]
    )
    s = quality_signals(text)
    assert (s["c4_lines_kept"], s["c4_sentence_count"]) == (2, 3)
    assert (s["c4_javascript_lines"], s["c4_policy_lines"]) == (1, 1)
    assert not s["c4_lorem_ipsum"] and not s["c4_curly_bracket"]
    assert quality_signals("Lorem ipsum dolor sit amet.")["c4_lorem_ipsum"]
    # A curly bracket on a line C4 drops anyway (no final stop) does not flag the page.
    assert not quality_signals("if (x) { y }")["c4_curly_bracket"]
    assert quality_signals("We write {x} in the text.")["c4_curly_bracket"]


def test_code_signals():
    code = "// Code generated by protoc. DO NOT EDIT.\nint x = 1;\n" + "y" * 1200
    s = quality_signals(code)
    assert s["auto_generated"] and s["max_line_length"] == 1200
    assert not quality_signals("int main() { return 0; }")["auto_generated"]


def test_flagged_words_are_counted_per_word():
    assert quality_signals("what the fuck is this shit")["flagged_word_ratio"] == 2 / 6
    assert quality_signals("a scunthorpe analysis")["flagged_word_ratio"] == 0


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Hello world", "Latin"),
        ("Привет, мир", "Cyrillic"),
        ("你好世界", "Han"),
        ("مرحبا بالعالم", "Arabic"),
        ("12345 !!", "Unknown"),
        ("", "Unknown"),
    ],
)
def test_dominant_script(text, script):
    assert dominant_script(text) == script


def test_empty_text_has_zero_signals_not_errors():
    s = quality_signals("")
    assert s["word_count"] == 0 and s["char_count"] == 0 and s["fineweb_list_ratio"] == 0
