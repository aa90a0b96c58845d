import pydoc_data.topics

from spark_jobs.annotators.gopher import GopherQualityRules, gopher_quality, gopher_signals

PROSE = pydoc_data.topics.topics["assert"]


def test_real_documentation_prose_passes():
    assert gopher_quality(PROSE) is None


def test_short_navigation_page_fails_on_word_count():
    assert gopher_quality("Home | About us | Contact | Login") == "gopher_short_doc"


def test_hash_heavy_text_fails_symbol_ratio():
    text = " ".join(f"#tag{i} the word of" for i in range(40))
    assert gopher_quality(text) == "gopher_too_many_hashes"


def test_ellipsis_lines_fail():
    lines = [f"the story of item number {i} goes on and on with more words ..." for i in range(30)]
    assert gopher_quality("\n".join(lines)) == "gopher_too_many_ellipsis_lines"


def test_text_without_stop_words_fails():
    text = " ".join(["alpha beta gamma delta epsilon zeta eta theta iota kappa"] * 10)
    assert gopher_quality(text) == "gopher_too_few_stop_words"


def test_thresholds_are_data():
    lenient = GopherQualityRules(min_doc_words=3)
    assert gopher_quality("the cat and the dog with the bird", lenient) is None
    assert gopher_quality("the cat and the dog with the bird") == "gopher_short_doc"


def test_signals_are_what_the_rules_read():
    signals = gopher_signals("the cat ... and the dog\n• one with a bird ...")
    # As in the reference, "..." and "•" count as (non-alphabetic) words.
    assert signals.word_count == 12
    assert signals.alpha_words_ratio == 9 / 12
    assert signals.stop_word_count == 4
    assert signals.ellipsis_lines_ratio == 0.5
    assert signals.bullet_lines_ratio == 0.5


def test_empty_text_fails_on_word_count():
    assert gopher_quality("") == "gopher_short_doc"
