"""The generation client against a real OpenAI-compatible server on 127.0.0.1: bounded
concurrency, retries with backoff on injected 429/500/time-outs, failures kept as rows."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from spark_jobs.synthetic import client
from spark_jobs.synthetic.client import (
    EndpointSettings,
    GenerationRequest,
    Sampling,
    TokenBucket,
    run_generation,
)
from spark_jobs.synthetic.server import MODEL_NAME

SAMPLING = Sampling(temperature=0.8, top_p=0.95, max_tokens=12)


def requests(n: int) -> list[GenerationRequest]:
    return [
        GenerationRequest(f"s{i}", f"Explain the for statement, part {i}.", i) for i in range(n)
    ]


def settings(server, **changes) -> EndpointSettings:
    base = EndpointSettings(server.base_url, MODEL_NAME, concurrency=4, backoff_s=0.01)
    return replace(base, **changes)


def test_every_request_becomes_a_row_with_provenance(endpoint):
    table = run_generation(requests(6), settings(endpoint), SAMPLING)
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [f"s{i}" for i in range(6)]
    root = endpoint.call("GET", "/v1/models")["data"][0]["root"]
    for row in rows:
        assert row["status"] == "ok" and row["error"] is None
        assert row["model"] == MODEL_NAME
        assert root.endswith(row["model_fingerprint"])
        assert row["completion_tokens"] == len(row["text"].encode()) or row["finish_reason"]
        assert row["prompt_tokens"] > 0 and 0 < row["completion_tokens"] <= 12
        assert row["finish_reason"] in ("length", "stop")
        assert row["attempts"] == 1


def test_completions_api_and_seeded_sampling_repeat(endpoint):
    one = run_generation(requests(2), settings(endpoint, api="completions"), SAMPLING)
    two = run_generation(requests(2), settings(endpoint, api="completions"), SAMPLING)
    assert one["text"].to_pylist() == two["text"].to_pylist()
    assert one["status"].to_pylist() == ["ok", "ok"]


def test_concurrency_is_bounded(endpoint):
    endpoint.faults(latency_s=0.2)
    table = run_generation(requests(12), settings(endpoint, concurrency=3), SAMPLING)
    assert set(table["status"].to_pylist()) == {"ok"}
    stats = endpoint.stats()
    assert stats["requests"] == 12
    assert stats["max_in_flight"] == 3


def test_retries_on_429_500_and_timeouts(endpoint):
    endpoint.faults(
        queue=[{"status": 429, "retry_after": 0}, {"status": 500}, {"status": 503}, {"delay_s": 3}]
    )
    table = run_generation(
        requests(2), settings(endpoint, concurrency=1, timeout_s=1.0, retries=4), SAMPLING
    )
    rows = table.to_pylist()
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert sum(r["attempts"] for r in rows) == 6  # four injected failures, two answers
    outcomes = endpoint.stats()["outcomes"]
    assert outcomes["429"] == 1 and outcomes["500"] == 1 and outcomes["503"] == 1


def test_spent_retries_and_fatal_errors_are_failed_rows(endpoint):
    endpoint.faults(queue=[{"status": 400}], every={"n": 1, "status": 503})
    table = run_generation(requests(2), settings(endpoint, concurrency=1, retries=2), SAMPLING)
    first, second = table.to_pylist()
    assert first["status"] == "failed" and first["attempts"] == 1 and first["http_status"] == 400
    assert second["status"] == "failed" and second["attempts"] == 3
    assert second["error"].startswith("gave up after 3 attempts: HTTP 503")
    assert second["text"] is None


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("not json", "malformed response: not JSON"),
        ('{"choices": []}', "malformed response: empty choices"),
        ('{"choices": [{"message": {"content": 5}}]}', "has no text"),
    ],
)
def test_broken_answers_are_failed_rows(endpoint, raw, error):
    endpoint.faults(queue=[{"raw": raw}])
    (row,) = run_generation(requests(1), settings(endpoint), SAMPLING).to_pylist()
    assert row["status"] == "failed" and error in row["error"]


def test_unreachable_endpoint_is_a_failed_row_not_a_crash():
    dead = EndpointSettings("http://127.0.0.1:9/v1", "m", retries=1, backoff_s=0.01)
    (row,) = run_generation(requests(1), dead, SAMPLING).to_pylist()
    assert row["status"] == "failed" and "connection failed" in row["error"]


def test_request_body_carries_system_message_and_seed(endpoint):
    body = client.request_body(settings(endpoint, system="be brief"), SAMPLING, requests(1)[0])
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["seed"] == 0 and body["max_tokens"] == 12


def test_token_bucket_spaces_requests(monkeypatch):
    """With a fake clock: 2 requests/s and a burst of 2 means the 5th waits 1.5 s."""
    now = [100.0]
    waits = []

    async def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(client.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(client.asyncio, "sleep", sleep)

    async def take(n):
        bucket = TokenBucket(rate=2, burst=2)
        for _ in range(n):
            await bucket.acquire()

    asyncio.run(take(5))
    assert sum(waits) == pytest.approx(1.5)
