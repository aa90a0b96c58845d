"""Personal data and secrets in text: typed spans, per-document counts, and redaction.

Detection is a regex candidate pass per type followed by the checks the format allows (Luhn for
cards, mod-97 and country lengths for IBANs, the area/group/serial rules of US SSNs, the
11-test of Dutch BSNs, the check letter of Spanish DNI/NIE numbers, the prefix rules of UK
NINOs). The same detector runs at annotation (`pii_counts`), at selection (`redact`) and in
the quality gate (quality/suites.py), so what redaction leaves is exactly what the gate
accepts. Patterns are tuned against technical prose: version numbers, slices, hex literals,
dates and long integers must not look like addresses, keys or card numbers. Phone numbers
written bare are taken after a contact word in 15 European languages ("Kontakt:", "Tél.",
"móvil", "reach me at"); see docs/pii.md for what is deliberately not taken.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from operator import itemgetter

from spark_jobs.annotators import pii_scan

# --- patterns ------------------------------------------------------------------------------

# Speed: one compiled pass over the text (pii_scan) finds where a digit-led or capital-led
# pattern (`_LED`) can start and which of them can match there, which literal key names and
# prefixes occur (in the text, or in its lowercase for the credentials), and whether an IPv6
# colon group occurs; a regex runs only there. Every pattern starts with its first character
# and checks the context before a match by a lookbehind after it, so it can be tried at a
# position on its own (`pattern.match(text, position)`).

# The value of a credential assigned in code or config (password = "...", api_key: ...).
_ASSIGNED = (
    r"[\"']?[ \t]*(?::=|=>|[:=])[ \t]*"
    r"(?:\"([^\"\n]{4,200})\"|'([^'\n]{4,200})'|([^\s\"',;#]{6,200}))"
)

# Patterns that share a scan: (scan, index of the pattern within its type) -> (the
# lookbehind on the first character, the rest). The pattern is scan's class + both.
_LEAD_CLASS = {"digit": r"[+(\d]", "capital": r"[A-Z]"}
_LEAD_LOOKBEHIND = {"digit": r"(?<![\w.].)", "capital": r"(?<!\w.)"}
_LED: dict[tuple[str, int], tuple[str, str, str]] = {
    # International (+CC ...), NANP (415-555-0100, (415)555-0100), trunk-prefix national
    # numbers with separators (020 7946 0958, 04 15 39 15 00, 080-9141-7776), and Brazilian
    # (11 3915-0008). Runs of bare digits are numbers, not phone numbers, unless they start
    # with "+". The digit count is checked after the match.
    ("phone", 0): (
        "digit",
        r"(?<![\w+@/.#-].)(?<!\d[ .-]\d)",
        r"(?:(?<=\+)[1-9]\d{0,2}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,6}\)?){1,6}"
        r"|(?<=\()(?:\d{3}\)[ ]?\d{3}[ .-]\d{4}|0\d{1,5}\)(?:[ -]?\d{2,8}){1,4})"
        r"|(?<=0)0[ .-]?[1-9]\d{0,2}(?:[ .-]\d{1,6}){2,5}"
        r"|(?<=\d)\d{2}[ .-]\d{3}[ .-]\d{4}|(?<=1)[ .-](?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
        r"|(?<=0)\d{1,5}(?:[ .-]\d{2,8}){1,4}"
        r"|(?<=\d)\d[ ]\d{4,5}-\d{4}|(?<=\d)\d-\d{4}-\d{4}"
        r")(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w@-]|\.\d)",
    ),
    # Any 7-15 digits in groups (national numbers without a trunk prefix, 609 141 777, bare
    # digits, 0301234567): a phone number only after a contact word (`_phone_after_cue`).
    ("phone", 1): (
        "digit",
        r"(?<![\w+@/.#-].)(?<!\d[ .-]\d)",
        r"(?:(?<=\()\+?\d|(?<=\+)\d|(?<=\d))(?:(?:[ ()/-]|\.(?=\d)){0,2}\d){6,14}"
        r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w@-]|\.\d)",
    ),
    # Exactly four octets (values checked after the match): the lookarounds keep version
    # numbers (3.11.7, 1.2.3.4.dev0) and longer dotted runs (1.2.3.4.5) out.
    ("ipv4", 0): ("digit", r"(?<=\d)", r"\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\d|\.\w)"),
    # 12-19 digits, contiguous or in groups of 4 (and the 4-6-5 / 4-6-4 Amex and Diners
    # groupings); Luhn and the card networks' prefixes are checked after the match.
    ("card", 0): (
        "digit",
        r"(?<=\d)(?<![\w.-].)",
        r"(?:\d{11,18}|\d{3}(?P<g4>[ -])\d{4}(?P=g4)\d{4}(?P=g4)\d{1,4}(?:(?P=g4)\d{1,3})?"
        r"|\d{3}(?P<g6>[ -])\d{6}(?P=g6)\d{4,5})(?![\w]|[.-]\d)",
    ),
    ("us_ssn", 0): ("digit", r"(?<=\d)(?<![\w-].)", r"\d{2}-\d{2}-\d{4}(?![\w]|-\d)"),
    ("es_dni", 0): ("digit", r"(?<=\d)(?<![\w-].)", r"\d{7}-?[A-Z](?![\w-])"),
    ("es_dni", 1): ("capital", r"(?<=[XYZ])(?<![\w-].)", r"\d{7}-?[A-Z](?![\w-])"),
    # Country code, check digits, then the BBAN contiguous or in groups of four; the
    # country's length and the mod-97 check are applied after the match.
    ("iban", 0): ("capital", "", r"[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}\b"),
    ("uk_nino", 0): (
        "capital",
        r"(?<=[A-CEGHJ-PR-TW-Z])",
        r"[A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    ),
}


def _led(kind: str, index: int = 0) -> str:
    scan, lookbehind, rest = _LED[kind, index]
    return _LEAD_CLASS[scan] + _LEAD_LOOKBEHIND[scan] + lookbehind + rest


PII_PATTERNS: dict[str, tuple[str, ...]] = {
    # Found from each "@" (see `_emails`); this pattern is the whole address.
    "email": (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",),
    # Plus, after a contact word, any 7-15 digits, bare or in groups (`_phone_after_cue`).
    "phone": (_led("phone"), _led("phone", 1)),
    "ipv4": (_led("ipv4"),),
    # Full eight-group form, or a compressed form with at least three groups (fe80::1:2,
    # 2001:db8::7, 2001:db8:1::); short forms like 1::2 are Python slices.
    # Found from its colons (see `_ipv6_spans`).
    "ipv6": (
        r"[0-9A-Fa-f](?<![:\w].)(?:[0-9A-Fa-f]{0,3}(?::[0-9A-Fa-f]{1,4}){7}"
        r"|[0-9A-Fa-f]{0,3}(?::[0-9A-Fa-f]{1,4}){0,5}::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?)"
        r"(?![:\w])",
    ),
    "card": (_led("card"),),
    "iban": (_led("iban"),),
    "us_ssn": (_led("us_ssn"),),
    "uk_nino": (_led("uk_nino"),),
    # A bare nine-digit number is only a BSN when it is labelled as one (lowercase text).
    "nl_bsn": tuple(
        label + r"\b[^\n\d]{0,30}?(\d{4}\.?\d{2}\.?\d{3}|\d{9})\b"
        for label in (r"bsn(?<![a-z0-9_]bsn)", "burgerservicenummer", r"sofi-?nummer")
    ),
    "es_dni": (_led("es_dni", 0), _led("es_dni", 1)),
    # The whole block, or through its base64 lines when the END line is missing.
    "private_key": (
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:\r?\n[ \t]*[A-Za-z0-9+/=:,\- ]*)*)",
    ),
    "aws_key": (r"A(?<!\wA)(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA)[0-9A-Z]{16}\b",),
    "github_token": (r"g(?<!\wg)(?:h[pousr]_[A-Za-z0-9]{36}|ithub_pat_[A-Za-z0-9_]{82})\b",),
    "slack_token": (
        r"x(?<!\wx)ox[abposr]-[0-9A-Za-z-]{10,}",
        r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
    ),
    "stripe_key": (r"[sr](?<!\w[sr])k_(?:live|test)_[0-9A-Za-z]{16,}\b",),
    # Credentials assigned in code and config (password = "...", api_key: ..., SECRET_KEY=...)
    # and bearer tokens / JWTs; the span is the value only, so the key name stays readable.
    # All but the JWT run on the lowercase text (`_ON_LOWERCASE`).
    "secret": (
        r"pass(?<![a-z]pass)(?:word|wd|phrase)?" + _ASSIGNED,
        r"pwd(?<![a-z]pwd)" + _ASSIGNED,
        r"secret(?<![a-z]secret)(?:[_.-]?(?:key|token))?" + _ASSIGNED,
        r"key(?:(?<=api[_.-]key)|(?<=apikey)|(?<=access[_.-]key)|(?<=private[_.-]key))"
        r"(?:[_.-]?id)?" + _ASSIGNED,
        r"token(?:(?<![a-z]token)|(?<=authtoken))" + _ASSIGNED,
        r"bearer(?<![a-z]bearer)[ \t]+([a-z0-9._~+/-]{20,}=*)",
        r"e(?<!\we)yJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
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


# A doubled Luhn digit's digit sum, as the ASCII digit of that value ("5" -> "1": 10 -> 1).
_LUHN_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")


def luhn_valid(digits: str) -> bool:
    if digits.isascii() and digits.isdigit():
        # The same sum from the ASCII codes: every second digit from the right doubled.
        data = digits.encode()
        total = sum(data[-1::-2]) + sum(data[-2::-2].translate(_LUHN_DOUBLED))
        return (total - 48 * len(data)) % 10 == 0
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
# Maestro, UnionPay, Mir) with their lengths; contiguous digit runs must start with one.
_CARD_PREFIXES = re.compile(
    r"4\d{12}(?:\d{3}){0,2}"  # Visa 13/16/19
    r"|5[1-5]\d{14}|2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # Amex
    r"|6(?:011|5\d\d|4[4-9]\d)\d{12}(?:\d{3})?"  # Discover
    r"|(?:35\d{14}(?:\d{3})?|(?:2131|1800)\d{11})"  # JCB
    r"|3(?:0[0-5]|[689]\d)\d{11}(?:\d{2})?"  # Diners 14/16
    r"|(?:5[06-9]|6\d|0604)\d{8,17}"  # Maestro 12-19
    r"|62\d{14,17}|81(?:[0-6]\d|7[01])\d{12}"  # UnionPay
    r"|220[0-4]\d{12}(?:\d{3})?"  # Mir
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
    if compact.isascii() and compact.isalnum():
        return int(rearranged.translate(_BASE36_DIGITS)) % 97 == 1
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# Each ASCII letter as its value in base 36 (A -> "10"), as iban_valid's mod-97 check reads it.
_BASE36_DIGITS = str.maketrans({ch: str(int(ch, 36)) for ch in string.ascii_letters})


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

_Validator = Callable[[re.Match[str]], tuple[int, int] | None]


def _whole(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span()


def _phone(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    # SSN-shaped (123-45-6789) is never taken for a phone number, valid SSN or not.
    if len(text) == 11 and text[3] == "-" and text[6] == "-":
        return None
    if not _phone_digits_ok(text) or _NOT_A_PHONE_NUMBER.search(text) or _zip_plus_4(m):
        return None
    return m.span()


# Words after which 7-15 digits are a phone number however they are written ("Kontakt:
# 0301234567", "móvil 612 345 678", "reach me at 020 7946 0958"), in English, German, French,
# Spanish, Italian, Portuguese, Dutch, Polish, Czech, Russian, Ukrainian, Swedish, Danish,
# Norwegian and Finnish; matched in lowercase at the start of a word, within the sentence.
# A label may be followed by up to four words before the number ("Telefonnummer des
# Ansprechpartners: ..."); a verb only by up to three short words or a word for "number"
# ("call me at", "volejte na číslo", "soita minulle numeroon"), since verbs like "call" are
# common in technical prose; a terse label, one that is also an ordinary word in some
# language ("portable", "cell", "handy"), only by punctuation ("Portable : 06 12 34 56 78").
PHONE_LABELS = (
    r"t[eé]l", r"t[eé]l[eé](?:f|ph)\w*", r"phone\w*", r"tlf", r"tfn", r"tfno", r"fone",
    r"puhelin\w*", r"matkapuhelin\w*", r"mobil\w*", r"mobiel\w*", r"m[oó]vil\w*",
    r"cell(?:ular|phone)\w*", r"celular\w*", r"natel", r"komórk\w*", r"fax\w*", r"telefax\w*",
    r"faks\w*", r"whatsapp\w*", r"viber", r"contact\w*", r"contatt[oi]", r"contatos?",
    r"kontakt\w*", r"yhteystied\w*", r"recapit\w*", r"hotline", r"helpline", r"infolin\w*",
    r"rufnummer\w*", r"durchwahl\w*",
    r"тел", r"телефон\w*", r"моб", r"мобил\w*", r"мобіл\w*", r"факс\w*", r"контакт\w*",
)  # fmt: skip
PHONE_VERBS = (
    r"call(?:s|ed|ing)?", r"reach", r"dial(?:l?ing)?", r"ring(?:a|e|er)?", r"ruf\w*",
    r"anruf\w*", r"erreich\w*", r"appel\w*", r"joign\w*", r"llam\w*", r"llám\w*", r"chiam\w*",
    r"reperibil\w*", r"lig(?:ue|ar|a|uem)", r"bel", r"bell(?:en|t)", r"bereikba\w*", r"dzwo\w*",
    r"zadzwo\w*", r"volej\w*", r"zavolej\w*", r"soit\w*", r"tavoit\w*", r"nås", r"træffes",
    r"звон\w*", r"позвон\w*", r"дзвон\w*", r"подзвон\w*", r"зателефон\w*",
)  # fmt: skip
PHONE_TERSE_LABELS = (
    r"ph\.", r"fon", r"puh", r"mob", r"cel", r"cell", r"portable", r"handy", r"gsm", r"sms",
    r"kom\.",
)  # fmt: skip
_NUMBER_WORDS = r"num[eé]ro\w*|número|number|nummer\w*|numer\w*|číslo\w*|номер\w*"
_PHONE_CUE = re.compile(
    rf"(?<![\w-])(?:(?:{'|'.join(PHONE_LABELS)})(?:[^\w\n]{{1,4}}[^\W\d_]+){{0,4}}"
    rf"|(?:{'|'.join(PHONE_VERBS)})(?:[^\w\n]{{1,3}}(?:{_NUMBER_WORDS}|[^\W\d_]{{1,7}})){{0,3}}"
    rf"|(?:{'|'.join(PHONE_TERSE_LABELS)}))"
    r"[^\w\n]{0,4}\Z"
)


def _literal_prefixes(alternative: str) -> tuple[str, ...]:
    """The strings one of which every match of the regex `alternative` starts with: its
    leading characters and character classes of plain characters, up to the first group,
    escape class, alternation, repetition or optional character. For the contact words,
    whose starts the pre-scan looks for (pii_scan, PHONE_CUE)."""
    prefixes, i = [""], 0
    while i < len(alternative):
        ch = alternative[i]
        if ch == "\\" and i + 1 < len(alternative) and not alternative[i + 1].isalnum():
            options, i = {alternative[i + 1]}, i + 2
        elif ch == "[" and "]" in alternative[i + 2 :]:
            end = alternative.index("]", i + 2)
            options, i = set(alternative[i + 1 : end]), end + 1
            if options & set("^-\\[]"):
                break
        elif ch in "\\()|?*+{}.^$[]":
            break
        else:
            options, i = {ch}, i + 1
        if i < len(alternative) and alternative[i] in "?*{":
            break  # this character may be left out
        prefixes = [p + o for p in prefixes for o in sorted(options)]
        if i < len(alternative) and alternative[i] == "+":
            break
    if not prefixes[0]:
        raise ValueError(f"contact word {alternative!r} starts with no fixed character")
    return tuple(prefixes)


# A full stop and a capitalised word end the sentence a contact word was in.
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[^\W\d_a-zß-ÿа-яёіїєґ][^\W\d_A-ZÀ-ÞА-ЯЁІЇЄҐ]{2})")
_CUE_WINDOW = pii_scan.CUE_WINDOW
# The literal starts of the contact words: a number is only tried as one after a contact
# word where one of these starts in the CUE_WINDOW characters before it (pii_scan).
_CUE_PREFIXES = tuple(
    dict.fromkeys(
        prefix
        for alternative in (*PHONE_LABELS, *PHONE_VERBS, *PHONE_TERSE_LABELS)
        for prefix in _literal_prefixes(alternative)
    )
)
# Where one is a prefix of another ("tel", "telefax"), the shorter one says it all.
_CUE_PREFIXES = tuple(
    p for p in _CUE_PREFIXES if not any(p != q and p.startswith(q) for q in _CUE_PREFIXES)
)

# Dates (05.11.2023, 2023-11-05, 5/11/2023), four-part versions: numbers, not phone numbers.
_NOT_A_PHONE_NUMBER = re.compile(
    r"(?<!\d)(?:[0-3]?\d[./-][01]?\d[./-](?:19|20)\d\d|(?:19|20)\d\d[./-][01]?\d[./-][0-3]?\d)"
    r"(?!\d)|^\d+\.\d+\.\d+\.\d+$"
)
# A count with its unit (1 048 576 bytes, 25000000 times, 1.234.567 EUR) is no phone number.
_UNIT_AFTER = re.compile(
    r"[ \u00a0]?(?:bytes?\b|octets?\b|bajt|байт|tavu|[kmgt]i?b\b|bits?\b|b/s|bps\b|hz\b|ms\b|"
    r"sec|seconds?\b|times\b|mal\b|fois\b|veces\b|volte\b|vezes\b|keer\b|razy\b|krát|раз|"
    r"gånger\b|gange\b|kertaa\b|€|eur|usd\b|\$|kr\b|zł|kč|руб|грн|%)",  # noqa: RUF001
    re.IGNORECASE,
)


# A state code, then spaces, a line break or a comment's leader ("MA\n#   02110-1301").
_STATE_BEFORE = re.compile(r"(?<![A-Za-z])[A-Z]{2},?(?:\s|[#*;]|//)+\Z")


def _zip_plus_4(m: re.Match[str]) -> bool:
    """A US ZIP+4 code after its state (Boston, MA 02110-1301), as in licence headers."""
    text = m.group()
    return (
        len(text) == 10
        and text[5] == "-"
        and _STATE_BEFORE.search(m.string[max(0, m.start() - 12) : m.start()]) is not None
    )


def _after_phone_cue(text: str, start: int) -> bool:
    window = _SENTENCE_END.sub("\n", text[max(0, start - _CUE_WINDOW) : start])
    return _PHONE_CUE.search(window.lower()) is not None


def _phone_after_cue(m: re.Match[str]) -> tuple[int, int] | None:
    if (
        _NOT_A_PHONE_NUMBER.search(m.group())
        or _UNIT_AFTER.match(m.string, m.end())
        or _zip_plus_4(m)
        or not _after_phone_cue(m.string, m.start())
    ):
        return None
    return m.span()


# A four-part dotted number is a version, not an address, after a version word (in the
# languages of PHONE_LABELS), "kernel", "firmware" or "OID", after a version constraint
# (>= 1.2.3.4, << 1.2.3.4, == 1.2.3.4) or a name and a hyphen (linux-2.6.8.1), or with a
# Debian revision or a suffix after it (1.2.3.4-1, 1.2.3.4~rc1; but 10.0.0.1-10.0.0.9 is a range).
_VERSION_BEFORE = re.compile(
    r"(?:(?<!\w)(?:v|version\w*|versi[oó]n\w*|vers[aã]o|versie|wersj\w*|verz[ei]\w*|versio\w*|"
    r"верси\w*|версі\w*|release|kernel|linux|firmware|build|oid)[ :]{0,2}"
    r"|(?:<<|>>|[<>]=|==|\(=)[ ]?|[a-z]-)\Z"
)
_VERSION_AFTER = re.compile(r"(?:-\d+|[~+][A-Za-z0-9.]+)(?!\d|\.\d)")


def _ipv4(m: re.Match[str]) -> tuple[int, int] | None:
    octets = m.group().split(".")
    ok = all(o == "0" or (o[0] != "0" and int(o) <= 255) for o in octets)
    # Loopback, "any" and broadcast addresses name no one (127.0.0.1, 0.0.0.0 in configs).
    if not ok or octets[0] in ("0", "127") or m.group() == "255.255.255.255":
        return None
    text, start = m.string, m.start()
    if _VERSION_AFTER.match(text, m.end()) or _VERSION_BEFORE.search(
        text[max(0, start - 12) : start].lower()
    ):
        return None
    return m.span()


def _ipv6(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    # Compressed forms need three groups: 1::2 is a Python slice, dead:: a C++ scope.
    if "::" in text and sum(1 for g in text.split(":") if g) < 3:
        return None
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return None
    return m.span()


_AFTER_COUNTRY_CODE = re.compile(r"\+\d{1,3}[ .-]?\Z")


def _card(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != len(text):  # grouped: the grouping itself says "card number"
        return m.span() if 13 <= len(digits) <= 19 and luhn_valid(digits) else None
    # The subscriber part of an international number (+43 568203417684) is no card.
    if _AFTER_COUNTRY_CODE.search(m.string, max(0, m.start() - 6), m.start()):
        return None
    if card_valid(digits):
        # After a contact word, a bare run is a phone number (Tel. 0301234567 is no card).
        return None if len(digits) <= 15 and _after_phone_cue(m.string, m.start()) else m.span()
    # Any network's (a national scheme's) Luhn-valid number, where the text says "card".
    if 13 <= len(digits) <= 19 and luhn_valid(digits) and _after_card_cue(m.string, m.start()):
        return m.span()
    return None


# "card" in the languages of PHONE_LABELS, then up to three words (Numéro de carte : ...).
_CARD_CUE = re.compile(
    r"(?<!\w)(?:\w*(?:card|cart|kart|kort|карт)\w*)(?:[^\w\n]{1,4}[^\W\d_]+){0,3}[^\w\n]{0,4}\Z"
)


def _after_card_cue(text: str, start: int) -> bool:
    return _CARD_CUE.search(text[max(0, start - 48) : start].lower()) is not None


def _iban(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    length = IBAN_LENGTHS.get(text[:2])
    if length is None:
        return None
    # The match may run on into following capitals or digits: take exactly the country's
    # length of non-space characters, and end the span after the last of them.
    if " " not in text:
        if len(text) < length:
            return None
        compact, end = text[:length], length
    else:
        positions = [i for i, ch in enumerate(text) if ch != " "]
        if len(positions) < length:
            return None
        compact = "".join(text[i] for i in positions[:length])
        end = positions[length - 1] + 1
    if end < len(text) and text[end].isalnum():
        return None
    return (m.start(), m.start() + end) if iban_valid(compact) else None


def _ssn(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span() if ssn_valid(*m.group().split("-")) else None


def _nino(m: re.Match[str]) -> tuple[int, int] | None:
    return None if m.group()[:2] in _NINO_BAD_PREFIXES else m.span()


def _bsn(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span(1) if bsn_valid(m.group(1).replace(".", "")) else None


def _dni(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span() if dni_valid(m.group()) else None


def _secret_assignment(m: re.Match[str]) -> tuple[int, int] | None:
    for group in (1, 2, 3):
        value = m.group(group)
        if value is not None:
            return m.span(group) if _secret_value_ok(value, unquoted=group == 3) else None
    return None


def _group1(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span(1)


_VALIDATORS: dict[str, tuple[_Validator, ...]] = {
    "phone": (_phone, _phone_after_cue),
    "ipv4": (_ipv4,),
    "ipv6": (_ipv6,),
    "card": (_card,),
    "iban": (_iban,),
    "us_ssn": (_ssn,),
    "uk_nino": (_nino,),
    "nl_bsn": (_bsn,) * 3,
    "es_dni": (_dni, _dni),
    "secret": (*[_secret_assignment] * 5, _group1, _whole),
}
# Cheap substring tests (on the text, or on its lowercase copy for `_REQUIRES_LOWER`): a text
# without any of these cannot hold the type, so its regex pass is skipped.
_REQUIRES: dict[str, tuple[str, ...]] = {
    "email": ("@",),
    "private_key": ("PRIVATE KEY",),
    "aws_key": ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack_token": ("xox", "hooks.slack.com"),
    "stripe_key": ("k_live_", "k_test_"),
    "ipv6": ("::", ":"),
}
_REQUIRES_LOWER: dict[str, tuple[str, ...]] = {
    "nl_bsn": ("bsn", "burgerservicenummer", "sofi"),
}


# Patterns (type, index) that run on `text.lower()`: literal key names then anchor a fast
# search; where lowercasing changes the length, they run case-insensitively on the text.
_ON_LOWERCASE = frozenset(
    {
        *[("secret", i) for i in range(6)],
        *[("nl_bsn", i) for i in range(3)],
    }
)


@dataclass(frozen=True)
class _Pass:
    kind: str
    pattern: re.Pattern[str]
    validate: _Validator
    on_lowercase: bool
    ignorecase: re.Pattern[str]  # the same pattern, case-insensitive, for the fallback
    # The literal the pattern starts with (3+ characters), if any: a text without it is
    # skipped by a substring test, which is many times faster than the regex's own search.
    needle: str | None
    # (literals, offset): every match holds one of the literals `offset` characters after its
    # start, so the pattern is tried only there (`_run_anchored`); None: `_run`.
    anchor: tuple[tuple[str, ...], int] | None


def _leading_literal(pattern: str) -> str | None:
    literal = re.match(r"[A-Za-z0-9_é-]*", pattern).group()
    # A literal followed by a quantifier is not required in full ("ab?" needs only "a").
    if len(pattern) > len(literal) and pattern[len(literal)] in "?*{":
        literal = literal[:-1]
    return literal if len(literal) >= 3 else None


# Passes whose pattern needs a literal that _leading_literal does not see (the JWT pattern
# starts "e(?<!\\we)yJ").
_PASS_NEEDLES = {("secret", 6): "eyJ"}
# Passes whose pattern starts with a character class where a literal follows: the Stripe
# key's "[sr]" is frequent in prose, "k_live_" / "k_test_" after it is not.
_ANCHORS = {("stripe_key", 0): (("k_live_", "k_test_"), 1)}
assert not set(_ANCHORS) & _ON_LOWERCASE  # anchors are found in the text itself


@cache
def _compiled() -> dict[str, tuple[_Pass, ...]]:
    passes = {}
    for kind, patterns in PII_PATTERNS.items():
        validators = _VALIDATORS.get(kind, (_whole,) * len(patterns))
        passes[kind] = tuple(
            _Pass(
                kind,
                re.compile(pattern),
                validate,
                (kind, i) in _ON_LOWERCASE,
                re.compile(pattern, re.IGNORECASE),
                _PASS_NEEDLES.get((kind, i), _leading_literal(pattern)),
                _ANCHORS.get((kind, i)),
            )
            for i, (pattern, validate) in enumerate(zip(patterns, validators, strict=True))
        )
    return passes


# The bit pii_scan sets on a candidate position where the led pattern can match.
_SCAN_MEMBER = {
    ("phone", 0): pii_scan.PHONE,
    # Only where a contact word's prefix precedes the number (`_phone_after_cue`).
    ("phone", 1): pii_scan.PHONE_CUE,
    ("ipv4", 0): pii_scan.IPV4,
    ("card", 0): pii_scan.CARD,
    ("us_ssn", 0): pii_scan.US_SSN,
    ("es_dni", 0): pii_scan.ES_DNI,
    ("es_dni", 1): pii_scan.NIE,
    ("iban", 0): pii_scan.IBAN,
    ("uk_nino", 0): pii_scan.UK_NINO,
}
assert set(_SCAN_MEMBER) == set(_LED)


_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
_HEX_OR_COLON = frozenset("0123456789abcdefABCDEF:")


def _ipv6_spans(text: str, p: _Pass) -> Iterator[tuple[str, int, int]]:
    """IPv6 addresses found from their colons (rare in prose), backing up to the start."""
    pos = 0
    while (hint := _IPV6_HINT.search(text, pos)) is not None:
        start = hint.start()
        while start > 0 and hint.start() - start < 40 and text[start - 1] in _HEX_OR_COLON:
            start -= 1
        found = None
        # Inside the run of hex digits and colons the pattern's lookbehind (no ":" or word
        # character before its first digit) fails: only the run's first position can start one.
        if start < hint.start():
            m = p.pattern.match(text, start)
            if m and m.end() > hint.start():
                found = p.validate(m)
        if found:
            yield ("ipv6", *found)
            pos = found[1]
        else:
            pos = hint.start() + 1


_EMAIL_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "._%+-")
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")


# systemd unit types: none is a top-level domain, and `name@instance.<type>` is a unit.
_UNIT_TYPES = frozenset(
    {"service", "socket", "target", "timer", "mount", "automount", "swap", "path", "slice"}
    | {"scope", "device"}
)


def _emails(text: str) -> Iterator[tuple[int, int]]:
    """Addresses found from each "@": the local part before it, the domain after it."""
    at = text.find("@")
    while at >= 0:
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL_CHARS:
            start -= 1
        domain = _EMAIL_DOMAIN.match(text, at + 1) if start < at else None
        if domain and text[domain.start() : domain.end()].rpartition(".")[2] in _UNIT_TYPES:
            domain = None  # a systemd unit instance: getty@tty1.service
        if domain and (start == 0 or not text[start - 1].isalnum()):
            yield start, domain.end()
            at = text.find("@", domain.end())
            continue
        at = text.find("@", at + 1)


def _run(p: _Pass, text: str, lower: str | None, start: int = 0) -> list[tuple[str, int, int]]:
    if p.on_lowercase:
        matches = (
            p.pattern.finditer(lower, start)
            if lower is not None and len(lower) == len(text)
            else p.ignorecase.finditer(text, start)
        )
    else:
        matches = p.pattern.finditer(text, start)
    kind, validate, found = p.kind, p.validate, []
    for m in matches:
        span = validate(m)
        if span is not None and span[1] > span[0]:
            found.append((kind, *span))
    return found


def _run_anchored(p: _Pass, text: str) -> list[tuple[str, int, int]]:
    """`_run` for a pass with an anchor: the same matches as `finditer`, which takes the
    leftmost match at or after the end of the last one, tried only where one can start."""
    literals, offset = p.anchor
    starts = sorted(
        at - offset for literal in literals for at in _occurrences(text, literal) if at >= offset
    )
    kind, validate, found, pos = p.kind, p.validate, [], 0
    for start in starts:
        if start < pos:
            continue
        m = p.pattern.match(text, start)
        if m is None:
            continue
        pos = m.end()
        span = validate(m)
        if span is not None and span[1] > span[0]:
            found.append((kind, *span))
    return found


def _occurrences(text: str, literal: str) -> Iterator[int]:
    at = text.find(literal)
    while at >= 0:
        yield at
        at = text.find(literal, at + 1)


@dataclass(frozen=True)
class _Plan:
    """What to run for a choice of types, worked out once per choice."""

    # (name of the scan in _LEAD_CLASS, its chosen patterns with their pii_scan member bit)
    led: tuple[tuple[str, tuple[tuple[int, _Pass], ...]], ...]
    # (type, needle bits one of which it needs, the same in lowercase, its own passes with
    # the needle bit each needs; 0: none needed)
    others: tuple[tuple[str, int, int, tuple[tuple[int, _Pass], ...]], ...]


@cache
def _plan(types: tuple[str, ...]) -> _Plan:
    compiled = _compiled()
    led = []
    for scan in _LEAD_CLASS:
        members = tuple(
            (_SCAN_MEMBER[kind, index], compiled[kind][index])
            for (kind, index), (led_by, _, _) in _LED.items()
            if led_by == scan and kind in types
        )
        if members:
            led.append((scan, members))
    others = []
    bits = _needles().bits
    for kind in types:
        passes = tuple(p for i, p in enumerate(compiled[kind]) if (kind, i) not in _LED)
        if passes:
            # Bit sets of pii_scan's needles: the text needs one of `required` (when any),
            # one of `lower_required` (when any), and each pass its own needle.
            required = bits(_REQUIRES.get(kind, ()), False) if kind != "ipv6" else 0
            lower_required = bits(_REQUIRES_LOWER.get(kind, ()), True)
            own = tuple(
                (bits((p.needle,), p.on_lowercase) if p.needle is not None else 0, p)
                for p in passes
            )
            others.append((kind, required, lower_required, own))
    return _Plan(tuple(led), tuple(others))


@cache
def _needles() -> pii_scan.Needles:
    """Every literal a type or a pass needs, for the one compiled pre-scan (pii_scan):
    (needle, True) is looked for in the lowercase text."""
    wanted: dict[tuple[str, bool], None] = {}
    for kind, needles in _REQUIRES.items():
        if kind != "ipv6":  # IPv6 goes by the scan's own hint ("::" or seven colon groups)
            wanted.update(dict.fromkeys((n, False) for n in needles))
    for needles in _REQUIRES_LOWER.values():
        wanted.update(dict.fromkeys((n, True) for n in needles))
    for passes in _compiled().values():
        for p in passes:
            if p.needle is not None:
                wanted[p.needle, p.on_lowercase] = None
    return pii_scan.Needles(tuple(n for n, _ in wanted), tuple(f for _, f in wanted), _CUE_PREFIXES)


def _candidates(text: str, types: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(type, start, end) of every span a pattern finds and its check accepts, overlapping."""
    plan = _plan(types)
    # One compiled pass says where a led pattern can start and which literals occur; the
    # regexes then run only there (pii_scan explains why nothing is missed).
    needles = _needles()
    digit_leads, capital_leads, found, extra = needles.scan(text)
    spans: list[tuple[str, int, int]] = []
    leads = {"digit": digit_leads, "capital": capital_leads}
    lower = None
    found = int(found)
    if extra & pii_scan.HAS_LOWERS_TO_ASCII:
        # A character lowercases to ASCII (KELVIN SIGN -> "k"): test the lowercase text.
        lower = text.lower()
        found = needles.refold(found, lower)

    # Where a led pattern may start, each chosen pattern that can match there is tried.
    for scan, members in plan.led:
        for lead in leads[scan].tolist():
            start, can_match = lead >> pii_scan.MEMBER_BITS, lead
            last = None  # (type, end) of the last span found here
            for bit, p in members:
                if not can_match & bit:
                    continue
                m = p.pattern.match(text, start)
                # A type's later pattern adds nothing inside a span its earlier one found
                # (a formatted phone number needs no contact-word check).
                if m is None or (last is not None and last[0] == p.kind and m.end() <= last[1]):
                    continue
                span = p.validate(m)
                if span is not None:
                    last = (p.kind, span[1])
                    spans.append((p.kind, *span))
    for kind, required, lower_required, passes in plan.others:
        if kind == "ipv6":
            if extra & pii_scan.HAS_IPV6_HINT:
                spans += _ipv6_spans(text, passes[0][1])
            continue
        if (required and not found & required) or (lower_required and not found & lower_required):
            continue
        if kind == "email":
            spans += ((kind, start, end) for start, end in _emails(text))
        else:
            for needle, p in passes:
                if needle and not found & needle:
                    continue
                if p.anchor is not None:
                    spans += _run_anchored(p, text)
                    continue
                if p.on_lowercase and lower is None:
                    lower = text.lower()
                spans += _run(p, text, lower)
    return spans


_RANK = {kind: i for i, kind in enumerate(PRIORITY)}
_START = itemgetter(1)


def _resolve(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Non-overlapping spans in text order: by type priority, then earlier, then longer."""
    if len(spans) < 2:
        return spans
    # Usually no two candidates overlap: then all are kept, in text order.
    by_start = sorted(spans, key=_START)
    end = -1
    for _, start, stop in by_start:
        if start < end or stop <= start:
            break
        end = stop
    else:
        return by_start
    ordered = sorted(spans, key=lambda s: (_RANK[s[0]], s[1], -s[2]))
    kept: list[tuple[str, int, int]] = []
    for span in ordered:
        if all(span[2] <= k[1] or span[1] >= k[2] for k in kept):
            kept.append(span)
    return sorted(kept, key=_START)


def _types(types: Iterable[str] | None) -> tuple[str, ...]:
    if types is None or types is PII_TYPES:  # redact() passes its own choice on
        return PII_TYPES
    chosen = set(types)
    unknown = chosen - set(PII_TYPES)
    if unknown:
        raise ValueError(f"unknown PII types {sorted(unknown)}; known: {', '.join(PII_TYPES)}")
    return tuple(kind for kind in PII_TYPES if kind in chosen)


def pii_spans(text: str, types: Iterable[str] | None = None) -> list[PiiSpan]:
    """The personal data and secrets in `text`, as non-overlapping typed spans in text order.

    `types` limits detection to some of `PII_TYPES` (default: all). Overlapping candidates
    are resolved by `PRIORITY` among the chosen types only.
    """
    if not text:
        return []
    return [PiiSpan(*span) for span in _resolve(_candidates(text, _types(types)))]


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
    spans = _resolve(_candidates(text, chosen)) if text else []
    if not spans:
        return text, counts
    parts, last = [], 0
    for kind, start, end in spans:
        parts += [text[last:start], PLACEHOLDERS[kind]]
        last = end
        counts[kind] += 1
    parts.append(text[last:])
    return "".join(parts), counts
