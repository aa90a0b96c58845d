"""Taken-down documents never appear in a trace or a count: excluded at query time after the
takedown, left out of new builds, and removed from the index files by the purge."""

from __future__ import annotations

import numpy as np

from spark_jobs.delta import read_arrow
from spark_jobs.indexes.build import build_mixture_index
from spark_jobs.indexes.query import locate_mixture_index, open_index
from spark_jobs.lake import Lake
from spark_jobs.mixtures.build import materialize_mixture
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.takedown import TakedownRequest, purge, takedown

from .conftest import (
    INDEX_SHARD_TOKENS,
    PLANTED_ONE,
    PLANTED_SHARED,
    RECIPE,
    brute_count,
    write_planted_lake,
)

GONE = frozenset({"web-0001", "code-0001"})


def _index_tokens(manifest_uri: str, manifest: dict) -> list[np.ndarray]:
    directory = manifest_uri.rsplit("/", 1)[0]
    return [
        np.fromfile(f"{directory}/{s['files']['tokens']['name']}", dtype=manifest["token_dtype"])
        for s in manifest["shards"]
    ]


def test_taken_down_documents_never_appear(indexed):
    lake = indexed.lake
    before = open_index(lake, locate_mixture_index(lake, "index-mix"))
    planted_one = before.encode(PLANTED_ONE)[0][1:]  # without the sentence's first word
    assert before.count(planted_one.tolist()) == indexed.repetitions("web-0001")

    takedown(lake, TakedownRequest(ids=tuple(sorted(GONE)), reason="opt-out"))

    # 1. The index files are unchanged, the documents are excluded when queried.
    index = open_index(lake, locate_mixture_index(lake, "index-mix"))
    assert index.count(planted_one.tolist()) == 0
    for text in (PLANTED_ONE, PLANTED_SHARED, f"Quoted: {PLANTED_SHARED} and more."):
        for span in index.trace(text, max_documents=50, min_tokens=1).spans:
            assert not GONE & {d.id for d in span.documents}
    # The shared sentence is still traced, to the page that was not taken down.
    span = index.trace(PLANTED_SHARED).spans[0]
    assert [d.id for d in span.documents] == ["web-0002"]
    assert span.count == indexed.repetitions("web-0002")
    # Counts are those of a brute-force scan of the training tokens less the documents.
    stream = indexed.stream(excluded=GONE)
    rng = np.random.default_rng(3)
    shared = index.encode(PLANTED_SHARED)[0][1:]
    for n in (1, 2, 4, 8, 20, len(shared)):
        start = int(rng.integers(0, len(shared) - n + 1))
        ngram = shared[start : start + n]
        assert index.count(ngram.tolist()) == brute_count(stream, ngram)

    # 2. A build after the takedown leaves the documents out.
    rebuilt = build_mixture_index(lake, "index-mix", shard_tokens=INDEX_SHARD_TOKENS)
    assert rebuilt.manifest["totals"]["taken_down_skipped"] == sum(
        indexed.repetitions(i) for i in GONE
    )
    for tokens in _index_tokens(rebuilt.manifest_uri, rebuilt.manifest):
        assert brute_count(tokens.astype(np.int64), planted_one) == 0


def test_purge_rebuilds_index_shards_without_the_documents(tmp_path):
    # Its own lake: the index of the module fixture was rebuilt above.
    lake = Lake(str(tmp_path / "lake"))
    write_planted_lake(lake)
    materialize_mixture(lake, MixtureRecipe.from_dict(RECIPE), export_uri=str(tmp_path / "e"))
    built = build_mixture_index(lake, "index-mix", shard_tokens=INDEX_SHARD_TOKENS)
    planted_one = open_index(lake, built.manifest_uri).encode(PLANTED_ONE)[0][1:]
    holding = [
        t
        for t in _index_tokens(built.manifest_uri, built.manifest)
        if brute_count(t.astype(np.int64), planted_one)
    ]
    assert holding

    takedown(lake, TakedownRequest(ids=("web-0001",)))
    planned = purge(lake, retention_hours=0, dry_run=True)
    assert any("would rebuild without 1 document(s)" in line for line in planned.indexes)
    assert open_index(lake, built.manifest_uri).manifest == built.manifest  # nothing changed
    report = purge(lake, retention_hours=0)

    assert any(
        "index-" in line and "rebuilt without 1 document(s)" in line for line in report.indexes
    )
    assert "rebuilt without" in report.render()
    index = open_index(lake, built.manifest_uri)
    manifest = index.manifest
    assert manifest["takedowns"][0]["shards"]
    for tokens in _index_tokens(built.manifest_uri, manifest):
        assert brute_count(tokens.astype(np.int64), planted_one) == 0
    # The rebuilt shards still answer: every other document is there, with the right counts.
    assert index.trace(PLANTED_SHARED).spans[0].documents
    rows = read_arrow(lake.uri("mixtures.index-mix"), version=0).to_pylist()
    removed = sum(r["token_count"] for r in rows if r["id"] == "web-0001")
    assert manifest["totals"]["tokens"] == built.manifest["totals"]["tokens"] - removed
