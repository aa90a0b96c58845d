"""A small OpenAI-compatible generation server on 127.0.0.1, for tests, benchmarks and trying a
synthetic recipe without a GPU: /v1/chat/completions, /v1/completions and /v1/models, backed by
the platform's own proxy LM (spark_jobs.mixtures.proxy.TinyCausalLM) trained at start-up on
CPython's documentation, byte by byte, in seconds. The text is poor; every mechanism is real.

Faults are injected per test through /admin/faults (a queue of statuses or delays consumed by
the next requests, or every n-th request failing); /admin/stats counts requests by outcome and
the most that were in flight at once. Production uses vLLM's server instead (docs/synthetic.md).

    python -m spark_jobs.synthetic.server --port 8000 [--train-steps 200] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, deque
from pathlib import Path
from typing import Any

# At module level: FastAPI resolves the handlers' (string) annotations in these globals.
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

MODEL_NAME = "pilehouse-tiny-bytes"
EOS = 256  # byte-level vocabulary: 256 bytes + end of text
CONTEXT = 128


class ByteLM:
    """TinyCausalLM over bytes, trained on pydoc_data.topics; sampling with a seed."""

    def __init__(self, train_steps: int = 200, seed: int = 0) -> None:
        from pydoc_data.topics import topics

        import numpy as np
        import torch

        from spark_jobs.mixtures.proxy import ProxyConfig, TinyCausalLM

        torch.manual_seed(seed)
        torch.set_num_threads(1)
        self.torch = torch
        self.config = ProxyConfig(d_model=64, n_layers=2, n_heads=4, context=CONTEXT)
        self.model = TinyCausalLM(EOS + 1, self.config)
        docs = [t.encode() + bytes([0]) for _, t in sorted(topics.items())]
        stream = np.frombuffer(b"".join(docs), dtype=np.uint8).astype(np.int64)
        stream[stream == 0] = EOS
        width = CONTEXT + 1
        windows = torch.from_numpy(stream[: len(stream) // width * width].reshape(-1, width))
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=3e-3)
        rng = np.random.default_rng(seed)
        self.model.train()
        for _ in range(train_steps):
            batch = windows[rng.integers(0, len(windows), 16)]
            logits = self.model(batch[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.model.eval()
        self.train_loss = float(loss.detach()) if train_steps else float("nan")
        digest = hashlib.sha256()
        for name, tensor in sorted(self.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.numpy().tobytes())
        self.fingerprint = f"fp_{digest.hexdigest()[:12]}"

    def generate(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        seed: int | None,
        stop: list[str] | None,
    ) -> tuple[str, int, int, str]:
        """(text, prompt tokens, completion tokens, finish reason)."""
        torch = self.torch
        prompt_ids = list(prompt.encode("utf-8"))
        tokens = prompt_ids[-(CONTEXT - 1) :] or [EOS]
        generator = torch.Generator().manual_seed(seed if seed is not None else 0)
        out: list[int] = []
        finish = "length"
        with torch.no_grad():
            for _ in range(max_tokens):
                window = torch.tensor([tokens[-CONTEXT:]])
                logits = self.model(window)[0, -1].double()
                if temperature <= 0:
                    token = int(logits.argmax())
                else:
                    probs = torch.softmax(logits / temperature, dim=-1)
                    if top_p < 1:
                        ordered, index = probs.sort(descending=True)
                        keep = ordered.cumsum(0) - ordered < top_p
                        probs = torch.zeros_like(probs).scatter(0, index[keep], ordered[keep])
                    token = int(torch.multinomial(probs, 1, generator=generator))
                if token == EOS:
                    finish = "stop"
                    break
                out.append(token)
                tokens.append(token)
                if stop:
                    text = bytes(out).decode("utf-8", "replace")
                    hit = next((s for s in stop if s and s in text), None)
                    if hit:
                        return text[: text.index(hit)], len(prompt_ids), len(out), "stop"
        return bytes(out).decode("utf-8", "replace"), len(prompt_ids), len(out), finish


class Faults:
    """What the next requests get instead of an answer, and what the server has seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.queue: deque[dict[str, Any]] = deque()
            self.every: dict[str, Any] | None = None
            self.latency_s = 0.0
            self.seen = 0
            self.outcomes: Counter[str] = Counter()
            self.in_flight = 0
            self.max_in_flight = 0

    def next_fault(self) -> dict[str, Any] | None:
        with self.lock:
            self.seen += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.queue:
                return self.queue.popleft()
            if self.every and self.seen % self.every["n"] == 0:
                return self.every
            return None

    def finished(self, outcome: str) -> None:
        with self.lock:
            self.in_flight -= 1
            self.outcomes[outcome] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.seen,
                "outcomes": dict(self.outcomes),
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }


def create_app(lm: ByteLM, latency_s: float = 0.0):
    app = FastAPI(title="pilehouse generator (test server)")
    faults = Faults()
    faults.latency_s = latency_s
    # One model, one thread: torch on a tiny model gains nothing from concurrent forwards.
    model_lock = asyncio.Lock()

    @app.get("/v1/models")
    async def models() -> dict:
        return {
            "object": "list",
            "data": [
                {
                    "id": MODEL_NAME,
                    "object": "model",
                    "owned_by": "pilehouse",
                    "root": f"{MODEL_NAME}@{lm.fingerprint}",
                }
            ],
        }

    async def answer(request: Request, chat: bool) -> JSONResponse:
        fault = faults.next_fault()
        outcome = "error"
        try:
            if faults.latency_s:
                await asyncio.sleep(faults.latency_s)
            if fault and fault.get("delay_s"):
                await asyncio.sleep(float(fault["delay_s"]))
            if fault and fault.get("raw") is not None:  # a broken answer with status 200
                outcome = "raw"
                return Response(str(fault["raw"]), media_type="application/json")
            if fault and fault.get("status"):
                outcome = str(fault["status"])
                headers = {}
                if fault.get("retry_after") is not None:
                    headers["Retry-After"] = str(fault["retry_after"])
                return JSONResponse(
                    {"error": {"message": f"injected {fault['status']}"}},
                    status_code=int(fault["status"]),
                    headers=headers,
                )
            body = await request.json()
            messages = (body.get("messages") or []) if chat else []
            if chat:
                prompt = "\n\n".join(str(m.get("content", "")) for m in messages)
            else:
                prompt = str(body.get("prompt", ""))
            if fault and (fault.get("text") is not None or fault.get("echo")):
                # A scripted answer: curation tests need samples of known content (a copy of
                # the prompt, English prose, PII) that a 60-step byte model cannot write.
                if fault.get("echo"):
                    text = str(messages[-1].get("content", "")) if chat and messages else prompt
                else:
                    text = str(fault["text"])
                prompt_tokens, completion_tokens = len(prompt.encode()), len(text.encode())
                finish = "stop"
            else:
                async with model_lock:
                    text, prompt_tokens, completion_tokens, finish = await asyncio.to_thread(
                        lm.generate,
                        prompt,
                        max_tokens=int(body.get("max_tokens") or 16),
                        temperature=float(body.get("temperature", 1.0)),
                        top_p=float(body.get("top_p", 1.0)),
                        seed=body.get("seed"),
                        stop=body.get("stop"),
                    )
            choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
            if chat:
                choice["message"] = {"role": "assistant", "content": text}
            else:
                choice["text"] = text
            outcome = "ok"
            return JSONResponse(
                {
                    "id": f"cmpl-{faults.seen}",
                    "object": "chat.completion" if chat else "text_completion",
                    "created": int(time.time()),
                    "model": MODEL_NAME,
                    "system_fingerprint": lm.fingerprint,
                    "choices": [choice],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                }
            )
        finally:
            faults.finished(outcome)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> JSONResponse:
        return await answer(request, chat=True)

    @app.post("/v1/completions")
    async def completions(request: Request) -> JSONResponse:
        return await answer(request, chat=False)

    @app.post("/admin/faults")
    async def set_faults(request: Request) -> dict:
        """{"queue": [{"status": 429, "retry_after": 0}, {"delay_s": 5}, {"raw": "not json"},
        {"text": "a scripted answer"}, {"echo": true}], "every": {"n": 3, "status": 500},
        "latency_s": 0.05}: replaces the queue and the every-n rule (a queued fault is used by
        exactly one request, in arrival order; echo answers with the user message)."""
        body = await request.json()
        with faults.lock:
            faults.queue = deque(body.get("queue") or [])
            faults.every = body.get("every")
            if "latency_s" in body:
                faults.latency_s = float(body["latency_s"])
        return {"queued": len(faults.queue)}

    @app.post("/admin/reset")
    async def reset() -> dict:
        faults.reset()
        faults.latency_s = latency_s
        return {"reset": True}

    @app.get("/admin/stats")
    async def stats() -> dict:
        return faults.stats()

    return app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class GeneratorServer:
    """The server in a subprocess (a real HTTP endpoint), with its admin calls.

    with GeneratorServer() as server:
        server.base_url  # http://127.0.0.1:PORT/v1
        server.faults(queue=[{"status": 429}])
    """

    def __init__(
        self, *, train_steps: int = 150, latency_ms: float = 0, host: str = "127.0.0.1"
    ) -> None:
        self.host, self.port = host, free_port(host)
        self.train_steps, self.latency_ms = train_steps, latency_ms
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self, timeout_s: float = 120) -> GeneratorServer:
        root = Path(__file__).resolve().parents[2]  # the checkout holding spark_jobs/
        env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spark_jobs.synthetic.server",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--train-steps",
                str(self.train_steps),
                "--latency-ms",
                str(self.latency_ms),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"generator server exited ({self.process.returncode}): {error}")
            try:
                self.call("GET", "/v1/models")
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"generator server on {self.url} not ready after {timeout_s:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> GeneratorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def faults(self, **body: Any) -> None:
        self.call("POST", "/admin/faults", body)

    def reset(self) -> None:
        self.call("POST", "/admin/reset", {})

    def stats(self) -> dict[str, Any]:
        return self.call("GET", "/admin/stats")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import uvicorn

    lm = ByteLM(args.train_steps, args.seed)
    print(f"trained {MODEL_NAME} ({lm.fingerprint}), loss {lm.train_loss:.3f}", flush=True)
    app = create_app(lm, args.latency_ms / 1000)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
