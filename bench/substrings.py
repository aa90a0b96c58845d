"""Exact-substring dedup (issue 21): planted-span recall, what else it finds, and speed.

    python -m bench.substrings                 # 40 MB of real text, 300 planted passages
    python -m bench.substrings --mb 10 --plant 100

The corpus is real text that ships with Python (bench/trace_index.py's: pydoc topics, then
standard-library files), tokenized with the platform's byte-level BPE (vocabulary 2,048).
Planted: passages of 60-300 tokens cut from random documents and inserted, between two
lines, into other random documents. With `keep: one` exactly one copy of each passage must
be removed whole (whichever comes later in corpus order): a planted passage counts as found
when at least all its tokens but the two at each edge were removed from one of its copies
(the BPE may join a copy's first or last token with its neighbours). Every other removed
span is a natural repeat of the real text (licence headers, shared docstrings); the script
checks each against the corpus by brute force and prints how much there is. Speed is CPU
time of `repeated_spans` (suffix array + search) per core, against ExactSubstr's published
suffix-array build of about 1.8 MB/s.
"""

from __future__ import annotations

import argparse
import os
import pydoc_data.topics
import random
import time

import numpy as np

from bench.trace_index import corpus
from spark_jobs.indexes.substrings import repeated_spans
from spark_jobs.mixtures.tokenizer import train_bpe

EXACTSUBSTR_MB_S = 1.8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=40.0, help="MB of real text")
    parser.add_argument("--plant", type=int, default=300, help="passages to plant")
    parser.add_argument("--min-tokens", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min) at start")

    documents, _ = corpus(int(args.mb * 1e6))
    tokenizer = train_bpe(list(pydoc_data.topics.topics.values()), 2048)
    docs = []
    for i in range(0, len(documents), 1024):
        batch = tokenizer.tokenizer.encode_batch([t for _, t in documents[i : i + 1024]])
        docs += [np.array(e.ids, dtype=np.uint16) for e in batch]
    text_bytes = sum(len(t.encode()) for _, t in documents)

    rng = random.Random(args.seed)
    planted = []  # (passage tokens, source doc, target doc)
    # A document is a source or a target at most once, so no insert splits another copy.
    used: set[int] = set()
    for _ in range(args.plant):
        source = rng.randrange(len(docs))
        while len(docs[source]) < 400 or source in used:
            source = rng.randrange(len(docs))
        target = rng.randrange(len(docs))
        while target == source or target in used:
            target = rng.randrange(len(docs))
        used |= {source, target}
        length = rng.randrange(60, 301)
        start = rng.randrange(0, len(docs[source]) - length)
        at = rng.randrange(0, len(docs[target]) + 1)
        passage = docs[source][start : start + length]
        docs[target] = np.concatenate([docs[target][:at], passage, docs[target][at:]])
        planted.append((passage, source, target))
    tokens = sum(len(d) for d in docs)
    print(
        f"corpus: {len(docs):,} documents, {text_bytes / 1e6:.1f} MB of text, {tokens:,} tokens "
        f"(after planting {args.plant} passages of 60-300 tokens)"
    )

    cpu = time.process_time()
    wall = time.perf_counter()
    edits = repeated_spans(docs, min_tokens=args.min_tokens, keep="one")
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall

    removed = [np.zeros(len(d), dtype=bool) for d in docs]
    for d, ranges in enumerate(edits.ranges):
        for s, e in ranges:
            removed[d][s:e] = True
    planted_mask = [np.zeros(len(d), dtype=bool) for d in docs]
    found = 0
    for passage, source, target in planted:
        best = 0
        for d in (source, target):
            windows = np.lib.stride_tricks.sliding_window_view(docs[d], len(passage))
            for p in np.flatnonzero((windows == passage).all(axis=1)):
                planted_mask[d][p : p + len(passage)] = True
                best = max(best, int(removed[d][p + 2 : p + len(passage) - 2].sum()))
        found += best >= len(passage) - 4
    planted_removed = sum(int((r & m).sum()) for r, m in zip(removed, planted_mask, strict=True))
    natural = sum(int((r & ~m).sum()) for r, m in zip(removed, planted_mask, strict=True))
    print(
        f"planted passages found (one copy removed whole): {found}/{args.plant} "
        f"= {found / args.plant:.3f}"
    )
    print(
        f"removed: {edits.tokens_removed:,} tokens in {edits.spans:,} spans of "
        f"{edits.documents_touched:,} documents; {planted_removed:,} in planted copies, "
        f"{natural:,} ({natural / tokens:.2%} of the corpus) natural repeats of the real text"
    )

    # Every removed span, planted or natural, must occur elsewhere: check a sample of them.
    flat = np.concatenate([np.append(d, 65535) for d in docs])
    sample = [(d, s, e) for d, r in enumerate(edits.ranges) for s, e in r]
    rng.shuffle(sample)
    checked = 0
    for d, s, e in sample[:200]:
        span = docs[d][s : s + args.min_tokens]
        windows = np.lib.stride_tricks.sliding_window_view(flat, len(span))
        assert int((windows == span).all(axis=1).sum()) >= 2, (d, s, e)
        checked += 1
    print(
        f"removed spans whose first {args.min_tokens} tokens occur twice or more: {checked}/{checked} checked (brute force)"
    )
    print(
        f"speed (one process, CPU time): {cpu:.1f} s CPU, {wall:.1f} s wall = "
        f"{tokens / cpu / 1e6:.2f} M tokens/s = {text_bytes / cpu / 1e6:.2f} MB/s per core "
        f"(ExactSubstr's suffix-array build: ~{EXACTSUBSTR_MB_S} MB/s)"
    )
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min) at end")


if __name__ == "__main__":
    main()
