"""Generation throughput: the Spark generation stage (spark_jobs.synthetic.generate, local mode,
Delta commits included) against a bare async client (spark_jobs.synthetic.client.run_generation
in one process), on the same endpoint with the same prompts, seeds and sampling parameters, at
two concurrency levels; requests/s, completion tokens/s and the ratio stage/bare.

The endpoint is the test server (spark_jobs.synthetic.server, OpenAI-compatible, on loopback).
By default (--endpoint fixed) it answers every request after a fixed latency with a fixed
256-byte text, without running its model, concurrently, as a batching GPU server would: what is
compared is then the client side (the stage's planning, task fan-out and per-chunk commits
against a bare loop). --endpoint model runs its byte-level proxy LM for every answer (one
forward pass at a time, so the server, not the client, is the bottleneck). Neither measures a
real model's speed.

    python -m bench.synthetic                 # ~20 s of requests per run, concurrency 4 and 16
    python -m bench.synthetic --quick         # ~5 s per run
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow.compute as pc

from spark_jobs.synthetic.client import EndpointSettings, GenerationRequest, run_generation
from spark_jobs.synthetic.generate import generate_synthetic, sampling_of
from spark_jobs.synthetic.recipe import SyntheticRecipe
from spark_jobs.synthetic.server import MODEL_NAME, GeneratorServer


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def write_sources(root: Path, documents: int):
    """curated.web with `documents` real English texts (CPython's documentation topics)."""
    from pydoc_data.topics import topics

    import pyarrow as pa

    from spark_jobs.delta import write_arrow
    from spark_jobs.lake import Lake

    texts = [t for _, t in sorted(topics.items()) if len(t) > 400]
    texts = [texts[i % len(texts)] + f"\n\n(copy {i})" for i in range(documents)]
    lake = Lake(str(root))
    table = pa.table(
        {
            "id": [f"doc-{i:05d}" for i in range(documents)],
            "source": ["bench"] * documents,
            "title": [f"Topic {i}" for i in range(documents)],
            "license": ["CC-BY-4.0"] * documents,
            "text": texts,
        }
    )
    write_arrow(table, lake.uri("curated.web"), mode="overwrite", partition_by=["source"])
    return lake, table.to_pylist()


def recipe_for(base_url: str, concurrency: int, max_tokens: int, chunks: int) -> SyntheticRecipe:
    return SyntheticRecipe.from_dict(
        {
            "name": "bench",
            "source": {"table": "curated.web", "max_chars": 600},
            "transformation": {"kind": "rephrase", "template": "r", "styles": ["wiki", "qa"]},
            "templates": {"r": "Rewrite as {style}:\n{text}\nRewritten:"},
            "generator": {"base_url": base_url, "model": MODEL_NAME},
            "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": max_tokens},
            "seed": 3,
            "requests": {"concurrency": concurrency, "retries": 2, "chunks": chunks},
        }
    )


def bare_requests(recipe: SyntheticRecipe, docs: list[dict]) -> list[GenerationRequest]:
    """Exactly the requests the stage sends: same ids, prompts and seeds."""
    out = []
    for doc in docs:
        for variant in recipe.variants():
            sample = recipe.sample_id(doc["id"], variant)
            prompt = recipe.prompt(variant, doc["text"][:600], doc["title"])
            out.append(GenerationRequest(sample, prompt, recipe.request_seed(sample)))
    return out


def run_bare(recipe: SyntheticRecipe, requests: list[GenerationRequest]) -> dict:
    settings = EndpointSettings(
        base_url=recipe.spec.generator.base_url,
        model=recipe.spec.generator.model,
        concurrency=recipe.spec.requests.concurrency,
        retries=recipe.spec.requests.retries,
    )
    started = time.perf_counter()
    table = run_generation(requests, settings, sampling_of(recipe))
    seconds = time.perf_counter() - started
    ok = table.filter(pc.equal(table["status"], "ok"))
    tokens = sum(ok["completion_tokens"].to_pylist())
    return {"seconds": seconds, "requests": table.num_rows, "ok": ok.num_rows, "tokens": tokens}


def run_stage(spark, lake_root: Path, recipe: SyntheticRecipe, run: int) -> dict:
    import shutil

    from spark_jobs.lake import Lake

    lake = Lake(str(lake_root))
    shutil.rmtree(lake_root / "synthetic", ignore_errors=True)  # a fresh table: all requested
    started = time.perf_counter()
    report = generate_synthetic(spark, lake, recipe, run_id=f"bench-{run}")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "plan_seconds": report.plan_seconds,
        "requests": report.requested,
        "ok": report.ok,
        "tokens": report.completion_tokens,
    }


def rates(result: dict) -> tuple[float, float]:
    return result["requests"] / result["seconds"], result["tokens"] / result["seconds"]


ANSWER = (
    "The stage sends the same request a bare client sends, and this answer stands in for what "
    "a served model would write. It is long enough to count tokens, short enough to be cheap "
    "to move, and the same for every request so that only the client side differs here."
)[:256]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--endpoint", choices=("fixed", "model"), default="fixed")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--max-tokens", type=int, default=8, help="model endpoint only")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=2, help="commit units per stage run")
    parser.add_argument("--samples", type=int, default=None, help="per run (default: by time)")
    args = parser.parse_args(argv)
    seconds = 5 if args.quick else 20

    from spark_jobs.session import get_spark

    print(f"load average before: {load()}")
    spark = get_spark("local[2]", app_name="bench-synthetic")
    with (
        tempfile.TemporaryDirectory(prefix="bench-synthetic-") as tmp,
        GeneratorServer(train_steps=60, latency_ms=args.latency_ms) as server,
    ):
        if args.endpoint == "fixed":
            server.faults(every={"n": 1, "text": ANSWER})
        print(
            f"endpoint {server.base_url}: {args.endpoint} answers "
            f"({'256 bytes, no model' if args.endpoint == 'fixed' else MODEL_NAME}), "
            f"+{args.latency_ms:g} ms each; Spark local[2]; {args.chunks} chunks (Delta commits) "
            "per stage run; a fresh table per stage run"
        )
        lake_root = Path(tmp) / "lake"
        rows = []
        for concurrency in args.concurrency:
            samples = args.samples or 2 * round(
                concurrency / (args.latency_ms / 1000) * seconds / 2
            )
            _, docs = write_sources(lake_root, samples // 2)
            recipe = recipe_for(server.base_url, concurrency, args.max_tokens, args.chunks)
            requests = bare_requests(recipe, docs)
            # Warm-up: the JVM, the Python workers, the server's first answers.
            run_stage(spark, lake_root, recipe_for(server.base_url, 4, args.max_tokens, 1), -1)
            bare, stage = [], []
            for repeat in range(args.repeats):
                bare.append(run_bare(recipe, requests))
                stage.append(run_stage(spark, lake_root, recipe, repeat))
            for name, results in (("bare async client", bare), ("Spark stage", stage)):
                for r in results:
                    rps, tps = rates(r)
                    plan = f" (planning {r['plan_seconds']:.2f} s)" if "plan_seconds" in r else ""
                    print(
                        f"  concurrency {concurrency:>3} {name:<17} {r['requests']:>5} requests "
                        f"({r['ok']} ok) in {r['seconds']:6.2f} s{plan}: {rps:7.1f} req/s, "
                        f"{tps:9.1f} tokens/s"
                    )
            rows.append(
                (
                    concurrency,
                    *(statistics.median(rates(r)[i] for r in results)
                      for i in (0, 1) for results in (bare, stage)),
                )
            )  # fmt: skip
        print()
        print("concurrency  bare req/s  stage req/s  ratio  bare tok/s  stage tok/s  ratio")
        for c, brps, srps, btps, stps in rows:
            print(
                f"{c:>11}  {brps:10.1f}  {srps:11.1f}  {srps / brps:4.2f}x  {btps:10.1f}  "
                f"{stps:11.1f}  {stps / btps:4.2f}x"
            )
        print("(medians of the runs above; target: stage >= 0.9x bare)")
        print(f"server: {server.stats()['requests']} requests answered")
    print(f"load average after:  {load()}")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
