"""trace finds planted sentences in the right documents; count equals a brute-force scan."""

from __future__ import annotations

import numpy as np
import pytest

from spark_jobs.indexes.build import build_table_index
from spark_jobs.indexes.query import locate_mixture_index, open_index

from .conftest import PLANTED_ONE, PLANTED_SHARED, brute_count


@pytest.fixture(scope="module")
def index(indexed):
    return open_index(indexed.lake, locate_mixture_index(indexed.lake, "index-mix"))


def test_index_records_what_it_was_built_from(indexed, index):
    manifest = indexed.index.manifest
    export = indexed.export.manifest
    assert manifest["mixture"]["version"] == export["mixture"]["version"]
    assert manifest["tokenizer"]["version"] == export["tokenizer"]["version"]
    # Every token the model trains on is indexed once, in several shards.
    assert manifest["totals"]["tokens"] == export["totals"]["tokens"]
    assert len(manifest["shards"]) >= 3
    assert indexed.index.manifest_uri.startswith(indexed.export.directory)
    assert index.note is None


def test_a_planted_sentence_is_traced_to_its_one_document(indexed, index):
    text = f"As a reviewer wrote last spring: {PLANTED_ONE} None of that was in the brief."
    trace = index.trace(text, max_documents=5)
    span = trace.spans[0]  # the longest
    planted_tokens = len(index.encode(PLANTED_ONE)[0])
    # Token boundaries at the edges of the quote may differ from the page's; the rest matches.
    assert span.tokens >= planted_tokens - 2
    assert span.text.strip() in PLANTED_ONE and len(span.text) > 0.9 * len(PLANTED_ONE)
    assert [d.id for d in span.documents] == ["web-0001"]
    doc = span.documents[0]
    assert (doc.source, doc.license, doc.table, doc.table_version) == (
        "crawl-b",
        "PSF-2.0",
        "curated.web",
        0,
    )
    assert "seventeen herons" in doc.snippet and "«" in doc.snippet
    # Up-sampled pages repeat: the count is every occurrence in the training tokens.
    assert span.count == doc.occurrences == indexed.repetitions("web-0001") >= 1
    assert "web-0001" in trace.render()


def test_a_sentence_in_two_documents_lists_both(indexed, index):
    span = index.trace(f"Quoted: {PLANTED_SHARED}").spans[0]
    assert {d.id for d in span.documents} == {"web-0002", "code-0001"}
    by_id = {d.id: d for d in span.documents}
    assert by_id["code-0001"].table == "curated.code"
    assert span.count == sum(d.occurrences for d in span.documents)
    limited = index.trace(f"Quoted: {PLANTED_SHARED}", max_documents=1).spans[0]
    assert len(limited.documents) == 1 and limited.count == span.count


def test_text_not_in_the_corpus_has_no_long_span(index):
    trace = index.trace("Zyxwvut qlomp brellig fnord, quaggy sprocket vexillology 4417.")
    assert trace.spans == []


def test_counts_equal_a_brute_force_count(indexed, index):
    stream = indexed.stream()
    eos = index.tokenizer.eos_id
    rng = np.random.default_rng(5)
    checked = nonzero = 0
    for _ in range(300):
        n = int(rng.integers(1, 16))
        start = int(rng.integers(0, len(stream) - n))
        ngram = stream[start : start + n]
        if (ngram == eos).any():
            continue
        if rng.random() < 0.3:
            ngram = rng.permutation(ngram)  # mostly absent
        expected = brute_count(stream, ngram)
        assert index.count(ngram.tolist()) == expected, ngram
        checked += 1
        nonzero += expected > 0
    assert checked > 200 and nonzero > 150
    # Text is tokenized like the training data (with its leading space).
    word = " the"
    assert index.count(word) == brute_count(stream, index.encode(word)[0]) > 100
    with pytest.raises(ValueError, match="end-of-text"):
        index.count([int(stream[0]), eos])


def _longest(stream: np.ndarray, q: np.ndarray, i: int) -> int:
    """Brute force: the longest q[i:i+L] that occurs in the stream."""
    candidates = np.flatnonzero(stream == q[i])
    length = 0
    while len(candidates) and i + length < len(q):
        length += 1
        if i + length == len(q):
            break
        after = candidates + length
        after = after[after < len(stream)]
        candidates = after[stream[after] == q[i + length]] - length
    return length


def test_longest_matches_equal_brute_force(indexed, index):
    stream = indexed.stream()
    rng = np.random.default_rng(9)
    # Pieces of training text glued to random tokens: matches of every length.
    pieces = []
    for _ in range(6):
        start = int(rng.integers(0, len(stream) - 40))
        pieces += [stream[start : start + int(rng.integers(3, 40))], rng.integers(0, 400, 3)]
    q = np.concatenate(pieces)
    q = q[q != index.tokenizer.eos_id]
    lengths = np.zeros(len(q), dtype=np.int64)
    for shard in index.shards:
        lengths = np.maximum(lengths, shard.longest_matches(q))
    assert lengths.tolist() == [_longest(stream, q, i) for i in range(len(q))]


def test_a_curated_table_is_indexed_at_a_version(indexed, index):
    built = build_table_index(indexed.lake, "curated.web", index.tokenizer, shard_tokens=5000)
    assert built.manifest_uri.endswith("_indexes/tables/curated.web/v0/manifest.json")
    assert built.manifest["table"]["version"] == 0
    # Every page once, the licenses and languages a mixture leaves out included.
    assert built.manifest["totals"]["documents"] == 60
    table_index = open_index(indexed.lake, built.manifest_uri)
    assert table_index.built_from == "curated.web v0"
    span = table_index.trace(f"Note: {PLANTED_ONE}").spans[0]
    hits = [(d.id, d.table, d.table_version, d.occurrences) for d in span.documents]
    assert hits == [("web-0001", "curated.web", 0, 1)]
