"""Personal data and secrets in text: the patterns, and per-document span counts.

The same patterns run here (Python `re`, at annotation) and in the quality gate (Spark
`rlike`, Java regex), so they are written in the subset both engines share. They are tuned
against technical prose: version numbers, slices, hex literals and long integers must not
look like addresses, keys or card numbers.
"""

from __future__ import annotations

import re
from functools import cache

PII_PATTERNS: dict[str, str] = {
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
    # Separators are required: runs of bare digits in prose are numbers, not phone numbers.
    "phone": (
        r"(\+\d{1,3}[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"
        r"|\+\d{1,3}[ .-]\d{2,4}[ .-]\d{3,4}[ .-]\d{3,4}\b"
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
        r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b"
        r"|\b[0-9A-Fa-f]{3,4}(?::[0-9A-Fa-f]{1,4}){0,5}::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}\b"
    ),
    # Grouped 16-digit and 4-6-5 (Amex) forms, and contiguous numbers only with a card
    # network's prefix and length: technical text is full of long integers (2**53 + 1).
    "card": (
        r"\b\d{4}([ -])\d{4}\1\d{4}\1\d{4}\b"
        r"|\b\d{4}([ -])\d{6}\2\d{5}\b"
        r"|\b(?:4\d{12}(?:\d{3})?|5[1-5]\d{14}|3[47]\d{13}|6011\d{12})\b"
    ),
    "private_key": r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----",
    "aws_key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "github_token": r"\bgh[pousr]_[A-Za-z0-9]{36}\b",
}
PII_TYPES = tuple(PII_PATTERNS)


@cache
def _compiled() -> dict[str, re.Pattern[str]]:
    return {name: re.compile(pattern) for name, pattern in PII_PATTERNS.items()}


def pii_counts(text: str) -> dict[str, int]:
    """How many spans of each PII type `text` holds (every type present, zero or more)."""
    return {name: sum(1 for _ in pattern.finditer(text)) for name, pattern in _compiled().items()}
