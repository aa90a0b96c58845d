"""How an ingest spreads landing units over tasks (spark_jobs.ingest.unit_groups): no Spark."""

from __future__ import annotations

import pytest

from spark_jobs.ingest import TASK_MIN_BYTES, UNIT_MIN_BYTES, Listing, unit_groups
from spark_jobs.walk import LandingEntry

MB = 1 << 20


def listing(sizes, refused=0):
    units = tuple(f"f{i:04d}.jsonl" for i in range(len(sizes)))
    entries = tuple(LandingEntry(f"bad{i}", "refused", 0, 0.0) for i in range(refused))
    return Listing(units, entries, tuple(sizes))


def test_every_unit_and_the_refused_entries_are_read_exactly_once():
    groups = unit_groups(listing([3 * MB, 100, 5 * MB, 0, 40 * MB], refused=2), parallelism=2)
    read = sorted(i for group in groups for i in group)
    assert read == [0, 1, 2, 3, 4, 5]  # 5: the refused entries' quarantine rows


def test_many_small_files_share_a_few_tasks():
    # 40 small files of a few KB: one task per core, not 40 tasks; each file counts as
    # UNIT_MIN_BYTES (its own fixed cost), so 500 of them fill four tasks per core.
    groups = unit_groups(listing([4096] * 40), parallelism=2)
    assert sorted(len(g) for g in groups) == [20, 20]
    assert len(unit_groups(listing([4096] * 500), parallelism=2)) == 8


def test_big_files_get_tasks_of_their_own_up_to_four_per_core():
    sizes = [TASK_MIN_BYTES * 3] + [MB] * 40
    groups = unit_groups(listing(sizes), parallelism=2)
    assert len(groups) == 5  # (3 x 32 MB + 40 x 1 MB) / 32 MB, rounded up, within 2..8
    assert (0,) in groups  # the big file is read alone
    assert len(unit_groups(listing([TASK_MIN_BYTES] * 100), parallelism=2)) == 8


def test_never_more_tasks_than_units_and_none_for_nothing():
    assert unit_groups(listing([]), parallelism=4) == ()
    assert len(unit_groups(listing([10]), parallelism=4)) == 1
    assert len(unit_groups(listing([10, 10, 10]), parallelism=8)) == 3


@pytest.mark.parametrize("sizes", [(), (0, 0)])
def test_units_of_unknown_size_count_as_a_megabyte(sizes):
    # Directories (code repositories) have no size: each counts UNIT_MIN_BYTES.
    units = listing([0] * 40)
    unknown = Listing(units.units, (), sizes)
    assert len(unit_groups(unknown, parallelism=2)) == 2
    assert UNIT_MIN_BYTES * 40 < TASK_MIN_BYTES * 2
