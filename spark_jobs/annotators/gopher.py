"""Gopher quality rules (Rae et al. 2021, as in datatrove), split in two so recipes stay cheap.

Annotation computes the *signals* of a document once; a recipe applies *thresholds* to the
stored signals, so changing a threshold re-runs selection, not annotation.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, fields

WORD_PATTERN = re.compile(r"\w+(?:'\w+)?|[^\w\s]+")
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
# datatrove counts only "•" as a bullet.
BULLETS = ("•",)


@dataclass(frozen=True)
class GopherSignals:
    """What the Gopher rules look at, per document."""

    word_count: int
    mean_word_length: float
    hash_word_ratio: float
    ellipsis_word_ratio: float
    bullet_lines_ratio: float
    ellipsis_lines_ratio: float
    alpha_words_ratio: float
    stop_word_count: int


@dataclass(frozen=True)
class GopherQualityRules:
    """Thresholds from the Gopher paper; None disables a rule."""

    min_doc_words: int | None = 50
    max_doc_words: int | None = 100_000
    min_avg_word_length: float | None = 3
    max_avg_word_length: float | None = 10
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    min_alpha_words_ratio: float | None = 0.8
    min_stop_words: int | None = 2


# (reason, signal, comparison that FAILS the document, threshold field), in the order the
# reference applies them: the first failing rule is the reason.
GOPHER_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("gopher_short_doc", "word_count", "<", "min_doc_words"),
    ("gopher_long_doc", "word_count", ">", "max_doc_words"),
    ("gopher_below_avg_word_length", "mean_word_length", "<", "min_avg_word_length"),
    ("gopher_above_avg_word_length", "mean_word_length", ">", "max_avg_word_length"),
    ("gopher_too_many_hashes", "hash_word_ratio", ">", "max_symbol_word_ratio"),
    ("gopher_too_many_ellipsis", "ellipsis_word_ratio", ">", "max_symbol_word_ratio"),
    ("gopher_too_many_bullet_lines", "bullet_lines_ratio", ">", "max_bullet_lines_ratio"),
    ("gopher_too_many_ellipsis_lines", "ellipsis_lines_ratio", ">", "max_ellipsis_lines_ratio"),
    ("gopher_below_alpha_words_ratio", "alpha_words_ratio", "<", "min_alpha_words_ratio"),
    ("gopher_too_few_stop_words", "stop_word_count", "<", "min_stop_words"),
)
SIGNAL_NAMES = tuple(f.name for f in fields(GopherSignals))
INTEGER_SIGNALS = frozenset({"word_count", "stop_word_count"})


def gopher_signals(text: str) -> GopherSignals:
    tokens = WORD_PATTERN.findall(text)
    # Substring test on purpose: the reference drops tokens that occur inside
    # string.punctuation, so "..." and "•" count as words there, and so here.
    words = [t for t in tokens if t not in string.punctuation]
    n_words = len(words)
    lines = text.splitlines() or [text]

    def per_word(count: int) -> float:
        # Division, not multiplication by 1/n: ratios must equal the reference's bit for bit
        # at thresholds. A document without words fails on word count; its ratios are 0.
        return count / n_words if n_words else 0.0

    return GopherSignals(
        word_count=n_words,
        mean_word_length=per_word(sum(len(w) for w in words)),
        hash_word_ratio=per_word(text.count("#")),
        ellipsis_word_ratio=per_word(text.count("...") + text.count("…")),
        bullet_lines_ratio=sum(line.lstrip().startswith(BULLETS) for line in lines) / len(lines),
        ellipsis_lines_ratio=sum(line.rstrip().endswith(("...", "…")) for line in lines)
        / len(lines),
        alpha_words_ratio=per_word(sum(any(c.isalpha() for c in w) for w in words)),
        stop_word_count=sum(w.lower() in STOP_WORDS for w in words),
    )


def active_rules(rules: GopherQualityRules) -> list[tuple[str, str, str, float]]:
    """The enabled rules as (reason, signal, failing comparison, threshold)."""
    return [
        (reason, signal, op, getattr(rules, threshold))
        for reason, signal, op, threshold in GOPHER_RULES
        if getattr(rules, threshold) is not None
    ]


def gopher_verdict(
    signals: GopherSignals, rules: GopherQualityRules = GopherQualityRules()
) -> str | None:
    """The reason of the first rule the signals fail, or None if the document passes."""
    for reason, signal, op, threshold in active_rules(rules):
        value = getattr(signals, signal)
        if (value < threshold) if op == "<" else (value > threshold):
            return reason
    return None


def gopher_quality(text: str, rules: GopherQualityRules = GopherQualityRules()) -> str | None:
    """Return the code of the first Gopher quality rule `text` fails, or None if it passes."""
    return gopher_verdict(gopher_signals(text), rules)
