"""The OpenAI-compatible client of the generation stage: bounded concurrency, a token-bucket
rate limit, a per-request time-out, and retries with exponential backoff on 429, 5xx, time-outs
and dropped connections. Every request ends as one result row, ok or failed with its error.

Speaks /v1/chat/completions and /v1/completions as vLLM's server does; the answer's `model`,
`system_fingerprint`, `usage` and `finish_reason` become provenance columns.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pyarrow as pa

# An endpoint's answer is untrusted input: read at most this much of it.
MAX_RESPONSE_BYTES = 8 << 20
# Statuses worth retrying: rate limited, or the server (or a proxy in front of it) failed.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
OK, FAILED = "ok", "failed"

RESULT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("status", pa.string()),
        ("text", pa.string()),
        ("error", pa.string()),
        ("http_status", pa.int32()),
        ("attempts", pa.int32()),
        ("model", pa.string()),
        ("model_fingerprint", pa.string()),
        ("finish_reason", pa.string()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("requested_at", pa.timestamp("us", tz="UTC")),
        ("latency_s", pa.float64()),
    ]
)


@dataclass(frozen=True)
class EndpointSettings:
    """How to call one endpoint. `concurrency` and `rate_limit` are this client's share."""

    base_url: str
    model: str
    api: str = "chat"
    api_key: str | None = None
    system: str | None = None
    concurrency: int = 8
    retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    rate_limit: float | None = None
    timeout_s: float = 60.0

    @property
    def path(self) -> str:
        return "/chat/completions" if self.api == "chat" else "/completions"


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[str, ...] | None = None

    def as_json(self) -> str:
        return json.dumps(
            {
                "temperature": self.temperature,
                "top_p": self.top_p,
                "max_tokens": self.max_tokens,
                "stop": list(self.stop) if self.stop else None,
            },
            sort_keys=True,
        )


@dataclass(frozen=True)
class GenerationRequest:
    sample_id: str
    prompt: str
    seed: int


class TokenBucket:
    """At most `rate` requests per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


def request_body(
    settings: EndpointSettings, sampling: Sampling, request: GenerationRequest
) -> dict:
    body: dict[str, Any] = {
        "model": settings.model,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "seed": request.seed,
    }
    if sampling.stop:
        body["stop"] = list(sampling.stop)
    if settings.api == "chat":
        messages = [{"role": "system", "content": settings.system}] if settings.system else []
        body["messages"] = [*messages, {"role": "user", "content": request.prompt}]
    else:
        prefix = f"{settings.system}\n\n" if settings.system else ""
        body["prompt"] = prefix + request.prompt
    return body


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None = None, wait: float | None = None):
        super().__init__(message)
        self.status, self.wait = status, wait


class _Fatal(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def parse_completion(payload: Any, api: str) -> dict[str, Any]:
    """The provenance fields of one answer; _Fatal when it is not a completion."""
    if not isinstance(payload, dict) or not isinstance(payload.get("choices"), list):
        raise _Fatal("malformed response: no choices list")
    if not payload["choices"] or not isinstance(payload["choices"][0], dict):
        raise _Fatal("malformed response: empty choices")
    choice = payload["choices"][0]
    if api == "chat":
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else None
    else:
        text = choice.get("text")
    if not isinstance(text, str):
        raise _Fatal("malformed response: the first choice has no text")
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}

    def count(key: str) -> int | None:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def string(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    return {
        "text": text,
        "model": string(payload.get("model")),
        "model_fingerprint": string(payload.get("system_fingerprint")),
        "finish_reason": string(choice.get("finish_reason")),
        "prompt_tokens": count("prompt_tokens"),
        "completion_tokens": count("completion_tokens"),
    }


def _retry_after(headers: Any) -> float | None:
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


async def _attempt(
    session: aiohttp.ClientSession, settings: EndpointSettings, body: dict
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    url = settings.base_url.rstrip("/") + settings.path
    try:
        async with asyncio.timeout(settings.timeout_s):
            async with session.post(url, json=body, headers=headers) as response:
                raw = await response.content.read(MAX_RESPONSE_BYTES + 1)
                status = response.status
                if status in RETRY_STATUSES:
                    raise _Retryable(
                        f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}",
                        status,
                        _retry_after(response.headers),
                    )
                if status != 200:
                    raise _Fatal(f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}", status)
                if len(raw) > MAX_RESPONSE_BYTES:
                    raise _Fatal(f"response larger than {MAX_RESPONSE_BYTES} bytes", status)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    raise _Fatal("malformed response: not JSON", status) from None
                return {**parse_completion(payload, settings.api), "http_status": status}
    except TimeoutError:
        raise _Retryable(f"timed out after {settings.timeout_s:g} s") from None
    except aiohttp.ClientError as error:
        raise _Retryable(f"connection failed: {type(error).__name__}: {error}") from None


async def complete(
    session: aiohttp.ClientSession,
    settings: EndpointSettings,
    sampling: Sampling,
    request: GenerationRequest,
    limit: asyncio.Semaphore,
    bucket: TokenBucket | None,
) -> dict[str, Any]:
    """One sample: retried until it succeeds, fails for good, or the retries are spent."""
    body = request_body(settings, sampling, request)
    jitter = random.Random(request.seed)
    requested_at = datetime.now(UTC)
    started = time.monotonic()
    row: dict[str, Any] = {"id": request.sample_id, "requested_at": requested_at}
    for attempt in range(settings.retries + 1):
        async with limit:
            if bucket is not None:
                await bucket.acquire()
            try:
                answer = await _attempt(session, settings, body)
            except _Fatal as error:
                return {
                    **row,
                    "status": FAILED,
                    "error": str(error),
                    "http_status": error.status,
                    "attempts": attempt + 1,
                    "latency_s": time.monotonic() - started,
                }
            except _Retryable as error:
                failure = error
            else:
                return {**row, **answer, "status": OK, "attempts": attempt + 1,
                        "latency_s": time.monotonic() - started}  # fmt: skip
        if attempt < settings.retries:
            delay = min(settings.max_backoff_s, settings.backoff_s * 2**attempt)
            delay *= 0.5 + jitter.random()  # de-synchronise clients that failed together
            if failure.wait is not None:
                delay = max(delay, min(failure.wait, settings.max_backoff_s))
            await asyncio.sleep(delay)
    return {
        **row,
        "status": FAILED,
        "error": f"gave up after {settings.retries + 1} attempts: {failure}",
        "http_status": failure.status,
        "attempts": settings.retries + 1,
        "latency_s": time.monotonic() - started,
    }


async def generate(
    requests: Sequence[GenerationRequest], settings: EndpointSettings, sampling: Sampling
) -> list[dict[str, Any]]:
    """Every request's result row, in the order of `requests`."""
    limit = asyncio.Semaphore(settings.concurrency)
    bucket = TokenBucket(settings.rate_limit) if settings.rate_limit else None
    connector = aiohttp.TCPConnector(limit=settings.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(
            await asyncio.gather(
                *(complete(session, settings, sampling, r, limit, bucket) for r in requests)
            )
        )


async def generate_groups(
    groups: Sequence[Sequence[GenerationRequest]],
    settings: EndpointSettings,
    sampling: Sampling,
    on_group: Callable[[int, list[dict[str, Any]]], None],
) -> None:
    """Every group's requests through one session and one concurrency limit, sent in group
    order; `on_group(index, rows)` runs (on a thread, while the later groups' requests stay
    in flight) as soon as all of a group's requests have their result."""
    limit = asyncio.Semaphore(settings.concurrency)
    bucket = TokenBucket(settings.rate_limit) if settings.rate_limit else None
    connector = aiohttp.TCPConnector(limit=settings.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def group(index: int, requests: Sequence[GenerationRequest]) -> None:
            rows = await asyncio.gather(
                *(complete(session, settings, sampling, r, limit, bucket) for r in requests)
            )
            await asyncio.to_thread(on_group, index, list(rows))

        await asyncio.gather(*(group(i, g) for i, g in enumerate(groups)))


def run_generation(
    requests: Iterable[GenerationRequest], settings: EndpointSettings, sampling: Sampling
) -> pa.Table:
    """Blocking: the results of all requests as an Arrow table of RESULT_SCHEMA."""
    rows = asyncio.run(generate(list(requests), settings, sampling))
    return pa.Table.from_pylist(rows, schema=RESULT_SCHEMA)


def run_generation_groups(
    groups: Sequence[Sequence[GenerationRequest]],
    settings: EndpointSettings,
    sampling: Sampling,
    on_group: Callable[[int, pa.Table], None],
) -> None:
    """Blocking: `generate_groups`, each group's results handed over as an Arrow table of
    RESULT_SCHEMA (in the order of its requests)."""

    def hand_over(index: int, rows: list[dict[str, Any]]) -> None:
        on_group(index, pa.Table.from_pylist(rows, schema=RESULT_SCHEMA))

    asyncio.run(generate_groups(groups, settings, sampling, hand_over))
