"""Incremental vs full curate: the time of curate_corpora after one source of a large lake
changed (1% of the documents), incrementally and as a full rebuild, and whether both leave the
same curated table.

The benchmark corpus (bench/corpus.py) goes into a fresh local lake as raw.web, split by id
into --sources source partitions, and is annotated (annotated.web). Then:

    first run       incremental curate with no state yet: builds everything (a full rebuild
                    that also stores curation.candidates and curation.state)
    change          one source's annotated partition is replaced by other documents
                    (another seed: new ids, texts from the same pools), --sources 100: 1%
    incremental     curate_corpora_incremental: recomputes that source, reclusters from the
                    stored candidates and signatures, rewrites the partitions whose outcome moved
    full            stages.curate_corpora on the same inputs (stored signatures reused)

and compares curated.web (id, text_hash) and the curate rejects (id, reason, detail) after the
incremental and the full run.

    .venv/bin/python -m bench.incremental_curate                 # 200,000 documents, 100 sources
    .venv/bin/python -m bench.incremental_curate --docs 20000    # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench.corpus import BENCH_DIR, ensure_corpus

RECIPE = Path(__file__).resolve().parents[1] / "orchestration" / "recipes" / "web-default.yaml"


def incremental_vs_full(
    docs: int = 200_000,
    sources: int = 100,
    seed: int = 0,
    cores: int | None = None,
    driver_memory: str = "4g",
) -> dict:
    """Times of the first, incremental and full curate after a 1/`sources` change; prints them."""
    from pyspark.sql import functions as F

    from spark_jobs import stages
    from spark_jobs.annotate import annotate_documents
    from spark_jobs.dedup import DedupConfig
    from spark_jobs.delta import read_arrow, read_spark, write_table
    from spark_jobs.incremental import curate_corpora_incremental
    from spark_jobs.lake import Lake
    from spark_jobs.recipe import CurationRecipe
    from spark_jobs.session import get_spark
    from spark_jobs.settings import SHIPPED_DEDUP_CONFIG

    cores = cores or os.cpu_count() or 2
    per_source = max(docs // sources, 1)
    started = time.perf_counter()
    corpus = ensure_corpus(docs, seed)
    change = ensure_corpus(per_source, seed + 1)
    print(
        f"corpus {corpus.name}: {docs:,} documents in {sources} sources; the change: "
        f"{change.name} ({per_source:,} documents) replaces source crawl-000; "
        f"ready in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    work = BENCH_DIR / "incremental-curate" / corpus.stem
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    spark = get_spark(f"local[{cores}]", conf={"spark.driver.memory": driver_memory})
    lake = Lake(str(work / "lake"))
    recipes = {"web": CurationRecipe.from_yaml(RECIPE)}
    config = DedupConfig.from_yaml(SHIPPED_DEDUP_CONFIG)
    metadata = {"bench": "incremental_curate"}
    figures: dict[str, float | int | str] = {"documents": docs, "sources": sources}

    def timed(name: str, body):
        start = time.perf_counter()
        out = body()
        seconds = time.perf_counter() - start
        figures[f"{name} s"] = round(seconds, 1)
        print(f"  {name:<34}{seconds:>8.1f} s", flush=True)
        return out

    def annotate_into(path: Path, source) -> None:
        raw = spark.read.parquet(str(path)).drop("kind").withColumn("source", source)
        write_table(
            annotate_documents(raw),
            lake.uri("annotated.web"),
            mode="overwrite",
            partition_by=("source",),
            replace_where={"source": "crawl-000"} if isinstance(source, str) else None,
            metadata=metadata,
            store=lake.store,
        )

    timed(
        "annotate (setup)",
        lambda: annotate_into(corpus, F.format_string("crawl-%03d", F.abs(F.hash("id")) % sources)),
    )
    stages.register_benchmarks(lake, [stages.BUNDLED_BENCHMARKS], metadata=metadata)

    def incremental(run_id: str):
        return curate_corpora_incremental(
            spark, lake, recipes, config, run_id=run_id, metadata=metadata
        )

    first = timed("first run (no state: builds all)", lambda: incremental("bench-first"))
    figures["first run mode"] = first.mode
    old_rows = (
        read_spark(spark, lake.uri("annotated.web"), store=lake.store)
        .where(F.col("source") == "crawl-000")
        .count()
    )

    def replace_source() -> None:
        raw = spark.read.parquet(str(change)).drop("kind").withColumn("source", F.lit("crawl-000"))
        write_table(
            annotate_documents(raw),
            lake.uri("annotated.web"),
            mode="overwrite",
            partition_by=("source",),
            replace_where={"source": "crawl-000"},
            metadata=metadata,
            store=lake.store,
        )

    timed("change: annotate crawl-000 (setup)", replace_source)
    total = read_spark(spark, lake.uri("annotated.web"), store=lake.store).count()
    figures["changed documents"] = old_rows + per_source
    print(
        f"  crawl-000: {old_rows:,} documents replaced by {per_source:,} "
        f"({(old_rows + per_source) / total:.1%} of {total:,} touched)",
        flush=True,
    )
    inc = timed("incremental curate", lambda: incremental("bench-incremental"))
    if inc.mode != "incremental":
        raise RuntimeError(f"the run after the change was not incremental: {inc.reason}")
    figures["incremental: partitions recomputed"] = len(inc.recomputed)
    figures["incremental: partitions rewritten for dedup"] = len(inc.rewritten_for_dedup)
    incremental_tables = _outputs(lake, read_arrow)
    full = timed(
        "full curate (stages.curate_corpora)",
        lambda: stages.curate_corpora(
            spark, lake, recipes, config, run_id="bench-full", metadata=metadata
        ),
    )
    full_tables = _outputs(lake, read_arrow)
    same = incremental_tables == full_tables
    figures["identical curated.web and rejects"] = same
    figures["curated.web rows"] = full.families["web"].counts["kept"]
    figures["speedup"] = round(
        figures["full curate (stages.curate_corpora) s"] / figures["incremental curate s"], 2
    )
    print(
        f"incremental {figures['incremental curate s']} s vs full "
        f"{figures['full curate (stages.curate_corpora) s']} s ({figures['speedup']}x); "
        f"{len(inc.recomputed)} partition recomputed, {len(inc.rewritten_for_dedup)} rewritten "
        f"because their dedup outcome moved; curated.web {figures['curated.web rows']:,} rows; "
        f"incremental == full: {same}",
        flush=True,
    )
    (work / "figures.json").write_text(json.dumps(figures, indent=1))
    if not same:
        raise RuntimeError("incremental and full curate left different tables")
    return figures


def _outputs(lake, read_arrow) -> tuple[list, list]:
    curated = read_arrow(lake.uri("curated.web"), columns=["id", "text_hash"]).to_pylist()
    rejects = [
        r
        for r in read_arrow(
            lake.uri("rejects"), columns=["id", "stage", "reason", "detail"]
        ).to_pylist()
        if r["stage"] == "curate"
    ]
    return (
        sorted((r["id"], r["text_hash"]) for r in curated),
        sorted((r["id"], r["reason"], r["detail"]) for r in rejects),
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--sources", type=int, default=100, help="1 of them changes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args(argv)
    return incremental_vs_full(args.docs, args.sources, args.seed, args.cores, args.driver_memory)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
