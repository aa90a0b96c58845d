"""A real `pilehouse backfill` (Dagster, Spark, Delta commits) of a licensed landing folder
that mixes hostile files with good ones: it ends, every good record is in raw.licensed, every
input record is accounted for once, and nothing from outside the folder arrived."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.faults_backfill import SECRET, licensed_landing
from orchestration.cli import main
from spark_jobs.delta import read_arrow
from spark_jobs.lake import Lake

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_backfill_of_hostile_and_good_files_keeps_every_good_record(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n" * 50)
    landing = tmp_path / "landing" / "hostile"
    good, records = licensed_landing(landing, outside, bomb_bytes=16 * 2**20)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  hostile:\n    corpus: licensed\n    format: text, jsonl\n"
        f'    location: "{landing}"\n    license: PublicDomain\n'
        "    options: {limits: {max_decompressed_bytes: 8388608, object_seconds: 120}}\n"
    )
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(sources))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))

    assert main(["backfill", "licensed", "--partitions", "hostile"]) == 0

    lake = Lake(str(tmp_path / "home" / "lake"))
    tables = {
        name: [r for r in read_arrow(lake.uri(name)).to_pylist() if r["source"] == "hostile"]
        for name in ("raw.licensed", "rejects", "quarantine")
    }
    assert len(tables["raw.licensed"]) == good
    assert sum(len(rows) for rows in tables.values()) == records
    reasons = Counter(r["reason"] for r in tables["quarantine"] + tables["rejects"])
    assert reasons == {
        "symlink": 1,
        "binary": 1,
        "decompression_bomb": 1,
        "too_deep": 1,
        "undecodable": 1,
        "malformed_json": 1,
    }
    assert not any(SECRET in json.dumps(r, default=str) for rows in tables.values() for r in rows)
