"""Per-code-point tables for the compiled annotator kernels, made from Python's own str and
unicodedata functions, so a kernel classifies a character exactly as those functions do."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import numpy as np

# Bits of char_flags(). LOWERS_TO_ASCII: a non-ASCII character whose str.lower() holds an
# ASCII character (KELVIN SIGN, LATIN CAPITAL LETTER I WITH DOT ABOVE).
UPPER, ALNUM, SPACE, LINEBREAK, TERMINAL, LOWERS_TO_ASCII, ALPHA, DECIMAL = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
    128,
)
CODE_POINTS = 0x110000
TERMINAL_PUNCTUATION_FILE = Path(__file__).with_name("terminal_punctuation.txt")


@cache
def _all_characters() -> str:
    return "".join(map(chr, range(CODE_POINTS)))


def _bits(predicate: Callable[[str], bool], values: Iterable[str] | None = None) -> np.ndarray:
    return np.frombuffer(bytes(map(predicate, values or _all_characters())), np.uint8)


@cache
def char_flags() -> np.ndarray:
    """uint8 flags of every code point (surrogates included): str.isupper, str.isalnum (the
    `\\w` of `re` without "_"), str.isspace, a str.splitlines break, terminal punctuation
    (terminal_punctuation.txt), lowers to ASCII, str.isalpha,
    str.isdecimal (the `\\d` of `re`). About 0.3 s, once per process."""
    chars = _all_characters()
    flags = (
        _bits(str.isupper) * UPPER
        | _bits(str.isalnum) * ALNUM
        | _bits(str.isspace) * SPACE
        | _bits(str.isalpha) * ALPHA
        | _bits(str.isdecimal) * DECIMAL
    ).astype(np.uint8)
    # Line breaks and terminal punctuation are few: test the candidates only.
    for char in chars[:0x2030]:
        if len(f"a{char}b".splitlines()) == 2:
            flags[ord(char)] |= LINEBREAK
    for char in TERMINAL_PUNCTUATION_FILE.read_text().split():
        flags[ord(char)] |= TERMINAL
    lowered = list(map(str.lower, chars))
    ascii_lower = _bits(str.isascii, lowered)
    non_ascii = np.arange(CODE_POINTS) >= 0x80
    flags[non_ascii & (ascii_lower == 1)] |= LOWERS_TO_ASCII
    lengths = np.fromiter(map(len, lowered), np.int64, CODE_POINTS)
    for code in np.flatnonzero(non_ascii & (lengths > 1)).tolist():
        if any(x.isascii() for x in lowered[code]):
            flags[code] |= LOWERS_TO_ASCII
    return flags


def as_codes(text: str) -> np.ndarray:
    """The code points of `text` (lone surrogates included), without a copy of the bytes."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
