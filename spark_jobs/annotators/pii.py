"""Personal data and secrets in text: typed spans, per-document counts, and redaction.

Detection is a regex candidate pass per type followed by the checks the format allows (Luhn for
cards, mod-97 and country lengths for IBANs, the area/group/serial rules of US SSNs, the
11-test of Dutch BSNs, the check letter of Spanish DNI/NIE numbers, the prefix rules of UK
NINOs). The same detector runs at annotation (`pii_counts`), at selection (`redact`) and in
the quality gate (quality/suites.py), so what redaction leaves is exactly what the gate
accepts. Patterns are tuned against technical prose: version numbers, slices, hex literals,
dates and long integers must not look like addresses, keys or card numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

# --- patterns ------------------------------------------------------------------------------

_SECRET_KEY_NAMES = (
    r"(?:[A-Za-z0-9]+[_.-])*"
    r"(?:pass(?:word|wd|phrase)?|pwd|secret(?:[_.-]?key)?|api[_.-]?key|apikey|access[_.-]?key"
    r"(?:[_.-]?id)?|auth[_.-]?token|access[_.-]?token|secret[_.-]?token|private[_.-]?key"
    r"|client[_.-]?secret|token)"
)

PII_PATTERNS: dict[str, str] = {
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
    # International (+CC ...), NANP (415-555-0100, (415)555-0100), and trunk-prefix national
    # numbers with separators (020 7946 0958, 04 15 39 15 00, 080-9141-7776). Runs of bare
    # digits are numbers, not phone numbers, unless they start with "+". The digit count is
    # checked after the match.
    "phone": (
        r"(?<![\w+@/.-])(?:"
        r"\+[1-9]\d{0,2}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,6}\)?){1,6}"
        r"|(?:00|011)[ .-]?\d{1,3}(?:[ .-]\d{1,6}){2,5}"
        r"|(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
        r"|\(0\d{1,5}\)(?:[ -]?\d{2,8}){1,4}"
        r"|0\d{1,5}(?:[ .-]\d{2,8}){1,4}"
        r"|\d{2}[ ]\d{4,5}-\d{4}"
        r")(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w@-]|\.\d)"
    ),
    # Exactly four octets: the lookarounds keep version numbers (3.11.7) and longer dotted
    # runs (1.2.3.4.5) out.
    "ipv4": (
        r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
        r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d]|\.\d)"
    ),
    # Full eight-group form, or a compressed form that starts with a 3-4 digit group
    # (fe80::1, 2001:db8::7); short forms like 1::2 are Python slices.
    "ipv6": (
        r"(?<![:\w])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
        r"|[0-9A-Fa-f]{3,4}(?::[0-9A-Fa-f]{1,4}){0,5}::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})"
        r"(?![:\w])"
    ),
    # 12-19 digits, contiguous or in groups of 4 (and the 4-6-5 / 4-6-4 Amex and Diners
    # groupings); Luhn and the card networks' prefixes are checked after the match.
    "card": (
        r"(?<![\w.-])(?:\d{12,19}"
        r"|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"
        r"|\d{4}([ -])\d{6}\2\d{4,5})(?![\w]|[.-]\d)"
    ),
    # Country code, check digits, then the BBAN contiguous or in groups of four; the
    # country's length and the mod-97 check are applied after the match.
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b",
    "us_ssn": r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w]|-\d)",
    "uk_nino": r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    # A bare nine-digit number is only a BSN when it is labelled as one.
    "nl_bsn": (
        r"(?i:\b(?:bsn|burgerservicenummer|sofi-?nummer)\b)[^\n\d]{0,30}?"
        r"(\d{4}\.?\d{2}\.?\d{3}|\d{9})\b"
    ),
    "es_dni": r"(?<![\w-])(?:\d{8}|[XYZ]\d{7})-?[A-Z](?![\w-])",
    # The whole block, or through its base64 lines when the END line is missing.
    "private_key": (
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:\r?\n[ \t]*[A-Za-z0-9+/=:,\- ]*)*)"
    ),
    "aws_key": r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[0-9A-Z]{16}\b",
    "github_token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b",
    "slack_token": (
        r"\bxox[abposr]-[0-9A-Za-z-]{10,}"
        r"|https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"
    ),
    "stripe_key": r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}\b",
    # Credentials assigned in code and config (password = "...", api_key: ..., SECRET_KEY=...)
    # and bearer tokens / JWTs; the span is the value only, so the key name stays readable.
    "secret": (
        r"\b(?i:" + _SECRET_KEY_NAMES + r")[\"']?[ \t]*(?::=|=>|[:=])[ \t]*"
        r"(?:\"([^\"\n]{4,200})\"|'([^'\n]{4,200})'|([^\s\"',;#]{6,200}))"
        r"|(?i:bearer)[ \t]+([A-Za-z0-9._~+/-]{20,}=*)"
        r"|\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
    ),
}
PII_TYPES = tuple(PII_PATTERNS)

# What a redacted span becomes. Several types share a placeholder: a reader of curated text
# needs to know that an address was there, not which pattern found it.
PLACEHOLDERS: dict[str, str] = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ipv4": "<IP_ADDRESS>",
    "ipv6": "<IP_ADDRESS>",
    "card": "<CREDIT_CARD>",
    "iban": "<IBAN>",
    "us_ssn": "<NATIONAL_ID>",
    "uk_nino": "<NATIONAL_ID>",
    "nl_bsn": "<NATIONAL_ID>",
    "es_dni": "<NATIONAL_ID>",
    "private_key": "<PRIVATE_KEY>",
    "aws_key": "<SECRET>",
    "github_token": "<SECRET>",
    "slack_token": "<SECRET>",
    "stripe_key": "<SECRET>",
    "secret": "<SECRET>",
}
# When spans overlap, the type listed first wins (then the earlier, then the longer span):
# a key block swallows whatever its base64 happens to look like, an IBAN its digit runs.
PRIORITY = (
    "private_key",
    "github_token",
    "slack_token",
    "stripe_key",
    "aws_key",
    "secret",
    "email",
    "iban",
    "card",
    "us_ssn",
    "uk_nino",
    "nl_bsn",
    "es_dni",
    "ipv6",
    "ipv4",
    "phone",
)
assert set(PRIORITY) == set(PII_TYPES) == set(PLACEHOLDERS)


@dataclass(frozen=True, order=True)
class PiiSpan:
    """`text[start:end]` is personal data or a secret of this type."""

    type: str
    start: int
    end: int


# --- checks --------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
# Maestro, UnionPay) with their lengths; contiguous digit runs must start with one.
_CARD_PREFIXES = re.compile(
    r"4\d{11}(?:\d{3})?(?:\d{3})?"  # Visa 13/16/19 (12 only via Maestro rules below)
    r"|5[1-5]\d{14}|2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # Amex
    r"|6(?:011|5\d\d|4[4-9]\d)\d{12}(?:\d{3})?"  # Discover
    r"|(?:35(?:2[89]|[3-8]\d)\d{12}(?:\d{3})?|(?:2131|1800)\d{11})"  # JCB
    r"|3(?:0[0-5]|[689]\d)\d{11}(?:\d{2})?"  # Diners 14/16
    r"|(?:5[06-9]|6\d)\d{10,17}"  # Maestro 12-19
    r"|62\d{14,17}"  # UnionPay
)


def card_valid(digits: str) -> bool:
    return 12 <= len(digits) <= 19 and bool(_CARD_PREFIXES.fullmatch(digits)) and luhn_valid(digits)


# IBAN lengths by country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(compact: str) -> bool:
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    return (
        area not in ("000", "666")
        and area[0] != "9"
        and group != "00"
        and serial != "0000"
        # Numbers the SSA reserved for advertising and never issued.
        and f"{area}{group}{serial}" not in ("078051120", "219099999", "123456789")
    )


_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def bsn_valid(digits: str) -> bool:
    if len(digits) != 9 or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_valid(value: str) -> bool:
    value = value.replace("-", "")
    number, letter = value[:-1], value[-1]
    number = str("XYZ".index(number[0])) + number[1:] if number[0] in "XYZ" else number
    return _DNI_LETTERS[int(number) % 23] == letter


def _phone_digits_ok(match: str) -> bool:
    digits = sum(ch.isdigit() for ch in match.split("x")[0].split("ext")[0])
    return 8 <= digits <= 15 if match.startswith("+") else 9 <= digits <= 15


# Values that name where a secret comes from rather than being one.
_NOT_A_SECRET = re.compile(
    r"[$%{<\[(]|\*{3}|x{4}|\.{3}|^(?:none|null|true|false|nil|undefined|required|optional|"
    r"changeme|password|secret|your[_-]?\w*|str|string|bytes|int)$|^(?:os|self|settings|config|"
    r"env|process|request|args|kwargs|params|options|opts|cls|ctx|context)\.",
    re.IGNORECASE,
)
_IDENTIFIER_CALL = re.compile(r"[A-Za-z_][\w.]*(?:\(|\[)?")


def _secret_value_ok(value: str, unquoted: bool) -> bool:
    if _NOT_A_SECRET.search(value):
        return False
    if unquoted:
        # Unquoted values in code are usually expressions (get_password(), settings.KEY):
        # a bare identifier without a digit or a symbol is not taken as a credential.
        if _IDENTIFIER_CALL.fullmatch(value) and not any(ch.isdigit() for ch in value):
            return False
        if value.endswith(("(", ")", "[", "]")):
            return False
    return len(set(value)) > 2


# --- detection -----------------------------------------------------------------------------

_Candidate = Callable[[re.Match[str]], tuple[int, int] | None]


def _whole(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span()


def _phone(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span() if _phone_digits_ok(m.group()) else None


def _card(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != len(text):  # grouped: the grouping itself says "card number"
        return m.span() if 13 <= len(digits) <= 19 and luhn_valid(digits) else None
    return m.span() if card_valid(digits) else None


def _iban(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    length = IBAN_LENGTHS.get(text[:2])
    if length is None:
        return None
    # The match may run on into following capitals or digits: take exactly the country's
    # length of non-space characters, and end the span after the last of them.
    positions = [i for i, ch in enumerate(text) if ch != " "]
    if len(positions) < length:
        return None
    compact = "".join(text[i] for i in positions[:length])
    end = positions[length - 1] + 1
    if end < len(text) and text[end] not in " " and text[end].isalnum():
        return None
    return (m.start(), m.start() + end) if iban_valid(compact) else None


def _ssn(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span() if ssn_valid(*m.groups()) else None


def _nino(m: re.Match[str]) -> tuple[int, int] | None:
    return None if m.group()[:2] in _NINO_BAD_PREFIXES else m.span()


def _bsn(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span(1) if bsn_valid(m.group(1).replace(".", "")) else None


def _dni(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span() if dni_valid(m.group()) else None


def _secret(m: re.Match[str]) -> tuple[int, int] | None:
    for group in range(1, 6):
        if m.group(group) is not None:
            value = m.group(group)
            if group <= 3 and not _secret_value_ok(value, unquoted=group == 3):
                return None
            return m.span(group)
    return None


_VALIDATORS: dict[str, _Candidate] = {
    "phone": _phone,
    "card": _card,
    "iban": _iban,
    "us_ssn": _ssn,
    "uk_nino": _nino,
    "nl_bsn": _bsn,
    "es_dni": _dni,
    "secret": _secret,
}
# Cheap substring tests: a text without any of these cannot hold the type, so its regex
# pass is skipped (most documents hold no key block, no token, no @).
_REQUIRES: dict[str, tuple[str, ...]] = {
    "email": ("@",),
    "private_key": ("PRIVATE KEY",),
    "aws_key": ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack_token": ("xox", "hooks.slack.com"),
    "stripe_key": ("k_live_", "k_test_"),
    "ipv4": (".",),
    "ipv6": (":",),
    "uk_nino": (),
}


@cache
def _compiled() -> dict[str, re.Pattern[str]]:
    return {name: re.compile(pattern) for name, pattern in PII_PATTERNS.items()}


def _candidates(text: str, types: Iterable[str]) -> Iterator[PiiSpan]:
    compiled = _compiled()
    for kind in types:
        needles = _REQUIRES.get(kind)
        if needles and not any(n in text for n in needles):
            continue
        validate = _VALIDATORS.get(kind, _whole)
        for m in compiled[kind].finditer(text):
            span = validate(m)
            if span is not None and span[1] > span[0]:
                yield PiiSpan(kind, *span)


def _resolve(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """Non-overlapping spans in text order: by type priority, then earlier, then longer."""
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (rank[s.type], s.start, -s.end)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def _types(types: Iterable[str] | None) -> tuple[str, ...]:
    if types is None:
        return PII_TYPES
    chosen = tuple(types)
    unknown = set(chosen) - set(PII_TYPES)
    if unknown:
        raise ValueError(f"unknown PII types {sorted(unknown)}; known: {', '.join(PII_TYPES)}")
    return chosen


def pii_spans(text: str, types: Iterable[str] | None = None) -> list[PiiSpan]:
    """The personal data and secrets in `text`, as non-overlapping typed spans in text order.

    `types` limits detection to some of `PII_TYPES` (default: all). Overlaps between types
    are resolved by `PRIORITY`, so the spans (and their counts) do not depend on `types`
    only where the chosen types do not overlap.
    """
    if not text:
        return []
    return _resolve(_candidates(text, _types(types)))


def pii_counts(text: str) -> dict[str, int]:
    """How many spans of each PII type `text` holds (every type present, zero or more)."""
    counts = dict.fromkeys(PII_TYPES, 0)
    for span in pii_spans(text):
        counts[span.type] += 1
    return counts


def redact(text: str, types: Iterable[str] | None = None) -> tuple[str, dict[str, int]]:
    """`text` with each PII span of `types` (default: all) replaced by its type's placeholder
    (`PLACEHOLDERS`), and how many spans of each type were replaced (every requested type
    present). Redacting redacted text changes nothing."""
    chosen = _types(types)
    counts = dict.fromkeys(chosen, 0)
    spans = pii_spans(text, chosen)
    if not spans:
        return text, counts
    parts, last = [], 0
    for span in spans:
        parts += [text[last : span.start], PLACEHOLDERS[span.type]]
        last = span.end
        counts[span.type] += 1
    parts.append(text[last:])
    return "".join(parts), counts


def residual_counts(text: str, types: Iterable[str] | None = None) -> dict[str, int]:
    """Spans of `types` still in `text` (the quality gate's measure after redaction)."""
    return dict(Counter(span.type for span in pii_spans(text, types)))
