"""Scale: the annotation and dedup stages on a 200k-document corpus, stage by stage, with docs/s
and MB/s per core and the peak memory of the whole process tree (driver, JVM, Python workers).

The corpus (bench/corpus.py) is loaded into a fresh local lake as raw.web, split into four source
partitions, and every stage runs through the same spark_jobs entry points the Dagster assets
call, committing real Delta tables:

    annotate        stages.annotate_source per partition -> annotated.web
    signatures      stages.refresh_signatures: MinHash band keys + sketches -> dedup.signatures
    paragraphs      dedup.paragraph_duplicate_fractions (Dolma-style paragraph dedup annotation)
    exact clusters  dedup.exact_clusters over every annotated document
    fuzzy clusters  dedup.fuzzy_clusters from the stored signatures (LSH buckets, verified
                    pairs, connected components, keepers)
    curate          stages.curate_corpora with the web recipe: filters, PII redaction,
                    decontamination, exact + near-duplicate dedup, every commit
    increment       a new source partition (another seed's documents): annotate_source, then
                    curate_corpora again, recomputing the signatures of that partition only

    .venv/bin/python -m bench.curation_scale                 # 200,000 documents (+10,000)
    .venv/bin/python -m bench.curation_scale --docs 20000
    .venv/bin/python -m bench.curation_scale --quick         # 5,000 documents (+500)
    .venv/bin/python -m bench.curation_scale --compare-annotations BEFORE AFTER
    .venv/bin/python -m bench.curation_scale --sizes 2000,20000,200000   # the growth table

`--sizes` runs the stages once per size, each in a fresh process (its own Spark session and
memory peak), then prints per stage the seconds and MB/s per core at each size and splits the
time into a fixed cost and a cost per document (least squares over the sizes:
seconds = fixed + per_doc x documents).

The per-core rates divide by the Spark cores (local[N], N = --cores, default all of them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.corpus import BENCH_DIR, ensure_corpus
from bench.memory import PeakMemory

SOURCES = 4
RECIPE = Path(__file__).resolve().parents[1] / "orchestration" / "recipes" / "web-default.yaml"


@dataclass
class StageFigure:
    stage: str
    docs: int
    mb: float
    seconds: float
    peak_bytes: int
    note: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def per_core(self, cores: int) -> tuple[float, float]:
        return self.docs / self.seconds / cores, self.mb / self.seconds / cores


def text_mb(corpus: Path) -> float:
    texts = pq.read_table(corpus, columns=["text"])["text"]
    return pc.sum(pc.binary_length(texts.cast("binary"))).as_py() / 1e6


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--increment", type=int, help="documents of the new partition (docs/20)")
    parser.add_argument("--quick", action="store_true", help="5,000 documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--driver-memory", default="4g", help="Spark driver (= executor) heap")
    parser.add_argument("--sizes", help="comma-separated document counts: the growth table")
    parser.add_argument(
        "--compare-annotations",
        nargs=2,
        metavar=("BEFORE", "AFTER"),
        help="only compare the annotation columns of two annotated tables, row by id",
    )
    args = parser.parse_args(argv)
    if args.compare_annotations:
        return compare_annotations(*args.compare_annotations)
    if args.sizes:
        return growth([int(n) for n in args.sizes.split(",")], args)
    n_docs = 5_000 if args.quick else args.docs
    n_new = args.increment if args.increment is not None else max(n_docs // 20, 1)
    cores = args.cores

    started = time.perf_counter()
    corpus = ensure_corpus(n_docs, args.seed)
    new_corpus = ensure_corpus(n_new, args.seed + 1)  # other ids, texts from the same pools
    generated = time.perf_counter() - started
    mb, new_mb = text_mb(corpus), text_mb(new_corpus)
    print(
        f"corpus: {corpus.name} ({n_docs:,} documents, {mb:.1f} MB of text) and "
        f"{new_corpus.name} ({n_new:,}, {new_mb:.1f} MB) as the new partition; "
        f"ready in {generated:.0f} s"
    )
    work = BENCH_DIR / "curation-scale" / corpus.stem
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    with PeakMemory() as memory:
        figures = run_stages(
            corpus, new_corpus, work, mb, new_mb, n_docs, n_new, cores, args, memory
        )
    report(figures, cores, n_docs, mb)
    out = {
        f"{f.stage} {unit}": round(value, 2)
        for f in figures
        for unit, value in zip(("docs/s/core", "MB/s/core"), f.per_core(cores), strict=True)
    }
    out.update({f"{f.stage} peak GiB": round(f.peak_bytes / 2**30, 2) for f in figures})
    out.update({f"{f.stage} seconds": round(f.seconds, 2) for f in figures})
    out.update({f"{f.stage} docs": f.docs for f in figures})
    out.update({f"{f.stage} MB": round(f.mb, 2) for f in figures})
    out["stages"] = [f.stage for f in figures]
    out["cores"] = cores
    out.update({f"{f.stage} {name}": n for f in figures for name, n in f.counts.items()})
    out["peak GiB"] = round(max(f.peak_bytes for f in figures) / 2**30, 2)
    out["documents"] = n_docs
    (work / "figures.json").write_text(json.dumps(out, indent=1))
    return out


def run_stages(
    corpus: Path,
    new_corpus: Path,
    work: Path,
    mb: float,
    new_mb: float,
    n_docs: int,
    n_new: int,
    cores: int,
    args: argparse.Namespace,
    memory: PeakMemory,
) -> list[StageFigure]:
    from pyspark.sql import functions as F

    from spark_jobs import stages
    from spark_jobs.curate import dedup_frame
    from spark_jobs.dedup import (
        DedupConfig,
        exact_clusters,
        fuzzy_clusters,
        paragraph_duplicate_fractions,
    )
    from spark_jobs.delta import open_table, read_spark, write_table
    from spark_jobs.lake import Lake
    from spark_jobs.recipe import CurationRecipe
    from spark_jobs.session import get_spark
    from spark_jobs.settings import SHIPPED_DEDUP_CONFIG

    spark = get_spark(f"local[{cores}]", conf={"spark.driver.memory": args.driver_memory})
    lake = Lake(str(work / "lake"))
    recipe = CurationRecipe.from_yaml(RECIPE)
    config = DedupConfig.from_yaml(SHIPPED_DEDUP_CONFIG)
    metadata = {"bench": "curation_scale"}
    figures: list[StageFigure] = []

    def stage(
        name: str, docs: int, size_mb: float, body: Callable[[], tuple[str, dict[str, int]]]
    ) -> None:
        memory.reset()
        start = time.perf_counter()
        note, counts = body()
        seconds = time.perf_counter() - start
        figure = StageFigure(name, docs, size_mb, seconds, memory.peak(), note, counts)
        figures.append(figure)
        docs_s, mb_s = figure.per_core(cores)
        print(
            f"  {name:<16}{seconds:>8.1f} s {docs_s:>9.1f} docs/s/core {mb_s:>7.2f} MB/s/core "
            f"peak {figure.peak_bytes / 2**30:5.2f} GiB  {note}",
            flush=True,
        )

    def load_raw(path: Path, source: Callable) -> None:
        raw = spark.read.parquet(str(path)).drop("kind").withColumn("source", source)
        commit = write_table(
            raw,
            lake.uri("raw.web"),
            mode="append",
            partition_by=lake.spec("raw.web").partition_by,
            metadata=metadata,
            store=lake.store,
        )
        print(f"  loaded {path.name} into raw.web v{commit.version} ({commit.num_rows:,} rows)")

    # Four sources of about equal size, by id.
    load_raw(corpus, F.format_string("crawl-%d", F.abs(F.hash("id")) % SOURCES))
    sources = [f"crawl-{i}" for i in range(SOURCES)]
    stages.register_benchmarks(lake, [stages.BUNDLED_BENCHMARKS], metadata=metadata)
    print(f"stages on local[{cores}], driver memory {args.driver_memory}:")

    def annotate(names: list[str]) -> Callable[[], tuple[str, dict[str, int]]]:
        def body() -> tuple[str, dict[str, int]]:
            rows = 0
            for source in names:
                report = stages.annotate_source(spark, lake, "web", source, metadata=metadata)
                rows += report.counts["annotated"]
            return f"{rows:,} rows committed to annotated.web", {"rows": rows}

        return body

    stage("annotate", n_docs, mb, annotate(sources))

    def signatures() -> tuple[str, dict[str, int]]:
        versions = {"web": open_table(lake.uri("annotated.web"), store=lake.store).version()}
        _, plan, commits = stages.refresh_signatures(spark, lake, versions, config, metadata)
        rows = sum(c.num_rows for c in commits)
        return f"{rows:,} signatures in {len(plan.recompute)} partitions", {"rows": rows}

    stage("signatures", n_docs, mb, signatures)

    annotated = read_spark(spark, lake.uri("annotated.web"), store=lake.store)

    def parquet(df, name: str) -> Path:
        path = work / name
        df.write.parquet(str(path))
        return path

    def paragraphs() -> tuple[str, dict[str, int]]:
        path = parquet(
            paragraph_duplicate_fractions(
                annotated, config.paragraph_min_count, min_chars=config.paragraph_min_chars
            ),
            "paragraph-fractions",
        )
        fractions = pq.read_table(path, columns=["duplicate_paragraph_fraction"])[0]
        over_half = pc.sum(pc.greater(fractions, 0.5)).as_py()
        note = f"{len(fractions):,} fractions; {over_half:,} documents over half duplicated"
        return note, {"rows": len(fractions)}

    stage("paragraphs", n_docs, mb, paragraphs)

    def cluster_note(path: Path) -> tuple[str, dict[str, int]]:
        table = pq.read_table(path, columns=["cluster_id", "is_keeper", "cluster_size"])
        clusters = pc.count_distinct(table["cluster_id"]).as_py()
        dropped = len(table) - (pc.sum(table["is_keeper"]).as_py() or 0)
        largest = pc.max(table["cluster_size"]).as_py() if len(table) else 0
        note = f"{clusters:,} clusters, {dropped:,} duplicates, largest {largest:,}"
        return note, {"clusters": clusters, "duplicates": dropped}

    def exact() -> tuple[str, dict[str, int]]:
        return cluster_note(parquet(exact_clusters(dedup_frame(annotated), config), "exact"))

    stage("exact clusters", n_docs, mb, exact)

    def fuzzy() -> tuple[str, dict[str, int]]:
        stored = read_spark(spark, lake.uri(stages.SIGNATURE_TABLE), store=lake.store)
        clusters = fuzzy_clusters(dedup_frame(annotated), config, signatures=stored)
        return cluster_note(parquet(clusters, "fuzzy"))

    stage("fuzzy clusters", n_docs, mb, fuzzy)

    def curate() -> tuple[str, dict[str, int]]:
        report = stages.curate_corpora(
            spark, lake, {"web": recipe}, config, run_id="bench-curate", metadata=metadata
        )
        family, shared = report.families["web"], report.shared.counts
        kept, rejected = family.counts["kept"], family.counts["rejected"]
        total = annotated_rows()
        if kept + rejected != total:
            raise RuntimeError(f"curate: {kept} kept + {rejected} rejected != {total} annotated")
        reasons = sorted(
            ((k.removeprefix("rejected: "), v) for k, v in family.counts.items() if ": " in k),
            key=lambda kv: -kv[1],
        )
        top = ", ".join(f"{reason} {n:,}" for reason, n in reasons[:4])
        recomputed = shared.get("signature partitions recomputed", 0)
        reused = shared.get("signature partitions reused", 0)
        note = (
            f"{kept:,} kept, {rejected:,} rejected ({top}); signature partitions recomputed "
            f"{recomputed}, reused {reused}"
        )
        return note, {
            "kept": kept,
            "rejected": rejected,
            "signature partitions recomputed": recomputed,
            "signature partitions reused": reused,
        }

    def annotated_rows() -> int:
        return read_spark(spark, lake.uri("annotated.web"), store=lake.store).count()

    stage("curate", n_docs, mb, curate)

    load_raw(new_corpus, F.lit("crawl-new"))
    stage("increment: annotate", n_new, new_mb, annotate(["crawl-new"]))
    stage("increment: curate", n_docs + n_new, mb + new_mb, curate)
    return figures


ANNOTATION_COLUMNS = (
    "language",
    "language_score",
    "script",
    "quality_signals",
    "text_hash",
    "pii_counts",
)


def compare_annotations(before: str, after: str) -> dict:
    """Rows whose annotations differ between two annotated tables (e.g. two runs' annotated.web
    under different code, Delta tables or Parquet directories): what a change to an annotator
    must leave at zero unless it means to change a signal."""
    from spark_jobs.delta import read_arrow

    columns = ["id", *ANNOTATION_COLUMNS]

    def read(location: str) -> dict[str, dict]:
        # A Delta table, or a plain Parquet directory (bench/annotation_stage.py's outputs).
        if Path(location, "_delta_log").is_dir() or "://" in location:
            table = read_arrow(location, columns=columns)
        else:
            table = pq.read_table(location, columns=columns)
        return {r.pop("id"): r for r in table.to_pylist()}

    old, new = read(before), read(after)
    differing = [i for i in old if i in new and old[i] != new[i]]
    only = len(old.keys() ^ new.keys())
    print(f"{len(old):,} rows before, {len(new):,} after, {only:,} ids in one table only")
    print(f"rows with a differing annotation ({', '.join(ANNOTATION_COLUMNS)}): {len(differing):,}")
    for i in differing[:5]:
        changed = {k: (old[i][k], new[i][k]) for k in ANNOTATION_COLUMNS if old[i][k] != new[i][k]}
        print(f"  {i}: {changed}")
    return {"rows compared": len(old.keys() & new.keys()), "rows differing": len(differing)}


def growth(sizes: list[int], args: argparse.Namespace) -> dict:
    """Run every size in its own process, then print the growth table."""
    import subprocess

    runs = []
    for n in sizes:
        print(f"== {n:,} documents", flush=True)
        command = [sys.executable, "-m", "bench.curation_scale", "--docs", str(n)]
        command += ["--cores", str(args.cores), "--driver-memory", args.driver_memory]
        subprocess.run(command, check=True)
        stem = ensure_corpus(n, args.seed).stem
        runs.append(json.loads((BENCH_DIR / "curation-scale" / stem / "figures.json").read_text()))
    cores = runs[0]["cores"]
    head = "".join(f"{f'{n:,} docs: s':>16}{'MB/s/core':>10}" for n in sizes)
    print(f"\nGrowth: {', '.join(f'{n:,}' for n in sizes)} documents, local[{cores}]")
    print(f"{'stage':<22}{head}{'fixed s':>9}{'ms/doc/core':>12}")
    table = {}
    for stage in runs[-1]["stages"]:
        points = [(r[f"{stage} docs"], r[f"{stage} seconds"]) for r in runs if f"{stage} docs" in r]
        fixed, per_doc = _fit(points)
        cells = "".join(
            f"{r[f'{stage} seconds']:>16.1f}{r[f'{stage} MB/s/core']:>10.2f}" for r in runs
        )
        print(f"{stage:<22}{cells}{fixed:>9.1f}{per_doc * 1000 * cores:>12.3f}")
        table[stage] = {
            "fixed seconds": round(fixed, 2),
            "ms per doc per core": per_doc * 1e3 * cores,
        }
    peaks = "  ".join(f"{n:,}: {r['peak GiB']:.2f} GiB" for n, r in zip(sizes, runs, strict=True))
    print(f"peak resident memory of the process tree: {peaks}")
    return {"sizes": sizes, "stages": table, "peaks": [r["peak GiB"] for r in runs]}


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares seconds = fixed + per_doc x docs (fixed = the only point's time if one)."""
    if len(points) < 2:
        return (points[0][1] if points else 0.0), 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0
    return my - slope * mx, slope


def report(figures: list[StageFigure], cores: int, n_docs: int, mb: float) -> None:
    print(
        f"\nAnnotation and dedup at scale: {n_docs:,} documents, {mb:.0f} MB of text, {cores} cores"
    )
    print(
        f"{'stage':<22}{'docs':>9}{'MB':>8}{'seconds':>9}{'docs/s/core':>13}{'MB/s/core':>11}"
        f"{'peak GiB':>10}"
    )
    for f in figures:
        docs_s, mb_s = f.per_core(cores)
        print(
            f"{f.stage:<22}{f.docs:>9,}{f.mb:>8.0f}{f.seconds:>9.1f}{docs_s:>13.1f}{mb_s:>11.2f}"
            f"{f.peak_bytes / 2**30:>10.2f}"
        )
    total = sum(f.seconds for f in figures)
    peak = max(f.peak_bytes for f in figures) / 2**30
    print(f"all stages: {total:.0f} s; peak resident memory of the process tree {peak:.2f} GiB")


if __name__ == "__main__":
    main(sys.argv[1:])
