"""Benchmark decontamination: n-gram matching against benchmark items, the items table, the
Spark scan and the flags a document gets."""

from __future__ import annotations

import json
import pydoc_data.topics

import pyarrow as pa
import pytest

from spark_jobs.decontaminate import (
    BUNDLED_BENCHMARKS,
    build_index,
    contamination_verdicts,
    flag_batch,
    flag_documents,
    load_benchmark_items,
    ngram_hashes,
    words,
)
from spark_jobs.delta import read_arrow, table_history
from spark_jobs.lake import Lake
from spark_jobs.stages import register_benchmarks

ITEMS = load_benchmark_items([BUNDLED_BENCHMARKS])
BY_ID = {r["item_id"]: r for r in ITEMS.to_pylist()}
# Real prose that quotes no benchmark: all of CPython's documentation topics.
CLEAN = list(pydoc_data.topics.topics.values())


def _batch(texts: dict[str, str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {
            "id": list(texts),
            "corpus": ["web"] * len(texts),
            "source": ["s"] * len(texts),
            "text": list(texts.values()),
        }
    )


def _flags(texts: dict[str, str], n: int = 13, benchmarks="all") -> list[dict]:
    return flag_batch(_batch(texts), build_index(ITEMS, n, benchmarks)).to_pylist()


def test_the_bundled_sample_holds_three_benchmarks_of_ten_items():
    counts = {}
    for name in ITEMS["benchmark"].to_pylist():
        counts[name] = counts.get(name, 0) + 1
    assert counts == {"arith-stories": 10, "geo-facts": 10, "science-cloze": 10}
    assert set(ITEMS.column_names) == {"benchmark", "item_id", "split", "question", "answer"}


def test_words_are_lower_cased_and_punctuation_free():
    assert words("The Danube, flows: through BUDAPEST!") == [
        "the",
        "danube",
        "flows",
        "through",
        "budapest",
    ]


def test_ngram_hashes_are_position_independent_and_ignore_case():
    text = words("one two three four five six")
    shifted = words("zero ONE two three four five six")
    assert list(ngram_hashes(text, 3)) == list(ngram_hashes(shifted, 3)[1:])
    assert len(ngram_hashes(text, 7)) == 0


def test_planted_benchmark_text_is_flagged_with_its_benchmark_and_item():
    item = BY_ID["arith-003"]
    page = f"{CLEAN[0]}\nPuzzle of the day: {item['question'].upper()} {CLEAN[1]}"
    flags = _flags({"planted": page, "clean": CLEAN[2]})
    assert [(f["id"], f["benchmark"], f["item_id"], f["ngram_size"]) for f in flags] == [
        ("planted", "arith-stories", "arith-003", 13)
    ]
    assert flags[0]["ngram"] in " ".join(words(item["question"]))
    assert flags[0]["matches"] == len(words(item["question"])) - 13 + 1


def test_answers_count_too_and_a_short_quote_does_not():
    cloze = BY_ID["sci-008"]
    # The end of the question plus the answer: a shared 13-gram that spans both.
    tail = " ".join(words(cloze["question"])[-8:] + words(cloze["answer"])[:5])
    assert _flags({"d": f"Notes: {tail} and so on."})[0]["item_id"] == "sci-008"
    twelve = " ".join(words(BY_ID["geo-001"]["question"])[:12])
    assert _flags({"d": f"Notes: {twelve} and so on."}) == []


def test_the_ngram_size_is_configurable():
    eight = " ".join(words(BY_ID["geo-002"]["question"])[:8])
    page = f"{CLEAN[3]} {eight}. {CLEAN[4]}"
    assert _flags({"d": page}) == []
    [flag] = _flags({"d": page}, n=8)
    assert (flag["item_id"], flag["ngram_size"], flag["ngram"]) == ("geo-002", 8, eight)


def test_a_recipe_can_name_the_benchmarks_it_checks():
    page = BY_ID["geo-005"]["question"] + " " + BY_ID["arith-001"]["question"]
    assert {f["benchmark"] for f in _flags({"d": page}, benchmarks=("geo-facts",))} == {"geo-facts"}
    with pytest.raises(ValueError, match="not registered"):
        build_index(ITEMS, 13, ("mmlu",))


def test_real_documentation_prose_is_not_flagged():
    assert _flags({f"doc-{i}": text for i, text in enumerate(CLEAN)}) == []


def test_items_shorter_than_n_are_reported_not_matched():
    index = build_index(ITEMS, 40)
    assert index.too_short and len(index.too_short) + len(index.items) == ITEMS.num_rows


def test_user_benchmarks_load_from_a_directory_and_bad_lines_name_the_file(tmp_path):
    (tmp_path / "mine.jsonl").write_text(
        json.dumps({"question": "What colour is the sky on a clear day?", "answer": "blue"})
        + "\n\n"
        + json.dumps({"item_id": "q2", "split": "dev", "question": "Why?", "benchmark": "other"})
        + "\n"
    )
    items = load_benchmark_items([tmp_path]).to_pylist()
    assert [(i["benchmark"], i["item_id"], i["split"]) for i in items] == [
        ("mine", "1", "test"),
        ("other", "q2", "dev"),
    ]
    (tmp_path / "bad.jsonl").write_text('{"answer": "no question"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: a benchmark item needs"):
        load_benchmark_items([tmp_path])
    with pytest.raises(FileNotFoundError):
        load_benchmark_items([tmp_path / "missing"])


@pytest.mark.spark
def test_spark_scan_flags_planted_documents_and_benchmarks_become_a_delta_table(spark, lake):
    lake = Lake(str(lake))
    report = register_benchmarks(lake, [BUNDLED_BENCHMARKS], metadata={"dagster.run_id": "r"})
    stored = read_arrow(lake.uri("benchmarks.items"))
    assert stored.num_rows == 30 and report.counts == {"items": 30, "benchmarks": 3}
    assert table_history(lake.uri("benchmarks.items"))[0]["dagster.run_id"] == "r"

    planted = {
        "two": f"{BY_ID['geo-009']['question']} {CLEAN[5]} {BY_ID['sci-002']['answer']} "
        f"{BY_ID['sci-002']['question']}",
        "one": f"{CLEAN[6]} {BY_ID['arith-010']['question']}",
    }
    docs = spark.createDataFrame(
        [(i, "web", "s", t) for i, t in {**planted, "clean": CLEAN[7]}.items()],
        "id string, corpus string, source string, text string",
    )
    flags = flag_documents(docs, build_index(stored, 13))
    verdicts = {r.id: r for r in contamination_verdicts(flags).collect()}
    assert set(verdicts) == {"one", "two"}
    assert verdicts["two"].contaminated_by == ["geo-facts", "science-cloze"]
    assert "and 1 more items" in verdicts["two"].contamination_detail
    assert verdicts["one"].contaminated_by == ["arith-stories"]
    assert "arith-stories item arith-010" in verdicts["one"].contamination_detail
