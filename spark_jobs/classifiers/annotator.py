"""The classifier annotator function and the model versions it uses, with no Spark or MLflow.

Spark tasks (spark_jobs.classifiers.scoring), the bare benchmark loops and a bare CUDA box
(bench/classifiers_gpu.py) all call `annotate_texts`; it needs numpy, torch and the model files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spark_jobs.classifiers.embeddings import MAX_TOKENS, load_encoder
from spark_jobs.classifiers.heads import load_head


@dataclass(frozen=True)
class ModelRef:
    """A registered model version, as the classified tables record it."""

    name: str
    version: int

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def __str__(self) -> str:
        return f"{self.name}/v{self.version}"


@dataclass(frozen=True)
class ClassifierSet:
    """The model versions a classification uses, with their files on local disk.

    `paths` maps a family (quality, edu, topic) to the directory of its registered
    version's files; on a multi-machine cluster that directory must be on shared storage
    (or use the same cache path on every machine).
    """

    refs: Mapping[str, ModelRef]
    paths: Mapping[str, str]
    max_tokens: int = MAX_TOKENS

    @property
    def needs_embeddings(self) -> bool:
        return "edu" in self.refs or "topic" in self.refs

    def describe(self) -> dict[str, str]:
        return {f"lineage.model.{family}": str(ref) for family, ref in self.refs.items()}


def annotate_texts(texts: Sequence[str | None], classifiers: ClassifierSet, device: str) -> dict:
    """The annotator function: every score for a list of texts, on one device.

    Spark tasks and the bare benchmark loop both call this; it returns numpy arrays / lists
    aligned with `texts`. Empty texts get null scores.
    """
    n = len(texts)
    empty = np.array([not (t or "").strip() for t in texts], dtype=bool)
    out: dict = {"tokens": np.zeros(n, dtype=np.int64), "embedding": None}
    if "quality" in classifiers.paths:
        from spark_jobs.classifiers.fasttext_quality import QualityScorer  # fastText: CPU only

        out["quality_score"] = QualityScorer.load(classifiers.paths["quality"]).score(texts)
    if classifiers.needs_embeddings:
        embedded = load_encoder(device, classifiers.max_tokens).embed(list(texts))
        out["tokens"], out["embedding"] = embedded.tokens, embedded.vectors
        if "edu" in classifiers.paths:
            out["edu_score"] = load_head(classifiers.paths["edu"], device).edu_scores(
                embedded.vectors
            )
        if "topic" in classifiers.paths:
            topics, probs = load_head(classifiers.paths["topic"], device).topics(embedded.vectors)
            out["topic"], out["topic_score"] = topics, probs.astype(np.float64)
    out["empty"] = empty
    return out
