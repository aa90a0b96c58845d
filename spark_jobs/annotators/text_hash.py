"""Exact-dedup key: a 128-bit hash of text normalized so trivial edits do not hide a copy."""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import xxhash
from numba import njit

from spark_jobs.annotators import charclass
from spark_jobs.annotators.registry import Annotator, Column


def normalize_for_dedup(text: str) -> str:
    """NFKC, lowercase, punctuation and whitespace runs folded to one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = _fold_non_word(charclass.as_codes(folded), charclass.char_flags())
    return words.tobytes().decode("utf-32-le", "surrogatepass")


@njit(cache=True, nogil=True)
def _fold_non_word(codes: np.ndarray, flags: np.ndarray) -> np.ndarray:
    r"""re.sub(r"[\W_]+", " ", text).strip(): runs of characters that are not str.isalnum
    become one space, and none is left at either end."""
    out = np.empty(len(codes), dtype=np.uint32)
    n = 0
    gap = False
    for c in codes:
        if flags[c] & charclass.ALNUM:
            if gap and n:
                out[n] = 0x20
                n += 1
            gap = False
            out[n] = c
            n += 1
        else:
            gap = True
    return out[:n]


def exact_dedup_key(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(normalize_for_dedup(text).encode("utf-8"))


class TextHashAnnotator(Annotator):
    """The exact-dedup key."""

    name = "text_hash"
    version = "1"
    columns = (Column("text_hash", pa.string(), "xxh3-128 of the normalized text (exact dedup)"),)

    def annotate(self, texts: list[str]) -> dict[str, pa.Array]:
        return {"text_hash": pa.array([exact_dedup_key(t) for t in texts], pa.string())}
