"""Benchmark decontamination scan: Pilehouse's n-gram matcher (spark_jobs.decontaminate, the
function every Spark task runs) against the straightforward GPT-3-style implementation (a
Python set of n-gram strings), on the same documents, one core each.

    python -m bench.decontamination            # 20,000 documents of the benchmark corpus
    python -m bench.decontamination --quick    # 2,000 documents

Documents: bench.corpus (real offline text with planted cases); 2% of them get one question of
the bundled benchmark sample inserted at a random position. Both matchers use the same words
(lower-cased \\w+) and the same items (question + answer), n = 13. Figures: documents/s and
MB/s of text, planted documents found (recall), clean documents flagged (false positives),
index build time.
"""

from __future__ import annotations

import argparse
import random
import time

import pyarrow as pa
import pyarrow.parquet as pq

from bench.corpus import ensure_corpus
from spark_jobs.decontaminate import (
    BUNDLED_BENCHMARKS,
    build_index,
    flag_batch,
    load_benchmark_items,
    words,
)

FULL_DOCS = 20_000
QUICK_DOCS = 2_000
PLANT_FRACTION = 0.02
N = 13
BATCH = 1000


def planted_documents(n_docs: int, seed: int = 0) -> tuple[pa.Table, set[str]]:
    table = pq.read_table(ensure_corpus(n_docs, seed), columns=["id", "corpus", "source", "text"])
    items = load_benchmark_items([BUNDLED_BENCHMARKS]).to_pylist()
    rng = random.Random(seed)
    texts = table.column("text").to_pylist()
    ids = table.column("id").to_pylist()
    planted = set()
    for i in rng.sample(range(len(texts)), int(len(texts) * PLANT_FRACTION)):
        words_ = texts[i].split(" ")
        at = rng.randrange(len(words_) + 1)
        question = rng.choice(items)["question"]
        texts[i] = " ".join([*words_[:at], question, *words_[at:]])
        planted.add(ids[i])
    return table.set_column(3, "text", pa.array(texts, pa.string())), planted


def naive_index(items: list[dict], n: int) -> set[str]:
    grams = set()
    for item in items:
        tokens = words(f"{item['question']} {item['answer']}")
        grams.update(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def naive_flags(texts: list[str], ids: list[str], grams: set[str], n: int) -> set[str]:
    flagged = set()
    for doc_id, text in zip(ids, texts, strict=True):
        tokens = words(text or "")
        if any(" ".join(tokens[i : i + n]) in grams for i in range(len(tokens) - n + 1)):
            flagged.add(doc_id)
    return flagged


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} documents")
    parser.add_argument("--docs", type=int, default=None)
    args = parser.parse_args(argv)
    n_docs = args.docs or (QUICK_DOCS if args.quick else FULL_DOCS)
    table, planted = planted_documents(n_docs)
    items = load_benchmark_items([BUNDLED_BENCHMARKS])
    megabytes = sum(len(t.encode()) for t in table.column("text").to_pylist()) / 1e6

    start = time.perf_counter()
    index = build_index(items, N)
    pilehouse_index_s = time.perf_counter() - start
    start = time.perf_counter()
    found = set()
    for batch in table.to_batches(max_chunksize=BATCH):
        found.update(flag_batch(batch, index).column("id").to_pylist())
    pilehouse_s = time.perf_counter() - start

    start = time.perf_counter()
    grams = naive_index(items.to_pylist(), N)
    naive_index_s = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_flags(table.column("text").to_pylist(), table.column("id").to_pylist(), grams, N)
    naive_s = time.perf_counter() - start

    rows = [
        ("pilehouse (rolling hash, sorted array)", pilehouse_s, pilehouse_index_s, found),
        ("naive (set of n-gram strings)", naive_s, naive_index_s, naive),
    ]
    print(f"{n_docs:,} documents, {megabytes:.1f} MB of text, {len(planted)} planted, n={N}")
    print(f"{'matcher':40} {'docs/s':>10} {'MB/s':>7} {'recall':>7} {'false +':>8} {'index s':>8}")
    for name, seconds, index_s, flagged in rows:
        recall = len(flagged & planted) / len(planted)
        print(
            f"{name:40} {n_docs / seconds:10,.0f} {megabytes / seconds:7.2f} {recall:7.1%} "
            f"{len(flagged - planted):8d} {index_s:8.3f}"
        )
    return {
        "pilehouse docs/s": round(n_docs / pilehouse_s),
        "naive docs/s": round(n_docs / naive_s),
        "pilehouse/naive speed": round(naive_s / pilehouse_s, 2),
        "pilehouse recall": len(found & planted) / len(planted),
        "naive recall": len(naive & planted) / len(planted),
        "pilehouse false positives": len(found - planted),
    }


if __name__ == "__main__":
    main()
