"""The fixed cost of one curate: Spark jobs, stages and seconds of `stages.curate_corpora` on a
lake of a handful of documents, and which call sites start the jobs.

What a curate costs before any data is processed: every test that curates, every small `make
run`, every incremental curate of a small change pays it. The lake: eight documents of
CPython's documentation in annotated.web and annotated.licensed (an exact copy across them, a
near copy, one holding a bundled benchmark item), the bundled benchmarks registered.

    python -m bench.curate_overhead            # 3 curates of the same lake, the last one's jobs
    python -m bench.curate_overhead --runs 5
    python -m bench.curate_overhead --incremental   # what the Dagster asset runs: the
                                                    # incremental curate, its state cleared
                                                    # before each run (a first run each time)
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import tempfile
import time
from pathlib import Path


def build_lake(spark, root: Path):
    from pydoc_data.topics import topics

    from spark_jobs.annotate import annotate_documents
    from spark_jobs.decontaminate import BUNDLED_BENCHMARKS, load_benchmark_items
    from spark_jobs.delta import write_table
    from spark_jobs.lake import Lake
    from spark_jobs.stages import register_benchmarks

    lake = Lake(str(root))
    items = {r["item_id"]: r for r in load_benchmark_items([BUNDLED_BENCHMARKS]).to_pylist()}
    day = dt.datetime(2024, 1, 1)
    near = topics["raise"].replace("exception", "error", 3).replace("The ", "A ", 2)
    web = [
        ("w-copy", topics["assert"]),
        ("w-clean", topics["global"]),
        ("w-near", near),
        ("w-bench", topics["return"] + "\n" + items["geo-004"]["question"]),
        ("w-del", topics["del"]),
        ("w-for", topics["for"]),
    ]
    frames = {
        "annotated.web": spark.createDataFrame(
            [
                (i, "web", "crawl-1", f"https://x/{i}", "CC-BY-4.0", "declared", t, day)
                for i, t in web
            ],
            "id string, corpus string, source string, locator string, license string, "
            "license_evidence string, text string, fetch_date timestamp",
        ),
        "annotated.licensed": spark.createDataFrame(
            [
                (
                    "l-original",
                    "licensed",
                    "books",
                    "book#1",
                    "CC0-1.0",
                    "declared",
                    topics["assert"],
                ),
                ("l-raise", "licensed", "books", "book#2", "CC0-1.0", "declared", topics["raise"]),
            ],
            "id string, corpus string, source string, locator string, license string, "
            "license_evidence string, text string",
        ),
    }
    for name, frame in frames.items():
        source = frame.first()["source"]
        write_table(
            annotate_documents(frame),
            lake.uri(name),
            mode="overwrite",
            partition_by=("source",),
            replace_where={"source": source},
        )
    register_benchmarks(lake, [BUNDLED_BENCHMARKS], metadata={})
    return lake


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="time curate_corpora_incremental (state cleared before each run) instead",
    )
    args = parser.parse_args(argv)

    import shutil

    from spark_jobs.dedup import DedupConfig
    from spark_jobs.incremental import curate_corpora_incremental
    from spark_jobs.recipe import CurationRecipe
    from spark_jobs.session import get_spark
    from spark_jobs.stages import curate_corpora

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    spark = get_spark("local[2]", app_name="bench-curate-overhead")
    context, tracker = spark.sparkContext, spark.sparkContext.statusTracker()
    recipes = {
        corpus: CurationRecipe(
            name=f"{corpus}-bench", corpus=corpus, rules={}, pii=None, keep_order=("id",)
        )
        for corpus in ("web", "licensed")
    }
    with tempfile.TemporaryDirectory(prefix="bench-curate-overhead-") as tmp:
        lake = build_lake(spark, Path(tmp) / "lake")
        for run in range(args.runs):
            group = f"curate-{run}"
            context.setJobGroup(group, group)
            started = time.perf_counter()
            if args.incremental:
                shutil.rmtree(Path(tmp) / "lake" / "curation", ignore_errors=True)
                curate_corpora_incremental(
                    spark, lake, recipes, DedupConfig(), run_id=group, metadata={}
                )
            else:
                curate_corpora(spark, lake, recipes, DedupConfig(), run_id=group, metadata={})
            seconds = time.perf_counter() - started
            jobs = tracker.getJobIdsForGroup(group)
            stages = sum(len(tracker.getJobInfo(j).stageIds) for j in jobs)
            print(f"curate {run + 1}: {seconds:.1f} s, {len(jobs)} Spark jobs, {stages} stages")
        sites: collections.Counter[str] = collections.Counter()
        for job in jobs:
            # A job's result stage is its newest (highest id) stage, named after the action's
            # call site; its other stages may be shuffles of earlier jobs, skipped here.
            stages_of_job = tracker.getJobInfo(job).stageIds
            info = tracker.getStageInfo(max(stages_of_job)) if stages_of_job else None
            site = info.name if info is not None else "?"
            sites[site.replace(str(Path(__file__).resolve().parents[1]) + "/", "")] += 1
        print(f"jobs of curate {args.runs}, by the call site that started them:")
        for site, count in sites.most_common():
            print(f"  {count:>3}  {site}")
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
