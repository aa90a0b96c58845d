"""Rebuild seed.jsonl, the labelled seed set the embedding heads train on.

Documents come from material installed on every Pilehouse machine (Python's own docs,
installed distributions' sources, configs, READMEs and licenses) and from seeded Faker
output for the kinds of junk a crawl holds. Labels are assigned by the rules below, written
by hand per document kind (see docs/classifiers.md, "Seed set"): the topic/format class is
the kind the document was drawn as, and the educational score is a per-kind base from a
FineWeb-Edu style rubric adjusted by explicit, inspectable features of the text.

    .venv/bin/python -m spark_jobs.classifiers.seed.build   # rewrites seed.jsonl

The committed seed.jsonl is the training data; rebuilding on another environment draws
other distributions and so gives a different (equally valid) file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import pydoc
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from faker import Faker

SEED_FILE = Path(__file__).with_name("seed.jsonl")
PER_CLASS = 30
MAX_CHARS = 1200
MIN_CHARS = 200

API_MODULES = (
    "json", "csv", "textwrap", "string", "heapq", "bisect", "functools", "itertools",
    "collections", "pathlib", "shutil", "tempfile", "statistics", "fractions", "decimal",
    "random", "datetime", "calendar", "difflib", "zipfile", "gzip", "hashlib", "hmac",
    "secrets", "uuid", "base64", "struct", "array", "queue", "sched", "contextlib", "abc",
    "enum", "dataclasses", "operator", "copy", "pprint", "reprlib", "graphlib", "shlex",
)  # fmt: skip
NON_ENGLISH_LOCALES = ("de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_PT", "pl_PL", "cs_CZ")
SPAM_PHRASES = (
    "BUY NOW", "best price guaranteed", "free shipping", "limited time offer", "click here",
    "100% satisfaction", "cheap", "discount code", "order today", "top rated", "hot deal",
    "lowest price online", "act now", "bonus gift", "sale ends tonight",
)  # fmt: skip


def _chunks(text: str, rng: random.Random) -> Iterator[str]:
    """Cut `text` into documents of MIN_CHARS..MAX_CHARS at line boundaries."""
    lines, size = [], 0
    for line in text.splitlines():
        lines.append(line)
        size += len(line) + 1
        if size >= rng.randint(MIN_CHARS * 2, MAX_CHARS):
            yield "\n".join(lines).strip()
            lines, size = [], 0
    if size >= MIN_CHARS:
        yield "\n".join(lines).strip()


def _sentences(text: str) -> int:
    return len(re.findall(r"[a-z][a-z,;)]* [a-z]+[^.\n]{10,}\.(\s|$)", text))


# -- the kinds, each: draw documents, then score them -----------------------------------


def language_reference(rng: random.Random) -> Iterator[str]:
    from pydoc_data.topics import topics

    for name in sorted(topics):
        yield from _chunks(topics[name], rng)


def api_reference(rng: random.Random) -> Iterator[str]:
    for name in API_MODULES:
        module = __import__(name)
        yield from list(_chunks(pydoc.render_doc(module, renderer=pydoc.plaintext), rng))[:3]


def _dist_files(suffixes: tuple[str, ...], rng: random.Random) -> Iterator[tuple[str, str]]:
    dists = sorted(md.distributions(), key=lambda d: d.metadata["Name"] or "")
    rng.shuffle(dists)
    for dist in dists:
        files = [f for f in dist.files or () if f.name.lower().endswith(suffixes)]
        rng.shuffle(files)
        for path in files[:2]:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            yield dist.metadata["Name"], text


def source_code(rng: random.Random) -> Iterator[str]:
    for _, text in _dist_files((".py",), rng):
        chunks = list(_chunks(text, rng))
        if len(chunks) > 1:
            yield chunks[1]  # past the license header and imports


def configuration(rng: random.Random) -> Iterator[str]:
    for _, text in _dist_files((".json", ".toml", ".cfg", ".ini", ".yaml", ".yml"), rng):
        yield from list(_chunks(text, rng))[:1]


def license_text(rng: random.Random) -> Iterator[str]:
    seen = set()
    for dist in sorted(md.distributions(), key=lambda d: d.metadata["Name"] or ""):
        for path in dist.files or ():
            if not re.match(r"(LICEN[CS]E|COPYING)", path.name.upper()):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            key = " ".join(text.split())[:300]
            if key not in seen:
                seen.add(key)
                yield from list(_chunks(text, rng))[:1]


def package_readme(rng: random.Random) -> Iterator[str]:
    dists = sorted(md.distributions(), key=lambda d: d.metadata["Name"] or "")
    rng.shuffle(dists)
    for dist in dists:
        description = dist.metadata.get_payload() or ""
        yield from list(_chunks(description, rng))[:1]


def data_table(rng: random.Random) -> Iterator[str]:
    fake = _faker("en_US", rng)
    columns = ("{{name}}", "{{city}}", "{{date}}", "{{pricetag}}", "{{job}}", "{{ean13}}")
    while True:
        picked = rng.sample(columns, rng.randint(3, 5))
        header = [c.strip("{}") for c in picked]
        yield fake.csv(header=header, data_columns=picked, num_rows=rng.randint(8, 20))


def contact_listing(rng: random.Random) -> Iterator[str]:
    fake = _faker(rng.choice(("en_US", "en_GB")), rng)
    while True:
        entries = [
            f"{fake.name()}\n{fake.job()} at {fake.company()}\n{fake.address()}\n"
            f"Phone: {fake.phone_number()}  Email: {fake.email()}"
            for _ in range(rng.randint(3, 6))
        ]
        yield "Staff directory\n\n" + "\n\n".join(entries)


def commerce_spam(rng: random.Random) -> Iterator[str]:
    fake = _faker("en_US", rng)
    while True:
        product = f"{fake.color_name()} {fake.word()} {rng.choice(('Pro', 'Max', 'Deluxe', 'X'))}"
        lines = [f"{product.upper()} - {rng.choice(SPAM_PHRASES).upper()}!!!"]
        for _ in range(rng.randint(6, 14)):
            lines.append(
                f"{rng.choice(SPAM_PHRASES)} {product} {fake.pricetag()} "
                f"{rng.choice(SPAM_PHRASES)} {fake.company()} {fake.catch_phrase().lower()}"
            )
        lines.append(f"Keywords: {', '.join(fake.words(12))}, {product.lower()}")
        yield "\n".join(lines)


def log_output(rng: random.Random) -> Iterator[str]:
    fake = _faker("en_US", rng)
    levels = ("INFO", "INFO", "INFO", "DEBUG", "WARNING", "ERROR")
    while True:
        lines = []
        for _ in range(rng.randint(10, 20)):
            lines.append(
                f"{fake.date_time_this_year().isoformat()} {rng.choice(levels):7} "
                f'{fake.ipv4()} "{rng.choice(("GET", "POST", "PUT"))} {fake.uri_path()}" '
                f"{rng.choice((200, 200, 200, 301, 404, 500))} {rng.randint(120, 98000)}"
            )
        if rng.random() < 0.4:
            lines += [
                "Traceback (most recent call last):",
                f'  File "/srv/app/{fake.word()}.py", line {rng.randint(10, 900)}, in handle',
                f"    result = {fake.word()}({fake.word()})",
                f"KeyError: '{fake.word()}'",
            ]
        yield "\n".join(lines)


def email_message(rng: random.Random) -> Iterator[str]:
    fake = _faker("en_US", rng)
    while True:
        yield (
            f"From: {fake.name()} <{fake.email()}>\nTo: {fake.name()} <{fake.email()}>\n"
            f"Subject: {fake.sentence(nb_words=5).rstrip('.')}\n\n"
            f"Hi {fake.first_name()},\n\n{fake.paragraph(nb_sentences=rng.randint(3, 7))}\n\n"
            f"{fake.paragraph(nb_sentences=rng.randint(2, 4))}\n\nBest,\n{fake.first_name()}"
        )


def non_english(rng: random.Random) -> Iterator[str]:
    while True:
        fake = _faker(rng.choice(NON_ENGLISH_LOCALES), rng)
        yield fake.text(max_nb_chars=rng.randint(MIN_CHARS * 2, MAX_CHARS))


def _faker(locale: str, rng: random.Random) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(rng.randint(0, 2**31))
    return fake


# The educational-value rubric (0 = none, 5 = textbook quality), FineWeb-Edu's scale:
# a base per kind, then adjustments by features anyone can recompute from the text.
def _edu_language_reference(text: str) -> int:
    has_example = ">>>" in text or "::" in text or "\n   " in text
    return 5 if has_example and _sentences(text) >= 3 else 4 if _sentences(text) >= 2 else 3


def _edu_api_reference(text: str) -> int:
    return 4 if _sentences(text) >= 3 else 3 if _sentences(text) >= 1 else 2


def _edu_package_readme(text: str) -> int:
    explains = re.search(r"(?im)^(#+ )?(install|usage|example|quick ?start|tutorial)", text)
    return 3 if explains and _sentences(text) >= 2 else 2 if _sentences(text) >= 1 else 1


def _edu_source_code(text: str) -> int:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    explained = sum(line.startswith(("#", '"""', "'''")) for line in lines)
    return 2 if lines and (explained / len(lines) > 0.1 or '"""' in text) else 1


LABELLERS: dict[str, tuple[Callable[[random.Random], Iterator[str]], Callable[[str], int]]] = {
    "language_reference": (language_reference, _edu_language_reference),
    "api_reference": (api_reference, _edu_api_reference),
    "package_readme": (package_readme, _edu_package_readme),
    "source_code": (source_code, _edu_source_code),
    "license_text": (license_text, lambda text: 1),
    "email_message": (email_message, lambda text: 1),
    "configuration": (configuration, lambda text: 0),
    "log_output": (log_output, lambda text: 1 if "Traceback" in text else 0),
    "data_table": (data_table, lambda text: 0),
    "contact_listing": (contact_listing, lambda text: 0),
    "commerce_spam": (commerce_spam, lambda text: 0),
    "non_english": (non_english, lambda text: 0),
}


def build(seed: int = 5, per_class: int = PER_CLASS) -> list[dict]:
    rows = []
    for topic, (draw, edu) in LABELLERS.items():
        rng = random.Random(f"{seed}-{topic}")
        picked: list[str] = []
        for text in draw(rng):
            text = text[:MAX_CHARS].strip()
            if len(text) >= MIN_CHARS and text not in picked:
                picked.append(text)
            if len(picked) >= per_class * 3:
                break
        for text in rng.sample(picked, min(per_class, len(picked))):
            doc_id = hashlib.sha1(f"{topic}\n{text}".encode()).hexdigest()[:16]
            rows.append({"id": doc_id, "topic": topic, "edu_score": edu(text), "text": text})
    return rows


def main() -> None:
    rows = build()
    with SEED_FILE.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = {t: sum(r["topic"] == t for r in rows) for t in LABELLERS}
    print(f"wrote {len(rows)} documents to {SEED_FILE}: {counts}")


if __name__ == "__main__":
    main()
