"""PII on real multi-locale prose (issue 17): Faker values planted into translated man pages in
14 languages, false-positive traps beside them, scored per type and per locale on a test half
that the detector was never tuned on.

    python -m bench.pii_real                  # the whole set (Debian packages, cached in var/)
    python -m bench.pii_real --shipped        # the small subset in bench/data/pii_real/
    python -m bench.pii_real --compare-ref 9a3ccad   # also the detector as it was at a commit
    python -m bench.pii_real --write-subset   # rewrite the shipped subset from the packages

Prose: Debian bookworm's `manpages` (English) and `manpages-<lang>` packages (the manpages-l10n
translations, GPL-3+), fetched with `apt-get download` and unpacked with `dpkg -x` (nothing is
installed) into var/bench/pii_real/. Paragraphs are the running text of each page (no code
blocks, tables, option tags, mdoc pages, or paragraphs a translation left in English); one
holding "@", a URL or an address-like dotted quad / colon group is left out too, since it may
hold a real address nobody planted.
PII: Faker values of the document's locale, written into sentences of its language
(bench/data/pii_real/sentences.yaml) after a paragraph or at its end. Traps: systemd units,
licence headers with ZIP+4 codes, four-part versions, OIDs, timestamps, ISBNs, byte counts,
loopback addresses, hashes, and sentences with a contact word and a number that is not a phone.

Split: by source page (every document of a page is in the same half), by a hash of the page's
name, so the subset and the whole set agree on which half a page is in. Tune on "tune", report
"test".
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import ModuleType

import yaml
from faker import Faker

from spark_jobs.annotators.pii import IBAN_LENGTHS, PiiSpan

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "pii_real"
CACHE = REPO / "var" / "bench" / "pii_real"

# language -> (Debian package, version, its folder under /usr/share/man; "" for English)
PACKAGES: dict[str, tuple[str, str, str]] = {
    "en": ("manpages", "6.03-2", ""),
    "de": ("manpages-de", "4.18.1-1", "de"),
    "fr": ("manpages-fr", "4.18.1-1", "fr"),
    "es": ("manpages-es", "4.18.1-1", "es"),
    "it": ("manpages-it", "4.18.1-1", "it"),
    "pt_BR": ("manpages-pt-br", "4.18.1-1", "pt_BR"),
    "nl": ("manpages-nl", "4.18.1-1", "nl"),
    "pl": ("manpages-pl", "1:4.18.1-1", "pl"),
    "cs": ("manpages-cs", "4.18.1-1", "cs"),
    "ru": ("manpages-ru", "4.18.1-1", "ru"),
    "uk": ("manpages-uk", "4.18.1-1", "uk"),
    "sv": ("manpages-sv", "4.18.1-1", "sv"),
    "da": ("manpages-da", "4.18.1-1", "da"),
    "fi": ("manpages-fi", "4.18.1-1", "fi"),
}
# Faker locale -> language of its prose. English pages go to en_US or en_GB by their name.
LOCALES: dict[str, str] = {
    "en_US": "en", "en_GB": "en", "de_DE": "de", "fr_FR": "fr", "es_ES": "es", "it_IT": "it",
    "pt_BR": "pt_BR", "nl_NL": "nl", "pl_PL": "pl", "cs_CZ": "cs", "ru_RU": "ru", "uk_UA": "uk",
    "sv_SE": "sv", "da_DK": "da", "fi_FI": "fi",
}  # fmt: skip
# The national ids the detector has a type for, planted in their own locale only.
NATIONAL_IDS = {"en_US": "us_ssn", "en_GB": "uk_nino", "es_ES": "es_dni", "nl_NL": "nl_bsn"}
# Russia has no IBAN; the US none either (en_US documents get none).
NO_IBAN = {"ru_RU", "en_US"}

PARAGRAPHS_PER_DOC = 4
DOCS_PER_PAGE = 3  # so that a few long pages do not make up a language
DOCS_PER_LANGUAGE = 240
BARE_PHONES = 0.35  # share of phone numbers after a contact word written as digits only

RECALL_TARGET = 0.98
PRECISION_TARGET = 0.95
RESIDUAL_TARGET = 0.005  # planted values still in the redacted text
SPEED_TARGET = 7.0  # MB/s per core


# --- prose: man pages -> paragraphs -----------------------------------------------------------


def fetch_packages(cache: Path = CACHE) -> Path:
    """Download the pinned packages once (apt-get download) and unpack them (dpkg -x)."""
    debs, root = cache / "debs", cache / "root"
    debs.mkdir(parents=True, exist_ok=True)
    for package, version, _ in PACKAGES.values():
        if not list(debs.glob(f"{package}_*.deb")):
            done = subprocess.run(
                ["apt-get", "download", f"{package}={version}"], cwd=debs, capture_output=True
            )
            if done.returncode:
                raise SystemExit(
                    f"apt-get download {package}={version} failed: "
                    f"{done.stderr.decode().strip()[-300:]}\nRun `apt-get update` (Debian "
                    "bookworm sources), or use --shipped for the subset in bench/data/pii_real/."
                )
    marker = root / ".unpacked"
    if not marker.exists():
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
        marker.touch()
    return root


_FONT = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)")
_NAMED_CHARS = {
    "em": "\u2014", "en": "\u2013", "aq": "'", "lq": "“", "rq": "”", "Fo": "«", "Fc": "»",
    "oq": "\u2018", "cq": "\u2019", "dq": '"', "bu": "•", "co": "©", "rg": "®", "mu": "\u00d7",
    "ti": "~", "ha": "^", "rs": "\\", "hy": "-", "at": "@", "sc": "§", "de": "°", "pl": "+",
    "mi": "-", "eq": "=", "Eu": "€", "Po": "£", "ss": "ß", "tm": "™",
}  # fmt: skip
# Requests that end a paragraph, and blocks that are code or tables (skipped to their end).
_BREAKS = frozenset(
    ["PP", "LP", "P", "SH", "SS", "TP", "TQ", "IP", "HP", "RS", "RE", "sp", "br", "TH", "in",
     "PD", "SM", "ne", "UR", "UE", "MT", "ME", "ad", "nh", "hy", "ft", "ti", "ll"]
)  # fmt: skip
_SKIPPED_BLOCKS = {"nf": "fi", "EX": "EE", "TS": "TE", "EQ": "EN", "de": "."}
_ALTERNATING_FONTS = frozenset(["BR", "IR", "RB", "RI", "BI", "IB"])


def _unescape(line: str) -> str:
    line = re.sub(r'\\".*$', "", line)
    line = _FONT.sub("", line)
    line = re.sub(r"\\\(([A-Za-z<>=-]{2})", lambda m: _NAMED_CHARS.get(m.group(1), ""), line)
    line = re.sub(r"\\\[([^\]]*)\]", lambda m: _NAMED_CHARS.get(m.group(1), ""), line)
    line = re.sub(r"\\\*(?:\(..|\[[^\]]*\]|.)", "", line)
    line = re.sub(r"\\[sS][+-]?\d", "", line)
    for escape, char in (("\\-", "-"), ("\\e", "\\"), ("\\~", " "), ("\\ ", " "), ("\\0", " ")):
        line = line.replace(escape, char)
    return re.sub(r"\\[&,/|^:%)c]|\\[a-zA-Z]", "", line)


def roff_paragraphs(source: str) -> list[str]:
    """The running-text paragraphs of a man page in man(7) roff."""
    paragraphs: list[str] = []
    current: list[str] = []
    skip_to, tag_line = None, False

    def flush() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for line in source.splitlines():
        if skip_to is not None:
            if line.startswith("." + skip_to) or (skip_to == "." and line.startswith("..")):
                skip_to = None
            continue
        if line.startswith((".", "'")):
            request, _, args = line[1:].strip().partition(" ")
            if not request or request.startswith('\\"'):
                continue
            if request in _SKIPPED_BLOCKS:
                flush()
                skip_to = _SKIPPED_BLOCKS[request]
                continue
            if request == "TP":  # the next line is the tag (an option), not text
                flush()
                tag_line = True
                continue
            if request in ("B", "I", "SB"):
                line = _unescape(args).replace('"', "")
            elif request in _ALTERNATING_FONTS:
                line = "".join(re.findall(r'"[^"]*"|\S+', _unescape(args))).replace('"', "")
            else:  # a break, a heading, or a request without text
                flush()
                continue
        else:
            line = _unescape(line)
        if tag_line:
            tag_line = False
            continue
        if line.strip():
            current.append(line.strip())
    flush()
    return paragraphs


# A paragraph that may hold a real address nobody planted is left out.
_UNLABELLED = re.compile(
    r"@|://|www\.|\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}"
)


# Translated pages keep some paragraphs in English; those are not the page's language.
_ENGLISH = frozenset(
    ["the", "and", "of", "to", "is", "are", "this", "that", "with", "for", "from", "be", "by",
     "not", "or", "an"]
)  # fmt: skip


def _is_prose(paragraph: str, lang: str) -> bool:
    if not 120 <= len(paragraph) <= 1200 or _UNLABELLED.search(paragraph):
        return False
    visible = [ch for ch in paragraph if not ch.isspace()]
    if sum(ch.isalpha() for ch in visible) < 0.75 * len(visible):
        return False
    if lang != "en":
        words = paragraph.lower().split()
        return sum(w in _ENGLISH for w in words) < 0.08 * len(words)
    return True


@dataclass(frozen=True)
class Page:
    """The prose paragraphs of one man page."""

    lang: str
    name: str  # "man1/ls"
    paragraphs: tuple[str, ...]

    @property
    def half(self) -> str:
        return "tune" if _digest(f"{self.lang}/{self.name}") % 2 == 0 else "test"


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def man_pages(root: Path, lang: str) -> list[Page]:
    """Every man(7) page of a language with at least one prose paragraph, in name order; a
    paragraph already seen on an earlier page (boilerplate) is kept once."""
    base = root / "usr" / "share" / "man" / PACKAGES[lang][2]
    seen: set[str] = set()
    pages = []
    for path in sorted(base.glob("man*/*.gz")):
        if path.is_symlink():
            continue
        source = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        if source.startswith(".so") or "\n.Dd" in source:  # a link, or mdoc
            continue
        kept = []
        for paragraph in roff_paragraphs(source):
            if _is_prose(paragraph, lang) and paragraph not in seen:
                seen.add(paragraph)
                kept.append(paragraph)
        if kept:
            name = f"{path.parent.name}/{path.name.removesuffix('.gz')}"
            pages.append(Page(lang, name, tuple(kept)))
    return pages


def load_pages(root: Path) -> list[Page]:
    return [page for lang in PACKAGES for page in man_pages(root, lang)]


SUBSET = DATA / "pages.jsonl"


def load_shipped_pages() -> list[Page]:
    with SUBSET.open(encoding="utf-8") as f:
        return [
            Page(row["lang"], row["name"], tuple(row["paragraphs"])) for row in map(json.loads, f)
        ]


def write_subset(pages: Sequence[Page], docs_per_half: int = 8) -> None:
    """A few pages of each language and half, enough for `docs_per_half` documents each
    (twice that for English, which has two locales)."""
    rows = []
    for lang in PACKAGES:
        for half in ("tune", "test"):
            wanted = docs_per_half * (2 if lang == "en" else 1)
            chosen = sorted(
                (p for p in pages if p.lang == lang and p.half == half),
                key=lambda p: _digest(f"subset/{p.lang}/{p.name}"),
            )
            for page in chosen:
                if wanted <= 0:
                    break
                used = page.paragraphs[: PARAGRAPHS_PER_DOC * DOCS_PER_PAGE]
                rows.append({"lang": lang, "name": page.name, "paragraphs": list(used)})
                wanted -= len(_chunks(page))
    with SUBSET.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# --- planting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trap:
    """Text that holds no PII to the detector's contract, at `start:end` of the document."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class RealDocument:
    id: str  # "<lang>/<page>#<chunk>"
    locale: str
    half: str
    text: str
    spans: tuple[PiiSpan, ...]  # the planted values
    traps: tuple[Trap, ...]


@cache
def sentences() -> dict[str, dict[str, list[str]]]:
    return yaml.safe_load((DATA / "sentences.yaml").read_text(encoding="utf-8"))


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def _chunks(page: Page) -> list[tuple[str, ...]]:
    paragraphs = page.paragraphs
    chunks = [
        paragraphs[i : i + PARAGRAPHS_PER_DOC]
        for i in range(0, len(paragraphs), PARAGRAPHS_PER_DOC)
    ]
    return chunks[:DOCS_PER_PAGE]


def _locale(page: Page) -> str:
    if page.lang == "en":
        return "en_US" if _digest(f"locale/{page.name}") % 2 else "en_GB"
    return next(loc for loc, lang in LOCALES.items() if lang == page.lang)


def _bare(number: str) -> str:
    """A phone number written as digits only (an international one keeps its "+")."""
    number = re.split(r"x|ext", number)[0].replace("(0)", "")
    digits = "".join(ch for ch in number if ch.isdigit())
    return "+" + digits if number.lstrip("(").startswith("+") else digits


def _phone(fake: Faker, rng: random.Random, international: bool) -> str:
    for _ in range(50):
        number = fake.phone_number()
        if not international:
            return _bare(number) if rng.random() < BARE_PHONES else number
        if re.match(r"\(?(?:\+|00[1-9])", number):
            return number
    raise ValueError(f"Faker {fake.locales} gives no international phone numbers")


def _iban(fake: Faker, rng: random.Random, country: str) -> str:
    iban = fake.iban()
    if not iban.startswith(country):  # Faker has no bank provider for it (sv_SE): build one
        bban = "".join(rng.choice("0123456789") for _ in range(IBAN_LENGTHS[country] - 4))
        check = 98 - int("".join(str(int(ch, 36)) for ch in bban + country + "00")) % 97
        iban = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


def _card(fake: Faker, rng: random.Random) -> str:
    number = fake.credit_card_number()
    if rng.random() < 0.5:
        if len(number) == 16:
            sep = rng.choice(" -")
            return sep.join(number[i : i + 4] for i in range(0, 16, 4))
        if len(number) == 15:
            return f"{number[:4]} {number[4:10]} {number[10:]}"
    return number


def _nino(rng: random.Random) -> str:
    prefix = "".join(rng.choice("ABCEGHJKLMNPRSTWXYZ") for _ in range(2))
    while prefix in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        prefix = "".join(rng.choice("ABCEGHJKLMNPRSTWXYZ") for _ in range(2))
    digits = f"{rng.randrange(10**6):06d}"
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{prefix}{digits}{suffix}"


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _value(kind: str, fake: Faker, rng: random.Random, locale: str) -> str:
    if kind in ("phone", "phone_intl"):
        return _phone(fake, rng, international=kind == "phone_intl")
    if kind == "email":
        return fake.free_email() if rng.random() < 0.5 else fake.email()
    if kind == "iban":
        return _iban(fake, rng, locale[-2:])
    if kind == "card":
        return _card(fake, rng)
    if kind == "ipv4":
        return fake.ipv4_public() if rng.random() < 0.8 else fake.ipv4_private()
    if kind == "uk_nino":
        return _nino(rng)
    if kind == "es_dni":  # not Faker's nif()/nie(): they draw from the global random module
        number = rng.randrange(10**8) if rng.random() < 0.7 else None
        if number is not None:
            return f"{number:08d}{_DNI_LETTERS[number % 23]}"
        prefix, body = rng.randrange(3), rng.randrange(10**7)
        return f"{'XYZ'[prefix]}{body:07d}{_DNI_LETTERS[(prefix * 10**7 + body) % 23]}"
    return fake.ssn()  # us_ssn, nl_bsn


# Trap values inside the decoy sentences.
def _date(rng: random.Random) -> str:
    y, m, d = rng.randrange(1995, 2030), rng.randrange(1, 13), rng.randrange(1, 29)
    return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{d}/{m}/{y}"])


def _version(rng: random.Random) -> str:
    # Four parts, each a valid octet: indistinguishable from an IPv4 address but by context.
    parts = (
        rng.randrange(1, 30),
        rng.randrange(0, 60),
        rng.randrange(0, 40),
        rng.randrange(1, 250),
    )
    return ".".join(map(str, parts))


def _size(rng: random.Random) -> str:
    n = f"{rng.randrange(1_000_000, 99_999_999):,}"
    return rng.choice([n.replace(",", ""), n.replace(",", " "), n.replace(",", "."), n])


def _decoy(rng: random.Random, template: str) -> str:
    return template.format(
        date=_date(rng),
        time=f"{rng.randrange(7, 20):02d}:{rng.choice(['00', '15', '30', '45'])}",
        version=_version(rng),
        size=_size(rng),
    )


def _isbn13(rng: random.Random) -> str:
    digits = [9, 7, 8] + [rng.randrange(10) for _ in range(9)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    s = "".join(map(str, [*digits, check]))
    return f"{s[:3]}-{s[3]}-{s[4:7]}-{s[7:12]}-{s[12]}"


_UNITS = ("getty@tty1.service", "serial-getty@ttyS0.service", "wg-quick@wg0.service",
          "openvpn-client@office.service", "systemd-fsck@dev-sda2.service",
          "container-getty@1.service", "dirmngr@etc-pacman.d-gnupg.socket",
          "user-runtime-dir@1000.service")  # fmt: skip
_LICENCES = (
    "You should have received a copy of the GNU General Public License along with this "
    "program; if not, write to the Free Software Foundation, Inc., 51 Franklin Street, "
    "Fifth Floor, Boston, MA 02110-1301 USA.",
    "You should have received a copy of the GNU Lesser General Public License along with "
    "this library; if not, write to the Free Software Foundation, Inc., 59 Temple Place, "
    "Suite 330, Boston, MA 02111-1307 USA",
)

# Trap kinds that hold no PII whatever the language: kind -> sentence.
NEUTRAL_TRAPS: dict[str, Callable[[random.Random], str]] = {
    "systemd unit (x@y.service)": lambda rng: rng.choice(
        [
            f"systemctl restart {rng.choice(_UNITS)}",
            f"{rng.choice(_UNITS)}: Deactivated successfully.",
            f"Created symlink /etc/systemd/system/getty.target.wants/{rng.choice(_UNITS)}.",
        ]
    ),
    "licence header ZIP+4": lambda rng: rng.choice(_LICENCES),
    "four-part version": lambda rng: rng.choice(
        [
            f"Version: {_version(rng)}-{rng.randrange(1, 5)}",
            f"ii  libfoo{rng.randrange(1, 9)}  {_version(rng)}-{rng.randrange(1, 5)}  amd64",
            f"Depends: libbar (>= {_version(rng)})",
            f"Linux kernel {_version(rng)} fixes the regression.",
            f"firmware {_version(rng)} is required.",
        ]
    ),
    "OID": lambda rng: rng.choice(
        [
            f"OID 1.3.6.{rng.randrange(1, 5)}",
            f"sysObjectID = 1.3.6.1.4.1.{rng.randrange(1, 60000)}.{rng.randrange(1, 99)}",
        ]
    ),
    "timestamp": lambda rng: (
        f"{_date(rng).replace('/', '-')} {rng.randrange(24):02d}:{rng.randrange(60):02d}:"
        f"{rng.randrange(60):02d} host sshd[{rng.randrange(100, 99999)}]: session opened"
    ),
    "ISBN": lambda rng: f"ISBN {_isbn13(rng)}",
    "byte count": lambda rng: (
        f"{_size(rng)} bytes ({rng.randrange(1, 999)} MiB) copied, "
        f"{rng.randrange(1, 99)}.{rng.randrange(10)} s"
    ),
    "loopback address": lambda rng: (
        f"Listening on 127.0.0.1:{rng.randrange(1024, 65535)} and 0.0.0.0:{rng.randrange(1, 1024)}"
    ),
    "hash": lambda rng: f"SHA256: {rng.randbytes(32).hex()}",
}


def build_document(page: Page, chunk: int, paragraphs: Sequence[str]) -> RealDocument:
    """Paragraphs of one page with PII and traps written after or at the end of them; the
    same page and chunk always give the same document (Faker and the RNG are seeded by id)."""
    doc_id = f"{page.lang}/{page.name}#{chunk}"
    locale = _locale(page)
    rng = random.Random(doc_id)
    fake = _faker(locale)
    fake.seed_instance(_digest(doc_id))
    templates = sentences()[page.lang]

    kinds = ["phone", "phone", "email"]
    extras = ["card", "ipv4"] + ([] if locale in NO_IBAN else ["iban"])
    kinds += rng.sample(extras, 2)
    if locale in NATIONAL_IDS:
        kinds.append(NATIONAL_IDS[locale])
    if rng.random() < 0.25:
        kinds[1] = "phone_intl"
    items: list[tuple[str, str, str | None]] = []  # (kind, sentence with {}, value or None)
    for kind in kinds:
        items.append((kind, rng.choice(templates[kind]), _value(kind, fake, rng, locale)))
    items.append(("decoy with a contact word", _decoy(rng, rng.choice(templates["decoys"])), None))
    for kind in rng.sample(sorted(NEUTRAL_TRAPS), 2):
        items.append((kind, NEUTRAL_TRAPS[kind](rng), None))
    rng.shuffle(items)

    after: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
    for item in items:
        after[rng.randrange(len(paragraphs))].append(item)
    text = ""
    spans: list[PiiSpan] = []
    traps: list[Trap] = []
    for i, paragraph in enumerate(paragraphs):
        text += ("\n\n" if text else "") + paragraph
        for kind, sentence, value in after[i]:
            # Run on after a full stop half the time; after a line without one ("Tel. ..."),
            # start a new line, as a letter or a signature does.
            text += " " if text[-1] in ".!?" and rng.random() < 0.5 else "\n\n"
            start = len(text)
            if value is None:
                text += sentence
                traps.append(Trap(kind, start, len(text)))
            else:
                before, rest = sentence.split("{}")
                start += len(before)
                text += before + value + rest
                kind = "phone" if kind == "phone_intl" else kind
                spans.append(PiiSpan(kind, start, start + len(value)))
    return RealDocument(doc_id, locale, page.half, text, tuple(spans), tuple(traps))


def build_documents(pages: Iterable[Page], half: str | None = None) -> list[RealDocument]:
    """The documents of `pages` (of one half, or both): at most DOCS_PER_LANGUAGE a locale,
    taken from the pages in an order fixed by a hash of their names."""
    per_lang: Counter[str] = Counter()
    docs = []
    for page in sorted(pages, key=lambda p: (p.lang, _digest(f"order/{p.lang}/{p.name}"))):
        for chunk, paragraphs in enumerate(_chunks(page)):
            if per_lang[page.lang] >= DOCS_PER_LANGUAGE * (2 if page.lang == "en" else 1):
                break
            per_lang[page.lang] += 1
            if half is None or page.half == half:
                docs.append(build_document(page, chunk, paragraphs))
    return docs


# --- scoring ------------------------------------------------------------------------------------


@dataclass
class Scores:
    """A detector's spans against the planted values, per type and per (locale, type)."""

    planted: Counter[tuple[str, str]] = field(default_factory=Counter)
    found: Counter[tuple[str, str]] = field(default_factory=Counter)
    predicted: Counter[tuple[str, str]] = field(default_factory=Counter)
    correct: Counter[tuple[str, str]] = field(default_factory=Counter)
    residual: Counter[tuple[str, str]] = field(default_factory=Counter)  # value still in text
    uncovered: Counter[tuple[str, str]] = field(default_factory=Counter)  # some char unredacted
    false_in_traps: Counter[str] = field(default_factory=Counter)  # by trap kind
    false_in_prose: Counter[str] = field(default_factory=Counter)  # by type
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (doc, type, value)
    false_spans: list[tuple[str, str, str]] = field(default_factory=list)  # (doc, type, text)

    def add(
        self, doc: RealDocument, predicted: Sequence[PiiSpan], redacted: str | None = None
    ) -> None:
        loc = doc.locale
        for t in doc.spans:
            key = (loc, t.type)
            self.planted[key] += 1
            hit = any(_overlap(t, p) and p.type == t.type for p in predicted)
            self.found[key] += hit
            if not hit:
                self.misses.append((doc.id, t.type, doc.text[t.start : t.end]))
            covered = set()
            for p in predicted:
                covered.update(range(max(p.start, t.start), min(p.end, t.end)))
            self.uncovered[key] += len(covered) < t.end - t.start
            if redacted is not None:
                self.residual[key] += doc.text[t.start : t.end] in redacted
        for p in predicted:
            key = (loc, p.type)
            self.predicted[key] += 1
            ok = any(_overlap(t, p) and p.type == t.type for t in doc.spans)
            self.correct[key] += ok
            if not ok:
                self.false_spans.append((doc.id, p.type, doc.text[p.start : p.end]))
                trap = next((t for t in doc.traps if _overlap(t, p)), None)
                if trap is not None:
                    self.false_in_traps[trap.kind] += 1
                elif not any(_overlap(t, p) for t in doc.spans):
                    self.false_in_prose[p.type] += 1

    def total(self, counter: Counter[tuple[str, str]], locale: str | None, kind: str | None) -> int:
        return sum(
            n
            for (loc, k), n in counter.items()
            if (locale is None or loc == locale) and (kind is None or k == kind)
        )

    def recall(self, locale: str | None = None, kind: str | None = None) -> float:
        planted = self.total(self.planted, locale, kind)
        return self.total(self.found, locale, kind) / planted if planted else float("nan")

    def precision(self, locale: str | None = None, kind: str | None = None) -> float:
        predicted = self.total(self.predicted, locale, kind)
        return self.total(self.correct, locale, kind) / predicted if predicted else float("nan")

    def residual_rate(self, locale: str | None = None, kind: str | None = None) -> float:
        planted = self.total(self.planted, locale, kind)
        return self.total(self.residual, locale, kind) / planted if planted else float("nan")

    def uncovered_rate(self, locale: str | None = None, kind: str | None = None) -> float:
        planted = self.total(self.planted, locale, kind)
        return self.total(self.uncovered, locale, kind) / planted if planted else float("nan")

    def types(self) -> list[str]:
        return sorted(
            {k for _, k in self.planted} | {k for _, k in self.predicted}, key=_TYPE_ORDER
        )


def _overlap(a: PiiSpan | Trap, b: PiiSpan | Trap) -> bool:
    return a.start < b.end and b.start < a.end


_PLANTED_TYPES = ["phone", "email", "iban", "card", "ipv4", "us_ssn", "uk_nino", "es_dni", "nl_bsn"]


def _TYPE_ORDER(kind: str) -> tuple[int, str]:
    return (_PLANTED_TYPES.index(kind) if kind in _PLANTED_TYPES else 99, kind)


@dataclass
class Detector:
    """A detector under test: spans, and (for Pilehouse) what redaction leaves."""

    name: str
    detect: Callable[[str], list[PiiSpan]]
    redact: Callable[[str], object] | None = None  # (text) -> (redacted, counts)
    covers: tuple[str, ...] | None = None  # types it has; None: all planted types


def score(detector: Detector, docs: Sequence[RealDocument]) -> Scores:
    """Scores of `detector` on `docs`. For a detector without some types, values of those
    types are neither to be found nor false where its spans fall on them (as in bench/pii.py)."""
    scores = Scores()
    for doc in docs:
        spans = detector.detect(doc.text)
        if detector.covers is not None:
            uncovered = [t for t in doc.spans if t.type not in detector.covers]
            spans = [
                s
                for s in spans
                if s.type in detector.covers and not any(_overlap(s, u) for u in uncovered)
            ]
            doc = replace(doc, spans=tuple(t for t in doc.spans if t.type in detector.covers))
        redacted = detector.redact(doc.text)[0] if detector.redact is not None else None
        scores.add(doc, spans, redacted)
    return scores


def throughput(process: Callable[[str], object], texts: Sequence[str], repeat: int = 1) -> float:
    """UTF-8 MB per CPU-second of this process (MB/s per core)."""
    mb = sum(len(t.encode()) for t in texts) / 1e6
    process(texts[0])
    best = 0.0
    for _ in range(repeat):
        cpu = time.process_time()
        for text in texts:
            process(text)
        best = max(best, mb / max(time.process_time() - cpu, 1e-9))
    return best


def pilehouse_detector(module: ModuleType | None = None, name: str = "pilehouse") -> Detector:
    if module is None:
        from spark_jobs.annotators import pii as module
    return Detector(name, module.pii_spans, module.redact)


def detector_at(ref: str) -> Detector:
    """The detector of spark_jobs/annotators/pii.py as it was at git `ref`."""
    source = subprocess.run(
        ["git", "show", f"{ref}:spark_jobs/annotators/pii.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    name = "_pii_at_" + re.sub(r"\W", "_", ref)
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{ref}:spark_jobs/annotators/pii.py", "exec"), module.__dict__)
    return pilehouse_detector(module, f"pilehouse @ {ref}")


# Presidio entity -> Pilehouse type.
_PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "CREDIT_CARD": "card",
    "IBAN_CODE": "iban", "US_SSN": "us_ssn", "UK_NINO": "uk_nino", "ES_NIF": "es_dni",
    "ES_NIE": "es_dni", "IP_ADDRESS": "ipv4",
}  # fmt: skip


def presidio_detector() -> Detector | None:
    """Presidio's pattern recognizers without an NLP engine (bench/pii.py explains why), the
    phone recognizer given the 15 locales' countries."""
    try:
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            EsNieRecognizer,
            EsNifRecognizer,
            IbanRecognizer,
            IpRecognizer,
            PhoneRecognizer,
            UkNinoRecognizer,
            UsSsnRecognizer,
        )
    except ImportError:
        return None
    import logging

    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    regions = sorted({loc[-2:] for loc in LOCALES})
    recognizers = [
        EmailRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        PhoneRecognizer(supported_regions=regions),
        IpRecognizer(),
        UsSsnRecognizer(),
        UkNinoRecognizer(),
        EsNifRecognizer(),
        EsNieRecognizer(),
    ]

    def detect(text: str) -> list[PiiSpan]:
        spans = []
        for recognizer in recognizers:
            for r in recognizer.analyze(text, recognizer.supported_entities, None):
                kind = _PRESIDIO_TYPES.get(r.entity_type)
                if kind == "ipv4" and ":" in text[r.start : r.end]:
                    kind = "ipv6"
                if kind is not None:
                    spans.append(PiiSpan(kind, r.start, r.end))
        return spans

    covers = ("email", "phone", "ipv4", "card", "iban", "us_ssn", "uk_nino", "es_dni")
    return Detector("presidio recognizers", detect, None, covers)


# --- report -------------------------------------------------------------------------------------


def _f(x: float) -> str:
    return "  -  " if x != x else f"{x:.3f}"


def _pct(x: float) -> str:
    return "  -  " if x != x else f"{100 * x:.1f}%"


_CELL = 30


def _row(head: str, cells: Iterable[str]) -> str:
    return head + "".join(f" | {c:<{_CELL}}" for c in cells)


def report(
    results: Sequence[tuple[Detector, Scores, float]], docs: Sequence[RealDocument], half: str
) -> None:
    """Per type and per locale tables, one column group per detector (the last is Pilehouse)."""
    final = results[-1][1]
    kinds = [k for k in _PLANTED_TYPES if final.total(final.planted, None, k)]
    names = [det.name for det, _, _ in results]
    print()
    print(
        f"per type ({half} half): recall, precision, planted values still in the redacted "
        "text, values not wholly inside a span"
    )
    print(_row(f"{'type':<8} {'planted':>7}", names))
    print(_row(" " * 16, ["recall precis  resid.  uncov."] * len(results)))
    for kind in kinds:
        cells = []
        for det, s, _ in results:
            if det.covers is not None and kind not in det.covers:
                cells.append("not covered")
                continue
            resid = _pct(s.residual_rate(None, kind)) if det.redact else "  -  "
            cells.append(
                f"{_f(s.recall(None, kind)):>6} {_f(s.precision(None, kind)):>6} "
                f"{resid:>7} {_pct(s.uncovered_rate(None, kind)):>7}"
            )
        print(_row(f"{kind:<8} {final.total(final.planted, None, kind):>7}", cells))
    for det, s, _ in results:
        others = Counter()
        for (_, kind), n in s.predicted.items():
            if kind not in kinds:
                others[kind] += n
        if others:
            detail = ", ".join(f"{k} {n}" for k, n in others.most_common())
            print(f"  {det.name}: spans of types not planted: {detail}")
    print()
    print(f"per locale ({half} half): recall and precision over all types, phone recall, residual")
    print(_row(f"{'locale':<6} {'docs':>4} {'planted':>7}", names))
    print(_row(" " * 19, ["recall precis  phone  resid."] * len(results)))
    docs_per_locale = Counter(d.locale for d in docs)
    for locale in LOCALES:
        if not docs_per_locale[locale]:
            continue
        cells = []
        for det, s, _ in results:
            resid = _pct(s.residual_rate(locale, None)) if det.redact else "  -  "
            cells.append(
                f"{_f(s.recall(locale, None)):>6} {_f(s.precision(locale, None)):>6} "
                f"{_f(s.recall(locale, 'phone')):>6} {resid:>6}"
            )
        planted = final.total(final.planted, locale, None)
        print(_row(f"{locale:<6} {docs_per_locale[locale]:>4} {planted:>7}", cells))
    print()
    print(f"false positives by where they are ({half} half)")
    for det, s, _ in results:
        traps = ", ".join(f"{k} {n}" for k, n in s.false_in_traps.most_common()) or "none"
        prose = ", ".join(f"{k} {n}" for k, n in s.false_in_prose.most_common()) or "none"
        print(f"  {det.name}: in traps: {traps}; in the man-page prose: {prose}")


def _summary(s: Scores) -> tuple[float, float, float]:
    """(lowest recall of a planted type, lowest precision of a type found, residual)."""
    planted = [k for k in _PLANTED_TYPES if s.total(s.planted, None, k)]
    found = [k for k in s.types() if s.total(s.predicted, None, k)]
    return (
        min(s.recall(None, k) for k in planted),
        min((s.precision(None, k) for k in found), default=1.0),
        s.residual_rate(),
    )


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipped", action="store_true", help="the subset in bench/data/pii_real")
    parser.add_argument("--half", default="test", choices=["test", "tune"])
    parser.add_argument("--compare-ref", default=None, help="also score pii.py at this git ref")
    parser.add_argument("--no-peers", action="store_true", help="skip Presidio")
    parser.add_argument("--write-subset", action="store_true")
    parser.add_argument("--show-errors", type=int, default=0, help="print N misses/false spans")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    if args.shipped:
        pages, source = load_shipped_pages(), f"shipped subset {SUBSET.relative_to(REPO)}"
    else:
        root = fetch_packages()
        pages = load_pages(root)
        source = "Debian bookworm " + ", ".join(f"{p}={v}" for p, v, _ in PACKAGES.values())
        if args.write_subset:
            write_subset(pages)
            print(f"wrote {SUBSET.relative_to(REPO)} ({SUBSET.stat().st_size / 1e3:.0f} kB)")
    all_docs = build_documents(pages)
    docs = [d for d in all_docs if d.half == args.half]
    mb = sum(len(d.text.encode()) for d in docs) / 1e6
    planted = Counter(t.type for d in docs for t in d.spans)
    traps = Counter(t.kind for d in docs for t in d.traps)
    by_type = sorted(planted.items(), key=lambda kv: _TYPE_ORDER(kv[0]))
    tune = sum(d.half == "tune" for d in all_docs)
    print(f"PII on real multi-locale prose: {source}")
    print(
        f"{len(all_docs)} documents from {len(pages)} pages in {len(PACKAGES)} languages, "
        f"{len(LOCALES)} locales; split by page: {tune} tune / {len(all_docs) - tune} test"
    )
    print(
        f"{args.half} half: {len(docs)} documents, {mb:.2f} MB, {sum(planted.values())} planted "
        f"values ({', '.join(f'{k} {n}' for k, n in by_type)}), {sum(traps.values())} traps "
        f"({', '.join(f'{k} {n}' for k, n in sorted(traps.items()))})"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")

    detectors = []
    if not args.no_peers and (presidio := presidio_detector()) is not None:
        detectors.append(presidio)
    if args.compare_ref:
        detectors.append(detector_at(args.compare_ref))
    pilehouse = pilehouse_detector()
    detectors.append(pilehouse)
    results = []
    texts = [d.text for d in docs]
    for det in detectors:
        s = score(det, docs)
        speed = throughput(det.redact or det.detect, texts, repeat=1 if det.redact is None else 3)
        results.append((det, s, speed))
    report(results, docs, args.half)

    print()
    print(f"{'detector':<34} {'MB/s/core':>9}  what is timed")
    for det, _, speed in results:
        what = "detect + redact" if det.redact else "analyze() of 9 recognizers (no redaction)"
        print(f"{det.name:<34} {speed:>9.1f}  {what}")
    print()
    for det, s, speed in results:
        if det.redact is None:
            continue
        min_recall, min_precision, residual = _summary(s)
        print(
            f"{det.name} on the {args.half} half: min recall per type {min_recall:.3f} "
            f"(target {RECALL_TARGET}), min precision per type {min_precision:.3f} "
            f"(target {PRECISION_TARGET}), planted values left after redaction "
            f"{100 * residual:.2f}% (target <= {100 * RESIDUAL_TARGET:.1f}%), "
            f"{speed:.1f} MB/s/core (target {SPEED_TARGET})"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.show_errors:
        print()
        for doc_id, kind, value in s.misses[: args.show_errors]:
            print(f"  missed {kind:<7} {value!r:<40} {doc_id}")
        for doc_id, kind, value in s.false_spans[: args.show_errors]:
            print(f"  false  {kind:<7} {value!r:<40} {doc_id}")

    s = results[-1][1]
    min_recall, min_precision, residual = _summary(s)
    figures: dict[str, float] = {
        "pii_real documents": len(docs),
        "pii_real MB": round(mb, 3),
        "pii_real min recall": round(min_recall, 4),
        "pii_real min precision": round(min_precision, 4),
        "pii_real residual": round(residual, 5),
        "pii_real MB/s/core": round(results[-1][2], 2),
    }
    for kind in (k for k in _PLANTED_TYPES if s.total(s.planted, None, k)):
        figures[f"pii_real recall {kind}"] = round(s.recall(None, kind), 4)
        figures[f"pii_real precision {kind}"] = round(s.precision(None, kind), 4)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
