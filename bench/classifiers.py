"""Classifier throughput: the same annotator function (spark_jobs.classifiers.scoring.
annotate_texts: fastText quality + MiniLM embedding + edu and topic heads) (a) as a bare torch
loop in one process and (b) inside the Spark classifier stage (local mode), on the same
documents; docs/s, tokens/s and the ratio b/a. On a CUDA machine it also times the bare loop
on the GPU in bf16.

    python -m bench.classifiers           # 720 documents (the seed set, twice)
    python -m bench.classifiers --quick   # 120 documents
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

from spark_jobs.classifiers import registry
from spark_jobs.classifiers.embeddings import MAX_TOKENS
from spark_jobs.classifiers.fasttext_quality import (
    QUALITY_MODEL_NAME,
    QualityTrainingConfig,
    train_quality_model,
)
from spark_jobs.classifiers.heads import HeadTrainingConfig, load_seed_set
from spark_jobs.classifiers.scoring import (
    ClassifierSet,
    annotate_texts,
    classify_documents,
    resolve_classifiers,
)
from spark_jobs.classifiers.training import MlflowTarget, train_embedding_heads

BATCH_ROWS = 256  # rows per annotator call: the bare loop's chunk and Spark's Arrow batch


def documents(count: int) -> list[dict]:
    """`count` documents cycled from the labelled seed set (real text of every kind)."""
    seed = load_seed_set()
    return [
        {"id": f"{i}", "source": "bench", "text": seed[i % len(seed)]["text"]} for i in range(count)
    ]


def train_models(root: Path) -> ClassifierSet:
    """Small but real models: throughput does not depend on how well they were trained."""
    target = MlflowTarget(f"sqlite:///{root}/mlflow.db", "bench", str(root / "artifacts"))
    seed = load_seed_set()
    good = [r["text"] for r in seed if r["edu_score"] >= 3]
    bad = [r["text"] for r in seed if r["edu_score"] == 0]
    train_quality_model(good, bad, QualityTrainingConfig(), root / "quality")
    registry.log_and_register(
        target.tracking_uri, target.experiment, QUALITY_MODEL_NAME, root / "quality",
        params={}, metrics={}, artifact_location=target.artifact_location,
    )  # fmt: skip
    train_embedding_heads(target, HeadTrainingConfig(epochs=50), limit_per_topic=4)
    return resolve_classifiers(target.tracking_uri, root / "cache", max_tokens=MAX_TOKENS)


def bare_loop(texts: list[str], classifiers: ClassifierSet, device: str) -> tuple[float, int]:
    """Seconds and tokens for annotate_texts over `texts` in BATCH_ROWS chunks, one process."""
    annotate_texts(texts[:8], classifiers, device)  # warm-up: model loads are not billed
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    start, tokens = time.perf_counter(), 0
    for offset in range(0, len(texts), BATCH_ROWS):
        tokens += int(
            annotate_texts(texts[offset : offset + BATCH_ROWS], classifiers, device)["tokens"].sum()
        )
    return time.perf_counter() - start, tokens


def spark_stage(docs: list[dict], classifiers: ClassifierSet, cores: int) -> tuple[float, int]:
    """Seconds and tokens for classify_documents in Spark local[cores] (one task per core)."""
    from pyspark.sql import functions as F

    from spark_jobs.session import get_spark

    spark = get_spark(
        f"local[{cores}]",
        app_name="bench-classifiers",
        conf={"spark.sql.execution.arrow.maxRecordsPerBatch": str(BATCH_ROWS)},
    )
    frame = spark.createDataFrame(docs, "id string, source string, text string")
    frame = frame.repartition(cores).cache()
    frame.count()
    # Warm-up pass: starts the Python workers and loads the models in each.
    classify_documents(frame.limit(cores * 4).repartition(cores), classifiers).write.format(
        "noop"
    ).mode("overwrite").save()
    start = time.perf_counter()
    tokens = classify_documents(frame, classifiers).agg(F.sum("tokens")).first()[0]
    return time.perf_counter() - start, int(tokens)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=720)
    parser.add_argument("--quick", action="store_true", help="120 documents")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    count = 120 if args.quick else args.docs
    import torch

    docs = documents(count)
    texts = [d["text"] for d in docs]
    with tempfile.TemporaryDirectory() as scratch:
        classifiers = train_models(Path(scratch))
        torch.set_num_threads(args.cores)  # the bare loop gets every core, as Spark does
        bare_s, bare_tokens = bare_loop(texts, classifiers, "cpu")
        spark_s, spark_tokens = spark_stage(docs, classifiers, args.cores)
        gpu = None
        if torch.cuda.is_available():
            gpu_s, gpu_tokens = bare_loop(texts, classifiers, "cuda:0")
            gpu = (gpu_tokens / gpu_s, torch.cuda.get_device_name(0))
    assert bare_tokens == spark_tokens, (bare_tokens, spark_tokens)
    figures = {
        "bare loop docs/s (cpu)": count / bare_s,
        "bare loop tokens/s (cpu)": bare_tokens / bare_s,
        "spark stage docs/s (cpu)": count / spark_s,
        "spark stage tokens/s (cpu)": spark_tokens / spark_s,
        "spark/bare ratio": bare_s / spark_s,
    }
    print(f"\nClassifier annotation: {count} documents, {bare_tokens} MiniLM tokens "
          f"(first {MAX_TOKENS} per document), {args.cores} cores, torch {torch.__version__}")  # fmt: skip
    print(f"{'path':32} {'seconds':>9} {'docs/s':>9} {'tokens/s':>10}")
    print(
        f"{'(a) bare torch loop, cpu':32} {bare_s:9.2f} {count / bare_s:9.1f} {bare_tokens / bare_s:10.0f}"
    )
    print(
        f"{'(b) Spark stage local, cpu':32} {spark_s:9.2f} {count / spark_s:9.1f} {spark_tokens / spark_s:10.0f}"
    )
    print(f"ratio b/a (docs/s): {figures['spark/bare ratio']:.2f} (target >= 0.9)")
    if gpu is None:
        print("GPU tokens/s: unmeasured (no CUDA device on this machine)")
    else:
        figures["bare loop tokens/s (gpu bf16)"] = gpu[0]
        print(f"GPU tokens/s (bf16, {gpu[1]}): {gpu[0]:.0f}")
    return {k: (round(v, 3) if not math.isnan(v) else v) for k, v in figures.items()}


if __name__ == "__main__":
    main()
