"""Old against new annotators: bit-identical values first, then per-core throughput.

The reference is the annotator code as it was before it was made fast, frozen in
bench/reference_annotators/. On real text (the benchmark corpus, man pages in 14 languages from
bench/data/pii_real, Debian package documentation under /usr/share/doc) and generated adversarial
Unicode, every signal of the new quality_signals must equal the old one bit for bit (type and
float repr). Then, in ONE process, old and new are timed in interleaved repetitions by CPU time
(time.process_time: other engineers' load on the shared machine does not count), with the load
average printed before and after; the same for the whole set of per-document annotators
(language, script, quality signals, dedup key, PII counts) and for language ID alone, the
ceiling of the annotation stage.

    .venv/bin/python -m bench.annotation_equivalence               # 20,000 corpus documents
    .venv/bin/python -m bench.annotation_equivalence --docs 2000 --reps 2
    .venv/bin/python -m bench.annotation_equivalence --write-sample   # the tests' sample
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from bench.corpus import ensure_corpus

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO / "bench" / "data" / "pii_real" / "pages.jsonl"
SAMPLE = REPO / "tests" / "spark_jobs" / "annotators" / "data" / "annotation_sample.jsonl.gz"
DEBIAN_DOCS = Path("/usr/share/doc")
BATCH = 1_000  # documents per call, as an Arrow batch of the annotate stage


def man_pages() -> list[str]:
    """The man pages shipped in bench/data/pii_real (14 languages), one text per page."""
    pages = []
    for line in PAGES.read_text().splitlines():
        page = json.loads(line)
        pages.append("\n\n".join(page["paragraphs"]))
    return pages


def debian_docs(limit: int, max_chars: int = 20_000) -> list[str]:
    """Text of Debian packages' documentation files (copyright, changelogs, READMEs)."""
    texts = []
    if not DEBIAN_DOCS.is_dir():
        return texts
    for path in sorted(DEBIAN_DOCS.rglob("*")):
        if len(texts) >= limit:
            break
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes()[:2_000_000]
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
        if "\x00" not in text and text.strip():
            texts.append(text[:max_chars])
    return texts


_PIECES = (
    "word",
    "Word",
    "WORD",
    "the",
    "and",
    "of",
    "a",
    "ab",
    "ba",
    "abc",
    "c",
    "bc",
    ".",
    "...",
    "…",
    "!",
    "?",
    '"',
    "'",
    "#",
    "-",
    "•",
    "{",
    "}",
    "[1]",
    "[edit]",
    "[]",
    "[citation needed]",
    "[\u0661\u0662]",  # Arabic-Indic digits: re's \d
    "[\u00b2]",  # superscript two: a digit, not a decimal
    "[Edit]",
    "see [1].",
    "[12",
    "Dr.",
    "e.g.",
    "U.S.A.",
    ":)",
    "don't",
    "http://x.org/a?b=1",
    "lorem ipsum",
    "Lorem Ipsum",
    "JavaScript",
    "cookie policy",
    "coo\u212aie policy",
    "\u212a",
    "\u0130",
    "\u0130stanbul",
    "ß",
    "ﬁ",
    "Σ",
    "ς",
    "e\u0301",
    "\u200d",
    "\u00ad",
    "🙂",
    "\U0001d400\U0001d401",
    "👩\u200d💻",
    "中文字",
    "ひらがな",
    "한국어",
    "مرحبا",
    "שלום",
    "Привет",
    "١٢٣",
    "²",
    "Ⅻ",
    "\u00a0",
    "\u3000",
    "\u2009",
    "\t",
    " ",
    "  ",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
    "\r",
    "\n",
    "\r\n",
    "\n\n",
    "\n\n\n",
    "x" * 1001,
    "fuck",
    "The",
    "with",
    "have",
    "To",
    "to",
)


def adversarial_texts(n: int, seed: int = 0, surrogates: bool = False) -> list[str]:
    """Texts built from pieces that stress every definition: all line breaks str.splitlines
    knows, Unicode spaces, characters whose case maps change length or lower to ASCII,
    astral characters, citations, repeated lines and n-grams whose words differ but join to the
    same text. With `surrogates`, lone surrogates too (a Python str can hold them, Arrow cannot).
    """
    rng = random.Random(seed)
    pieces = list(_PIECES) + (["\ud800", "\udfff"] if surrogates else [])
    texts = ["", " ", "\n", "\r\n", "...", "a", "\u212a", "[1]"]
    while len(texts) < n:
        vocab = rng.sample(pieces, rng.randint(2, 24))
        parts = [rng.choice(vocab) for _ in range(rng.randint(0, 300))]
        seps = rng.choice([" ", "", "\n", " \n "])
        text = (
            seps.join(parts)
            if rng.random() < 0.5
            else "".join(p + rng.choice(["", " ", " ", "\n"]) for p in parts)
        )
        if rng.random() < 0.3:  # repeated lines and paragraphs
            text = "\n".join([text] * rng.randint(2, 4)) + rng.choice(["", "\n\n" + text])
        texts.append(text)
    return texts


def corpus_texts(n_docs: int, seed: int = 0) -> list[str]:
    return pq.read_table(ensure_corpus(n_docs, seed), columns=["text"])["text"].to_pylist()


def identical(a: dict, b: dict) -> bool:
    """Equal keys, and every value of the same type with the same repr (floats bit for bit)."""
    return a.keys() == b.keys() and all(
        type(a[k]) is type(b[k]) and repr(a[k]) == repr(b[k]) for k in a
    )


def differences(texts: list[str], old: Callable, new: Callable, show: int = 3) -> int:
    """Texts on which old(text) and new(text) are not identical (dicts: per key)."""
    differing = 0
    for text in texts:
        try:
            a = old(text)
        except UnicodeError as error:  # the old code's own failure must stay the same
            a = type(error)
        try:
            b = new(text)
        except UnicodeError as error:
            b = type(error)
        same = (
            identical(a, b)
            if isinstance(a, dict) and isinstance(b, dict)
            else (type(a) is type(b) and a == b)
        )
        if not same:
            differing += 1
            if differing <= show:
                print(f"  differs on {text[:80]!r}: {a!r:.300} != {b!r:.300}")
    return differing


def pairs() -> dict[str, tuple[Callable, Callable]]:
    """annotator -> (old function, new function) compared by the harness."""
    from bench.reference_annotators import pii, quality, script, text_hash
    from spark_jobs.annotators import pii as new_pii
    from spark_jobs.annotators import quality as new_quality
    from spark_jobs.annotators import script as new_script
    from spark_jobs.annotators import text_hash as new_text_hash

    def spans(module):  # (type, start, end): the two modules' PiiSpan classes differ
        return lambda text: [(s.type, s.start, s.end) for s in module.pii_spans(text)]

    return {
        "quality_signals": (quality.quality_signals, new_quality.quality_signals),
        "script": (script.dominant_script, new_script.dominant_script),
        "text_hash": (text_hash.exact_dedup_key, new_text_hash.exact_dedup_key),
        "pii_spans": (spans(pii), spans(new_pii)),
        "redact": (pii.redact, new_pii.redact),
    }


def write_sample(path: Path = SAMPLE) -> None:
    """The tests' committed sample: benchmark corpus documents of every kind and Debian
    documentation files, each cut to 20,000 characters."""
    table = pq.read_table(ensure_corpus(2_000, 0), columns=["kind", "text"]).to_pylist()
    by_kind: dict[str, list[str]] = {}
    for row in table:
        by_kind.setdefault(row["kind"], []).append(row["text"][:20_000])
    docs = [text for texts in by_kind.values() for text in texts[:8]]
    docs += debian_docs(40, max_chars=8_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for text in docs:
            out.write(json.dumps({"text": text}) + "\n")
    print(f"wrote {path}: {len(docs)} documents, {sum(map(len, docs)):,} characters")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def interleaved(
    texts: list[str], contenders: dict[str, Callable[[list[str]], object]], reps: int
) -> dict[str, float]:
    """CPU seconds per contender over all texts in batches of BATCH (as the annotate stage
    hands them over): the fastest of `reps` interleaved passes, the order alternating."""
    batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
    best: dict[str, float] = {}
    names = list(contenders)
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            f = contenders[name]
            start = time.process_time()
            for batch in batches:
                f(batch)
            seconds = time.process_time() - start
            best[name] = min(best.get(name, seconds), seconds)
    return best


def each(f: Callable[[str], object]) -> Callable[[list[str]], list]:
    return lambda texts: [f(t) for t in texts]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000, help="benchmark corpus documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--adversarial", type=int, default=3_000)
    parser.add_argument("--quick", action="store_true", help="2,000 documents, 2 repetitions")
    parser.add_argument("--write-sample", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.docs, args.reps, args.adversarial = 2_000, 2, 1_000
    if args.write_sample:
        write_sample()
        return {}

    from bench import pii_real
    from bench.pii_planted import planted_documents
    from bench.reference_annotators import pii as old_pii
    from bench.reference_annotators import quality as old_quality
    from bench.reference_annotators.annotate import annotate_texts as old_annotate_texts
    from spark_jobs.annotate import annotate_texts
    from spark_jobs.annotators.language import identify_language
    from spark_jobs.annotators.pii import pii_counts
    from spark_jobs.annotators.quality import quality_signals

    corpus = corpus_texts(args.docs, args.seed)
    sources = {
        f"benchmark corpus ({args.docs:,} documents)": corpus,
        "man pages, 14 languages (bench/data/pii_real)": man_pages(),
        "Debian documentation (/usr/share/doc)": debian_docs(2_000),
        "adversarial Unicode (generated)": adversarial_texts(args.adversarial, args.seed),
        "adversarial Unicode with lone surrogates": adversarial_texts(300, args.seed, True),
        "planted PII (bench.pii_planted, W6)": [d.text for d in planted_documents(2_000)],
        "man pages with planted PII (shipped subset)": [
            d.text for d in pii_real.build_documents(pii_real.load_shipped_pages())
        ],
    }
    print("old (bench/reference_annotators) against new: texts whose values differ")
    total_differing = 0
    for name, (old, new) in pairs().items():
        for label, texts in sources.items():
            n = differences(texts, old, new)
            total_differing += n
            print(f"  {name:<16}{label:<50}{len(texts):>7,} texts {n:>5} differing")
    print(f"texts differing in any annotation: {total_differing}")

    # One untimed pass of both over every text first: tokenizer caches filled, compiled kernels
    # loaded; a long-running annotation worker is in that state.
    old_annotate_texts(corpus)
    annotate_texts(corpus)
    mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in corpus) / 1e6
    print(f"\nThroughput on the benchmark corpus ({mb:.1f} MB), CPU time, best of {args.reps}")
    print(f"load average before: {_load()}")
    seconds = interleaved(
        corpus,
        {
            "quality_signals old": each(old_quality.quality_signals),
            "quality_signals new": each(quality_signals),
            "all annotators old": old_annotate_texts,
            "all annotators new": annotate_texts,
            "language ID alone": each(identify_language),
            "pii_counts old": each(old_pii.pii_counts),
            "pii_counts new": each(pii_counts),
        },
        args.reps,
    )
    print(f"load average after:  {_load()}")
    print(f"{'':<28}{'CPU s':>8}{'MB/s/core':>11}{'docs/s/core':>13}")
    for name, s in seconds.items():
        print(f"{name:<28}{s:>8.2f}{mb / s:>11.2f}{len(corpus) / s:>13.0f}")
    signal_speedup = seconds["quality_signals old"] / seconds["quality_signals new"]
    all_speedup = seconds["all annotators old"] / seconds["all annotators new"]
    ceiling = seconds["all annotators new"] / seconds["language ID alone"]
    pii_speedup = seconds["pii_counts old"] / seconds["pii_counts new"]
    print(f"quality_signals new / old throughput: {signal_speedup:.2f}x")
    print(f"pii_counts new / old throughput: {pii_speedup:.2f}x")
    print(f"all annotators new / old throughput: {all_speedup:.2f}x")
    print(f"all annotators new take {ceiling:.2f}x the CPU time of language ID alone (ceiling)")
    return {
        "texts differing": total_differing,
        "quality_signals speedup": round(signal_speedup, 2),
        "pii_counts speedup": round(pii_speedup, 2),
        "annotators speedup": round(all_speedup, 2),
        "annotators / language ID CPU time": round(ceiling, 2),
        **{f"{name} MB/s/core": round(mb / s, 2) for name, s in seconds.items()},
    }


if __name__ == "__main__":
    main(sys.argv[1:])
