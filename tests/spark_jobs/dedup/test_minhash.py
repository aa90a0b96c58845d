"""MinHash signatures without Spark: determinism, Jaccard estimates, band keys, config."""

from __future__ import annotations

import pydoc_data.topics
import random

import numpy as np
import pyarrow as pa
import pytest

from spark_jobs.dedup import (
    DedupConfig,
    band_keys_of,
    batch_minhashes,
    estimate_jaccard,
    jaccard,
    shingle_set,
    shingle_sets,
    signature,
)
from spark_jobs.settings import SHIPPED_DEDUP_CONFIG

TEXTS = [t for t in pydoc_data.topics.topics.values() if len(t.split()) > 300]


def _mutate(text: str, edits: int, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), edits):
        words[i] = f"edit{rng.randrange(10**6)}"
    return " ".join(words)


def test_yaml_matches_defaults():
    config = DedupConfig.from_yaml(SHIPPED_DEDUP_CONFIG)
    assert config == DedupConfig()
    assert (config.shingle_size, config.bands, config.rows, config.num_hashes) == (5, 14, 8, 112)
    assert config.keep_policy == ("licensed_first", "quality_desc", "oldest", "id")
    assert 0.71 < config.threshold < 0.73


def test_fingerprint_tracks_what_changes_keys():
    base = DedupConfig()
    assert base.fingerprint == DedupConfig().fingerprint
    assert base.with_(seed=2).fingerprint != base.fingerprint
    assert base.with_(shingle_size=3).fingerprint != base.fingerprint
    # The keep policy does not change band keys.
    assert base.with_(keep_policy=("id",)).fingerprint == base.fingerprint


def test_unknown_keys_refused():
    with pytest.raises(ValueError, match="unknown"):
        DedupConfig.from_dict({"minhash": {"shingles": 5}})
    with pytest.raises(ValueError, match="'newest' is not a keep rule"):
        DedupConfig.from_dict({"keep_policy": ["newest"]})


def test_signature_deterministic_and_batch_equal():
    config = DedupConfig()
    one = signature(TEXTS[0], config)
    assert one.dtype == np.uint64 and one.shape == (112,)
    assert np.array_equal(one, signature(TEXTS[0], config))
    mins, _ = batch_minhashes(pa.array(TEXTS[:5]), config)
    assert np.array_equal(mins[0], one)
    assert np.array_equal(mins[3], signature(TEXTS[3], config))
    assert not np.array_equal(one, signature(TEXTS[0], config.with_(seed=7)))


def test_normalization_ignores_case_punctuation_numbers_diacritics():
    a = "The café opened in 1998, serving coffee; tea and cake to everyone in town!"
    b = "the cafe opened in 2004 serving COFFEE tea and cake to everyone in town"
    assert np.array_equal(signature(a), signature(b))


def test_short_and_empty_texts():
    _, counts = batch_minhashes(
        pa.array(["", None, "two words", "one two three four five six"]), DedupConfig()
    )
    assert counts.tolist() == [0, 0, 1, 2]
    with pytest.raises(ValueError):
        signature("  ... ")


def test_jaccard_estimate_accuracy():
    """Over many pairs the estimate is unbiased with the binomial spread of 112 hashes."""
    config = DedupConfig()
    errors = []
    for i, text in enumerate(TEXTS[:20]):
        for edits in (5, 20, 60):
            other = _mutate(text, edits, seed=i * 100 + edits)
            true = jaccard(shingle_set(text, config), shingle_set(other, config))
            estimate = estimate_jaccard(signature(text, config), signature(other, config))
            sd = max(np.sqrt(true * (1 - true) / config.num_hashes), 0.01)
            assert abs(estimate - true) < 4.5 * sd, (true, estimate)
            errors.append(estimate - true)
    assert abs(np.mean(errors)) < 0.02
    assert np.sqrt(np.mean(np.square(errors))) < 0.05


def test_band_keys_collide_only_with_equal_rows():
    config = DedupConfig()
    a = signature(TEXTS[1], config)
    b = a.copy()
    b[3] += np.uint64(1)  # band 0 differs, the others are equal
    keys = band_keys_of(np.stack([a, b]), config)
    assert keys.shape == (2, 14)
    assert keys[0, 0] != keys[1, 0]
    assert np.array_equal(keys[0, 1:], keys[1, 1:])


def test_batched_shingle_sets_equal_single():
    texts = [TEXTS[0], "", "short text", TEXTS[1]]
    assert shingle_sets(texts) == [shingle_set(t) for t in texts]
    assert shingle_sets(texts)[1] == set() and len(shingle_sets(texts)[2]) == 1
