"""The classifier annotator function and the model versions it uses, with no Spark or MLflow.

Spark tasks (spark_jobs.classifiers.scoring), the bare benchmark loops and a bare CUDA box
(bench/classifiers_gpu.py) all call `annotate_texts`; it needs numpy, torch and the model files.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spark_jobs.classifiers.embeddings import MAX_TOKENS, load_encoder
from spark_jobs.classifiers.heads import load_head
from spark_jobs.storage import LOCAL, ObjectStore


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
    version's files on the driver. `sources` maps it to where MLflow stores those files
    (s3://.../model with artifacts on S3): an executor on another machine, where `paths`
    does not exist, copies them from there through `store` once per version (`local_dir`).
    """

    refs: Mapping[str, ModelRef]
    paths: Mapping[str, str]
    max_tokens: int = MAX_TOKENS
    sources: Mapping[str, str] = field(default_factory=dict)
    store: ObjectStore = LOCAL

    def local_dir(self, family: str) -> str:
        """The directory of a family's model files on this machine, fetched if need be."""
        path = Path(self.paths[family])
        if path.is_dir() or family not in self.sources:
            return str(path)
        ref = self.refs[family]
        target = Path(tempfile.gettempdir()) / "pilehouse-models" / ref.name / f"v{ref.version}"
        if not target.is_dir():
            fetch_model_files(self.sources[family], target, self.store)
        return str(target)

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

        out["quality_score"] = QualityScorer.load(classifiers.local_dir("quality")).score(texts)
    if classifiers.needs_embeddings:
        embedded = load_encoder(device, classifiers.max_tokens).embed(list(texts))
        out["tokens"], out["embedding"] = embedded.tokens, embedded.vectors
        if "edu" in classifiers.paths:
            out["edu_score"] = load_head(classifiers.local_dir("edu"), device).edu_scores(
                embedded.vectors
            )
        if "topic" in classifiers.paths:
            topics, probs = load_head(classifiers.local_dir("topic"), device).topics(
                embedded.vectors
            )
            out["topic"], out["topic_score"] = topics, probs.astype(np.float64)
    out["empty"] = empty
    return out


def fetch_model_files(source: str, target: Path, store: ObjectStore) -> None:
    """Copy a model version's files from `source` (s3://... or a path) into `target`.

    Tasks on one machine may fetch the same version at once: each copies into its own
    scratch directory and renames it into place; the first rename wins.
    """
    import pyarrow.fs as pafs

    fs, path = store.filesystem(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        pafs.copy_files(path, str(scratch), source_filesystem=fs)
        with contextlib.suppress(OSError):  # another task's copy is already in place
            scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
