"""A reproducible benchmark corpus of documents, from real offline text plus planted cases.

`ensure_corpus(n_docs, seed)` writes (once, cached under var/bench/) a Parquet file of
documents with the columns of raw corpora that the curation stages read: id, corpus, source,
locator, license, fetch_date, text, plus `kind` (how the document was made).

The text is real: the Python reference bundled with the stdlib (pydoc_data.topics), the
README/long descriptions of the installed packages (*.dist-info/METADATA), stdlib
docstrings and the prose pool of the web sample generator. Around it, documents are planted
so that every curation rule fires sometimes: navigation boilerplate, cookie/terms lines,
repeated lines and paragraphs, bullet lists, teasers ending in ellipses, hashtags, lorem
ipsum, code with curly brackets, very short and very long documents, non-English text
(Faker locales), tables of numbers, and exact/near duplicates.

    .venv/bin/python -m bench.corpus 20000      # writes var/bench/corpus-20000-0.parquet
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import functools
import random
import re
import sys
import sysconfig
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BENCH_DIR = Path(__file__).resolve().parents[1] / "var" / "bench"
VERSION = 1  # bump when generation changes: cached files are keyed by it
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("corpus", pa.string()),
        ("source", pa.string()),
        ("locator", pa.string()),
        ("license", pa.string()),
        ("fetch_date", pa.timestamp("us")),
        ("kind", pa.string()),
        ("text", pa.string()),
    ]
)

# (kind, weight): real documents dominate; every planted kind shows up at 20k documents.
KINDS = (
    ("topic", 14),
    ("readme", 14),
    ("docstrings", 8),
    ("article", 16),
    ("web_page", 12),
    ("boilerplate", 5),
    ("repeated_lines", 3),
    ("repeated_paragraphs", 3),
    ("bullets", 3),
    ("teaser", 2),
    ("hashtags", 2),
    ("short", 4),
    ("lorem", 1),
    ("code", 3),
    ("non_english", 4),
    ("numbers", 1),
    ("javascript", 1),
    ("duplicate", 3),
    ("long", 0.05),
    ("empty", 0.2),
)
NAV = ("Home", "About us", "Contact", "Login", "Sign up", "Blog", "Careers", "Privacy", "Shop")
POLICY = (
    "This website uses cookies to improve your experience.",
    "By using this site you agree to our Terms of Use and Privacy Policy.",
    "We use cookies for analytics. Accept all cookies?",
    "Read our cookie policy for details.",
)
JAVASCRIPT = (
    "Please enable JavaScript to view the comments powered by Disqus.",
    "You need to enable javascript to run this app.",
)
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat."
)
LOCALES = ("de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "ru_RU", "ja_JP", "zh_CN")


@functools.cache
def _topics() -> tuple[str, ...]:
    from pydoc_data.topics import topics

    return tuple(topics[k] for k in sorted(topics))


@functools.cache
def _readmes() -> tuple[str, ...]:
    site = Path(sysconfig.get_paths()["purelib"])
    texts = []
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        raw = meta.read_text(errors="replace")
        # The long description follows the first blank line of the header block.
        _, _, body = raw.partition("\n\n")
        if len(body.split()) >= 30:
            texts.append(body.strip())
    return tuple(texts)


@functools.cache
def _docstrings() -> tuple[str, ...]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for path in sorted(lib.glob("*.py"))[:250]:
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 200:
                    texts.append(doc)
    return tuple(texts)


@functools.cache
def _prose() -> tuple[str, ...]:
    from spark_jobs.samples.web import _prose

    return tuple(text for _, text in _prose())


@functools.cache
def _code() -> tuple[str, ...]:
    site = Path(sysconfig.get_paths()["purelib"])
    files = sorted(site.glob("**/*.js"))[:200] + sorted(site.glob("**/*.css"))[:100]
    texts = []
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if 200 < len(text) < 200_000:
            texts.append(text)
    return tuple(texts)


class _Maker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._fakers: dict = {}
        self.made: list[str] = []

    def faker(self, locale: str):
        if locale not in self._fakers:
            from faker import Faker

            fake = Faker(locale)
            fake.seed_instance(self.rng.randrange(2**32))
            self._fakers[locale] = fake
        return self._fakers[locale]

    def excerpt(self, texts: tuple[str, ...], max_chars: int = 20_000) -> str:
        """A slice of a real document, cut at paragraph boundaries."""
        text = self.rng.choice(texts)
        paragraphs = re.split(r"\n\s*\n", text)
        start = self.rng.randrange(len(paragraphs))
        out, size = [], 0
        for p in paragraphs[start:]:
            out.append(p)
            size += len(p)
            if size >= max_chars or (size > 300 and self.rng.random() < 0.04):
                break
        return "\n\n".join(out)

    def article(self, low: int = 3, high: int = 30) -> str:
        prose = _prose()
        paragraphs = [self.rng.choice(prose) for _ in range(self.rng.randint(low, high))]
        return "\n\n".join(paragraphs)

    def make(self, kind: str) -> str:
        rng = self.rng
        if kind == "topic":
            return self.excerpt(_topics())
        if kind == "readme":
            return self.excerpt(_readmes())
        if kind == "docstrings":
            docs = _docstrings()
            return "\n\n".join(rng.choice(docs) for _ in range(rng.randint(1, 6)))
        if kind == "article":
            return self.article()
        if kind == "web_page":
            title = rng.choice(_prose()).split(".")[0][:80]
            nav = " | ".join(rng.sample(NAV, rng.randint(3, 7)))
            footer = [rng.choice(POLICY)] if rng.random() < 0.5 else []
            return "\n".join([nav, title, self.article(1, 8), *footer, "© 2024 Example Inc."])
        if kind == "boilerplate":
            lines = [rng.choice(NAV + POLICY) for _ in range(rng.randint(5, 40))]
            if rng.random() < 0.5:
                lines.insert(rng.randrange(len(lines)), rng.choice(_prose()))
            return "\n".join(lines)
        if kind == "repeated_lines":
            base = self.article(1, 4).split(". ")
            line = rng.choice(base)
            lines = [*base, *([line] * rng.randint(1, 30))]
            rng.shuffle(lines)
            return "\n".join(lines)
        if kind == "repeated_paragraphs":
            paragraphs = self.article(2, 6).split("\n\n")
            paragraphs += [rng.choice(paragraphs)] * rng.randint(1, 6)
            return "\n\n".join(paragraphs)
        if kind == "bullets":
            bullet = rng.choice(("• ", "- ", "* ", "1. "))
            items = [rng.choice(_prose()).split(".")[0][:120] for _ in range(rng.randint(3, 40))]
            head = [self.article(0, 1)] if rng.random() < 0.4 else []
            return "\n".join([*head, *(bullet + item for item in items)])
        if kind == "teaser":
            items = [
                rng.choice(_prose())[: rng.randint(40, 200)] + rng.choice(("...", "…"))
                for _ in range(rng.randint(2, 12))
            ]
            return "\n".join(items)
        if kind == "hashtags":
            words = rng.choice(_prose()).split()
            tags = " ".join(
                "#" + rng.choice(words).strip(".,;:()").lower() for _ in range(rng.randint(3, 30))
            )
            return f"{' '.join(words[: rng.randint(10, 60)])}\n{tags}"
        if kind == "short":
            return " ".join(rng.choice(_prose()).split()[: rng.randint(1, 70)])
        if kind == "lorem":
            text = self.article(1, 5).split("\n\n")
            text.insert(rng.randrange(len(text) + 1), LOREM)
            return "\n\n".join(text)
        if kind == "code":
            code = _code()
            if code:
                text = rng.choice(code)
                start = rng.randrange(max(1, len(text) - 4000))
                return text[start : start + rng.randint(500, 8000)]
            return "function f(x) {\n  return x + 1;\n}\n" * rng.randint(1, 20)
        if kind == "non_english":
            fake = self.faker(rng.choice(LOCALES))
            return "\n\n".join(
                fake.paragraph(nb_sentences=rng.randint(3, 12)) for _ in range(rng.randint(1, 6))
            )
        if kind == "numbers":
            rows = [
                " | ".join(f"{rng.uniform(0, 1e4):.2f}" for _ in range(rng.randint(3, 8)))
                for _ in range(rng.randint(5, 60))
            ]
            return "\n".join(rows)
        if kind == "javascript":
            text = self.article(1, 6).split("\n\n")
            text.insert(rng.randrange(len(text) + 1), rng.choice(JAVASCRIPT))
            return "\n".join(text)
        if kind == "duplicate" and self.made:
            text = rng.choice(self.made)
            # Exact copy, or a copy with trivial edits (whitespace/case/punctuation).
            if rng.random() < 0.5:
                return text
            return text.replace(" ", "  ", 3).replace(".", "!", 1)
        if kind == "long":
            return "\n\n".join(rng.choice(_prose()) for _ in range(rng.randint(400, 2500)))
        if kind == "empty":
            return rng.choice(("", " ", "\n", "\n\n\t"))
        return self.article()


def generate(n_docs: int, seed: int = 0):
    """Yield Arrow record batches of `n_docs` documents (deterministic for a seed)."""
    rng = random.Random(seed)
    maker = _Maker(rng)
    kinds, weights = zip(*KINDS, strict=True)
    start = dt.datetime(2024, 1, 1)
    licenses = ("CC-BY-4.0", "CC-BY-SA-4.0", "MIT", "PSF-2.0", "CC0-1.0", "Apache-2.0")
    batch: list[dict] = []
    for i in range(n_docs):
        kind = rng.choices(kinds, weights)[0]
        text = maker.make(kind)
        if kind in ("article", "topic", "readme") and len(maker.made) < 5000:
            maker.made.append(text)
        batch.append(
            {
                "id": f"doc-{seed}-{i:08d}",
                "corpus": "web",
                "source": "bench-corpus",
                "locator": f"https://bench-{i % 97}.example.org/{kind}/{i}",
                "license": licenses[i % len(licenses)],
                "fetch_date": start + dt.timedelta(minutes=i),
                "kind": kind,
                "text": text,
            }
        )
        if len(batch) == 5000:
            yield pa.RecordBatch.from_pylist(batch, SCHEMA)
            batch = []
    if batch:
        yield pa.RecordBatch.from_pylist(batch, SCHEMA)


def ensure_corpus(n_docs: int, seed: int = 0) -> Path:
    """The Parquet file of `n_docs` benchmark documents, generated on first use."""
    path = BENCH_DIR / f"corpus-v{VERSION}-{n_docs}-{seed}.parquet"
    if path.exists():
        return path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
        for batch in generate(n_docs, seed):
            writer.write_batch(batch, row_group_size=5000)
    partial.rename(path)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_docs", type=int, nargs="?", default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = ensure_corpus(args.n_docs, args.seed)
    meta = pq.read_metadata(path)
    table = pq.read_table(path, columns=["kind", "text"])
    mb = sum(len(t.encode()) for t in table["text"].to_pylist()) / 1e6
    kinds = table["kind"].value_counts().to_pylist()
    print(f"{path}: {meta.num_rows} documents, {mb:.1f} MB of text")
    for entry in sorted(kinds, key=lambda e: -e["counts"]):
        print(f"  {entry['values']:<22}{entry['counts']:>8}")
    return {"documents": meta.num_rows, "text MB": round(mb, 1)}


if __name__ == "__main__":
    main(sys.argv[1:])
