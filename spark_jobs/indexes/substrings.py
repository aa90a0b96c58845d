"""Exact-substring deduplication (Lee et al. 2022, "ExactSubstr") through a suffix array.

A span of at least `min_tokens` tokens that occurs more than once in a corpus is a repeated
span. Documents are concatenated, each followed by an end-of-text token that no span may
cross; one suffix array over the whole concatenation puts every occurrence of a k-token
window next to the other occurrences of the same window, so the repeated windows are the
suffix-array neighbours whose first `min_tokens` tokens agree.

What is removed (or marked):

- `keep="one"` (the default): every occurrence but the first, in corpus order, as the
  "keep one copy" refinement of later implementations does; the corpus keeps each text once.
- `keep="none"`: every occurrence, the first included, as Lee et al.'s released `collect`
  step does.

A token is removed when any removed window covers it, so a repeated span of length L >= k
that occurs twice removes L tokens of the later copy. Overlapping and self-repeating spans
inside one document are handled the same way as spans across documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from spark_jobs.indexes.layout import suffix_array

# Lee et al.'s threshold was 50 tokens (their 100-byte threshold with a BPE is about that).
DEFAULT_MIN_TOKENS = 50


@dataclass(frozen=True)
class SpanEdits:
    """The token ranges [start, end) of each document that repeat elsewhere."""

    ranges: list[list[tuple[int, int]]]  # per document, sorted, disjoint
    min_tokens: int
    keep: str

    @property
    def tokens_removed(self) -> int:
        return sum(end - start for doc in self.ranges for start, end in doc)

    @property
    def documents_touched(self) -> int:
        return sum(1 for doc in self.ranges if doc)

    @property
    def spans(self) -> int:
        return sum(len(doc) for doc in self.ranges)


def repeated_spans(
    documents: Sequence[np.ndarray],
    *,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    keep: Literal["one", "none"] = "one",
    separator: int | None = None,
) -> SpanEdits:
    """For each document (an array of token ids, no end-of-text inside), the ranges of its
    tokens that belong to a span of at least `min_tokens` tokens occurring more than once in
    `documents` (see the module docstring for `keep`)."""
    if min_tokens < 1:
        raise ValueError(f"min_tokens must be >= 1, got {min_tokens}")
    if keep not in ("one", "none"):
        raise ValueError(f"keep must be 'one' or 'none', got {keep!r}")
    empty = SpanEdits([[] for _ in documents], min_tokens, keep)
    if not documents:
        return empty
    widest = max((int(d.max()) for d in documents if len(d)), default=0)
    separator = widest + 1 if separator is None else separator
    dtype = np.uint16 if separator < 2**16 else np.uint32
    lengths = np.array([len(d) for d in documents], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    corpus = np.full(int(lengths.sum() + len(documents)), separator, dtype=dtype)
    for start, doc in zip(starts, documents, strict=True):
        corpus[start : start + len(doc)] = doc
    n = len(corpus)
    if n <= min_tokens:
        return empty

    # A window [p, p + k) is a candidate when it fits and holds no separator.
    k = min_tokens
    index = np.int32 if n < 2**31 - k else np.int64
    seps = np.zeros(n + 1, dtype=index)
    np.cumsum(corpus == separator, dtype=index, out=seps[1:])
    last = n - k
    valid = np.zeros(n, dtype=bool)
    valid[: last + 1] = seps[k : n + 1] == seps[: last + 1]
    del seps

    sa = suffix_array(corpus).astype(index, copy=False)
    a, b = sa[:-1], sa[1:]
    # neighbours i, i + 1 in suffix order
    pair = np.flatnonzero(valid[a] & valid[b]).astype(index, copy=False)
    del valid
    left, right = a[pair], b[pair]
    for offset in range(k):  # keep the pairs whose first k tokens agree
        same = corpus[left + offset] == corpus[right + offset]
        pair, left, right = pair[same], left[same], right[same]
        if not len(pair):
            return empty

    # Runs of linked neighbours are the groups of equal windows.
    linked = np.zeros(len(sa), dtype=bool)
    linked[pair + 1] = True  # entry i + 1 repeats entry i
    in_group = linked.copy()
    in_group[pair] = True
    members = np.flatnonzero(in_group)
    group = np.cumsum(~linked[members])  # a new group starts where an entry is not linked
    positions = sa[members]
    if keep == "one":
        order = np.lexsort((positions, group))
        positions, group = positions[order], group[order]
        first = np.ones(len(group), dtype=bool)
        first[1:] = group[1:] != group[:-1]
        removed_starts = positions[~first]
    else:
        removed_starts = positions

    cover = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cover, removed_starts, 1)
    np.add.at(cover, removed_starts + k, -1)
    removed = np.cumsum(cover[:-1]) > 0

    ranges: list[list[tuple[int, int]]] = []
    for start, length in zip(starts, lengths, strict=True):
        mask = removed[start : start + length]
        if not mask.any():
            ranges.append([])
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
        ranges.append([(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)])
    return SpanEdits(ranges, min_tokens, keep)


def cut(tokens: np.ndarray, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """`tokens` without the given [start, end) ranges."""
    if not ranges:
        return tokens
    keep = np.ones(len(tokens), dtype=bool)
    for start, end in ranges:
        keep[start:end] = False
    return tokens[keep]
