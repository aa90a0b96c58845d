"""A small curated lake and a recipe over it, shared by the mixture tests of a module."""

from __future__ import annotations

import pytest

from spark_jobs.lake import Lake
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.mixtures.sample import write_sample_lake

RECIPE = {
    "name": "test-mix",
    "seed": 7,
    "token_budget": 40000,
    "license_policy": "permissive-only",
    "languages": ["en"],
    "sequence_length": 32,
    "sequences_per_shard": 256,
    "tokenizer": {"vocab_size": 320, "sample_docs": 200},
    "components": [
        {"name": "web", "corpus": "web", "weight": 3},
        {"name": "code", "corpus": "code", "languages": None, "weight": 1},
    ],
}


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(str(tmp_path_factory.mktemp("mixture-lake")))
    write_sample_lake(lake)
    return lake


@pytest.fixture
def recipe() -> MixtureRecipe:
    return MixtureRecipe.from_dict(RECIPE)
