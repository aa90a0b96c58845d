"""One compiled pass over a text's code points that tells the PII detector where to look.

The detector (pii.py) runs a regex scan for digit-led and capital-led values and a substring
test per literal a type needs ("@", "AKIA", "ghp_", "password" in the lowercase text, ...).
On prose nearly all of that finds nothing, and each scan is a pass of its own. This kernel
makes one pass and returns, for the same text:

- the positions where a digit-led value can start: a "+", "(" or decimal digit not after a word
  character or "." (the patterns' shared lookbehind), with the patterns that can match there,
  each by what it needs around its first character: a phone number seven decimal digits with
  at most three other characters between neighbours (the contact-word pattern needs seven, the
  formatted ones are only taken with eight or more) and not after "+@/#-" or "digit, space"; an
  IPv4 address a "." within three characters; a card twelve digits with at most one separator
  between neighbours; an SSN "ddd-"; a DNI eight digits; cards, SSNs and DNIs not after "-";
- for each digit-led position with a phone pattern, whether a contact word can precede it: the
  contact-word pattern (pii.py `_phone_after_cue`) takes a number only after a word of
  PHONE_LABELS / PHONE_VERBS / PHONE_TERSE_LABELS in the 64 characters before it, so one of
  their literal prefixes ("tel", "phone", "call", "моб", ...) must start there, in the
  lowercase text, at a word start (not after a word character or "-") or at the window's
  first character;
- the positions where a capital-led value can start: an ASCII capital not after a word
  character, then a capital and two digits (optionally after one space: IBAN, UK NINO), or
  X/Y/Z and seven digits (a Spanish NIE);
- which of the needles occur (case-sensitive, or ASCII-case-insensitive for the ones the
  detector looks for in `text.lower()`), whether what an IPv6 address needs occurs ("::", or
  seven groups of ":" and one to four hex digits), and whether a character occurs whose
  lowercase holds an ASCII character (then an ASCII-case-insensitive test is not the same as
  a test on `text.lower()`, and the caller falls back to Python).

A superset of the places a pattern can match, so the detector's spans are exactly those of the
full scans (tests/spark_jobs/annotators/test_pii.py and bench.annotation_equivalence compare).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import njit

from spark_jobs.annotators import charclass
from spark_jobs.annotators.charclass import ALNUM, DECIMAL, LOWERS_TO_ASCII

# Bits of the fourth value `scan` returns.
HAS_IPV6_HINT, HAS_LOWERS_TO_ASCII = 1, 2
# Which patterns may match at a candidate position (its low MEMBER_BITS bits; the position is
# the rest): digit-led, then capital-led ones. PHONE_CUE: PHONE, and a contact word's prefix
# starts within CUE_WINDOW characters before the position.
PHONE, IPV4, CARD, US_SSN, ES_DNI, PHONE_CUE = 1, 2, 4, 8, 16, 32
NIE, IBAN, UK_NINO = 1, 2, 4
MEMBER_BITS = 6
CUE_WINDOW = 64
# A cue table value: the character's lowercase is not one character (LATIN CAPITAL LETTER I
# WITH DOT ABOVE); a prefix compared with it is taken as found there.
_ANY = 255

_PLUS, _OPEN, _DOT, _UNDERSCORE, _SPACE, _COLON, _HYPHEN = 0x2B, 0x28, 0x2E, 0x5F, 0x20, 0x3A, 0x2D


@njit(cache=True, nogil=True)
def _digit(codes: np.ndarray, k: int, flags: np.ndarray) -> bool:
    return k < len(codes) and (flags[codes[k]] & DECIMAL) != 0


@njit(cache=True, nogil=True)
def _capital(codes: np.ndarray, k: int) -> bool:
    return k < len(codes) and 0x41 <= codes[k] <= 0x5A


@njit(cache=True, nogil=True)
def _hex(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x46 or 0x61 <= c <= 0x66


@njit(cache=True, nogil=True)
def _ipv6_colons(codes: np.ndarray, j: int) -> bool:
    """What every IPv6 address the detector takes holds, from the colon at j: "::" (the
    compressed forms), or seven groups of a colon and one to four hex digits (the full form)."""
    n = len(codes)
    if j + 1 < n and codes[j + 1] == _COLON:
        return True
    k = j
    for group in range(7):
        if k >= n or codes[k] != _COLON:
            return False
        end = k + 1
        while end < n and end <= k + 5 and _hex(codes[end]):
            end += 1
        digits = end - k - 1
        if digits == 0 or (group < 6 and digits > 4):
            return False
        k = end
    return True


@njit(cache=True, nogil=True)
def _digit_chain(codes: np.ndarray, j: int, flags: np.ndarray, count: int, gap: int) -> bool:
    """A decimal digit at j, j+1 or j+2, and count - 1 more, each after at most `gap` other
    characters."""
    n = len(codes)
    k = j
    while k < n and k <= j + 2 and not (flags[codes[k]] & DECIMAL):
        k += 1
    if k >= n or k > j + 2:
        return False
    for _ in range(count - 1):
        nxt = k + 1
        while nxt < n and nxt <= k + gap + 1 and not (flags[codes[nxt]] & DECIMAL):
            nxt += 1
        if nxt >= n or nxt > k + gap + 1:
            return False
        k = nxt
    return True


@njit(cache=True, nogil=True)
def _digits(codes: np.ndarray, start: int, end: int, flags: np.ndarray) -> bool:
    for k in range(start, end):  # noqa: SIM110 (numba compiles no generator in all())
        if not _digit(codes, k, flags):
            return False
    return True


@njit(cache=True, nogil=True)
def _digit_members(codes: np.ndarray, j: int, flags: np.ndarray) -> int:
    """The digit-led patterns that can match from j (a "+", "(" or digit not after a word
    character or "."), by what each needs right after its first character and before it."""
    before = codes[j - 1] if j > 0 else 0x0A
    lead_digit = (flags[codes[j]] & DECIMAL) != 0
    members = 0
    # Phone: not after [+@/#-] (word characters and "." are out already), not a digit after
    # "digit, space" (a digit group inside a longer number), and seven digits close together
    # (the contact-word pattern needs seven, the formatted ones are only taken with eight).
    if (
        before != _PLUS
        and before != 0x40  # @
        and before != 0x2F  # /
        and before != 0x23  # #
        and before != 0x2D  # -
        and not (lead_digit and j > 1 and before == _SPACE and flags[codes[j - 2]] & DECIMAL)
        and _digit_chain(codes, j, flags, 7, 3)
    ):
        members |= PHONE
    if not lead_digit:
        return members
    # IPv4: up to two more digits, then "." (the full shape is checked by the regex).
    for k in range(j + 1, min(j + 4, len(codes))):
        if codes[k] == _DOT:
            members |= IPV4
            break
        if not (flags[codes[k]] & DECIMAL):
            break
    if before == 0x2D:  # cards, SSNs and DNIs are not taken after "-"
        return members
    if _digit_chain(codes, j, flags, 12, 1):  # 12-19 digits, in groups or not
        members |= CARD
    if _digits(codes, j + 1, j + 3, flags) and j + 3 < len(codes) and codes[j + 3] == 0x2D:
        members |= US_SSN
    if _digits(codes, j + 1, j + 8, flags):
        members |= ES_DNI
    return members


@njit(cache=True, nogil=True)
def _capital_members(codes: np.ndarray, j: int, flags: np.ndarray) -> int:
    """The capital-led patterns that can match from j (a capital not after a word character):
    a capital and two digits, one space allowed before them (IBAN; UK NINO), or X/Y/Z and
    seven digits (NIE)."""
    members = 0
    if _capital(codes, j + 1):
        if _digit(codes, j + 2, flags) and _digit(codes, j + 3, flags):
            members |= IBAN | UK_NINO
        elif j + 2 < len(codes) and codes[j + 2] == _SPACE and _digits(codes, j + 3, j + 5, flags):
            members |= UK_NINO
    if codes[j] >= 0x58 and _digits(codes, j + 1, j + 8, flags):  # X, Y, Z
        members |= NIE
    return members


@njit(cache=True, nogil=True)
def _cue_at(codes: np.ndarray, p: int, cue_table: np.ndarray, cues: np.ndarray) -> bool:
    """A cue prefix starts at p. With t, u = cue_table of the characters at p and p + 1,
    cues[0, t, u] is the row of cues listing the prefixes that start with t, u (0: none),
    each ended by 0."""
    t = cue_table[codes[p]]
    if t == 0:
        return False
    if t == _ANY:
        return True
    n = len(codes)
    if p + 1 >= n:
        return False
    u = cue_table[codes[p + 1]]
    if u == _ANY:
        return True
    row = cues[0, t, u]
    if row == 0:
        return False
    for s in range(cues.shape[1]):
        if cues[row, s, 0] == 0:
            return False
        k = 2
        while k < cues.shape[2] and cues[row, s, k] != 0:
            if p + k >= n:
                break
            x = cue_table[codes[p + k]]
            if x == _ANY:
                return True
            if x != cues[row, s, k]:
                break
            k += 1
        if k == cues.shape[2] or cues[row, s, k] == 0:
            return True
    return False


@njit(cache=True, nogil=True)
def _cue_before(
    codes: np.ndarray,
    j: int,
    flags: np.ndarray,
    cue_table: np.ndarray,
    cues: np.ndarray,
    state: np.ndarray,
) -> bool:
    """A cue prefix starts in the CUE_WINDOW characters before j: at a word start (not after a
    word character or "-"), or at the window's first character (the contact-word check sees
    no character before that one). Positions are looked at once, lazily, for increasing j:
    state[0] is the last cue start found, state[1] where the looking stopped."""
    p = max(state[1], j - CUE_WINDOW, 0)
    while p < j:
        before = codes[p - 1] if p > 0 else _SPACE
        if (
            before != _UNDERSCORE
            and before != _HYPHEN
            and not (flags[before] & ALNUM)
            and _cue_at(codes, p, cue_table, cues)
        ):
            state[0] = p
        p += 1
    state[1] = max(state[1], j)
    if state[0] >= j - CUE_WINDOW:
        return True
    return j - CUE_WINDOW > 0 and _cue_at(codes, j - CUE_WINDOW, cue_table, cues)


@njit(cache=True, nogil=True)
def scan(
    codes: np.ndarray,
    flags: np.ndarray,
    needle_codes: np.ndarray,
    needle_starts: np.ndarray,
    needle_folded: np.ndarray,
    by_pair: np.ndarray,
    by_pair_starts: np.ndarray,
    cue_table: np.ndarray,
    cues: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.int64, np.int64]:
    """(digit-led candidates, capital-led ones, needle bits, HAS_* bits); a candidate is
    position << MEMBER_BITS | the bits of the patterns that can match there.

    Needle i is needle_codes[needle_starts[i]:needle_starts[i + 1]], compared
    ASCII-case-insensitively when needle_folded[i] (its own characters are lowercase); the
    needles that may start at c < 128 followed by d are by_pair[by_pair_starts[k]:...
    by_pair_starts[k + 1]] for k = c * 129 + d (d = 128: the text ends or a non-ASCII
    character follows); a folded needle is listed under both cases of its letters. Contact
    words' prefixes are `cue_table` and `cues` (see `_pack_cues`)."""
    n = len(codes)
    # Digit-led positions from the front, capital-led ones from the back: one array, never
    # reallocated (an array reassigned in the loop costs reference counting per character).
    leads = np.empty(n, dtype=np.int64)
    n_digit = 0
    n_capital = 0
    found = np.int64(0)
    extra = np.int64(0)
    # What the character before j was (before the text: neither).
    after_word = False
    after_dot = False
    cue_state = np.array([-CUE_WINDOW - 1, 0], dtype=np.int64)  # see _cue_before
    for j in range(n):
        c = codes[j]
        f = flags[c]
        if f & LOWERS_TO_ASCII:
            extra |= HAS_LOWERS_TO_ASCII
        if c < 128:
            d = codes[j + 1] if j + 1 < n and codes[j + 1] < 128 else 128
            pair = c * 129 + d
            for t in range(by_pair_starts[pair], by_pair_starts[pair + 1]):
                i = by_pair[t]
                if (found >> i) & 1:
                    continue
                a, b = needle_starts[i], needle_starts[i + 1]
                if j + (b - a) > n:
                    continue
                same = True
                for k in range(b - a):
                    x = codes[j + k]
                    if needle_folded[i] and 0x41 <= x <= 0x5A:
                        x |= 0x20
                    if x != needle_codes[a + k]:
                        same = False
                        break
                if same:
                    found |= np.int64(1) << i
            if c == _COLON and not (extra & HAS_IPV6_HINT) and _ipv6_colons(codes, j):
                extra |= HAS_IPV6_HINT
            if (c == _PLUS or c == _OPEN or (f & DECIMAL)) and not (  # noqa: SIM109
                after_word or after_dot
            ):
                members = _digit_members(codes, j, flags)
                if members:
                    if members & PHONE and _cue_before(codes, j, flags, cue_table, cues, cue_state):
                        members |= PHONE_CUE
                    leads[n_digit] = j << MEMBER_BITS | members
                    n_digit += 1
            elif 0x41 <= c <= 0x5A and not after_word:
                members = _capital_members(codes, j, flags)
                if members:
                    n_capital += 1
                    leads[n - n_capital] = j << MEMBER_BITS | members
        elif f & DECIMAL and not (after_word or after_dot):
            # A non-ASCII decimal digit (re's \d is any Unicode decimal) leads like "1".
            members = _digit_members(codes, j, flags)
            if members:
                if members & PHONE and _cue_before(codes, j, flags, cue_table, cues, cue_state):
                    members |= PHONE_CUE
                leads[n_digit] = j << MEMBER_BITS | members
                n_digit += 1
        after_word = c == _UNDERSCORE or (f & ALNUM) != 0
        after_dot = c == _DOT
    return leads[:n_digit].copy(), leads[n - n_capital :][::-1].copy(), found, extra


class Needles:
    """A fixed list of needles and of contact-word prefixes (`cues`, lowercase) packed for
    `scan`, and `scan` over a text with them."""

    def __init__(
        self, needles: tuple[str, ...], folded: tuple[bool, ...], cues: tuple[str, ...] = ()
    ) -> None:
        if len(needles) > 62:
            raise ValueError("at most 62 needles fit the scan's bit set")
        self.index = {(n, f): i for i, (n, f) in enumerate(zip(needles, folded, strict=True))}
        self.codes = np.array([ord(c) for n in needles for c in n], dtype=np.uint32)
        self.starts = np.cumsum([0, *map(len, needles)]).astype(np.int64)
        self.folded = np.array(folded, dtype=np.bool_)
        by_pair: list[list[int]] = [[] for _ in range(128 * 129)]
        for i, (needle, fold) in enumerate(zip(needles, folded, strict=True)):
            if not needle or not needle.isascii() or (fold and needle != needle.lower()):
                raise ValueError(f"needle {needle!r}: ASCII, and lowercase when folded")
            firsts = {needle[0], needle[0].upper()} if fold else {needle[0]}
            if len(needle) == 1:
                pairs = [ord(a) * 129 + d for a in firsts for d in range(129)]
            else:
                seconds = {needle[1], needle[1].upper()} if fold else {needle[1]}
                pairs = [ord(a) * 129 + ord(b) for a in firsts for b in seconds]
            for pair in pairs:
                by_pair[pair].append(i)
        self.by_pair = np.array([i for ids in by_pair for i in ids], dtype=np.int64)
        self.by_pair_starts = np.cumsum([0, *map(len, by_pair)]).astype(np.int64)
        self.cue_table, self.cues = _pack_cues(cues)

    def bits(self, needles: tuple[str, ...], folded: bool) -> int:
        """The bit set of these needles (0 for none)."""
        return sum(1 << self.index[n, folded] for n in dict.fromkeys(needles))

    def refold(self, found: int, lower: str) -> int:
        """`found` with the folded needles' bits taken from `needle in lower` instead."""
        for (needle, folded), i in self.index.items():
            if folded:
                found = found | 1 << i if needle in lower else found & ~(1 << i)
        return found

    def scan(self, text: str) -> tuple[np.ndarray, np.ndarray, int, int]:
        return scan(
            charclass.as_codes(text),
            _flags(),
            self.codes,
            self.starts,
            self.folded,
            self.by_pair,
            self.by_pair_starts,
            self.cue_table,
            self.cues,
        )


@cache
def _flags() -> np.ndarray:
    return charclass.char_flags()


def _pack_cues(cues: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(cue_table, cues) for `scan`: cue_table[c] numbers the character chr(c).lower() among
    the prefixes' characters (from 1; 0: none of them; _ANY: a lowercase of several
    characters); cues[0, t, u] is the row of `cues` that lists the prefixes starting with
    characters t, u (0: none), each as those numbers ended by 0."""
    if not cues:  # PHONE_CUE is never set (a caller that does not ask for it)
        return np.zeros(charclass.CODE_POINTS, dtype=np.uint8), np.zeros((1, 1, 1), np.uint8)
    if any(len(cue) < 2 or cue != cue.lower() for cue in cues):
        raise ValueError(f"cue prefixes must be lowercase, two characters or more: {cues!r}")
    number = {ch: i + 1 for i, ch in enumerate(sorted({ch for cue in cues for ch in cue}))}
    if len(number) >= _ANY:
        raise ValueError("too many distinct characters in the cue prefixes")
    table = np.zeros(charclass.CODE_POINTS, dtype=np.uint8)
    for code, lowered in enumerate(map(str.lower, charclass._all_characters())):
        if len(lowered) != 1:
            table[code] = _ANY
        elif lowered in number:
            table[code] = number[lowered]
    by_pair: dict[tuple[int, int], list[str]] = {}
    for cue in sorted(set(cues)):
        by_pair.setdefault((number[cue[0]], number[cue[1]]), []).append(cue)
    if len(by_pair) >= _ANY:
        raise ValueError("too many distinct starts of cue prefixes")
    width = max(len(number) + 1, max(map(len, cues)) + 1)  # every row ends with a 0
    depth = max(len(number) + 1, max(map(len, by_pair.values())) + 1)
    packed = np.zeros((len(by_pair) + 1, depth, width), np.uint8)
    for row, ((t, u), group) in enumerate(by_pair.items(), start=1):
        packed[0, t, u] = row
        for s, cue in enumerate(group):
            packed[row, s, : len(cue)] = [number[ch] for ch in cue]
    return table, packed
