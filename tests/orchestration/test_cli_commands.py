"""The commands operators look for: curate, run --no-samples, run/sample --pages, sample to an
s3:// landing, and progress output that reads well when redirected to a file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.cli import build_parser
from orchestration.pipeline import bundled_sample_sources
from orchestration.settings import load_settings
from spark_jobs.samples.bundled import MAX_PAGES, PAGES_PER_WARC, code_repos, web_files
from spark_jobs.samples.code import max_repos
from spark_jobs.samples.licensed import generate_licensed_sample

REPO = Path(__file__).resolve().parents[2]
PILEHOUSE = str(Path(sys.executable).with_name("pilehouse"))

OWN_SOURCE = """
  my-books:
    corpus: licensed
    format: text
    location: "{root}/my-books"
    license: PublicDomain
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PILEHOUSE_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("DAGSTER_HOME", None)
    return {**env, **extra}


def test_no_samples_leaves_out_exactly_the_bundled_sources(tmp_path, monkeypatch):
    bundled = load_settings().sources_file.read_text()
    (tmp_path / "sources.yaml").write_text(bundled + OWN_SOURCE.format(root=tmp_path))
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(tmp_path / "sources.yaml"))
    skipped = bundled_sample_sources(load_settings())
    assert "my-books" not in skipped
    assert {"sample-crawl", "sample-repos", "sample-papers", "public-domain-books"} <= skipped


@pytest.mark.parametrize("pages", ["39", "200001", "many"])
def test_pages_outside_the_supported_range_is_one_clear_error(pages, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["run", "--pages", pages])
    assert exit_.value.code == 2
    assert "argument --pages:" in capsys.readouterr().err


def test_the_largest_sample_stays_inside_the_generators_and_read_limits():
    """At 200,000 pages: web pages spread over WARCs of at most PAGES_PER_WARC pages each (one
    landing object stays far inside object_seconds and object_memory_bytes), and no more code
    repositories than installed distributions can supply (more raised RuntimeError)."""
    assert build_parser().parse_args(["run", "--pages", str(MAX_PAGES)]).pages == MAX_PAGES
    assert MAX_PAGES / web_files(MAX_PAGES) <= PAGES_PER_WARC
    assert web_files(2000) == 4  # the default sample is unchanged
    assert code_repos(MAX_PAGES) == max_repos() < MAX_PAGES // 150


def test_curate_with_nothing_ingested_says_so_without_starting_spark(tmp_path):
    done = subprocess.run(
        [PILEHOUSE, "curate"],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2, done.stderr
    assert "nothing to curate: no annotated table" in done.stderr
    assert not (tmp_path / "logs" / "spark.log").exists()


@pytest.mark.spark
def test_backfill_redirected_to_a_file_prints_the_step_table(tmp_path):
    """Plain lines (no terminal codes) as the run goes, then step / status / seconds / rows;
    Spark's own log goes to PILEHOUSE_HOME/logs/spark.log."""
    generate_licensed_sample(tmp_path / "landing" / "licensed" / "sample")
    registry = "sources:" + OWN_SOURCE.format(root=tmp_path / "landing" / "licensed" / "sample")
    registry = registry.replace("/my-books", "/books")
    (tmp_path / "sources.yaml").write_text(registry)
    out = tmp_path / "backfill.out"
    with out.open("w") as stdout:
        done = subprocess.run(
            [PILEHOUSE, "backfill", "licensed", "--partitions", "my-books"],
            env=_env(tmp_path, PILEHOUSE_SOURCES_FILE=str(tmp_path / "sources.yaml")),
            cwd=tmp_path,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=900,
        )
    text = out.read_text()
    assert done.returncode == 0, done.stderr[-3000:] + text
    assert "\x1b[" not in text  # no terminal escape codes in a file
    lines = text.splitlines()
    assert any(re.search(r"ingest_licensed my-books > raw__licensed: started", x) for x in lines)
    header = next(
        i for i, x in enumerate(lines) if x.split() == ["run", "step", "status", "seconds", "rows"]
    )
    steps = {x.split()[2]: x.split() for x in lines[header + 1 :] if x.startswith("ingest_")}
    assert steps["raw__licensed"][3] == "SUCCESS"
    assert int(steps["raw__licensed"][5].replace(",", "")) > 0  # rows written
    assert float(steps["annotated__licensed"][4]) > 0  # seconds, from Dagster's step stats
    assert (tmp_path / "logs" / "spark.log").exists()
    assert " WARN " not in done.stderr  # log4j's noise stays in the log file


@pytest.mark.s3
def test_sample_writes_to_an_s3_landing_through_the_object_store(tmp_path, s3):
    s3.create_bucket("landing")
    env = _env(
        tmp_path,
        PILEHOUSE_LANDING_URI="s3://landing/zone",
        PILEHOUSE_S3_ENDPOINT_URL=s3.endpoint_url,
    )
    done = subprocess.run(
        [PILEHOUSE, "sample", "--pages", "40"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "s3:").exists()  # what it used to do: a local folder named s3:
    keys = {
        o["Key"]
        for page in s3.client().get_paginator("list_objects_v2").paginate(Bucket="landing")
        for o in page.get("Contents", [])
    }
    for folder in ("web/sample-crawl", "code/sample-repos", "papers/sample-papers"):
        assert f"zone/{folder}/_manifest.json" in keys, sorted(keys)[:20]
    assert any(k.startswith("zone/web/sample-crawl/") and k.endswith(".warc.gz") for k in keys)
    # A second run without --regenerate semantics: `sample` always regenerates, in place.
    again = subprocess.run(
        [PILEHOUSE, "sample", "--pages", "40"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
