"""Latency of the documented example queries (spark_jobs/analyst/examples.sql) on a synthetic
200k-document lake, through DuckDB (`pilehouse sql`) and through Spark SQL (Spark Connect).

    python -m bench.sql_queries --docs 200000

The lake is generated directly as Arrow and committed with write_arrow (not by running the
pipeline): the same tables, columns and partitioning, with text sliced from CPython's docs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from spark_jobs.analyst.catalog import describe_lake, human_bytes
from spark_jobs.analyst.spark_sql import READY_LINE
from spark_jobs.analyst.sql import LakeSQL, example_queries
from spark_jobs.delta import write_arrow
from spark_jobs.lake import Lake

QUERIES = [
    "words_by_license",
    "words_by_source_language_license",
    "removal_reasons",
    "document_lineage",
]
SOURCES = ["cc-2024-10", "cc-2024-18", "cc-2024-26", "cc-2024-33"]
LICENSES = (
    ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "PSF-2.0", "MIT"],
    [0.35, 0.25, 0.2, 0.15, 0.05],
)
LANGUAGES = (["en", "fr", "de", "es", "ja"], [0.6, 0.12, 0.1, 0.1, 0.08])
REASONS = (
    ["language_not_allowed", "exact_duplicate", "gopher_short_doc", "gopher_too_few_stop_words"],
    [0.4, 0.3, 0.2, 0.1],
)
INGEST_REASONS = ["http_status_404", "http_status_500", "not_html:application/pdf", "empty_text"]


def _choice(rng: np.random.Generator, spec: tuple[list[str], list[float]], n: int) -> pa.Array:
    values, weights = spec
    return pa.array(np.array(values)[rng.choice(len(values), size=n, p=weights)])


def build_lake(root: Path, docs: int, seed: int = 0) -> tuple[Lake, str]:
    """Write raw/annotated/curated.web, rejects and quarantine for `docs` pages; return a URL
    whose lineage crosses several tables (a removed exact duplicate)."""
    from pydoc_data.topics import topics

    rng = np.random.default_rng(seed)
    corpus = " ".join(topics.values())
    lengths = rng.integers(300, 3000, size=docs)
    starts = rng.integers(0, len(corpus) - 3000, size=docs)
    text = pa.array([corpus[s : s + n] for s, n in zip(starts, lengths, strict=True)])
    ids = pa.array([f"{i:032x}" for i in rng.permutation(docs * 4)[:docs]])
    domains = np.array([f"site-{i}.example.org" for i in range(500)])[rng.integers(0, 500, docs)]
    urls = pa.array([f"https://{d}/doc/{i}" for i, d in enumerate(domains)])
    source = pa.array(np.array(SOURCES)[rng.integers(0, len(SOURCES), docs)])
    raw = pa.table(
        {
            "id": ids,
            "corpus": pa.array(["web"] * docs),
            "source": source,
            "locator": urls,
            "url": urls,
            "domain": pa.array(domains),
            "title": pa.array([f"Document {i}" for i in range(docs)]),
            "fetch_date": pa.array(
                np.datetime64("2024-10-01") + rng.integers(0, 86400 * 60, docs).astype("m8[s]")
            ).cast(pa.timestamp("us", tz="UTC")),
            "http_status": pa.array(np.full(docs, 200, dtype=np.int32)),
            "content_type": pa.array(["text/html"] * docs),
            "license": _choice(rng, LICENSES, docs),
            "license_evidence": pa.array(["declared"] * docs),
            "ingest_run_id": pa.array(["bench-run"] * docs),
            "text": text,
            "byte_length": pa.array(lengths.astype(np.int64)),
            "warc_file": pa.array([f"crawl-{i % 100:05d}.warc.gz" for i in range(docs)]),
            "warc_offset": pa.array(rng.integers(0, 1 << 30, docs)),
        }
    )
    words = (lengths / 6.2).astype(np.int64)
    signals = pa.StructArray.from_arrays(
        [
            pa.array(words),
            pa.array(rng.uniform(3.5, 6.5, docs)),
            pa.array(rng.uniform(0, 0.02, docs)),
            pa.array(rng.uniform(0, 0.02, docs)),
            pa.array(rng.uniform(0, 0.2, docs)),
            pa.array(rng.uniform(0, 0.05, docs)),
            pa.array(rng.uniform(0.75, 1.0, docs)),
            pa.array((words * 0.3).astype(np.int64)),
        ],
        names=[
            "word_count",
            "mean_word_length",
            "hash_word_ratio",
            "ellipsis_word_ratio",
            "bullet_lines_ratio",
            "ellipsis_lines_ratio",
            "alpha_words_ratio",
            "stop_word_count",
        ],
    )
    annotated = raw.append_column("language", _choice(rng, LANGUAGES, docs))
    annotated = annotated.append_column("language_score", pa.array(rng.uniform(0.5, 1.0, docs)))
    annotated = annotated.append_column("quality_signals", signals)
    annotated = annotated.append_column(
        "text_hash", pa.array([f"{h:032x}" for h in rng.integers(0, docs, docs)])
    )
    removed = rng.random(docs) < 0.15
    curated = annotated.filter(pa.array(~removed))
    dropped = annotated.filter(pa.array(removed))
    n_rejects = dropped.num_rows
    reasons = _choice(rng, REASONS, n_rejects).to_pylist()
    reasons[0] = "exact_duplicate"
    rejects = pa.table(
        {
            "id": dropped["id"],
            "corpus": dropped["corpus"],
            "source": dropped["source"],
            "locator": dropped["locator"],
            "stage": pa.array(["curate"] * n_rejects),
            "reason": pa.array(reasons),
            "detail": pa.array([""] * n_rejects),
            "run_id": pa.array(["bench-run"] * n_rejects),
        }
    )
    n_ingest = docs // 50
    ingest = pa.table(
        {
            "id": pa.array([f"ingest-{i}" for i in range(n_ingest)]),
            "corpus": pa.array(["web"] * n_ingest),
            "source": pa.array([SOURCES[i % len(SOURCES)] for i in range(n_ingest)]),
            "locator": pa.array([f"https://gone.example.org/{i}" for i in range(n_ingest)]),
            "stage": pa.array(["ingest"] * n_ingest),
            "reason": pa.array([INGEST_REASONS[i % len(INGEST_REASONS)] for i in range(n_ingest)]),
            "detail": pa.array([""] * n_ingest),
            "run_id": pa.array(["bench-run"] * n_ingest),
        }
    )
    quarantine = pa.table(
        {
            "id": pa.array([f"q-{i}" for i in range(100)]),
            "corpus": pa.array(["web"] * 100),
            "source": pa.array([SOURCES[i % len(SOURCES)] for i in range(100)]),
            "locator": pa.array([f"crawl-00001.warc.gz#offset={i}" for i in range(100)]),
            "stage": pa.array(["ingest"] * 100),
            "reason": pa.array(["gzip_corrupt"] * 100),
            "detail": pa.array(["bad gzip member"] * 100),
            "excerpt": pa.array(["\\x1f\\x8b"] * 100),
            "run_id": pa.array(["bench-run"] * 100),
        }
    )
    lake = Lake(str(root))
    for name, table in (
        ("raw.web", raw),
        ("annotated.web", annotated),
        ("curated.web", curated),
        ("rejects", pa.concat_tables([rejects, ingest])),
        ("quarantine", quarantine),
    ):
        write_arrow(
            table,
            lake.uri(name),
            mode="overwrite",
            partition_by=lake.spec(name).partition_by,
            max_rows_per_file=50_000,
        )
    return lake, dropped["url"][0].as_py()


def _timed(run, repeats: int) -> tuple[float, float, int]:
    """(first run, median of the next `repeats`) in seconds, and the row count."""
    started = time.perf_counter()
    rows = run()
    first = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return first, statistics.median(times), rows


def bench_duckdb(lake: Lake, url: str, repeats: int) -> dict[str, tuple[float, float, int]]:
    results = {}
    started = time.perf_counter()
    session = LakeSQL(lake)
    print(f"duckdb: session with every table registered in {time.perf_counter() - started:.2f} s")
    with session:
        for name in QUERIES:
            example = example_queries()[name]
            params = {"url": url} if example.params else None
            results[name] = _timed(
                lambda e=example, p=params: session.arrow(e.sql, p).num_rows, repeats
            )
    return results


def bench_spark(
    lake: Lake, url: str, repeats: int, master: str
) -> dict[str, tuple[float, float, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "spark_jobs.analyst.spark_sql",
        "--lake",
        lake.root_uri,
        "--port",
        str(port),
        "--master",
        master,
    ]
    started = time.perf_counter()
    server = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()

    def watch() -> None:
        for line in server.stdout:
            if line.startswith(READY_LINE):
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    results = {}
    try:
        if not ready.wait(300):
            raise RuntimeError("the Spark SQL server did not come up in 300 s")
        print(
            f"spark: Connect server up with every table registered in {time.perf_counter() - started:.1f} s"
        )
        from pyspark.sql.connect.session import SparkSession as RemoteSession

        spark = RemoteSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
        try:
            for name in QUERIES:
                example = example_queries()[name]
                params = {"url": url} if example.params else {}
                results[name] = _timed(
                    lambda e=example, p=params: len(spark.sql(e.spark_sql, args=p).toArrow()),
                    repeats,
                )
        finally:
            spark.stop()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    return results


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, help="lake size (default 200000)")
    parser.add_argument("--quick", action="store_true", help="20000 documents, 2 repeats")
    parser.add_argument("--repeats", type=int, help="timed runs after the first (default 5)")
    parser.add_argument("--master", default="local[*]", help="Spark master of the SQL server")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--workdir", help="where to build the lake (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    if args.docs is None:
        args.docs = 20_000 if args.quick else 200_000
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5

    figures: dict[str, float] = {"docs": args.docs}
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="pilehouse-sql-bench-"))
    try:
        started = time.perf_counter()
        lake, url = build_lake(workdir / "lake", args.docs)
        print(
            f"built a {args.docs}-document lake in {time.perf_counter() - started:.1f} s on {os.cpu_count()} cores:"
        )
        for info in describe_lake(lake):
            print(
                f"  {info.name:<14} {info.rows:>8} rows {human_bytes(info.bytes):>9} {info.files:>3} files"
            )
        duck = bench_duckdb(lake, url, args.repeats)
        spark = {} if args.no_spark else bench_spark(lake, url, args.repeats, args.master)
        print()
        print(f"latency in seconds: first run, then median of {args.repeats} more")
        line = "{:<34} {:>6} {:>13} {:>14} {:>12} {:>13}".format
        print(line("query", "rows", "duckdb first", "duckdb median", "spark first", "spark median"))
        for name in QUERIES:
            d_first, d_median, rows = duck[name]
            s_first, s_median, s_rows = spark.get(name, (float("nan"),) * 2 + (rows,))
            assert s_rows == rows, f"{name}: Spark returned {s_rows} rows, DuckDB {rows}"
            print(
                line(
                    name,
                    rows,
                    f"{d_first:.3f}",
                    f"{d_median:.3f}",
                    f"{s_first:.3f}",
                    f"{s_median:.3f}",
                )
            )
            figures[f"{name} duckdb median s"] = d_median
            if name in spark:
                figures[f"{name} spark median s"] = s_median
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
