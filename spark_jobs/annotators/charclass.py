"""Per-code-point tables for the compiled annotator kernels, made from Python's own str and
unicodedata functions, so a kernel classifies a character exactly as those functions do."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

# Bits of char_flags(). LOWERS_TO_ASCII: a non-ASCII character whose str.lower() holds an
# ASCII character (KELVIN SIGN, LATIN CAPITAL LETTER I WITH DOT ABOVE).
UPPER, ALNUM, SPACE, LINEBREAK, TERMINAL, LOWERS_TO_ASCII, ALPHA = 1, 2, 4, 8, 16, 32, 64
CODE_POINTS = 0x110000


@cache
def _all_characters() -> str:
    return "".join(map(chr, range(CODE_POINTS)))


def _bits(predicate: Callable[[str], bool]) -> np.ndarray:
    return np.frombuffer(bytes(map(predicate, _all_characters())), np.uint8)


def _line_break(char: str) -> bool:
    return len(f"a{char}b".splitlines()) == 2


TERMINAL_PUNCTUATION_FILE = Path(__file__).with_name("terminal_punctuation.txt")


@cache
def char_flags() -> np.ndarray:
    """uint8 flags of every code point (surrogates included): str.isupper, str.isalnum (the
    `\\w` of `re` without "_"), str.isspace, a str.splitlines break, one of
    terminal punctuation (terminal_punctuation.txt), lowers to ASCII, str.isalpha."""
    terminal = frozenset(TERMINAL_PUNCTUATION_FILE.read_text().split())
    return (
        _bits(str.isupper) * UPPER
        | _bits(str.isalnum) * ALNUM
        | _bits(str.isspace) * SPACE
        | _bits(_line_break) * LINEBREAK
        | _bits(terminal.__contains__) * TERMINAL
        | _bits(lambda c: not c.isascii() and any(x.isascii() for x in c.lower())) * LOWERS_TO_ASCII
        | _bits(str.isalpha) * ALPHA
    ).astype(np.uint8)


def as_codes(text: str) -> np.ndarray:
    """The code points of `text` (lone surrogates included), without a copy of the bytes."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
