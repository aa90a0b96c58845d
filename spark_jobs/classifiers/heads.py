"""PyTorch heads on MiniLM sentence embeddings: educational value (regression, 0-5, FineWeb-Edu
style) and a topic/format taxonomy (WebOrganizer style), trained from the labelled seed set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from spark_jobs.classifiers.embeddings import EMBEDDING_DIM

EDU_MODEL_NAME = "pilehouse-edu-head"
TOPIC_MODEL_NAME = "pilehouse-topic-head"
SEED_FILE = Path(__file__).with_name("seed") / "seed.jsonl"
WEIGHTS_FILE = "head.pt"
CARD_FILE = "head.json"


@dataclass(frozen=True)
class HeadTrainingConfig:
    hidden: int = 128
    epochs: int = 300
    lr: float = 3e-3
    weight_decay: float = 1e-4
    holdout_fraction: float = 0.25
    seed: int = 0


def load_seed_set(path: Path = SEED_FILE) -> list[dict]:
    """The labelled seed documents: id, topic, edu_score (0-5), text."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


class Head(nn.Module):
    """A small MLP on a 384-d embedding: one output (edu score) or one logit per class."""

    def __init__(self, outputs: int, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(EMBEDDING_DIM, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class TrainedHead:
    kind: str  # "edu" or "topic"
    module: Head
    classes: list[str]  # topic classes, in logit order; empty for edu
    metrics: dict[str, float]
    config: HeadTrainingConfig

    def save(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        torch.save(self.module.state_dict(), out_dir / WEIGHTS_FILE)
        card = {
            "kind": self.kind,
            "classes": self.classes,
            "hidden": self.config.hidden,
            "metrics": self.metrics,
            "config": asdict(self.config),
        }
        (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2))


def _split(n: int, config: HeadTrainingConfig, strata: Sequence[str]) -> np.ndarray:
    """Held-out mask, stratified by `strata` so every class is on both sides."""
    rng = np.random.default_rng(config.seed)
    held = np.zeros(n, dtype=bool)
    for value in sorted(set(strata)):
        members = np.flatnonzero(np.asarray(strata) == value)
        rng.shuffle(members)
        held[members[: max(1, round(len(members) * config.holdout_fraction))]] = True
    return held


def _fit(module: Head, x: torch.Tensor, y: torch.Tensor, loss_fn, config: HeadTrainingConfig):
    optimizer = torch.optim.AdamW(
        module.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    module.train()
    for _ in range(config.epochs):  # full batch: a few hundred seed documents
        optimizer.zero_grad()
        loss = loss_fn(module(x), y)
        loss.backward()
        optimizer.step()
    module.eval()


def train_heads(
    embeddings: np.ndarray,
    edu_scores: Sequence[float],
    topics: Sequence[str],
    config: HeadTrainingConfig = HeadTrainingConfig(),
) -> tuple[TrainedHead, TrainedHead]:
    """Train both heads on the seed embeddings; report held-out Spearman and accuracy."""
    from scipy.stats import spearmanr

    torch.manual_seed(config.seed)
    held = _split(len(topics), config, topics)
    x = torch.from_numpy(np.asarray(embeddings, dtype=np.float32))
    classes = sorted(set(topics))
    y_topic = torch.tensor([classes.index(t) for t in topics])
    y_edu = torch.tensor(edu_scores, dtype=torch.float32).unsqueeze(1)
    train, test = torch.from_numpy(~held), torch.from_numpy(held)

    edu = Head(1, config.hidden)
    _fit(edu, x[train], y_edu[train], nn.functional.mse_loss, config)
    with torch.no_grad():
        predicted = edu(x[test]).squeeze(1).clamp(0, 5).numpy()
    actual = y_edu[test].squeeze(1).numpy()
    edu_metrics = {
        "spearman": float(spearmanr(predicted, actual).statistic),
        "mae": float(np.abs(predicted - actual).mean()),
        "train_documents": int(train.sum()),
        "holdout_documents": int(test.sum()),
    }

    topic = Head(len(classes), config.hidden)
    _fit(topic, x[train], y_topic[train], nn.functional.cross_entropy, config)
    with torch.no_grad():
        hits = (topic(x[test]).argmax(1) == y_topic[test]).float().mean().item()
    topic_metrics = {
        "accuracy": float(hits),
        "classes": len(classes),
        "train_documents": int(train.sum()),
        "holdout_documents": int(test.sum()),
    }
    return (
        TrainedHead("edu", edu, [], edu_metrics, config),
        TrainedHead("topic", topic, classes, topic_metrics, config),
    )


class HeadScorer:
    """A saved head, ready to score embeddings on one device."""

    def __init__(self, model_dir: Path, device: str = "cpu") -> None:
        card = json.loads((model_dir / CARD_FILE).read_text())
        self.kind: str = card["kind"]
        self.classes: list[str] = card["classes"]
        self.module = Head(len(self.classes) or 1, card["hidden"])
        self.module.load_state_dict(
            torch.load(model_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        )
        self.device = torch.device(device)
        self.module.to(self.device).eval()

    def edu_scores(self, vectors: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = self.module(torch.from_numpy(vectors).to(self.device))
        return out.squeeze(1).clamp(0, 5).float().cpu().numpy().astype(np.float64)

    def topics(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        with torch.inference_mode():
            probs = torch.softmax(self.module(torch.from_numpy(vectors).to(self.device)), -1)
        best = probs.argmax(1).cpu().numpy()
        return [self.classes[i] for i in best], probs.max(1).values.float().cpu().numpy()


@cache
def load_head(model_dir: str, device: str = "cpu") -> HeadScorer:
    return HeadScorer(Path(model_dir), device)
