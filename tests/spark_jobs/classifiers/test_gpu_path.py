"""The bf16 GPU path of the annotator: the same embeddings and head outputs as on the CPU.

Runs where CUDA exists (`pytest -m gpu`); skips elsewhere. Needs no Spark: it exercises the
functions the Spark tasks call, with the device a task holding GPU 0 would select.
"""

import numpy as np
import pytest

from spark_jobs.classifiers.embeddings import Encoder
from spark_jobs.classifiers.gpu import select_device
from spark_jobs.classifiers.heads import (
    HeadScorer,
    HeadTrainingConfig,
    load_seed_set,
    train_heads,
)

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch


def test_bf16_gpu_embeddings_and_heads_match_the_cpu(cuda, tmp_path):
    assert select_device(["0"]) == "cuda:0"
    texts = [r["text"] for r in load_seed_set()[::6]]  # 60 documents of every kind
    cpu = Encoder("cpu").embed(texts)
    gpu_encoder = Encoder("cuda:0")
    gpu = gpu_encoder.embed(texts, batch_tokens=2048)  # several length buckets
    assert next(gpu_encoder.model.parameters()).device.type == "cuda"
    np.testing.assert_array_equal(cpu.tokens, gpu.tokens)
    cosine = (cpu.vectors * gpu.vectors).sum(axis=1)
    assert cosine.min() > 0.99  # bf16 autocast: close to float32, not identical

    seed = load_seed_set()[::6]
    edu, topic = train_heads(
        cpu.vectors, [r["edu_score"] for r in seed], [r["topic"] for r in seed],
        HeadTrainingConfig(epochs=50),
    )  # fmt: skip
    topic.save(tmp_path / "topic")
    edu.save(tmp_path / "edu")
    edu_cpu = HeadScorer(tmp_path / "edu", "cpu").edu_scores(cpu.vectors)
    edu_gpu = HeadScorer(tmp_path / "edu", "cuda:0").edu_scores(gpu.vectors)
    assert np.abs(edu_cpu - edu_gpu).max() < 0.25
    on_cpu = HeadScorer(tmp_path / "topic", "cpu").topics(cpu.vectors)[0]
    on_gpu = HeadScorer(tmp_path / "topic", "cuda:0").topics(gpu.vectors)[0]
    assert np.mean([a == b for a, b in zip(on_cpu, on_gpu, strict=True)]) >= 0.95


def test_tokenizing_on_a_thread_while_the_gpu_runs_gives_the_same_embeddings(cuda, monkeypatch):
    from spark_jobs.classifiers import embeddings

    texts = [r["text"] for r in load_seed_set()] * 2  # 720 documents
    encoder = Encoder("cuda:0")
    monkeypatch.setattr(embeddings, "OVERLAP_DOCS", 0)
    whole = encoder.embed(texts)
    monkeypatch.setattr(embeddings, "OVERLAP_DOCS", 100)  # 8 slices, 7 tokenized meanwhile
    sliced = encoder.embed(texts)
    np.testing.assert_array_equal(whole.tokens, sliced.tokens)
    assert (whole.vectors * sliced.vectors).sum(axis=1).min() > 0.999  # same rows, same order
