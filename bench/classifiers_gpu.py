"""The classifier annotator on a CUDA device: MiniLM embeddings + edu/topic heads in bf16 on the
GPU against float32 on every CPU core, on the same documents. Needs torch and the model files,
not Spark or MLflow, so it runs on a bare GPU box (the Spark stage calls the same function,
spark_jobs.classifiers.annotator.annotate_texts, in each task that holds a GPU).

    python -m bench.classifiers_gpu                 # 720 CPU documents, 20,000 GPU documents
    python -m bench.classifiers_gpu --json out.json

Prints: tokens/s on the CPU and on the GPU end to end (tokenizer + model + heads, in the
Spark stage's 256-row chunks and in larger chunks), the model alone at several padded-token
batch budgets, the tokenizer alone, and agreement with the CPU (cosine of embeddings, topic
agreement, largest edu difference). The fastText quality model is CPU-only and measured by
bench/fasttext_scoring.py; it is left out here.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from spark_jobs.classifiers import embeddings
from spark_jobs.classifiers.annotator import ClassifierSet, ModelRef, annotate_texts
from spark_jobs.classifiers.embeddings import BATCH_LIMITS, MAX_TOKENS, load_encoder
from spark_jobs.classifiers.gpu import GPU_CHUNK_ROWS
from spark_jobs.classifiers.heads import (
    EDU_MODEL_NAME,
    TOPIC_MODEL_NAME,
    HeadTrainingConfig,
    load_seed_set,
    train_heads,
)


def texts_cycled(count: int) -> list[str]:
    seed = load_seed_set()
    return [seed[i % len(seed)]["text"] for i in range(count)]


def train(root: Path, device: str) -> ClassifierSet:
    """Both heads trained on the seed set's embeddings (throughput does not depend on them)."""
    seed = load_seed_set()
    vectors = load_encoder(device).embed([r["text"] for r in seed]).vectors
    edu, topic = train_heads(
        vectors, [r["edu_score"] for r in seed], [r["topic"] for r in seed],
        HeadTrainingConfig(epochs=50),
    )  # fmt: skip
    edu.save(root / "edu")
    topic.save(root / "topic")
    refs = {"edu": ModelRef(EDU_MODEL_NAME, 0), "topic": ModelRef(TOPIC_MODEL_NAME, 0)}
    return ClassifierSet(refs, {"edu": str(root / "edu"), "topic": str(root / "topic")})


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def end_to_end(texts: list[str], classifiers: ClassifierSet, device: str, rows: int) -> dict:
    """annotate_texts over `texts` in chunks of `rows` (a Spark task's Arrow batch)."""
    annotate_texts(texts[:64], classifiers, device)  # warm-up: loads and CUDA kernels
    sync(device)
    start, tokens = time.perf_counter(), 0
    for offset in range(0, len(texts), rows):
        tokens += int(
            annotate_texts(texts[offset : offset + rows], classifiers, device)["tokens"].sum()
        )
    sync(device)
    seconds = time.perf_counter() - start
    return {"docs": len(texts), "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds,
            "docs_per_s": len(texts) / seconds}  # fmt: skip


def model_only(texts: list[str], device: str, limits: tuple[int, int]) -> dict:
    """MiniLM alone on already tokenized documents (padding, transfers, pooling included),
    with `limits` = (padded tokens, documents) per forward pass."""
    encoder = load_encoder(device)
    encoded = encoder.tokenize(texts)
    with batch_limits(device, limits):
        encoder.embed_tokens(encoded[:256])
        sync(device)
        start = time.perf_counter()
        embedded = encoder.embed_tokens(encoded)
        sync(device)
    seconds = time.perf_counter() - start
    tokens = int(embedded.tokens.sum())
    return {"limits": list(limits), "seconds": seconds, "tokens_per_s": tokens / seconds}


@contextmanager
def batch_limits(device: str, limits: tuple[int, int]):
    kind = device.split(":")[0]
    before = BATCH_LIMITS[kind]
    BATCH_LIMITS[kind] = limits
    try:
        yield
    finally:
        BATCH_LIMITS[kind] = before


def warm_gpu(seconds: float = 3.0) -> None:
    """An idle GPU clocks down (an H200 idles at a few hundred MHz): run matrix products first."""
    import torch

    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        a @ a
        torch.cuda.synchronize()


def tokenizer_only(texts: list[str]) -> dict:
    tokenizer = load_encoder("cpu").tokenizer
    start = time.perf_counter()
    ids = tokenizer(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]
    seconds = time.perf_counter() - start
    tokens = sum(len(x) for x in ids)
    return {"seconds": seconds, "tokens_per_s": tokens / seconds}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-docs", type=int, default=720)
    parser.add_argument("--gpu-docs", type=int, default=20000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    import torch

    load_before = os.getloadavg()
    cuda = torch.cuda.is_available()
    gpu_name = torch.cuda.get_device_name(0) if cuda else None
    torch.set_num_threads(os.cpu_count() or 1)
    figures: dict = {"torch": torch.__version__, "cores": os.cpu_count(), "gpu": gpu_name,
                     "load_before": load_before}  # fmt: skip
    print(f"torch {torch.__version__}, {os.cpu_count()} cores, GPU: {gpu_name or 'none'}, "
          f"load before {load_before[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        classifiers = train(Path(scratch), "cuda:0" if cuda else "cpu")
        cpu_texts = texts_cycled(args.cpu_docs)
        figures["tokenizer"] = tokenizer_only(texts_cycled(max(args.cpu_docs, 5000)))
        figures["cpu_end_to_end_256"] = end_to_end(cpu_texts, classifiers, "cpu", 256)
        print(f"{'path':66} {'docs':>7} {'seconds':>8} {'docs/s':>9} {'tokens/s':>10}")

        def row(label: str, r: dict) -> None:
            print(f"{label:66} {r['docs']:7d} {r['seconds']:8.2f} {r['docs_per_s']:9.1f} "
                  f"{r['tokens_per_s']:10.0f}")  # fmt: skip

        row("CPU float32, all cores, 256-row chunks", figures["cpu_end_to_end_256"])
        if cuda:
            gpu_texts = texts_cycled(args.gpu_docs)
            warm_gpu(10.0)
            old_limits, new_limits = (8192, 256), BATCH_LIMITS["cuda"]
            runs = [("before: 2000-row calls, 8192 tokens/pass, no overlap", 2000, old_limits, 0),
                    (f"{GPU_CHUNK_ROWS}-row calls, {new_limits[0]} tokens/pass, no overlap", GPU_CHUNK_ROWS, new_limits, 0),
                    (f"now: {GPU_CHUNK_ROWS}-row calls, {new_limits[0]} tokens/pass, overlap", GPU_CHUNK_ROWS, new_limits, embeddings.OVERLAP_DOCS)]  # fmt: skip
            overlap = embeddings.OVERLAP_DOCS
            for repeat in (1, 2, 3):  # interleaved: clocks and load change between runs
                for number, (label, rows, limits, overlap_docs) in enumerate(runs):
                    embeddings.OVERLAP_DOCS = overlap_docs
                    with batch_limits("cuda", limits):
                        r = end_to_end(gpu_texts, classifiers, "cuda:0", rows)
                    figures.setdefault(f"gpu_end_to_end_{number}", []).append(r)
                    row(f"GPU bf16 {label} (run {repeat})", r)
            embeddings.OVERLAP_DOCS = overlap
            for number, (label, *_rest) in enumerate(runs):
                best = max(r["tokens_per_s"] for r in figures[f"gpu_end_to_end_{number}"])
                figures[f"gpu_end_to_end_{number}_best"] = {"label": label, "tokens_per_s": best}
                print(f"best of 3, {label}: {best:.0f} tokens/s")
            sweep = [(8192, 256), (32768, 256), (131072, 1024), (262144, 2048)]
            figures["gpu_model_only"] = []
            for repeat in (1, 2):
                for limits in sweep:
                    r = model_only(gpu_texts, "cuda:0", limits)
                    r["run"] = repeat
                    figures["gpu_model_only"].append(r)
                    print(f"GPU model alone (pre-tokenized), {limits[0]:>6} tokens/{limits[1]:>4} "
                          f"docs per pass, run {repeat}: {r['tokens_per_s']:10.0f} tokens/s")  # fmt: skip
            cpu_out = annotate_texts(cpu_texts, classifiers, "cpu")
            gpu_out = annotate_texts(cpu_texts, classifiers, "cuda:0")
            cosine = (cpu_out["embedding"] * gpu_out["embedding"]).sum(axis=1)
            figures["agreement"] = {
                "min_cosine": float(cosine.min()),
                "topic_agreement": float(np.mean(np.array(cpu_out["topic"]) == np.array(gpu_out["topic"]))),
                "max_edu_diff": float(np.abs(cpu_out["edu_score"] - gpu_out["edu_score"]).max()),
            }  # fmt: skip
            print(f"GPU vs CPU on {len(cpu_texts)} documents: {figures['agreement']}")
            best = figures["gpu_end_to_end_2_best"]["tokens_per_s"]
            speedup = best / figures["cpu_end_to_end_256"]["tokens_per_s"]
            figures["gpu_over_cpu"] = speedup  # fmt: skip
            print(f"GPU now (best of 3) / CPU ({os.cpu_count()} cores): {speedup:.1f}x")
        else:
            print("GPU: unmeasured (no CUDA device on this machine)")
    print(f"tokenizer alone (1 process): {figures['tokenizer']['tokens_per_s']:.0f} tokens/s")
    figures["load_after"] = os.getloadavg()
    print(f"load after {figures['load_after'][0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return figures


if __name__ == "__main__":
    main()
