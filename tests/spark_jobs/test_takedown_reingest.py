"""A taken-down document stays out when its landing data is ingested again."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession

from spark_jobs.delta import read_arrow
from spark_jobs.lake import Lake
from spark_jobs.samples.licensed import generate_licensed_sample
from spark_jobs.sources import Source
from spark_jobs.stages import ingest_source
from spark_jobs.takedown import TakedownRequest, takedown

pytestmark = pytest.mark.spark


def test_reingest_rejects_taken_down_documents(spark: SparkSession, tmp_path) -> None:
    manifest = generate_licensed_sample(tmp_path / "landing", documents=12, seed=3)
    folder, license = next(iter(manifest.sources.items()))
    source = Source(folder, "licensed", str(tmp_path / "landing" / folder), "mixed", license)
    lake = Lake(str(tmp_path / "lake"))

    first = ingest_source(spark, lake, source, run_id="run-1", metadata={})
    raw_ids = sorted(read_arrow(lake.uri("raw.licensed"))["id"].to_pylist())
    assert first.counts["kept"] == len(raw_ids) >= 2
    gone = raw_ids[0]

    report = takedown(lake, TakedownRequest(ids=(gone,), reason="test"), tracking_uri=None)
    assert gone in report.document_ids
    assert gone not in read_arrow(lake.uri("raw.licensed"))["id"].to_pylist()

    again = ingest_source(spark, lake, source, run_id="run-2", metadata={})
    raw_after = read_arrow(lake.uri("raw.licensed"))["id"].to_pylist()
    assert gone not in raw_after
    assert sorted(raw_after) == raw_ids[1:]
    rejects = read_arrow(lake.uri("rejects")).to_pylist()
    [row] = [r for r in rejects if r["id"] == gone]
    assert (row["stage"], row["reason"], row["run_id"]) == ("ingest", "taken_down", "run-2")
    # Every input record is still accounted for exactly once.
    assert again.counts["input_records"] == first.counts["input_records"]
    assert again.counts["skipped"] == first.counts["skipped"] + 1
