"""DCLM-style quality classifier: a bigram fastText model that tells reference-quality text
(e.g. curated papers and licensed encyclopedic text) from random web documents."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import fasttext
import numpy as np

POSITIVE = "__label__hq"
NEGATIVE = "__label__lq"
MODEL_FILE = "quality.bin"
CARD_FILE = "quality.json"
QUALITY_MODEL_NAME = "pilehouse-quality-fasttext"


@dataclass(frozen=True)
class QualityTrainingConfig:
    """Which tables are the positives and negatives, and the fastText hyper-parameters."""

    positive_tables: tuple[str, ...] = ("curated.papers", "curated.licensed")
    negative_tables: tuple[str, ...] = ("annotated.web",)
    max_per_class: int = 20000
    holdout_fraction: float = 0.2
    seed: int = 0
    word_ngrams: int = 2
    dim: int = 64
    epoch: int = 10
    lr: float = 0.5
    min_count: int = 1
    max_chars: int = 20000  # DCLM trains on whole documents; cap pathological ones
    # Repeat the smaller class's documents until both classes are the same size (DCLM trains
    # on balanced sets); without it a small reference set against a large crawl gives a
    # model that rarely says "hq". Oversampling rather than dropping negatives keeps data.
    balance: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, object]:
        params = {k: v for k, v in asdict(self).items() if k != "extra"}
        params["positive_tables"] = ",".join(self.positive_tables)
        params["negative_tables"] = ",".join(self.negative_tables)
        return {**params, **self.extra}


def fasttext_line(text: str | None, max_chars: int = 20000) -> str:
    """One document as one fastText input line: fastText reads up to a newline."""
    return " ".join((text or "")[:max_chars].split())


def is_held_out(text: str, fraction: float, seed: int) -> bool:
    """Deterministic split by content, so a document lands on one side in every run."""
    digest = hashlib.blake2b(f"{seed}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction


def _write_training_file(path: Path, labelled: Sequence[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for label, line in labelled:
            out.write(f"{label} {line}\n")


def _oversample_smaller_class(
    train: list[tuple[str, str]], rng: np.random.Generator
) -> list[tuple[str, str]]:
    by_label = {label: [x for x in train if x[0] == label] for label in (POSITIVE, NEGATIVE)}
    target = max(len(docs) for docs in by_label.values())
    out = []
    for docs in by_label.values():
        out += [docs[i % len(docs)] for i in range(target)]
    return [out[i] for i in rng.permutation(len(out))]


def train_quality_model(
    positives: Sequence[str], negatives: Sequence[str], config: QualityTrainingConfig, out_dir: Path
) -> dict[str, float]:
    """Train on the non-held-out documents, evaluate on the held-out ones, save to `out_dir`.

    Returns precision/recall/F1 of the positive class on the held-out split, plus counts.
    """
    labelled = [(POSITIVE, fasttext_line(t, config.max_chars)) for t in positives] + [
        (NEGATIVE, fasttext_line(t, config.max_chars)) for t in negatives
    ]
    labelled = [(label, line) for label, line in labelled if line]
    train = [x for x in labelled if not is_held_out(x[1], config.holdout_fraction, config.seed)]
    test = [x for x in labelled if is_held_out(x[1], config.holdout_fraction, config.seed)]
    if not {POSITIVE, NEGATIVE} <= {label for label, _ in train}:
        raise ValueError(
            f"the quality classifier needs positive and negative training documents; got "
            f"{sum(lbl == POSITIVE for lbl, _ in train)} positives and "
            f"{sum(lbl == NEGATIVE for lbl, _ in train)} negatives from "
            f"{config.positive_tables} vs {config.negative_tables}"
        )
    rng = np.random.default_rng(config.seed)
    train = [train[i] for i in rng.permutation(len(train))]
    if config.balance:
        train = _oversample_smaller_class(train, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        train_file = Path(scratch) / "train.txt"
        _write_training_file(train_file, train)
        model = fasttext.train_supervised(
            str(train_file),
            wordNgrams=config.word_ngrams,
            dim=config.dim,
            epoch=config.epoch,
            lr=config.lr,
            minCount=config.min_count,
            seed=config.seed,
            thread=1,  # one thread: the same data and seed give the same model
            verbose=0,
        )
    model.save_model(str(out_dir / MODEL_FILE))
    metrics = _evaluate(QualityScorer(model), test)
    metrics.update(train_documents=len(train), holdout_documents=len(test))
    (out_dir / CARD_FILE).write_text(
        json.dumps({"positive_label": POSITIVE, "params": config.params(), "metrics": metrics})
    )
    return metrics


def _evaluate(scorer: QualityScorer, test: Sequence[tuple[str, str]]) -> dict[str, float]:
    if not test:
        return {"precision": float("nan"), "recall": float("nan"), "f1": float("nan")}
    scores = scorer.score([line for _, line in test])
    predicted = scores >= 0.5
    actual = np.array([label == POSITIVE for label, _ in test])
    tp = int((predicted & actual).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(actual.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float((predicted == actual).mean())
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}


class QualityScorer:
    """P(reference quality) for documents, from a trained fastText model."""

    def __init__(self, model: fasttext.FastText._FastText) -> None:
        self.model = model

    @classmethod
    def load(cls, model_dir: str | Path) -> QualityScorer:
        return _load_scorer(str(Path(model_dir) / MODEL_FILE))

    def score(self, texts: Sequence[str | None]) -> np.ndarray:
        lines = [fasttext_line(t) for t in texts]
        labels, probs = self.model.predict(lines, k=2)
        scores = np.empty(len(lines), dtype=np.float64)
        for i, (row_labels, row_probs) in enumerate(zip(labels, probs, strict=True)):
            by_label = dict(zip(row_labels, row_probs, strict=True))
            scores[i] = min(1.0, float(by_label.get(POSITIVE, 1.0 - by_label.get(NEGATIVE, 1.0))))
        return scores


@cache
def _load_scorer(path: str) -> QualityScorer:
    fasttext.FastText.eprint = lambda *args, **kwargs: None  # load-time warning is noise
    return QualityScorer(fasttext.load_model(path))
