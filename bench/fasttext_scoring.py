"""W2 fastText scoring: language ID (lid.176) and the quality classifier, each as the Pilehouse
stage in Spark (local mode, one task per core) vs a bare `model.predict` loop in one process,
plus datatrove's LanguageFilter predictor (FT176LID) on the same documents with the same lid.176.ftz model.
Throughput is docs/s per core.

    python -m bench.fasttext_scoring            # 20,000 documents of the benchmark corpus
    python -m bench.fasttext_scoring --quick    # 2,000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench.corpus import ensure_corpus
from spark_jobs.annotators.language import identify_language, lid_model_path
from spark_jobs.classifiers.fasttext_quality import (
    QUALITY_MODEL_NAME,
    QualityScorer,
    QualityTrainingConfig,
    fasttext_line,
    train_quality_model,
)
from spark_jobs.classifiers.heads import load_seed_set
from spark_jobs.classifiers.registry import ModelRef
from spark_jobs.classifiers.scoring import ClassifierSet, classify_documents


def load_documents(count: int) -> list[dict]:
    table = pq.read_table(ensure_corpus(count), columns=["id", "source", "text"])
    return table.to_pylist()


def train_quality(root: Path) -> ClassifierSet:
    """A quality model trained on the seed set (reference kinds vs junk kinds), untimed."""
    seed = load_seed_set()
    good = [r["text"] for r in seed if r["edu_score"] >= 3]
    bad = [r["text"] for r in seed if r["edu_score"] == 0]
    train_quality_model(good, bad, QualityTrainingConfig(), root / "quality")
    return ClassifierSet(
        {"quality": ModelRef(QUALITY_MODEL_NAME, 0)}, {"quality": str(root / "quality")}
    )


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bare_lid(texts: list[str]) -> list[str]:
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    model = fasttext.load_model(str(lid_model_path()))
    out = []
    for text in texts:
        line = " ".join(text.split())
        out.append(model.predict(line, k=1)[0][0].removeprefix("__label__") if line else "und")
    return out


def bare_quality(texts: list[str], classifiers: ClassifierSet) -> int:
    model = QualityScorer.load(classifiers.paths["quality"]).model
    for text in texts:
        model.predict(fasttext_line(text), k=2)
    return len(texts)


def datatrove_lid(texts: list[str]) -> list[str]:
    """datatrove's LanguageFilter predictor (FT176LID.predict, k=-1) on Document objects.

    LanguageFilter itself refuses to start without the `fasteners` package, which is not
    installed here; its `filter` is this predict call plus three metadata assignments.
    """
    from datatrove.data import Document
    from datatrove.utils.lid import FT176LID
    from fasttext.FastText import _FastText

    lid = FT176LID()
    # The same lid.176.ftz as Pilehouse; datatrove would otherwise download lid.176.bin.
    lid._model = _FastText(str(lid_model_path()))
    out = []
    for i, text in enumerate(texts):
        doc = Document(text=text, id=str(i))
        (language, score), _ = lid.predict(doc)
        doc.metadata["language"], doc.metadata["language_score"] = language, score
        out.append(language)
    return out


def spark_lid(spark, docs: list[dict]) -> list[str]:
    """The annotate stage's language annotator (identify_language) inside Spark tasks."""

    def annotate(batches):
        for batch in batches:
            languages = [identify_language(t or "")[0] for t in batch.column("text").to_pylist()]
            yield pa.RecordBatch.from_pydict({"id": batch.column("id"), "language": languages})

    frame = _frame(spark, docs)
    rows = frame.mapInArrow(annotate, "id string, language string").collect()
    by_id = {r.id: r.language for r in rows}
    return [by_id[d["id"]] for d in docs]


def spark_quality(spark, docs: list[dict], classifiers: ClassifierSet) -> int:
    """The classifier stage with the quality family only."""
    return classify_documents(_frame(spark, docs), classifiers).count()


_FRAMES: dict[int, object] = {}


def _frame(spark, docs):
    key = id(docs)
    if key not in _FRAMES:
        cores = spark.sparkContext.defaultParallelism
        frame = spark.createDataFrame(docs, "id string, source string, text string")
        _FRAMES[key] = frame.repartition(cores).cache()
        _FRAMES[key].count()
    return _FRAMES[key]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--quick", action="store_true", help="2,000 documents")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    count = 2000 if args.quick else args.docs
    docs = load_documents(count)
    texts = [d["text"] or "" for d in docs]
    mb = sum(len(t.encode()) for t in texts) / 1e6

    from spark_jobs.session import get_spark

    spark = get_spark(f"local[{args.cores}]", app_name="bench-fasttext")
    with tempfile.TemporaryDirectory() as scratch:
        classifiers = train_quality(Path(scratch))
        warm = docs[: args.cores * 8]
        (
            spark_lid(spark, warm),
            spark_quality(spark, warm, classifiers),
        )  # start workers, load models
        results = {}
        results["lid bare predict loop"] = (1, *timed(lambda: bare_lid(texts)))
        results["lid datatrove FT176LID"] = (1, *timed(lambda: datatrove_lid(texts)))
        results["lid Pilehouse stage (Spark)"] = (
            args.cores,
            *timed(lambda: spark_lid(spark, docs)),
        )
        results["quality bare predict loop"] = (1, *timed(lambda: bare_quality(texts, classifiers)))
        results["quality Pilehouse stage (Spark)"] = (
            args.cores,
            *timed(lambda: spark_quality(spark, docs, classifiers)),
        )
    bare_langs = results["lid bare predict loop"][2]
    agreement_dt = sum(
        a == b for a, b in zip(bare_langs, results["lid datatrove FT176LID"][2], strict=True)
    ) / len(docs)
    agreement_ph = sum(
        a == b for a, b in zip(bare_langs, results["lid Pilehouse stage (Spark)"][2], strict=True)
    ) / len(docs)

    print(f"\nW2 fastText scoring: {count} documents, {mb:.1f} MB of text, {args.cores} cores")
    print(f"{'path':36} {'cores':>5} {'seconds':>8} {'docs/s':>9} {'docs/s/core':>12}")
    figures: dict[str, float] = {}
    for name, (cores, seconds, _) in results.items():
        per_core = count / seconds / cores
        figures[f"{name} docs/s/core"] = round(per_core, 1)
        print(f"{name:36} {cores:5d} {seconds:8.2f} {count / seconds:9.0f} {per_core:12.0f}")
    for family in ("lid", "quality"):
        ratio = (
            figures[f"{family} Pilehouse stage (Spark) docs/s/core"]
            / figures[f"{family} bare predict loop docs/s/core"]
        )
        figures[f"{family} Pilehouse/bare per core"] = round(ratio, 3)
        print(f"{family}: Pilehouse stage per core / bare predict loop = {ratio:.2f}")
    figures["lid datatrove/bare per core"] = round(
        figures["lid datatrove FT176LID docs/s/core"]
        / figures["lid bare predict loop docs/s/core"],
        3,
    )
    figures["lid agreement Pilehouse vs bare"] = round(agreement_ph, 4)
    figures["lid agreement datatrove vs bare"] = round(agreement_dt, 4)
    print(
        f"language agreement with the bare loop: Pilehouse {agreement_ph:.2%}, "
        f"datatrove {agreement_dt:.2%} (datatrove predicts all 176 labels per document, k=-1)"
    )
    return figures


if __name__ == "__main__":
    main()
