"""Compiled (numba) scans behind quality_signals: lines, paragraphs, characters and word n-grams.

Each kernel reproduces, over arrays of code points and token ids, what quality.py's reference
definitions do over Python strings (str.splitlines, str.strip, re.split, find_duplicates,
datatrove's find_top_duplicate and find_all_duplicate), so the figures are the same integers.

Strings are compared by a polynomial hash mod the prime 2^31 - 1 (with the length beside it)
and then by their code points, so a hash collision costs time, never a wrong figure.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spark_jobs.annotators.charclass import (
    ALNUM,
    DECIMAL,
    LINEBREAK,
    LOWERS_TO_ASCII,
    SPACE,
    TERMINAL,
    UPPER,
)

MOD = (1 << 31) - 1
BASE = 1_000_003
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# Bits of the per-token flag table (quality._Vocabulary): stop words take bits 3-10.
WORD, ALPHA, FLAGGED, IN_SENTENCE_PUNCT, IS_PUNCT = 1, 2, 4, 1 << 11, 1 << 12
# Output slots of text_counts.
(
    N_UPPER,
    N_ALNUM,
    N_LINES,
    LINE_CHARS,
    MAX_LINE,
    BULLET_LINES,
    ELLIPSIS_LINES,
    PUNCT_LINES,
    HEAD_END,
    GOPHER_LINES,
    GOPHER_LINE_DUPS,
    GOPHER_LINE_DUP_CHARS,
    PARAGRAPHS,
    PARAGRAPH_DUPS,
    PARAGRAPH_DUP_CHARS,
    NONBLANK,
    NONBLANK_PUNCT,
    NONBLANK_SHORT,
    NONBLANK_DUP_CHARS,
    TEXT_SLOTS,
) = range(20)
_BULLET = 0x2022  # •
_ELLIPSIS = 0x2026  # …
_DASH, _DOT, _NEWLINE, _CR = 0x2D, 0x2E, 0x0A, 0x0D


@njit(cache=True, nogil=True)
def _slot(key: np.int64, mask: np.int64) -> np.int64:
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(20)) & mask


@njit(cache=True, nogil=True)
def _table_size(n: int) -> int:
    size = 16
    while size < 2 * n:
        size *= 2
    return size


@njit(cache=True, nogil=True)
def _prefix_hashes(codes: np.ndarray) -> np.ndarray:
    prefix = np.zeros(len(codes) + 1, dtype=np.int64)
    for k in range(len(codes)):
        prefix[k + 1] = (prefix[k] * BASE + np.int64(codes[k]) + 1) % MOD
    return prefix


@njit(cache=True, nogil=True)
def _span_hash(prefix: np.ndarray, powers: np.ndarray, start: int, end: int) -> np.int64:
    value = (prefix[end] - prefix[start] * powers[end - start] % MOD) % MOD
    if value < 0:
        value += MOD
    return value | (np.int64(end - start) << 31)


@njit(cache=True, nogil=True)
def _same_span(codes: np.ndarray, a: int, b: int, length: int) -> bool:
    for k in range(length):  # noqa: SIM110 (numba compiles loops, not generators)
        if codes[a + k] != codes[b + k]:
            return False
    return True


@njit(cache=True, nogil=True)
def _duplicates(codes, prefix, powers, starts, ends, count):
    """find_duplicates over the spans [starts[i], ends[i]) of the text, i < count:
    (repeated spans, their characters)."""
    size = _table_size(count)
    mask = size - 1
    table = np.full(size, -1, dtype=np.int64)
    keys = np.empty(count, dtype=np.int64)
    repeats = chars = 0
    for i in range(count):
        start, end = starts[i], ends[i]
        key = _span_hash(prefix, powers, start, end)
        keys[i] = key
        slot = _slot(key, mask)
        found = False
        while table[slot] != -1:
            j = table[slot]
            if keys[j] == key and _same_span(codes, starts[j], start, end - start):
                found = True
                break
            slot = (slot + 1) & mask
        if found:
            repeats += 1
            chars += end - start
        else:
            table[slot] = i
    return repeats, chars


@njit(cache=True, nogil=True)
def text_counts(codes: np.ndarray, flags: np.ndarray, powers: np.ndarray) -> np.ndarray:
    """Counts of the line, paragraph and character signals of one text (slots above)."""
    n = len(codes)
    out = np.zeros(TEXT_SLOTS, dtype=np.int64)
    prefix = _prefix_hashes(codes)
    newlines = 0
    for k in range(n):
        f = flags[codes[k]]
        out[N_UPPER] += f & UPPER
        out[N_ALNUM] += (f & ALNUM) >> 1
        if codes[k] == _NEWLINE:
            newlines += 1
    # Every split below is on "\n": at most newlines + 1 pieces.
    starts = np.empty(newlines + 2, dtype=np.int64)
    ends = np.empty(newlines + 2, dtype=np.int64)

    # str.splitlines(): \r\n is one break; a break at the very end adds no line.
    lines = 0
    head_end = n
    k = 0
    while k < n:
        start = k
        while k < n and not flags[codes[k]] & LINEBREAK:
            k += 1
        end = k
        if k < n:
            k += 2 if codes[k] == _CR and k + 1 < n and codes[k + 1] == _NEWLINE else 1
        lines += 1
        if lines == 5:
            head_end = k
        length = end - start
        out[LINE_CHARS] += length
        out[MAX_LINE] = max(out[MAX_LINE], length)
        left = start
        while left < end and flags[codes[left]] & SPACE:
            left += 1
        right = end
        while right > left and flags[codes[right - 1]] & SPACE:
            right -= 1
        if left < end and (codes[left] == _BULLET or codes[left] == _DASH):
            out[BULLET_LINES] += 1
        if right > left:
            last = codes[right - 1]
            if last == _ELLIPSIS or (
                right - left >= 3
                and last == _DOT
                and codes[right - 2] == _DOT
                and codes[right - 3] == _DOT
            ):
                out[ELLIPSIS_LINES] += 1
            if flags[last] & TERMINAL:
                out[PUNCT_LINES] += 1
    out[N_LINES] = lines
    out[HEAD_END] = head_end

    # re.split(r"\n+", text): pieces between runs of \n, empty ones at the ends included.
    count = 0
    start = k = 0
    while True:
        while k < n and codes[k] != _NEWLINE:
            k += 1
        starts[count], ends[count] = start, k
        count += 1
        if k == n:
            break
        while k < n and codes[k] == _NEWLINE:
            k += 1
        start = k
    out[GOPHER_LINES] = count
    repeats, chars = _duplicates(codes, prefix, powers, starts, ends, count)
    out[GOPHER_LINE_DUPS], out[GOPHER_LINE_DUP_CHARS] = repeats, chars

    # re.split(r"\n{2,}", text.strip())
    lo, hi = 0, n
    while lo < hi and flags[codes[lo]] & SPACE:
        lo += 1
    while hi > lo and flags[codes[hi - 1]] & SPACE:
        hi -= 1
    count = 0
    start = lo
    k = lo
    while k < hi:
        if codes[k] == _NEWLINE and k + 1 < hi and codes[k + 1] == _NEWLINE:
            starts[count], ends[count] = start, k
            count += 1
            while k < hi and codes[k] == _NEWLINE:
                k += 1
            start = k
        else:
            k += 1
    starts[count], ends[count] = start, hi
    count += 1
    out[PARAGRAPHS] = count
    repeats, chars = _duplicates(codes, prefix, powers, starts, ends, count)
    out[PARAGRAPH_DUPS], out[PARAGRAPH_DUP_CHARS] = repeats, chars

    # text.split("\n"), the lines that are not blank (FineWeb).
    count = 0
    start = 0
    for k in range(n + 1):
        if k == n or codes[k] == _NEWLINE:
            blank = True
            for t in range(start, k):
                if not flags[codes[t]] & SPACE:
                    blank = False
                    break
            if not blank:
                starts[count], ends[count] = start, k
                count += 1
                if flags[codes[k - 1]] & TERMINAL:
                    out[NONBLANK_PUNCT] += 1
                if k - start <= 30:
                    out[NONBLANK_SHORT] += 1
            start = k + 1
    out[NONBLANK] = count
    out[NONBLANK_DUP_CHARS] = _duplicates(codes, prefix, powers, starts, ends, count)[1]
    return out


@njit(cache=True, nogil=True)
def _same_ngram(ids, offsets, token_chars, token_starts, a, b, n) -> bool:
    """Whether the n-grams at token positions a and b join ("") to the same text (their
    character counts are equal)."""
    same_words = True
    for k in range(n):
        if ids[a + k] != ids[b + k]:
            same_words = False
            break
    if same_words:
        return True
    # Walk both character sequences token by token.
    ta, tb = a, b
    ia = ib = 0
    remaining = offsets[a + n] - offsets[a]
    while remaining > 0:
        while offsets[ta + 1] - offsets[ta] == ia:
            ta += 1
            ia = 0
        while offsets[tb + 1] - offsets[tb] == ib:
            tb += 1
            ib = 0
        ca = token_chars[token_starts[ids[ta]] + ia]
        cb = token_chars[token_starts[ids[tb]] + ib]
        if ca != cb:
            return False
        ia += 1
        ib += 1
        remaining -= 1
    return True


@njit(cache=True, nogil=True)
def ngram_counts(
    ids: np.ndarray,
    token_lengths: np.ndarray,
    token_hashes: np.ndarray,
    token_chars: np.ndarray,
    token_starts: np.ndarray,
    powers: np.ndarray,
    top_ns: np.ndarray,
    dup_ns: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(characters of the top n-gram times its count, for each of top_ns; characters in
    repeated n-grams by datatrove's walk, for each of dup_ns) of one token-id sequence."""
    m = len(ids)
    offsets = np.zeros(m + 1, dtype=np.int64)
    prefix = np.zeros(m + 1, dtype=np.int64)
    words = np.zeros(m + 1, dtype=np.int64)
    for i in range(m):
        token = ids[i]
        length = token_lengths[token]
        offsets[i + 1] = offsets[i] + length
        # The hash of the characters joined without spaces ...
        prefix[i + 1] = (prefix[i] * powers[length] + token_hashes[token]) % MOD
        # ... and of the word sequence (top n-grams compare words).
        words[i + 1] = (words[i] * BASE + token + 1) % MOD
    size = _table_size(m)
    mask = size - 1
    table_keys = np.empty(size, dtype=np.int64)  # -1: empty slot
    table_first = np.empty(size, dtype=np.int64)
    counts = np.empty(size, dtype=np.int64)
    keys = np.empty(max(m, 1), dtype=np.int64)

    # Top n-grams compare words: an n-gram is the pair (its first n-1 words, its last word),
    # and the first n-1 words are named by their slot in the previous round's table, so a
    # pair key is exact (slot < 2^33, token id < 2^30) and never needs a second look.
    tops = np.zeros(len(top_ns), dtype=np.int64)
    grams_of = ids.astype(np.int64)  # (n-1)-gram name by starting word, n = 2 first
    done = 1
    for q in range(len(top_ns)):
        n = top_ns[q]
        if m - n + 1 <= 0:
            continue
        while done < n:
            done += 1
            grams = m - done + 1
            table_keys[:] = -1
            named = np.empty(grams, dtype=np.int64)
            best_count = 1
            best_position = 0
            for i in range(grams):
                key = (grams_of[i] << 30) | ids[i + done - 1]
                slot = _slot(key, mask)
                while True:
                    k = table_keys[slot]
                    if k == -1:
                        table_keys[slot] = key
                        table_first[slot] = i
                        counts[slot] = 1
                        break
                    if k == key:
                        # Counter.most_common(1): the highest count; of equal ones, the
                        # first seen. Counts grow by one, so comparing at each step finds it.
                        c = counts[slot] + 1
                        counts[slot] = c
                        j = table_first[slot]
                        if c > best_count or (c == best_count and j < best_position):
                            best_count = c
                            best_position = j
                        break
                    slot = (slot + 1) & mask
                named[i] = slot
            grams_of = named
        chars = offsets[best_position + n] - offsets[best_position] + n - 1
        tops[q] = chars * best_count

    dups = np.zeros(len(dup_ns), dtype=np.int64)
    for q in range(len(dup_ns)):
        n = dup_ns[q]
        grams = m - n + 1
        if grams <= 0:
            continue
        table_keys[:] = -1
        for i in range(grams):
            length = offsets[i + n] - offsets[i]
            key = (prefix[i + n] - prefix[i] * powers[length] % MOD) % MOD
            if key < 0:
                key += MOD
            keys[i] = key | (length << 31)
        # datatrove's find_all_duplicate: an n-gram seen before counts its characters and the
        # walk jumps n words on; the n-grams jumped over are never added to the seen set.
        total = 0
        i = 0
        while i < grams:
            key = keys[i]
            slot = _slot(key, mask)
            found = False
            while True:
                k = table_keys[slot]
                if k == -1:
                    break
                if k == key and _same_ngram(
                    ids, offsets, token_chars, token_starts, i, table_first[slot], n
                ):
                    found = True
                    break
                slot = (slot + 1) & mask
            if found:
                total += offsets[i + n] - offsets[i]
                i += n
            else:
                table_keys[slot] = key
                table_first[slot] = i
                i += 1
        dups[q] = total
    return tops, dups


@njit(cache=True, nogil=True)
def token_hashes(
    token_chars: np.ndarray,
    token_starts: np.ndarray,
    lengths: np.ndarray,
    first: int,
    out: np.ndarray,
) -> None:
    """The character hash of tokens first.. (same polynomial as text_counts' spans)."""
    for t in range(first, len(lengths)):
        value = 0
        start = token_starts[t]
        for k in range(lengths[t]):
            value = (value * BASE + np.int64(token_chars[start + k]) + 1) % MOD
        out[t] = value


@njit(cache=True, nogil=True)
def token_counts(ids: np.ndarray, token_flags: np.ndarray, token_lengths: np.ndarray) -> np.ndarray:
    """(words, characters of words, words with a letter, tokens with a letter, flagged words,
    bit mask of the stop words seen) over a token-id sequence."""
    out = np.zeros(6, dtype=np.int64)
    for i in range(len(ids)):
        token = ids[i]
        f = token_flags[token]
        if f & WORD:  # not only punctuation
            out[0] += 1
            out[1] += token_lengths[token]
            if f & ALPHA:
                out[2] += 1
            if f & FLAGGED:
                out[4] += 1
        if f & ALPHA:
            out[3] += 1
        out[5] |= (f >> 3) & 0xFF
    return out


_EDIT = np.array([ord(c) for c in "edit]"], dtype=np.uint32)
_CITATION_NEEDED = np.array([ord(c) for c in "citation needed]"], dtype=np.uint32)


@njit(cache=True, nogil=True)
def _at(codes, start, end, pattern) -> bool:
    if end - start < len(pattern):
        return False
    for k in range(len(pattern)):  # noqa: SIM110 (numba compiles loops, not generators)
        if codes[start + k] != pattern[k]:
            return False
    return True


@njit(cache=True, nogil=True)
def _has_citation(codes, flags, start, end) -> bool:
    """Whether quality.C4_CITATION (\\[\\d*]|\\[edit]|\\[citation needed]) matches in
    codes[start:end]."""
    for p in range(start, end):
        if codes[p] != 0x5B:
            continue
        q = p + 1
        while q < end and flags[codes[q]] & DECIMAL:
            q += 1
        if q < end and codes[q] == 0x5D:
            return True
        if _at(codes, p + 1, end, _EDIT) or _at(codes, p + 1, end, _CITATION_NEEDED):
            return True
    return False


@njit(cache=True, nogil=True)
def _line_key(codes: np.ndarray, start: int, end: int) -> np.int64:
    """A hash of codes[start:end] for _repeated_chars (int64 arithmetic wraps; keys are only
    compared with each other, then the code points)."""
    value = np.int64(end - start)
    for k in range(start, end):
        value = value * np.int64(1_099_511_628_211) + np.int64(codes[k]) + 1
    return value


@njit(cache=True, nogil=True)
def repeated_chars(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> int:
    """find_duplicates' characters over the spans [starts[i], ends[i]) of codes."""
    count = len(starts)
    keys = np.empty(count, dtype=np.int64)
    for i in range(count):
        keys[i] = _line_key(codes, starts[i], ends[i])
    return _repeated_chars(codes, keys, starts, ends, count)


@njit(cache=True, nogil=True)
def _repeated_chars(codes, keys, starts, ends, count) -> int:
    """find_duplicates' characters over the spans [starts[i], ends[i]) with hashes keys[i]."""
    size = _table_size(count)
    mask = size - 1
    table = np.full(size, -1, dtype=np.int64)
    chars = 0
    for i in range(count):
        key = keys[i]
        slot = _slot(key, mask)
        found = False
        while table[slot] != -1:
            j = table[slot]
            if keys[j] == key and _same_span(codes, starts[j], starts[i], ends[i] - starts[i]):
                found = True
                break
            slot = (slot + 1) & mask
        if found:
            chars += ends[i] - starts[i]
        else:
            table[slot] = i
    return chars


@njit(cache=True, nogil=True)
def _patterns_in(codes, start, end, patterns, pattern_ends, first_letters) -> int:
    """Bit q set when codes[start:end], ASCII letters lowered, holds the ASCII pattern q
    (patterns[pattern_ends[q - 1]:pattern_ends[q]]): one pass over the text."""
    found = 0
    for a in range(start, end):
        c = codes[a]
        if 0x41 <= c <= 0x5A:
            c += 32
        if c >= 128 or first_letters[c] == 0:
            continue
        candidates = first_letters[c] & ~found
        q = 0
        while candidates:
            if candidates & 1:
                p0 = pattern_ends[q - 1] if q else 0
                m = pattern_ends[q] - p0
                if a + m <= end:
                    match = True
                    for k in range(1, m):
                        d = codes[a + k]
                        if 0x41 <= d <= 0x5A:
                            d += 32
                        if d != patterns[p0 + k]:
                            match = False
                            break
                    if match:
                        found |= 1 << q
            candidates >>= 1
            q += 1
    return found


# Output slots of c4_counts: C4's line filter as C4QualityFilter runs it by default (C4_*), and
# without its terminal-punctuation rule (C4NT_*, FineWeb's filter_no_terminal_punct=False) with
# FineWeb's line figures of the lines that one keeps.
(
    C4_KEPT,
    C4_SENTENCES,
    C4_LOREM,
    C4_CURLY,
    C4_JAVASCRIPT,
    C4_POLICY,
    C4NT_KEPT,
    C4NT_SENTENCES,
    C4NT_LOREM,
    C4NT_CURLY,
    C4NT_PUNCT,
    C4NT_SHORT,
    C4NT_CHARS,
    C4NT_TOKENS,
    C4NT_DUP_CHARS,
    C4_SLOTS,
) = range(16)


@njit(cache=True, nogil=True)
def c4_counts(
    codes: np.ndarray,
    flags: np.ndarray,
    ids: np.ndarray,
    chunk_starts: np.ndarray,
    token_flags: np.ndarray,
    patterns: np.ndarray,
    pattern_ends: np.ndarray,
    end_punctuation: np.ndarray,
    min_words: int,
    max_word: int,
    short_line: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """datatrove's C4QualityFilter over the lines of str.splitlines(), with and without its
    terminal-punctuation rule, in one pass: the C4_SLOTS counts above; the [start, end) of the
    stripped lines left to Python (a citation to cut out; a character that lowers to ASCII
    only through str.lower()); the [start, end) of the lines kept without the rule here.

    patterns holds "lorem ipsum", "javascript", then the policy phrases, ending at
    pattern_ends. chunk_starts[c] is the first token of the c-th str.split() chunk in ids.
    """
    n = len(codes)
    out = np.zeros(C4_SLOTS, dtype=np.int64)
    # first_letters[c]: bit q set when pattern q starts with the ASCII letter c.
    first_letters = np.zeros(128, dtype=np.int64)
    for q in range(len(pattern_ends)):
        first_letters[patterns[pattern_ends[q - 1] if q else 0]] |= 1 << q
    left_over = np.empty(2 * (n // 2 + 1), dtype=np.int64)
    n_left = 0
    # A kept line holds at least min_words chunks, so at most n // 2 + 1 lines are kept.
    kept_starts = np.empty(n // 2 + 1, dtype=np.int64)
    kept_ends = np.empty(n // 2 + 1, dtype=np.int64)
    kept_keys = np.empty(n // 2 + 1, dtype=np.int64)
    n_kept = 0
    chunk = 0  # index of the next chunk of the text
    k = 0
    while k < n:
        start = k
        while k < n and not flags[codes[k]] & LINEBREAK:
            k += 1
        end = k
        if k < n:
            k += 2 if codes[k] == _CR and k + 1 < n and codes[k + 1] == _NEWLINE else 1
        # Chunks of this line: runs of non-space characters.
        first_chunk = chunk
        words = 0
        longest = 0
        run = 0
        bracket = special = curly = False
        for t in range(start, end):
            f = flags[codes[t]]
            if f & SPACE:
                run = 0
            else:
                if run == 0:
                    words += 1
                run += 1
                longest = max(longest, run)
                if codes[t] == 0x5B:
                    bracket = True
                elif codes[t] == 0x7B:
                    curly = True
                if f & LOWERS_TO_ASCII:
                    special = True
        chunk += words
        if words < min_words or longest > max_word:
            continue
        left, right = start, end
        while left < right and flags[codes[left]] & SPACE:
            left += 1
        while right > left and flags[codes[right - 1]] & SPACE:
            right -= 1
        if special or (bracket and _has_citation(codes, flags, left, right)):
            left_over[n_left] = left
            left_over[n_left + 1] = right
            n_left += 2
            continue
        last = codes[right - 1]
        strict = False
        for c in end_punctuation:
            if last == c:
                strict = True
        if (
            right - left >= 3
            and last == _DOT
            and codes[right - 2] == _DOT
            and codes[right - 3] == _DOT
        ):
            strict = False
        found = _patterns_in(codes, left, right, patterns, pattern_ends, first_letters)
        if found & 1:  # lorem ipsum
            out[C4NT_LOREM] = 1
            if strict:
                out[C4_LOREM] = 1
        if found & 2:  # javascript
            if strict:
                out[C4_JAVASCRIPT] += 1
            continue
        if curly:
            out[C4NT_CURLY] = 1
            if strict:
                out[C4_CURLY] = 1
        if found > 3:  # a policy phrase
            if strict:
                out[C4_POLICY] += 1
            continue
        # spaCy's Sentencizer over the line's tokens; a gap between chunks other than one
        # " " is a whitespace token (neither punctuation nor sentence-final).
        sentences = 1
        seen_period = False
        t = left
        for c in range(first_chunk, chunk):
            if c > first_chunk:
                gap = 0
                single = True
                while flags[codes[t]] & SPACE:
                    if codes[t] != 0x20:
                        single = False
                    gap += 1
                    t += 1
                if (gap != 1 or not single) and seen_period:
                    sentences += 1
                    seen_period = False
            while t < right and not flags[codes[t]] & SPACE:
                t += 1
            for i in range(chunk_starts[c], chunk_starts[c + 1]):
                f = token_flags[ids[i]]
                in_punct = f & IN_SENTENCE_PUNCT
                if seen_period and not in_punct and not f & IS_PUNCT:
                    sentences += 1
                    seen_period = False
                elif in_punct:
                    seen_period = True
        if strict:
            out[C4_KEPT] += 1
            out[C4_SENTENCES] += sentences
        out[C4NT_KEPT] += 1
        out[C4NT_SENTENCES] += sentences
        if flags[last] & TERMINAL:
            out[C4NT_PUNCT] += 1
        if right - left <= short_line:
            out[C4NT_SHORT] += 1
        out[C4NT_CHARS] += right - left
        out[C4NT_TOKENS] += chunk_starts[chunk] - chunk_starts[first_chunk]
        kept_starts[n_kept] = left
        kept_ends[n_kept] = right
        kept_keys[n_kept] = _line_key(codes, left, right)
        n_kept += 1
    out[C4NT_DUP_CHARS] = _repeated_chars(codes, kept_keys, kept_starts, kept_ends, n_kept)
    spans = np.empty(2 * n_kept, dtype=np.int64)
    spans[0::2] = kept_starts[:n_kept]
    spans[1::2] = kept_ends[:n_kept]
    return out, left_over[:n_left], spans


# --- the chunk table: str.split() chunk -> its token ids, looked up without Python --------------

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True, nogil=True)
def _chunk_key(codes: np.ndarray, start: int, end: int) -> np.uint64:
    h = _FNV_OFFSET
    for k in range(start, end):
        h = (h ^ np.uint64(codes[k])) * _FNV_PRIME
    return h


@njit(cache=True, nogil=True)
def _chunk_slot(key: np.uint64, mask: int) -> int:
    return np.int64((key * _GOLDEN) >> np.uint64(24)) & mask


@njit(cache=True, nogil=True)
def insert_chunk(slots, keys, chars, char_starts, chunk) -> None:
    """Put chunk number `chunk` (its characters already in chars) into the open-addressing
    table `slots` (-1: empty; at most half full, see `chunk_slots`)."""
    a, b = char_starts[chunk], char_starts[chunk + 1]
    key = _chunk_key(chars, a, b)
    keys[chunk] = key
    mask = len(slots) - 1
    slot = _chunk_slot(key, mask)
    while slots[slot] != -1:
        slot = (slot + 1) & mask
    slots[slot] = chunk


@njit(cache=True, nogil=True)
def chunk_slots(keys, count, size) -> np.ndarray:
    """A new table of `size` slots (a power of two) holding chunks 0..count-1."""
    slots = np.full(size, -1, dtype=np.int64)
    mask = size - 1
    for chunk in range(count):
        slot = _chunk_slot(keys[chunk], mask)
        while slots[slot] != -1:
            slot = (slot + 1) & mask
        slots[slot] = chunk
    return slots


@njit(cache=True, nogil=True)
def document_ids(codes, flags, slots, keys, chars, char_starts, ids, id_starts):
    """str.split() of the text (runs of str.isspace characters) and each chunk's token ids
    from the chunk table: (the text's token ids, the index of each chunk's first token with the
    total at the end, (start, end) of every chunk not in the table). Where a chunk is missing
    its ids are left out; the caller tokenizes the missing ones, adds them, and asks again."""
    n = len(codes)
    out = np.empty(n, dtype=np.int32)  # a token has at least one character
    chunk_starts = np.empty(n // 2 + 2, dtype=np.int64)
    missing = np.empty(n + 2, dtype=np.int64)
    n_out = n_chunks = n_missing = 0
    mask = len(slots) - 1
    j = 0
    while j < n:
        if flags[codes[j]] & SPACE:
            j += 1
            continue
        start = j
        while j < n and not (flags[codes[j]] & SPACE):
            j += 1
        chunk_starts[n_chunks] = n_out
        n_chunks += 1
        key = _chunk_key(codes, start, j)
        slot = _chunk_slot(key, mask)
        found = -1
        while slots[slot] != -1:
            chunk = slots[slot]
            a, b = char_starts[chunk], char_starts[chunk + 1]
            if keys[chunk] == key and b - a == j - start:
                same = True
                for k in range(j - start):
                    if chars[a + k] != codes[start + k]:
                        same = False
                        break
                if same:
                    found = chunk
                    break
            slot = (slot + 1) & mask
        if found < 0:
            missing[n_missing] = start
            missing[n_missing + 1] = j
            n_missing += 2
            continue
        for k in range(id_starts[found], id_starts[found + 1]):
            out[n_out] = ids[k]
            n_out += 1
    chunk_starts[n_chunks] = n_out
    return out[:n_out].copy(), chunk_starts[: n_chunks + 1].copy(), missing[:n_missing].copy()
