"""The growth table's split of a stage's time into a fixed cost and a cost per document."""

from __future__ import annotations

import pytest

from bench.curation_scale import _fit


def test_a_line_through_the_sizes_is_recovered():
    fixed, per_doc = _fit([(2_000, 12.0 + 2_000 * 0.003), (20_000, 12.0 + 60.0), (200_000, 612.0)])
    assert fixed == pytest.approx(12.0)
    assert per_doc == pytest.approx(0.003)


def test_one_size_is_all_fixed_cost_and_noise_is_averaged():
    assert _fit([(5_000, 7.5)]) == (7.5, 0.0)
    fixed, per_doc = _fit([(1_000, 11.0), (1_000, 9.0), (3_000, 12.0)])
    assert fixed == pytest.approx(9.0) and per_doc == pytest.approx(0.001)
