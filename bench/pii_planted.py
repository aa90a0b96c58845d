"""Documents with PII planted at known spans, for measuring the detector (tests, bench/pii.py;
not shipped: the product never plants PII).

Entities come from Faker in several locales (phones, IBANs, national ids) or are generated in
their real formats (keys, tokens); they are written into sentences between paragraphs of real
prose (Python's documentation) and technical text that must not match: versions, dates, hex,
hashes, UUIDs, slices, big integers, and checksum-invalid lookalikes of cards, IBANs and ids.
"""

from __future__ import annotations

import base64
import ipaddress
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from faker import Faker

from spark_jobs.annotators.pii import PII_TYPES, PiiSpan, luhn_valid

PHONE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "pt_BR", "ja_JP", "it_IT")
IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT", "pl_PL", "pt_PT", "de_AT")
CARD_TYPES = (
    "visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners", "jcb15", "jcb16",
    "maestro",
)  # fmt: skip


@dataclass(frozen=True)
class PlantedDocument:
    text: str
    spans: tuple[PiiSpan, ...]  # the planted entities, in text order
    excluded_phones: int = 0  # Faker phone numbers not planted (bare digits, see below)


@cache
def _fakers(seed: int) -> dict[str, Faker]:
    locales = sorted({*PHONE_LOCALES, *IBAN_LOCALES, "en_US", "es_ES", "nl_NL"})
    fakers = {}
    for i, locale in enumerate(locales):
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed * 1000 + i)
    return fakers


def _prose() -> list[str]:
    import pydoc_data.topics

    paragraphs = []
    for text in pydoc_data.topics.topics.values():
        paragraphs += [p.strip() for p in text.split("\n\n") if 80 <= len(p.strip()) <= 1500]
    return paragraphs


_PROSE = _prose()


def _alnum(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _phone(rng: random.Random, fakers: dict[str, Faker]) -> tuple[str, int]:
    # A run of bare digits without "+" is a number, not a phone number, to this detector (and
    # to a reader): Faker formats of that kind are skipped and counted.
    skipped = 0
    while True:
        number = fakers[rng.choice(PHONE_LOCALES)].phone_number()
        if number.startswith("+") or any(ch in number for ch in " -.()"):
            return number, skipped
        skipped += 1


def _ipv6(rng: random.Random, fakers: dict[str, Faker]) -> str:
    address = fakers["en_US"].ipv6()
    if rng.random() < 0.3:  # a compressed form, as written in configs
        groups = address.split(":")
        start, run = rng.randrange(1, 6), rng.randrange(2, 4)
        groups[start : start + run] = ["0"] * len(groups[start : start + run])
        address = ipaddress.IPv6Address(":".join(groups)).compressed
    return address


def _card(rng: random.Random, fakers: dict[str, Faker]) -> str:
    number = fakers["en_US"].credit_card_number(card_type=rng.choice(CARD_TYPES))
    if len(number) == 16 and rng.random() < 0.5:
        sep = rng.choice(" -")
        number = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def _iban(rng: random.Random, fakers: dict[str, Faker]) -> str:
    iban = fakers[rng.choice(IBAN_LOCALES)].iban()
    if rng.random() < 0.5:
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


def _nino(rng: random.Random, fakers: dict[str, Faker]) -> str:
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    digits = f"{rng.randrange(10**6):06d}"
    if rng.random() < 0.5:
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {rng.choice('ABCD')}"
    return f"{first}{second}{digits}{rng.choice('ABCD')}"


def _private_key(rng: random.Random, fakers: dict[str, Faker]) -> str:
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""])
    body = base64.b64encode(rng.randbytes(rng.randrange(120, 600))).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{lines}\n-----END {kind}PRIVATE KEY-----"


def _slack(rng: random.Random, fakers: dict[str, Faker]) -> str:
    if rng.random() < 0.2:
        return (
            f"https://hooks.slack.com/services/T{_alnum(rng, 8, string.ascii_uppercase + string.digits)}"
            f"/B{_alnum(rng, 8, string.ascii_uppercase + string.digits)}/{_alnum(rng, 24)}"
        )
    return (
        f"xox{rng.choice('bpa')}-{rng.randrange(10**11, 10**12)}-"
        f"{rng.randrange(10**11, 10**12)}-{_alnum(rng, 24)}"
    )


ENTITIES: dict[str, Callable[[random.Random, dict[str, Faker]], str]] = {
    "email": lambda rng, f: f[rng.choice(PHONE_LOCALES)].email(),
    "ipv4": lambda rng, f: (
        f["en_US"].ipv4_public() if rng.random() < 0.7 else f["en_US"].ipv4_private()
    ),
    "ipv6": _ipv6,
    "card": _card,
    "iban": _iban,
    "us_ssn": lambda rng, f: f["en_US"].ssn(),
    "uk_nino": _nino,
    "nl_bsn": lambda rng, f: f["nl_NL"].ssn(),
    "es_dni": lambda rng, f: f["es_ES"].nif() if rng.random() < 0.7 else f["es_ES"].nie(),
    "private_key": _private_key,
    "aws_key": lambda rng, f: (
        rng.choice(["AKIA", "ASIA"]) + _alnum(rng, 16, string.ascii_uppercase + "234567")
    ),
    "github_token": lambda rng, f: f"gh{rng.choice('pousr')}_{_alnum(rng, 36)}",
    "slack_token": _slack,
    "stripe_key": lambda rng, f: (
        f"{rng.choice('sr')}k_{rng.choice(['live', 'test'])}_" + _alnum(rng, rng.randrange(24, 40))
    ),
    "secret": lambda rng, f: f["en_US"].password(length=rng.randrange(10, 24), special_chars=False),
}
assert set(ENTITIES) | {"phone"} == set(PII_TYPES)

# Sentences an entity is written into ({} is the entity).
SENTENCES: dict[str, tuple[str, ...]] = {
    "email": ("Write to {} for a copy.", "Contact: {}", "Reported by <{}>."),
    "phone": ("Call {} during office hours.", "Tel. {}", "Phone: {} (mobile)"),
    "ipv4": ("The server at {} refused the connection.", "client {} - GET /index.html"),
    "ipv6": ("Listen on [{}]:8080.", "The host resolved to {} after the change."),
    "card": ("Card number {} was charged twice.", "Pay with {} exp 09/27."),
    "iban": ("Transfer to IBAN {} by Friday.", "Account: {}"),
    "us_ssn": ("SSN {} on file.", "Social security number: {}"),
    "uk_nino": ("NI number {} was provided.", "National Insurance: {}"),
    "nl_bsn": ("BSN: {}", "Het burgerservicenummer {} is bekend."),
    "es_dni": ("DNI {} del titular.", "NIF: {}"),
    "private_key": ("Deploy key:\n{}\n",),
    "aws_key": ("aws_access_key_id = {}", "export AWS_KEY={}"),
    "github_token": ("GITHUB_TOKEN={} in CI", "git clone https://{}@github.com/org/repo"),
    "slack_token": ("SLACK_BOT={} posts alerts.", "webhook: {}"),
    "stripe_key": ("stripe.api_key = '{}'", "STRIPE={}"),
    "secret": (
        'password = "{}"',
        "DB_PASSWORD={}",
        "api_key: {}",
        '"client_secret": "{}",',
        "SECRET_KEY='{}'",
    ),
}

# Technical text that holds no PII: versions, dates, hashes, hex, slices, code that names a
# credential without holding one, and numbers that fail the checks (Luhn, mod-97, SSN rules).


def _bad_luhn(rng: random.Random) -> str:
    while True:
        number = "4" + "".join(rng.choice(string.digits) for _ in range(15))
        if not luhn_valid(number):
            return (
                number if rng.random() < 0.5 else " ".join(number[i : i + 4] for i in (0, 4, 8, 12))
            )


def _bad_iban(rng: random.Random, fakers: dict[str, Faker]) -> str:
    iban = fakers[rng.choice(IBAN_LOCALES)].iban()
    check = (int(iban[2:4]) + rng.randrange(1, 96)) % 97
    return f"{iban[:2]}{max(check, 2):02d}{iban[4:]}" if check != int(iban[2:4]) else iban[:2]


NEGATIVES: tuple[Callable[[random.Random, dict[str, Faker]], str], ...] = (
    lambda rng, f: (
        f"Requires Python {rng.randrange(2, 4)}.{rng.randrange(13)}.{rng.randrange(20)}"
        f" and numpy {rng.randrange(3)}.{rng.randrange(30)}.{rng.randrange(10)}.{rng.randrange(9)}.dev0."
    ),
    lambda rng, f: f"Released {f['en_US'].date()} at {f['en_US'].time()} UTC.",
    lambda rng, f: f"commit {rng.randbytes(20).hex()} ({rng.randbytes(4).hex()})",
    lambda rng, f: f"uuid = '{f['en_US'].uuid4()}'",
    lambda rng, f: f"mask = 0x{rng.randbytes(8).hex()}; x = a[1::2] + b[::{rng.randrange(2, 9)}]",
    lambda rng, f: f">>> 2**{rng.randrange(40, 70)} - 1\n{2 ** rng.randrange(40, 70) - 1}",
    lambda rng, f: f"Order #{rng.randrange(10**5, 10**9)} shipped {rng.randrange(1, 99)} items.",
    lambda rng, f: f"Card number {_bad_luhn(rng)} was rejected (checksum).",
    lambda rng, f: f"Reference {_bad_iban(rng, f)} is not an account.",
    lambda rng, f: (
        f"Invalid SSN {rng.choice(['000', '666', '912'])}-{rng.randrange(1, 99):02d}-"
        f"{rng.randrange(1, 9999):04d} was rejected."
    ),
    lambda rng, f: (
        "password = getpass.getpass()\napi_key = os.environ['API_KEY']\ntoken: str = None"
    ),
    lambda rng, f: f"MAC {f['en_US'].mac_address()} on port {rng.randrange(1024, 65535)}.",
    lambda rng, f: (
        f"pi = {rng.choice(['3.14159265358979', '3.141592653589793238'])}; "
        f"e = 2.718281828459045; ts = {rng.randrange(1_600_000_000, 1_800_000_000)}"
    ),
    lambda rng, f: (
        f"ISBN 978-{rng.randrange(10)}-{rng.randrange(100, 999)}-"
        f"{rng.randrange(10000, 99999)}-{rng.randrange(10)}"
    ),
    lambda rng, f: (
        f"See section {rng.randrange(1, 9)}.{rng.randrange(1, 9)}.{rng.randrange(1, 9)}"
        f" and RFC {rng.randrange(791, 9999)}; range(0, {rng.randrange(10**6, 10**9)})"
    ),
)


def planted_documents(
    count: int, seed: int = 0, *, entities_per_doc: int = 4
) -> list[PlantedDocument]:
    """`count` documents, each with about `entities_per_doc` entities (every type in turn)."""
    rng = random.Random(seed)
    fakers = _fakers(seed)
    kinds = list(PII_TYPES)
    documents = []
    turn = 0
    for _ in range(count):
        parts: list[str] = []
        spans: list[PiiSpan] = []
        excluded = 0
        pieces = rng.randrange(max(1, entities_per_doc - 2), entities_per_doc + 3)
        for _ in range(pieces):
            parts += [rng.choice(_PROSE), "\n\n", rng.choice(NEGATIVES)(rng, fakers), "\n\n"]
            kind = kinds[turn % len(kinds)]
            turn += 1
            if kind == "phone":
                value, skipped = _phone(rng, fakers)
                excluded += skipped
            else:
                value = ENTITIES[kind](rng, fakers)
            before, after = rng.choice(SENTENCES[kind]).split("{}")
            parts.append(before)
            start = sum(map(len, parts))
            spans.append(PiiSpan(kind, start, start + len(value)))
            parts += [value, after, "\n\n"]
        parts.append(rng.choice(_PROSE))
        documents.append(PlantedDocument("".join(parts), tuple(spans), excluded))
    return documents
