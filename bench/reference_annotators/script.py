"""Frozen reference: spark_jobs/annotators/script.py as of commit f917b45. Do not edit.

The dominant Unicode script of a text (Latin, Cyrillic, Han, ...), next to its language."""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import cache

# First word of a character's Unicode name -> script, for names that do not start with it.
_ALIASES = {
    "CJK": "Han",
    "HIRAGANA": "Japanese",
    "KATAKANA": "Japanese",
    "HANGUL": "Hangul",
    "FULLWIDTH": "Latin",
}
UNKNOWN = "Unknown"


@cache
def char_script(char: str) -> str | None:
    """The script of a letter (None for digits, punctuation, symbols and spaces)."""
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    if not name:
        return UNKNOWN
    first = name.split(" ", 1)[0]
    return _ALIASES.get(first, first.title())


def dominant_script(text: str, sample: int = 20_000) -> str:
    """The script most letters of `text` (its first `sample` characters) are written in."""
    counts: Counter[str] = Counter()
    for char, n in Counter(text[:sample]).items():
        script = char_script(char)
        if script is not None:
            counts[script] += n
    return counts.most_common(1)[0][0] if counts else UNKNOWN
