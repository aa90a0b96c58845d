"""A curated lake of real text (CPython's documentation topics) with planted sentences, a
mixture exported from it in several token shards, and its n-gram index in several shards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest

from spark_jobs.delta import read_arrow, write_arrow
from spark_jobs.indexes.build import IndexBuild, build_mixture_index
from spark_jobs.lake import Lake
from spark_jobs.mixtures.build import MixtureExport, materialize_mixture
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.mixtures.sample import sample_documents
from spark_jobs.mixtures.shards import read_shard

# In one web page only.
PLANTED_ONE = (
    "The lighthouse keeper counted seventeen herons on the breakwater before the ferry "
    "from Saint-Malo sounded its horn."
)
# In a web page and in a code file.
PLANTED_SHARED = (
    "Every ledger of the salt merchants of Guérande was copied twice, once in ink and once "
    "in chalk, so that the rain could settle any dispute."
)
PLANTED = {"web-0001": PLANTED_ONE, "web-0002": PLANTED_SHARED, "code-0001": PLANTED_SHARED}

RECIPE = {
    "name": "index-mix",
    "seed": 11,
    "token_budget": 40000,
    "license_policy": "permissive-only",
    "languages": ["en"],
    "sequence_length": 64,
    "sequences_per_shard": 128,  # 8192 tokens a shard: documents cross shard boundaries
    "tokenizer": {"vocab_size": 400, "sample_docs": 200},
    "components": [
        {"name": "web", "corpus": "web", "weight": 3},
        {"name": "code", "corpus": "code", "languages": None, "weight": 1},
    ],
}
INDEX_SHARD_TOKENS = 6000


def _plant(text: str, sentence: str) -> str:
    cut = text.find(" ", len(text) // 3) + 1  # between two words
    return f"{text[:cut]}{sentence} {text[cut:]}"


def write_planted_lake(lake: Lake) -> None:
    for name, table in sample_documents().items():
        texts = [
            _plant(text, PLANTED[doc_id]) if doc_id in PLANTED else text
            for doc_id, text in zip(table["id"].to_pylist(), table["text"].to_pylist(), strict=True)
        ]
        table = table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts))
        write_arrow(table, lake.uri(name), mode="overwrite", partition_by=("source",))


@dataclass
class Indexed:
    lake: Lake
    export: MixtureExport
    index: IndexBuild

    def rows(self) -> list[dict]:
        """The mixture's rows at the version the export was cut from."""
        version = self.export.manifest["mixture"]["version"]
        return read_arrow(self.export.build.uri, version=version).to_pylist()

    def repetitions(self, doc_id: str) -> int:
        return sum(r["id"] == doc_id for r in self.rows())

    def stream(self, excluded: frozenset[str] = frozenset()) -> np.ndarray:
        """The export's token stream (every shard, in order), less excluded documents."""
        directory = self.export.directory
        ids = {r["position"]: r["id"] for r in self.rows()}
        pieces = []
        for entry in self.export.manifest["shards"]:
            shard = read_shard(f"{directory}/{entry['file']}")
            for segment in shard.segments:
                if ids[int(segment["position"])] not in excluded:
                    start = int(segment["start"])
                    pieces.append(shard.tokens[start : start + int(segment["length"])])
        return np.concatenate(pieces).astype(np.int64)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    root = tmp_path_factory.mktemp("index-lake")
    lake = Lake(str(root / "lake"))
    write_planted_lake(lake)
    export = materialize_mixture(
        lake, MixtureRecipe.from_dict(RECIPE), export_uri=str(root / "export")
    )
    index = build_mixture_index(lake, "index-mix", shard_tokens=INDEX_SHARD_TOKENS)
    return Indexed(lake, export, index)


def brute_count(stream: np.ndarray, ngram: np.ndarray) -> int:
    if len(ngram) > len(stream):
        return 0
    windows = np.lib.stride_tricks.sliding_window_view(stream, len(ngram))
    return int((windows == ngram).all(axis=1).sum())
