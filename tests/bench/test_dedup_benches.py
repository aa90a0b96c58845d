"""The analytic S-curve of bench.fuzzy_dedup and the bare loop of bench.exact_dedup."""

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.exact_dedup import bare_loop
from bench.fuzzy_dedup import half_point, keep_probability
from spark_jobs.dedup import DedupConfig


@pytest.mark.parametrize("s", [0.3, 0.6, 0.7, 0.8, 0.9])
def test_lsh_curve_is_the_closed_form(s):
    config = DedupConfig()
    closed = 1 - (1 - s**config.rows) ** config.bands
    assert keep_probability(config, s, None) == pytest.approx(closed, abs=1e-12)
    assert keep_probability(config, s, 0.0) == pytest.approx(closed, abs=1e-12)


def test_verification_curve_matches_a_simulation():
    config = DedupConfig()
    rng = random.Random(7)
    s, trials, linked = 0.8, 20_000, 0
    for _ in range(trials):
        equal = [rng.random() < s for _ in range(config.num_hashes)]
        bands = [all(equal[b * config.rows : (b + 1) * config.rows]) for b in range(config.bands)]
        linked += any(bands) and sum(equal) >= 90
    assert keep_probability(config, s, 0.8) == pytest.approx(linked / trials, abs=0.015)


def test_half_points():
    config = DedupConfig()
    lsh = half_point(config, None)
    assert 1 - (1 - lsh**config.rows) ** config.bands == pytest.approx(0.5, abs=1e-9)
    assert lsh < config.threshold  # (1/b)^(1/r) is only a rule of thumb
    assert half_point(config, 0.8) == pytest.approx(0.8, abs=0.01)
    assert half_point(config, 0.8) > lsh


def test_bare_loop_reads_dedups_on_the_key_and_writes(tmp_path):
    texts = ["Hello, World", "hello world", "other text", "other text", "third"]
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(pa.table({"id": list("abcde"), "text": texts}), folder / "part-0.parquet")
    seconds, removed = bare_loop(folder, tmp_path / "raw", "raw")
    assert removed == 1 and seconds >= 0
    _, removed = bare_loop(folder, tmp_path / "key", "pilehouse")
    assert removed == 2  # case and punctuation fold under Pilehouse's key
    kept = pq.read_table(tmp_path / "key").column("id").to_pylist()
    assert kept == ["a", "c", "e"]
