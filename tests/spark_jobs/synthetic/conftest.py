"""A real OpenAI-compatible server (spark_jobs.synthetic.server) for the synthetic tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spark_jobs.synthetic.server import GeneratorServer


@pytest.fixture(scope="session")
def generator_server() -> Iterator[GeneratorServer]:
    """One server per test run (training its byte-level model takes a few seconds)."""
    with GeneratorServer(train_steps=60) as server:
        yield server


@pytest.fixture
def endpoint(generator_server: GeneratorServer) -> Iterator[GeneratorServer]:
    """The server with no faults queued and fresh counters, before and after the test."""
    generator_server.reset()
    yield generator_server
    generator_server.reset()


def write_sources(lake_root, n: int = 6, store=None):
    """curated.web with `n` real English paragraphs (CPython's docs) and classified.web giving
    every third document a high edu score; returns the Lake (on `store` when given: s3://)."""
    from pydoc_data.topics import topics

    import pyarrow as pa

    from spark_jobs.delta import write_arrow
    from spark_jobs.lake import Lake

    lake = Lake(str(lake_root), store) if store is not None else Lake(str(lake_root))
    texts = [t for _, t in sorted(topics.items()) if len(t) > 800][:n]
    ids = [f"web-{i:03d}" for i in range(n)]
    docs = pa.table(
        {
            "id": ids,
            "corpus": ["web"] * n,
            "source": ["sample-crawl"] * n,
            "url": [f"https://docs.example.org/{i}" for i in range(n)],
            "title": [f"Topic {i}" for i in range(n)],
            "license": ["CC-BY-4.0"] * n,
            "language": ["en"] * n,
            "text": texts,
        }
    )
    write_arrow(
        docs, lake.uri("curated.web"), mode="overwrite", partition_by=["source"], store=lake.store
    )
    scores = pa.table(
        {
            "id": ids,
            "source": ["sample-crawl"] * n,
            "edu_score": [4.0 if i % 3 == 2 else 1.0 for i in range(n)],
        }
    )
    write_arrow(
        scores,
        lake.uri("classified.web"),
        mode="overwrite",
        partition_by=["source"],
        store=lake.store,
    )
    return lake


def synthetic_recipe(base_url: str, **changes):
    """A small rephrase recipe against `base_url`; `a__b=v` sets key b of section a."""
    from spark_jobs.synthetic.recipe import SyntheticRecipe

    data = {
        "name": "rephrase-test",
        "source": {
            "table": "curated.web",
            "scores": "classified.web",
            "where": "language = 'en' AND edu_score < 2",
            "max_chars": 300,
        },
        "transformation": {"kind": "rephrase", "template": "r", "styles": ["wiki", "tutorial"]},
        "templates": {"r": "Rewrite as a {style}:\n{text}\nRewritten:"},
        "generator": {"base_url": base_url, "model": "pilehouse-tiny-bytes"},
        "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 24},
        "seed": 7,
        "requests": {"concurrency": 4, "retries": 3, "backoff_s": 0.01, "chunks": 3},
    }
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            data[section][name] = value
        else:
            data[section] = value
    return SyntheticRecipe.from_dict(data)


@pytest.fixture
def sources(lake):
    """A lake with curated.web (6 documents, 4 of them with edu_score < 2) and classified.web."""
    return write_sources(lake)


@pytest.fixture
def make_recipe(endpoint):
    """synthetic_recipe bound to the test server."""
    return lambda **changes: synthetic_recipe(endpoint.base_url, **changes)


@pytest.fixture
def many_sources(lake):
    """curated.web with 12 documents (8 with edu_score < 2) and classified.web."""
    return write_sources(lake, n=12)
