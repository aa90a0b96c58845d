"""Benchmark items checked against a mixture's index at any length: a leaked item is found
with its documents, a novel one is not, and every longest overlap equals a brute-force
search of the training tokens."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spark_jobs.delta import read_arrow
from spark_jobs.indexes.contamination import (
    REPORT_TABLE,
    contamination_report,
    item_text,
    main,
    summary,
)
from spark_jobs.indexes.query import locate_mixture_index, open_index

from .conftest import PLANTED_ONE, PLANTED_SHARED

ITEMS = [
    # The whole question is in the training data (a web page and a code file).
    {"item_id": "leak-1", "question": PLANTED_SHARED, "answer": ""},
    # A long novel item quoting one planted sentence: a long verbatim passage.
    {
        "item_id": "leak-2",
        "question": "Read the passage and say who sounded the horn. " + PLANTED_ONE,
        "answer": "The ferry from Saint-Malo.",
    },
    # Never seen: short common words may match, nothing long.
    {
        "item_id": "novel-1",
        "question": "Quartz wristwatches drift by a few seconds each month; why do "
        "marathon timers resynchronise before every race?",
        "answer": "Because temperature swings change the crystal's frequency.",
    },
]


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benchmarks")
    (folder / "planted.jsonl").write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n")
    return folder


def _brute_longest(stream: np.ndarray, q: np.ndarray) -> int:
    best = 0
    for i in range(len(q)):
        length = best + 1  # only a longer match matters
        while i + length <= len(q):
            windows = np.lib.stride_tricks.sliding_window_view(stream, length)
            if not (windows == q[i : i + length]).all(axis=1).any():
                break
            best = length
            length += 1
    return best


def test_items_are_judged_by_their_longest_overlap(indexed, benchmarks):
    report = contamination_report(indexed.lake, "index-mix", [benchmarks])
    rows = {r["item_id"]: r for r in report.to_pylist()}
    assert rows["leak-1"]["contaminated"] and rows["leak-2"]["contaminated"]
    assert not rows["novel-1"]["contaminated"]
    assert rows["novel-1"]["longest_tokens"] < 8
    assert sorted(rows["leak-1"]["documents"]) == ["code-0001", "web-0002"]
    assert rows["leak-2"]["documents"] == ["web-0001"]
    assert rows["leak-1"]["covered_tokens"] >= rows["leak-1"]["item_tokens"] - 2

    index = open_index(indexed.lake, locate_mixture_index(indexed.lake, "index-mix"))
    stream = indexed.stream()
    for item in ITEMS:
        q = index.encode(item_text(item["question"], item["answer"]))[0]
        assert rows[item["item_id"]]["longest_tokens"] == _brute_longest(stream, q), item

    recorded = read_arrow(indexed.lake.uri(REPORT_TABLE)).to_pylist()
    assert {r["item_id"] for r in recorded} >= {"leak-1", "leak-2", "novel-1"}
    assert summary(report)["planted"] == {
        "items": 3,
        "contaminated": 2,
        "longest_tokens": max(r["longest_tokens"] for r in rows.values()),
    }


def test_the_command_prints_the_report(indexed, benchmarks, capsys):
    assert (
        main(
            [
                "index-mix",
                "--lake",
                indexed.lake.root_uri,
                "--benchmarks",
                str(benchmarks),
                "--no-record",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "planted: 2/3 contaminated" in out
    assert "CONTAMINATED planted/leak-1" in out
