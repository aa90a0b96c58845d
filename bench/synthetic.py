"""Generation throughput: the Spark generation stage (spark_jobs.synthetic.generate, local mode,
Delta commits included) against a bare async client (spark_jobs.synthetic.client.run_generation
in one process), on the same endpoint with the same prompts, seeds and sampling parameters, at
two concurrency levels; requests/s, completion tokens/s and the ratio stage/bare.

The endpoint is the test server (spark_jobs.synthetic.server: the platform's byte-level proxy
LM behind an OpenAI-compatible API) with an added per-answer latency standing in for a GPU
server's time, so what is compared is the client side: the stage's planning, task fan-out and
commits against a bare loop. Not a measurement of a model's speed.

    python -m bench.synthetic                 # 240 samples per run, concurrency 4 and 16
    python -m bench.synthetic --quick         # 80 samples per run
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

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
    ok = table.filter(table["status"] == "ok")
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
        "requests": report.requested,
        "ok": report.ok,
        "tokens": report.completion_tokens,
    }


def rates(result: dict) -> tuple[float, float]:
    return result["requests"] / result["seconds"], result["tokens"] / result["seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=2)
    args = parser.parse_args(argv)
    samples = 80 if args.quick else 240
    documents = samples // 2

    from spark_jobs.session import get_spark

    print(f"load average before: {load()}")
    spark = get_spark("local[2]", app_name="bench-synthetic")
    with (
        tempfile.TemporaryDirectory(prefix="bench-synthetic-") as tmp,
        GeneratorServer(train_steps=60, latency_ms=args.latency_ms) as server,
    ):
        _, docs = write_sources(Path(tmp) / "lake", documents)
        print(
            f"endpoint {server.base_url} ({MODEL_NAME}, +{args.latency_ms:g} ms per answer), "
            f"{samples} samples per run, max_tokens {args.max_tokens}, Spark local[2], "
            f"{args.chunks} chunks (Delta commits) per stage run"
        )
        # Warm-up: the JVM, the Python workers and the server's first answers.
        warm = recipe_for(server.base_url, 4, args.max_tokens, 1)
        run_stage(spark, Path(tmp) / "lake", warm, -1)
        rows = []
        for concurrency in args.concurrency:
            recipe = recipe_for(server.base_url, concurrency, args.max_tokens, args.chunks)
            requests = bare_requests(recipe, docs)
            bare, stage = [], []
            for repeat in range(args.repeats):
                bare.append(run_bare(recipe, requests))
                stage.append(run_stage(spark, Path(tmp) / "lake", recipe, repeat))
            for name, results in (("bare async client", bare), ("Spark stage", stage)):
                for r in results:
                    rps, tps = rates(r)
                    print(
                        f"  concurrency {concurrency:>3} {name:<17} {r['requests']:>4} requests "
                        f"({r['ok']} ok) in {r['seconds']:6.2f} s: {rps:7.1f} req/s, "
                        f"{tps:8.1f} tokens/s"
                    )
            bare_rps = statistics.median(rates(r)[0] for r in bare)
            stage_rps = statistics.median(rates(r)[0] for r in stage)
            bare_tps = statistics.median(rates(r)[1] for r in bare)
            stage_tps = statistics.median(rates(r)[1] for r in stage)
            rows.append((concurrency, bare_rps, stage_rps, bare_tps, stage_tps))
        print()
        print("concurrency  bare req/s  stage req/s  ratio  bare tok/s  stage tok/s  ratio")
        for c, brps, srps, btps, stps in rows:
            print(
                f"{c:>11}  {brps:10.1f}  {srps:11.1f}  {srps / brps:4.2f}x  {btps:10.1f}  "
                f"{stps:11.1f}  {stps / btps:4.2f}x"
            )
        print("(medians of the runs above; target: stage >= 0.9x bare)")
    print(f"load average after:  {load()}")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
