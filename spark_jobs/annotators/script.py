"""The dominant Unicode script of a text (Latin, Cyrillic, Han, ...), next to its language."""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import pyarrow as pa
from numba import njit

from spark_jobs.annotators import charclass
from spark_jobs.annotators.registry import Annotator, Column

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


@cache
def _script_table() -> tuple[np.ndarray, tuple[str, ...]]:
    """(script index of every code point, 0 where char_script is None; the script names)."""
    names: dict[str, int] = {"": 0}
    table = np.zeros(charclass.CODE_POINTS, dtype=np.uint16)
    for code in np.flatnonzero(charclass.char_flags() & charclass.ALPHA).tolist():
        script = char_script.__wrapped__(chr(code))
        table[code] = names.setdefault(script, len(names))
    return table, tuple(names)


@njit(cache=True, nogil=True)
def _dominant(codes: np.ndarray, table: np.ndarray, n_scripts: int) -> int:
    counts = np.zeros(n_scripts, dtype=np.int64)
    first = np.full(n_scripts, len(codes), dtype=np.int64)
    for k in range(len(codes)):
        script = table[codes[k]]
        if script:
            counts[script] += 1
            if first[script] > k:
                first[script] = k
    # Counter.most_common(1) over scripts counted in order of their first letter.
    best = 0
    for script in range(1, n_scripts):
        if counts[script] > counts[best] or (
            counts[script] == counts[best] and counts[script] and first[script] < first[best]
        ):
            best = script
    return best


def dominant_script(text: str, sample: int = 20_000) -> str:
    """The script most letters of `text` (its first `sample` characters) are written in."""
    table, names = _script_table()
    best = _dominant(charclass.as_codes(text[:sample]), table, len(names))
    return names[best] if best else UNKNOWN


class ScriptAnnotator(Annotator):
    """The dominant Unicode script of the letters."""

    name = "script"
    version = "1"
    columns = (Column("script", pa.string(), "Unicode script most letters are written in"),)

    def annotate(self, texts: list[str]) -> dict[str, pa.Array]:
        return {"script": pa.array([dominant_script(t) for t in texts], pa.string())}
