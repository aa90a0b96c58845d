"""Dedup on real Spark: LSH pairs, connected components, keep policy, clusters, paragraphs."""

from __future__ import annotations

import datetime as dt
import pydoc_data.topics
import random

import pytest

from spark_jobs.annotators.text_hash import exact_dedup_key
from spark_jobs.dedup import (
    ConfigMismatchError,
    DedupConfig,
    cluster_duplicates,
    connected_components,
    duplicates_to_drop,
    minhash_signatures,
    near_duplicate_pairs,
    paragraph_duplicate_fractions,
)

pytestmark = pytest.mark.spark

TEXTS = [t for t in pydoc_data.topics.topics.values() if len(t.split()) > 300]


def _edit(text: str, edits: int, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), edits):
        words[i] = f"edit{rng.randrange(10**6)}"
    return " ".join(words)


def _docs(spark, rows):
    columns = ["id", "corpus", "source", "text", "license", "quality_score", "fetch_date"]
    full = [
        {**{c: None for c in columns}, **row, "text_hash": exact_dedup_key(row["text"])}
        for row in rows
    ]
    schema = (
        "id string, corpus string, source string, text string, license string, "
        "quality_score double, fetch_date timestamp, text_hash string"
    )
    return spark.createDataFrame(
        [tuple(r[c] for c in [*columns, "text_hash"]) for r in full], schema
    )


def test_lsh_finds_planted_near_duplicate_only(spark):
    base = TEXTS[0]
    near = _edit(base, 4, seed=1)  # Jaccard ~0.95
    docs = _docs(
        spark,
        [
            {"id": "a", "text": base},
            {"id": "b", "text": near},
            {"id": "c", "text": TEXTS[1]},
            {"id": "d", "text": TEXTS[2]},
            {"id": "e", "text": ""},
        ],
    )
    sigs = minhash_signatures(docs)
    assert set(sigs.columns) >= {"id", "corpus", "source", "band_keys", "config_fingerprint"}
    rows = {r["id"]: r for r in sigs.collect()}
    assert len(rows["a"]["band_keys"]) == 14 and rows["e"]["band_keys"] is None
    pairs = near_duplicate_pairs(sigs, DedupConfig()).collect()
    assert [(r.id_a, r.id_b) for r in pairs] == [("a", "b")]
    assert 0.85 < pairs[0].similarity <= 1.0


def test_verification_drops_pairs_below_threshold(spark):
    docs = _docs(spark, [{"id": "a", "text": TEXTS[0]}, {"id": "b", "text": _edit(TEXTS[0], 6, 9)}])
    strict = DedupConfig().with_(verify_threshold=0.999)
    assert near_duplicate_pairs(minhash_signatures(docs, strict), strict).count() == 0
    lax = DedupConfig().with_(verify_threshold=None)
    unverified = minhash_signatures(docs, lax)
    assert "minhash_sketch" not in unverified.columns
    assert [(r.id_a, r.id_b) for r in near_duplicate_pairs(unverified, lax).collect()] == [
        ("a", "b")
    ]
    with pytest.raises(ConfigMismatchError, match="minhash_sketch"):
        near_duplicate_pairs(unverified, DedupConfig())


def test_signatures_computed_apart_are_comparable_and_mismatch_refused(spark):
    config = DedupConfig()
    old = minhash_signatures(_docs(spark, [{"id": "a", "text": TEXTS[3]}]), config)
    new = minhash_signatures(_docs(spark, [{"id": "b", "text": _edit(TEXTS[3], 3, 2)}]), config)
    pairs = near_duplicate_pairs(old.unionByName(new), config).collect()
    assert [(r.id_a, r.id_b) for r in pairs] == [("a", "b")]
    other = minhash_signatures(_docs(spark, [{"id": "b", "text": TEXTS[3]}]), config.with_(seed=5))
    with pytest.raises(ConfigMismatchError, match="several"):
        near_duplicate_pairs(old.unionByName(other))
    with pytest.raises(ConfigMismatchError, match="not the current"):
        near_duplicate_pairs(other, config)


def test_connected_components_chain_and_pair(spark):
    pairs = spark.createDataFrame(
        [("a", "b"), ("b", "c"), ("d", "e"), ("f", "g"), ("g", "h"), ("h", "i"), ("i", "j")],
        "id_a string, id_b string",
    )
    found = connected_components(pairs)
    got = {r.id: r.cluster_id for r in found.collect()}
    assert got == {
        "a": "a", "b": "a", "c": "a",
        "d": "d", "e": "d",
        "f": "f", "g": "f", "h": "f", "i": "f", "j": "f",
    }  # fmt: skip


def test_connected_components_long_reversed_chain(spark):
    # Labels must travel 40 hops against the id order; large/small-star keeps rounds few.
    ids = [f"n{i:03d}" for i in range(41)]
    pairs = spark.createDataFrame(
        list(zip(ids[1:], ids[:-1], strict=True)), "id_a string, id_b string"
    )
    got = {r.id: r.cluster_id for r in connected_components(pairs, max_iterations=12).collect()}
    assert set(got) == set(ids) and set(got.values()) == {"n000"}


def test_keep_policy_and_clusters_across_corpora(spark):
    text = TEXTS[4]
    day = dt.datetime(2024, 1, 1)
    docs = _docs(
        spark,
        [
            # exact copies in two corpora: the licensed corpus wins despite lower quality
            {"id": "w1", "corpus": "web", "source": "s", "text": text, "quality_score": 0.9},
            {"id": "l1", "corpus": "licensed", "source": "t", "text": text, "quality_score": 0.1},
            # near duplicates of another text in web: the higher quality one wins
            {"id": "w2", "corpus": "web", "source": "s", "text": TEXTS[5], "quality_score": 0.2},
            {"id": "w3", "corpus": "web", "source": "s", "text": _edit(TEXTS[5], 3, 3), "quality_score": 0.8},
            # equal quality: the older one wins
            {"id": "w4", "corpus": "web", "source": "s", "text": TEXTS[6], "quality_score": 0.5, "fetch_date": day},
            {"id": "w5", "corpus": "web", "source": "s", "text": _edit(TEXTS[6], 3, 4), "quality_score": 0.5,
             "fetch_date": day - dt.timedelta(days=3)},
            # a permissive license beats an unknown one
            {"id": "c1", "corpus": "code", "source": "x", "text": TEXTS[7], "license": "GPL-3.0-only"},
            {"id": "c2", "corpus": "code", "source": "x", "text": _edit(TEXTS[7], 2, 5), "license": "MIT"},
            {"id": "u", "corpus": "web", "source": "s", "text": TEXTS[8]},
        ],
    )  # fmt: skip
    clusters = cluster_duplicates(docs, DedupConfig())
    rows = {(r.id, r.kind): r for r in clusters.collect()}
    assert rows[("w1", "exact")].keeper_id == "l1"
    assert rows[("w1", "exact")].cluster_size == 2 and rows[("w1", "exact")].cluster_id == "l1"
    assert rows[("l1", "fuzzy")].is_keeper and not rows[("w1", "fuzzy")].is_keeper
    assert rows[("w2", "fuzzy")].keeper_id == "w3"
    assert rows[("w4", "fuzzy")].keeper_id == "w5"
    assert rows[("c1", "fuzzy")].keeper_id == "c2"
    assert not any(key[0] == "u" for key in rows)
    assert {k for k, v in rows.items() if v.kind == "exact"} == {("w1", "exact"), ("l1", "exact")}
    drop = {r.id: r.keeper_id for r in duplicates_to_drop(clusters).collect()}
    assert drop == {"w1": "l1", "w2": "w3", "w4": "w5", "c1": "c2"}


def test_keep_policy_skips_missing_columns(spark):
    docs = spark.createDataFrame(
        [("b", "web", "s", TEXTS[9], "h"), ("a", "web", "s", TEXTS[9], "h")],
        "id string, corpus string, source string, text string, text_hash string",
    )
    rows = cluster_duplicates(docs, fuzzy=False).collect()
    assert {(r.id, r.keeper_id, r.kind) for r in rows} == {("a", "a", "exact"), ("b", "a", "exact")}


def test_paragraph_duplicate_fractions(spark):
    banner = "Accept all cookies to continue reading this website, or manage your settings."
    body1 = "A first article talks about rivers and the many fish that live in them."
    body2 = "A second article is about mountains, which are tall and mostly made of rock."
    body3 = "Completely unrelated prose about the history of the bicycle and its many riders."
    t1 = f"{body1}\n{banner}"
    t2 = f"{banner}\n{body2}"
    t3 = f"{body3}\n{body3}"  # repeated within one document only: not a duplicate
    docs = spark.createDataFrame(
        [("1", t1), ("2", t2), ("3", t3), ("4", "")], "id string, text string"
    )
    got = {r.id: r for r in paragraph_duplicate_fractions(docs).collect()}
    assert got["1"].duplicate_paragraph_chars == len(banner)
    assert got["1"].duplicate_paragraph_fraction == pytest.approx(len(banner) / len(t1))
    assert got["2"].duplicate_paragraph_chars == len(banner)
    assert got["3"].duplicate_paragraph_fraction == 0.0
    assert got["4"].duplicate_paragraph_fraction == 0.0
    three = {r.id: r for r in paragraph_duplicate_fractions(docs, min_count=3).collect()}
    assert three["1"].duplicate_paragraph_chars == 0
