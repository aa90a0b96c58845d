"""A real OpenAI-compatible server (infra.generator_server) for the synthetic tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.generator_server import GeneratorServer


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
