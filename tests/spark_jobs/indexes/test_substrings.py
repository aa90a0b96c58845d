"""Exact-substring dedup (Lee et al.): the suffix-array search equals a brute-force search,
and a mixture recipe's `substring_dedup` cuts (or marks) a passage of real documentation
copied into other documents, keeping its first occurrence, with every span recorded."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from spark_jobs.delta import read_arrow, write_arrow
from spark_jobs.indexes.substrings import cut, repeated_spans
from spark_jobs.lake import Lake
from spark_jobs.mixtures.build import SUBSTRING_EDITS_TABLE, materialize_mixture
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.mixtures.sample import sample_documents
from spark_jobs.mixtures.shards import read_shard


def _brute(docs: list[list[int]], k: int, keep: str) -> list[list[tuple[int, int]]]:
    places = defaultdict(list)
    for d, doc in enumerate(docs):
        for p in range(len(doc) - k + 1):
            places[tuple(doc[p : p + k])].append((d, p))
    removed = [np.zeros(len(doc), dtype=bool) for doc in docs]
    for occurrences in places.values():
        if len(occurrences) > 1:
            for i, (d, p) in enumerate(occurrences):
                if keep == "none" or i > 0:
                    removed[d][p : p + k] = True
    ranges = []
    for mask in removed:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
        ranges.append([(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)])
    return ranges


@pytest.mark.parametrize("keep", ["one", "none"])
def test_repeated_spans_equal_a_brute_force_search(keep: str) -> None:
    rng = random.Random(7)
    for _ in range(150):
        vocab = rng.choice([2, 3, 8, 40])  # small vocabularies: many overlapping repeats
        docs = [
            [rng.randrange(vocab) for _ in range(rng.randrange(0, 30))]
            for _ in range(rng.randrange(1, 7))
        ]
        k = rng.choice([1, 2, 3, 5])
        arrays = [np.array(d, dtype=np.uint16) for d in docs]
        assert repeated_spans(arrays, min_tokens=k, keep=keep).ranges == _brute(docs, k, keep)


def test_a_span_never_crosses_a_document_boundary() -> None:
    # "1 2 | 3 4" and "2 3" would share "2 3" only across the boundary.
    docs = [np.array([1, 2], dtype=np.uint16), np.array([3, 4, 2, 3], dtype=np.uint16)]
    edits = repeated_spans(docs, min_tokens=2)
    assert edits.ranges == [[], []]
    assert cut(np.arange(6), [(1, 3), (4, 5)]).tolist() == [0, 3, 5]


def _mixture_lake(tmp_path, passage_from: str, copies: list[str]) -> tuple[Lake, str]:
    """The real documentation sample with one document's middle passage copied into others."""
    lake = Lake(str(tmp_path / "lake"))
    documents = sample_documents()
    web = documents["curated.web"]
    texts = dict(zip(web["id"].to_pylist(), web["text"].to_pylist(), strict=True))
    source = texts[passage_from]
    start = source.find(" ", len(source) // 4) + 1
    passage = source[start : source.find(" ", start + 600)]
    for doc_id in copies:
        text = texts[doc_id]
        at = text.find("\n", len(text) // 2) + 1 or len(text)
        texts[doc_id] = f"{text[:at]}{passage}\n{text[at:]}"
    web = web.set_column(
        web.schema.get_field_index("text"),
        "text",
        pa.array([texts[i] for i in web["id"].to_pylist()]),
    )
    write_arrow(web, lake.uri("curated.web"), mode="overwrite", partition_by=("source",))
    write_arrow(
        documents["curated.code"],
        lake.uri("curated.code"),
        mode="overwrite",
        partition_by=("source",),
    )
    return lake, passage


def _recipe(action: str) -> MixtureRecipe:
    return MixtureRecipe.from_dict(
        {
            "name": f"substr-{action}",
            "seed": 3,
            "languages": ["en"],
            "sequence_length": 64,
            "tokenizer": {"vocab_size": 400, "sample_docs": 200},
            "components": [{"name": "web", "corpus": "web", "epochs": 1}],
            "substring_dedup": {"min_tokens": 20, "action": action},
        }
    )


def _exported_tokens(export) -> dict[int, np.ndarray]:
    by_position = {}
    for entry in export.manifest["shards"]:
        shard = read_shard(f"{export.directory}/{entry['file']}")
        for segment in shard.segments:
            start, length = int(segment["start"]), int(segment["length"])
            position = int(segment["position"])
            piece = shard.tokens[start : start + length]
            by_position[position] = np.concatenate([by_position.get(position, piece[:0]), piece])
    return by_position


@pytest.mark.parametrize("action", ["remove", "mark"])
def test_a_copied_passage_is_cut_from_every_copy_but_the_first(tmp_path, action: str) -> None:
    copies = ["web-0010", "web-0020", "web-0030"]
    lake, passage = _mixture_lake(tmp_path, "web-0005", copies)
    export = materialize_mixture(lake, _recipe(action), export_uri=str(tmp_path / "export"))
    rows = read_arrow(export.build.uri).to_pylist()
    position = {r["id"]: r["position"] for r in rows}
    order = sorted(["web-0005", *copies], key=position.get)
    first, later = order[0], order[1:]

    edits = read_arrow(lake.uri(SUBSTRING_EDITS_TABLE)).to_pylist()
    touched = defaultdict(list)
    for edit in edits:
        touched[edit["id"]].append(edit)
    # Recall: every later copy holds an edit covering the passage (the tokenizer may cut
    # the passage's first and last word differently in each context).
    words = passage.split()
    for doc_id in later:
        text = " ".join(e["text"] for e in touched[doc_id])
        assert " ".join(words[2:-2]) in " ".join(text.split()), doc_id
    # The first occurrence is kept whole.
    assert all(e["text"].strip() not in passage for e in touched.get(first, [])), touched[first]
    for doc_edits in touched.values():
        for edit in doc_edits:
            assert edit["action"] == action and edit["min_tokens"] == 20 and edit["keep"] == "one"
            assert edit["tokens"] == edit["end_token"] - edit["start_token"] >= 20

    summary = export.manifest["substring_dedup"]
    assert summary["spans"] == len(edits) and summary["action"] == action
    exported = _exported_tokens(export)
    for doc_id in later:
        removed = sum(e["tokens"] for e in touched[doc_id])
        got = len(exported[position[doc_id]])
        expected = next(r["token_count"] for r in rows if r["id"] == doc_id)
        assert got == (expected - removed if action == "remove" else expected), doc_id
    assert summary["tokens"] == sum(e["tokens"] for e in edits)
