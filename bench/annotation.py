"""W1 annotation: Pilehouse's rule-set verdicts against datatrove's filters, then throughput.

On the same documents (bench/corpus.py), Pilehouse annotates with its Spark stage (local[2])
and applies the Gopher quality, Gopher repetition, C4 and FineWeb rule sets with the Spark
expressions selection uses; datatrove 0.10.1 runs GopherQualityFilter,
GopherRepetitionFilter, C4QualityFilter and FineWebQualityFilter (default settings, spaCy
blank English tokenizer, offline) on every document in a LocalPipelineExecutor with 2
workers. The script prints agreement per rule set (keep/remove, and the reason), the
disagreeing documents, and the throughput of both, fairly: wall time depends on what else
runs on the machine, so the whole runs are also given in CPU time (every process of each),
and the per-document work of both is timed in one process by CPU time, in interleaved
repetitions: Pilehouse's quality_signals (the inputs of all four rule sets) and all its
annotators, against datatrove's four filters each on every document and chained the way
FineWeb runs them (repetition, quality, C4 without its terminal-punctuation line filter,
FineWeb; each filter sees only what the previous kept).

    .venv/bin/python -m bench.annotation            # 20,000 documents
    .venv/bin/python -m bench.annotation --quick    # 2,000 documents
    .venv/bin/python -m bench.annotation --scale 200000   # + Pilehouse alone on 200k

`--export-tokenizer` rewrites spark_jobs/annotators/tokenizer_en.json from the installed
spaCy (the rule data Pilehouse's English tokenizer runs on).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench.corpus import BENCH_DIR, ensure_corpus

RULESETS = ("gopher_quality", "gopher_repetition", "c4", "fineweb")
CORES = 2
# datatrove's reason -> Pilehouse's reason, per rule set.
REASONS = {
    "gopher_quality": {
        "gopher_below_avg_threshold": "gopher_below_avg_word_length",
        "gopher_above_avg_threshold": "gopher_above_avg_word_length",
        "gopher_too_many_bullets": "gopher_too_many_bullet_lines",
        "gopher_too_many_end_ellipsis": "gopher_too_many_ellipsis_lines",
        "gopher_below_alpha_threshold": "gopher_below_alpha_words_ratio",
        "gopher_enough_stop_words": "gopher_too_few_stop_words",
    },
    "gopher_repetition": {
        **{f"top_{n}_gram": f"gopher_rep_top_{n}_gram" for n in (2, 3, 4)},
        **{f"duplicated_{n}_n_grams": f"gopher_rep_dup_{n}_gram" for n in range(5, 11)},
        "empty": "gopher_rep_empty",
        **{
            k: f"gopher_rep_{k}"
            for k in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")
        },
    },
    "c4": {
        "lorem_ipsum": "c4_lorem_ipsum",
        "curly_bracket": "c4_curly_bracket",
        "too_few_sentences": "c4_too_few_sentences",
    },
    "fineweb": {
        k: f"fineweb_{k}"
        for k in ("empty", "line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio")
    },
}


def _datatrove_step():
    from datatrove.data import Document
    from datatrove.pipeline.base import PipelineStep
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    class AllFilters(PipelineStep):
        """Every filter on every document (on a copy: C4 rewrites the text it keeps)."""

        name = "four filters"

        def __init__(self, out_dir: str) -> None:
            super().__init__()
            self.out_dir = out_dir

        def run(self, data, rank: int = 0, world_size: int = 1):
            filters = {
                "gopher_quality": GopherQualityFilter(),
                "gopher_repetition": GopherRepetitionFilter(),
                "c4": C4QualityFilter(),
                "fineweb": FineWebQualityFilter(),
            }
            rows = []
            for doc in data:
                row = {"id": doc.id}
                for key, filt in filters.items():
                    try:
                        result = filt.filter(Document(text=doc.text, id=doc.id))
                    except Exception as error:
                        result = (False, f"error {type(error).__name__}")
                    if result is True:
                        row[key] = None
                    elif isinstance(result, tuple):
                        row[key] = result[1]
                    else:
                        row[key] = "removed"
                rows.append(row)
            Path(self.out_dir).mkdir(parents=True, exist_ok=True)
            (Path(self.out_dir) / f"{rank:05d}.json").write_text(json.dumps(rows))
            yield from ()

    return AllFilters


def run_datatrove(shards: Path, work: Path) -> tuple[dict[str, dict], float, float]:
    """datatrove's verdicts per document id, and the wall time of the pipeline."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import ParquetReader

    out = work / "datatrove-verdicts"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(work / "datatrove-logs", ignore_errors=True)
    executor = LocalPipelineExecutor(
        pipeline=[
            ParquetReader(str(shards), text_key="text", id_key="id"),
            _datatrove_step()(str(out)),
        ],
        tasks=CORES,
        workers=CORES,
        logging_dir=str(work / "datatrove-logs"),
    )
    from bench.annotation_stage import TreeCpu

    with TreeCpu() as tree:
        start = time.perf_counter()
        executor.run()
        seconds = time.perf_counter() - start
    cpu = tree.seconds
    (work / "datatrove-seconds.json").write_text(json.dumps({"seconds": seconds, "cpu": cpu}))
    return load_datatrove(work)


def load_datatrove(work: Path) -> tuple[dict[str, dict], float, float]:
    """The verdicts, wall time and CPU time of the last datatrove run under `work`."""
    verdicts = {}
    for part in sorted((work / "datatrove-verdicts").glob("*.json")):
        for row in json.loads(part.read_text()):
            verdicts[row.pop("id")] = row
    timing = json.loads((work / "datatrove-seconds.json").read_text())
    return verdicts, timing["seconds"], timing.get("cpu", float("nan"))


def datatrove_verdicts(texts: dict[str, str]) -> dict[str, dict]:
    """datatrove's verdicts in this process: for the documents its readers skip (empty text)."""
    step = _datatrove_step()(str(BENCH_DIR / "annotation" / "datatrove-direct"))
    from datatrove.data import Document

    list(step.run(Document(text=t, id=i) for i, t in texts.items()))
    rows = json.loads((Path(step.out_dir) / "00000.json").read_text())
    return {row.pop("id"): row for row in rows}


def run_pilehouse(corpus: Path, work: Path) -> tuple[dict[str, dict], float, float]:
    """Pilehouse's verdicts per document id (Spark, local[2]), and the annotation stage's wall
    time and CPU time (driver, JVM and Python workers)."""
    from bench.annotation_stage import TreeCpu
    from spark_jobs.annotate import annotate_documents
    from spark_jobs.select import rule_reason
    from spark_jobs.session import get_spark

    spark = get_spark(f"local[{CORES}]")
    annotated_path = work / "pilehouse-annotated"
    shutil.rmtree(annotated_path, ignore_errors=True)
    documents = spark.read.parquet(str(corpus)).repartition(CORES * 4)
    with TreeCpu() as tree:
        start = time.perf_counter()
        annotate_documents(documents).write.parquet(str(annotated_path))
        seconds = time.perf_counter() - start
    cpu = tree.seconds
    print(f"Pilehouse stage: {tree.new_processes} processes started during the stage")
    annotated = spark.read.parquet(str(annotated_path))
    expected = pq.read_metadata(corpus).num_rows
    if annotated.count() != expected:
        raise RuntimeError(f"{annotated_path}: {annotated.count()} rows, expected {expected}")
    rows = annotated.select("id", *[rule_reason(name).alias(name) for name in RULESETS])
    verdicts = {row["id"]: row.asDict() for row in rows.collect()}
    for row in verdicts.values():
        row.pop("id")
    return verdicts, seconds, cpu


def _shards(corpus: Path, work: Path, n: int) -> Path:
    """The corpus as `n` Parquet files: datatrove gives each task whole files."""
    shards = work / f"shards-{corpus.stem}"
    if not shards.exists():
        table = pq.read_table(corpus, columns=["id", "text"])
        tmp = shards.with_suffix(".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        step = -(-table.num_rows // n)
        for i in range(n):
            pq.write_table(table.slice(i * step, step), tmp / f"part-{i:03d}.parquet")
        tmp.rename(shards)
    return shards


def agreement(
    ours: dict[str, dict], theirs: dict[str, dict], texts: dict[str, str], show: int
) -> dict[str, float]:
    figures = {}
    print(f"\nAgreement with datatrove 0.10.1 on {len(ours):,} documents")
    print(f"{'rule set':<20}{'keep/remove':>14}{'reason':>10}{'removed (ours)':>16}{'(dt)':>8}")
    for name in RULESETS:
        mapping = REASONS[name]
        same_verdict = same_reason = removed_ours = removed_theirs = 0
        disagreeing = []
        for doc_id, mine in ours.items():
            a = mine[name]
            b = theirs[doc_id][name]
            b = None if b is None else mapping.get(b, b)
            removed_ours += a is not None
            removed_theirs += b is not None
            if (a is None) == (b is None):
                same_verdict += 1
                same_reason += a == b
            else:
                disagreeing.append((doc_id, a, b))
        n = len(ours)
        verdict_pct = 100 * same_verdict / n
        figures[f"{name} agreement %"] = round(verdict_pct, 3)
        print(
            f"{name:<20}{verdict_pct:>13.3f}%{100 * same_reason / n:>9.2f}%"
            f"{removed_ours:>16,}{removed_theirs:>8,}"
        )
        for doc_id, a, b in disagreeing[:show]:
            print(f"    {doc_id}: pilehouse={a} datatrove={b}: {texts[doc_id][:160]!r}")
    return figures


def export_tokenizer() -> None:
    import spacy
    from spacy.pipeline.sentencizer import Sentencizer

    from spark_jobs.annotators.tokenizer import RULES_FILE

    tokenizer = spacy.blank("en").tokenizer
    data = {
        "source": (
            f"spaCy {spacy.__version__} blank('en') tokenizer rules and Sentencizer "
            "punct_chars (MIT license, Explosion AI); exported by "
            "bench/annotation.py --export-tokenizer"
        ),
        "prefix": tokenizer.prefix_search.__self__.pattern,
        "suffix": tokenizer.suffix_search.__self__.pattern,
        "infix": tokenizer.infix_finditer.__self__.pattern,
        "url": tokenizer.url_match.__self__.pattern,
        "specials": {k: [s[65] for s in v] for k, v in sorted(tokenizer.rules.items())},
        "sentence_punct": sorted(Sentencizer.default_punct_chars),
    }
    RULES_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=0))
    print(f"wrote {RULES_FILE}")


def _datatrove_filters(fineweb: bool) -> list:
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    # FineWeb's order and settings (datatrove examples/fineweb.py): repetition first, C4
    # without its terminal-punctuation line filter.
    return [
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=not fineweb),
        FineWebQualityFilter(),
    ]


def datatrove_every_filter(texts: list[str]) -> None:
    """Every filter on every document (what the agreement check needs)."""
    from datatrove.data import Document

    filters = _datatrove_filters(fineweb=False)
    for i, text in enumerate(texts):
        for filt in filters:
            filt.filter(Document(text=text, id=str(i)))


def datatrove_fineweb_chain(texts: list[str]) -> int:
    """The filters chained as FineWeb runs them: each sees only what the previous kept (and C4
    passes on the text it rewrote). Returns the documents kept."""
    from datatrove.data import Document

    data = (Document(text=t, id=str(i)) for i, t in enumerate(texts))
    for filt in _datatrove_filters(fineweb=True):
        data = filt.run(data)
    return sum(1 for _ in data)


def cpu_time_comparison(texts: list[str], reps: int) -> dict[str, float]:
    """Pilehouse and datatrove on the same texts in this one process, by CPU time
    (time.process_time), in `reps` interleaved repetitions (order alternating); best of each."""
    from bench.annotation_equivalence import BATCH, each, interleaved
    from spark_jobs.annotate import annotate_texts
    from spark_jobs.annotators.quality import quality_signals

    def annotate(batch: list[str]) -> None:
        annotate_texts(batch)

    # One untimed pass of each first: both sides cache tokens (spaCy's tokenizer, Pilehouse's
    # chunk vocabulary) and Pilehouse loads compiled kernels; a long run is in that state.
    annotate_texts(texts)
    datatrove_every_filter(texts)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    seconds = interleaved(
        texts,
        {
            "Pilehouse quality_signals (all rule-set inputs)": each(quality_signals),
            "Pilehouse all annotators (+ language, PII, ...)": annotate,
            "datatrove 4 filters, each on every document": datatrove_every_filter,
            "datatrove FineWeb chain (survivors only)": lambda batch: datatrove_fineweb_chain(
                batch
            ),
        },
        reps,
    )
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"(batches of {BATCH:,} documents)")
    return seconds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2,000 documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=5, help="disagreements shown per rule set")
    parser.add_argument("--scale", type=int, default=0, help="also annotate N docs, ours only")
    parser.add_argument(
        "--reuse-datatrove",
        action="store_true",
        help="reuse the verdicts and time of the last datatrove run on this corpus (slow peer)",
    )
    parser.add_argument("--reps", type=int, default=3, help="interleaved CPU-time repetitions")
    parser.add_argument(
        "--cpu-docs", type=int, default=5_000, help="documents of the per-document CPU timing"
    )
    parser.add_argument("--export-tokenizer", action="store_true")
    args = parser.parse_args(argv)
    if args.export_tokenizer:
        export_tokenizer()
        return {}
    n_docs = 2_000 if args.quick else args.docs
    corpus = ensure_corpus(n_docs, args.seed)
    work = BENCH_DIR / "annotation" / corpus.stem
    work.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(corpus, columns=["id", "text"])
    texts = dict(zip(table["id"].to_pylist(), table["text"].to_pylist(), strict=True))
    mb = sum(len(t.encode()) for t in texts.values()) / 1e6
    print(f"corpus: {corpus} ({len(texts):,} documents, {mb:.1f} MB)")

    ours, our_seconds, our_cpu = run_pilehouse(corpus, work)
    if args.reuse_datatrove and (work / "datatrove-seconds.json").exists():
        theirs, their_seconds, their_cpu = load_datatrove(work)
        print(f"datatrove: reusing the verdicts and time of its last run in {work}")
    else:
        theirs, their_seconds, their_cpu = run_datatrove(_shards(corpus, work, CORES * 2), work)
    skipped = {i: t for i, t in texts.items() if i not in theirs}
    if skipped:
        print(f"datatrove's reader skipped {len(skipped)} documents; their filters run directly")
        theirs.update(datatrove_verdicts(skipped))
    figures = agreement(ours, theirs, texts, args.show)

    print(f"\nWhole runs, {CORES} cores (wall time depends on the load; CPU time of every process)")
    print(f"{'':<46}{'wall s':>8}{'CPU s':>8}{'MB/s/core (CPU)':>17}")
    rows = [
        ("Pilehouse annotation stage (Spark local[2])", our_seconds, our_cpu),
        ("datatrove 4 filters (LocalPipelineExecutor)", their_seconds, their_cpu),
    ]
    for label, seconds, cpu in rows:
        print(f"{label:<46}{seconds:>8.1f}{cpu:>8.1f}{mb / cpu:>17.2f}")

    timed = list(texts.values())[: args.cpu_docs]
    timed_mb = sum(len(t.encode()) for t in timed) / 1e6
    print(
        f"\nPer document work in one process on the first {len(timed):,} documents "
        f"({timed_mb:.1f} MB), CPU time, best of {args.reps} interleaved"
    )
    cpu = cpu_time_comparison(timed, args.reps)
    print(f"{'':<50}{'CPU s':>8}{'MB/s/core':>11}{'docs/s/core':>13}")
    for label, seconds in cpu.items():
        print(f"{label:<50}{seconds:>8.2f}{timed_mb / seconds:>11.2f}{len(timed) / seconds:>13.0f}")
    ours_signals = cpu["Pilehouse quality_signals (all rule-set inputs)"]
    ours_all = cpu["Pilehouse all annotators (+ language, PII, ...)"]
    every = cpu["datatrove 4 filters, each on every document"]
    chain = cpu["datatrove FineWeb chain (survivors only)"]
    print(
        f"datatrove CPU time / Pilehouse quality_signals: {every / ours_signals:.2f}x (every "
        f"filter on every document), {chain / ours_signals:.2f}x (FineWeb chain)"
    )
    print(
        f"datatrove CPU time / Pilehouse all annotators: {every / ours_all:.2f}x (every "
        f"filter), {chain / ours_all:.2f}x (FineWeb chain)"
    )
    figures.update(
        {
            "pilehouse stage MB/s/core (CPU)": round(mb / our_cpu, 3),
            "datatrove executor MB/s/core (CPU)": round(mb / their_cpu, 3),
            **{f"{label} MB/s/core": round(timed_mb / s, 3) for label, s in cpu.items()},
            "datatrove every filter / pilehouse signals": round(every / ours_signals, 2),
            "datatrove fineweb chain / pilehouse signals": round(chain / ours_signals, 2),
            "datatrove every filter / pilehouse annotators": round(every / ours_all, 2),
            # The target's figure, conservatively: datatrove's cheapest way (the FineWeb chain)
            # against all of Pilehouse's annotators (language ID and PII included).
            "datatrove/pilehouse time ratio": round(chain / ours_all, 2),
            "datatrove fineweb chain / pilehouse annotators": round(chain / ours_all, 2),
        }
    )
    if args.scale:
        big = ensure_corpus(args.scale, args.seed)
        big_mb = pq.read_metadata(big).num_rows
        sizes = pq.read_table(big, columns=["text"])["text"]
        big_mb = pa.compute.sum(pa.compute.binary_length(sizes.cast(pa.binary()))).as_py() / 1e6
        _, seconds, _ = run_pilehouse(big, BENCH_DIR / "annotation-scale")
        print(
            f"\nPilehouse annotation at scale: {args.scale:,} documents ({big_mb:.0f} MB) in "
            f"{seconds:.0f} s on local[{CORES}]: {args.scale / seconds / CORES:.1f} docs/s/core, "
            f"{big_mb / seconds / CORES:.2f} MB/s/core"
        )
        figures[f"pilehouse docs/s/core at {args.scale}"] = round(args.scale / seconds / CORES, 1)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
