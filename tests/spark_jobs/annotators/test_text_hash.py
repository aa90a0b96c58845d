from spark_jobs.annotators.text_hash import exact_dedup_key, normalize_for_dedup


def test_case_punctuation_and_whitespace_do_not_hide_a_copy():
    a = "The  Zen of Python,\nby Tim Peters."
    b = "the zen of python by tim peters"
    assert normalize_for_dedup(a) == b
    assert exact_dedup_key(a) == exact_dedup_key(b)


def test_different_words_give_different_keys():
    assert exact_dedup_key("beautiful is better than ugly") != exact_dedup_key(
        "explicit is better than implicit"
    )
    assert len(exact_dedup_key("x")) == 32
