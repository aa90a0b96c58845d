"""Failure injection: a generation run in its own process is killed (SIGKILL) mid-run while the
endpoint answers 503 to every fourth request; the re-run, facing a 429, a 500 and a time-out,
fills exactly what is missing. No sample is lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from spark_jobs.delta import open_table, read_arrow, table_exists
from spark_jobs.synthetic.generate import generate_synthetic

ROOT = Path(__file__).resolve().parents[3]
# Documents of many_sources with edu_score < 2 (every third one scores 4).
SELECTED = [f"web-{i:03d}" for i in range(12) if i % 3 != 2]


def test_killed_run_then_resume_loses_and_duplicates_nothing(
    spark, many_sources, make_recipe, endpoint, tmp_path
):
    lake = many_sources
    recipe = make_recipe(requests={"concurrency": 1, "retries": 0, "chunks": 8})
    path = tmp_path / "rephrase-test.yaml"
    path.write_text(yaml.safe_dump(recipe.spec.model_dump(mode="json", exclude={"name"})))
    uri = lake.uri(recipe.table)
    endpoint.faults(every={"n": 4, "status": 503}, latency_s=0.3)

    process = subprocess.Popen(
        [sys.executable, "-m", "spark_jobs.synthetic.generate", "--lake", lake.root_uri,
         "--recipe", str(path), "--run-id", "killed", "--master", "local[1]"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its Spark JVM is in the same group: the kill takes both
    )  # fmt: skip
    try:
        # Kill once two chunks are committed: later chunks are still to come or in flight.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if table_exists(uri) and open_table(uri).version() >= 1:
                break
            time.sleep(0.1)
        still_running = process.poll() is None
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(60)
    output = process.stdout.read().decode(errors="replace")[-2000:]
    process.stdout.close()
    assert still_running, f"the generation finished before it could be killed: {output}"

    before = read_arrow(uri).to_pylist()
    planned = {recipe.sample_id(doc, variant) for doc in SELECTED for variant in recipe.variants()}
    assert len(planned) == 16
    ids = [r["id"] for r in before]
    assert len(ids) == len(set(ids)) and set(ids) < planned  # part of the work, no duplicate
    assert {r["run_id"] for r in before} == {"killed"}
    kept_ok = {r["id"]: r["text"] for r in before if r["status"] == "ok"}
    failed_before = [r for r in before if r["status"] == "failed"]

    # The re-run: a 429, a 500 and one answer slower than the 2 s time-out, each retried.
    endpoint.reset()
    endpoint.faults(queue=[{"status": 429, "retry_after": 0}, {"status": 500}, {"delay_s": 6}])
    resumed = make_recipe(
        requests={"concurrency": 1, "retries": 3, "backoff_s": 0.01, "timeout_s": 2, "chunks": 8}
    )
    assert resumed.fingerprint == recipe.fingerprint  # how the endpoint is called is not content
    report = generate_synthetic(spark, lake, resumed, run_id="resumed")

    after = read_arrow(uri).to_pylist()
    ids = [r["id"] for r in after]
    assert Counter(ids) == Counter(planned)  # every sample exactly once
    assert {r["status"] for r in after} == {"ok"}
    # Only what was missing or failed was requested again; committed answers stayed as they were.
    assert report.requested == 16 - len(kept_ok) == report.ok
    assert report.requested >= len(failed_before) + 1
    for row in after:
        if row["id"] in kept_ok:
            assert (row["run_id"], row["text"]) == ("killed", kept_ok[row["id"]])
        else:
            assert row["run_id"] == "resumed"
    stats = endpoint.stats()
    assert stats["outcomes"]["429"] == 1 and stats["outcomes"]["500"] == 1
    attempts = sum(r["attempts"] for r in after if r["run_id"] == "resumed")
    assert attempts == stats["requests"] >= report.requested + 3  # the three faults, retried
