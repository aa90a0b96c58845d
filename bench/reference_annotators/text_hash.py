"""Frozen reference: spark_jobs/annotators/text_hash.py as of commit f917b45. Do not edit.

Exact-dedup key: a 128-bit hash of text normalized so trivial edits do not hide a copy."""

from __future__ import annotations

import re
import unicodedata

import xxhash

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_for_dedup(text: str) -> str:
    """NFKC, lowercase, punctuation and whitespace runs folded to one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def exact_dedup_key(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(normalize_for_dedup(text).encode("utf-8"))
