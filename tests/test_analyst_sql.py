"""Analysts' SQL against tables built by the sample pipeline: the documented example queries,
time travel, the Spark Connect server (same answers as DuckDB), and the corpus report in Chromium."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest

from assets.reports import corpus_report
from orchestration.resources import LakehouseResource
from spark_jobs.analyst.spark_sql import READY_LINE
from spark_jobs.analyst.sql import LakeSQL, example_queries
from spark_jobs.delta import read_arrow, table_exists, write_arrow
from spark_jobs.lake import Lake
from tests.sample_lake import use_home

pytestmark = [pytest.mark.slow, pytest.mark.spark]

REPO = Path(__file__).resolve().parents[1]
SPARK_EXAMPLES = ["words_by_license", "words_by_source_language_license", "removal_reasons"]


@pytest.fixture(scope="module")
def built(sample_home):
    """The session's sample lake (tests/sample_lake.py), built by the pipeline from the bundled
    samples (a 120-page crawl among them); this module only reads it."""
    with use_home(sample_home.root) as settings:
        lake = Lake(settings.lake_uri, settings.store)
        for name in ("raw.web", "annotated.web", "curated.web", "rejects", "quarantine"):
            assert table_exists(lake.uri(name), lake.store), f"the pipeline did not build {name}"
        yield settings, sample_home.manifests["web"], dg.DagsterInstance.get()


@pytest.fixture(scope="module")
def lake(built) -> Lake:
    settings, _, _ = built
    return Lake(settings.lake_uri, settings.store)


def _run_example(lake: Lake, name: str, **params: str) -> list[dict]:
    example = example_queries()[name]
    with LakeSQL(lake) as sql:
        return sql.arrow(example.sql, params).to_pylist()


def test_words_by_license_matches_the_curated_rows(lake):
    curated = read_arrow(lake.uri("curated.web"))
    words = pc.struct_field(curated["quality_signals"], "word_count").to_pylist()
    expected: dict[str, list[int]] = {}
    for license, n, size in zip(
        curated["license"].to_pylist(), words, curated["byte_length"].to_pylist(), strict=True
    ):
        totals = expected.setdefault(license, [0, 0, 0])
        totals[0], totals[1], totals[2] = totals[0] + 1, totals[1] + n, totals[2] + size
    answer = _run_example(lake, "words_by_license")
    assert {r["license"]: [r["documents"], r["words"], r["bytes"]] for r in answer} == expected
    assert answer[0]["license"] == "PSF-2.0" and answer[0]["words"] > 10_000


def test_removal_reasons_match_the_planted_pages(built, lake):
    _, manifest, _ = built
    answer = _run_example(lake, "removal_reasons")
    rejects = read_arrow(lake.uri("rejects"), columns=["source", "stage", "reason"]).to_pylist()
    assert {(r["stage"], r["reason"]): r["documents"] for r in answer} == Counter(
        (r["stage"], r["reason"]) for r in rejects
    )
    # The lake holds every family's rejects; the web sample's manifest speaks for its crawl.
    ingest = Counter(
        r["reason"] for r in rejects if r["stage"] == "ingest" and r["source"] == "sample-crawl"
    )
    assert ingest == {k: v for k, v in manifest.expected_reasons.items() if k in ingest}
    assert {"http_status_404", "http_status_500"} <= set(ingest)
    curate = {r["reason"] for r in answer if r["stage"] == "curate"}
    assert {"exact_duplicate", "language_not_allowed"} <= curate


def test_document_lineage_says_where_each_planted_page_went(built, lake):
    _, manifest, _ = built

    def trail(url: str) -> list[tuple]:
        return [
            (r["in_table"], r["stage"], r["reason"])
            for r in _run_example(lake, "document_lineage", url=url)
        ]

    foreign = next(iter(manifest.languages))
    assert trail(foreign) == [
        ("raw.web", None, None),
        ("annotated.web", None, None),
        ("rejects", "curate", "language_not_allowed"),
    ]
    assert trail(manifest.urls["http_404"][0]) == [("rejects", "ingest", "http_status_404")]
    duplicate = next(u for u in manifest.urls["exact_duplicate"] if u in manifest.duplicate_of)
    pair = trail(duplicate) + trail(manifest.duplicate_of[duplicate])
    assert Counter(pair)[("curated.web", None, None)] == 1
    assert Counter(pair)[("rejects", "curate", "exact_duplicate")] == 1


def test_history_and_mix_change_examples_answer(lake):
    history = _run_example(lake, "curated_history")
    assert [h["version"] for h in history] == list(range(len(history)))
    assert history[-1]["recipe"] and history[-1]["rows"] > 0
    mix = _run_example(lake, "mix_change_since_v0")
    assert mix and all(m["words_now"] > 0 for m in mix)


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spark_connect_server_gives_the_same_answers_as_duckdb(built, lake, free_port):
    _, manifest, _ = built
    env = {**os.environ, "PILEHOUSE_SPARK_MASTER": "local[1]"}
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "sql-server", "--port", str(free_port)],
        cwd=REPO,
        env=env,
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
    try:
        assert ready.wait(240), "the Spark SQL server did not come up in 240 s"
        from pyspark.sql.connect.session import SparkSession as RemoteSession

        remote = RemoteSession.builder.remote(f"sc://127.0.0.1:{free_port}").getOrCreate()
        try:
            url = manifest.urls["http_404"][0]
            for name in [*SPARK_EXAMPLES, "document_lineage"]:
                example = example_queries()[name]
                params = {"url": url} if example.params else {}
                spark_rows = remote.sql(example.spark_sql, args=params).toArrow().to_pylist()
                assert spark_rows == _run_example(lake, name, **params), name
                assert spark_rows, name
            tables = {
                (r.namespace, r.tableName) for r in remote.sql("SHOW TABLES IN curated").collect()
            }
            assert ("curated", "web") in tables
        finally:
            remote.stop()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


ALL_CHARTS = [
    "families.png",
    "words_by_source.png",
    "words_by_license.png",
    "words_by_language.png",
    "length_distribution.png",
    "quality_scores.png",
    "removal_funnel.png",
    "dedup_clusters.png",
    "paper_routes.png",
]


@pytest.fixture(scope="module")
def report(built):
    _, _, instance = built
    result = dg.materialize(
        [corpus_report], instance=instance, resources={"lakehouse": LakehouseResource()}
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("reports__corpus")
    return materialization.metadata


def test_corpus_report_asset_links_its_html(report):
    path = Path(report["report path"].value)
    # Linked over http, where `pilehouse ui` serves the lake's reports (outputs_base_url).
    served = path.relative_to(path.parents[2]).as_posix()  # corpus/v<N>/index.html
    assert report["report"].value.startswith("http://127.0.0.1:")
    assert report["report"].value.endswith(f"/reports/{served}")
    assert path.name == "index.html" and path.is_file()
    # The shared sample lake holds every family but no mixture: every chart but mixtures.png.
    assert report["charts"].value == len(ALL_CHARTS)
    assert sorted(p.name for p in path.parent.glob("*.png")) == sorted(ALL_CHARTS)


@pytest.mark.browser
def test_corpus_report_renders_non_empty_charts_in_chromium(report, chromium, tmp_path):
    directory = Path(report["report path"].value).parent
    handler = functools.partial(_QuietHandler, directory=str(directory))
    # Served over http (not file://) so the page may read its images' pixels.
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    shot = tmp_path / "corpus-report.png"
    try:
        page = chromium.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"http://127.0.0.1:{httpd.server_port}/index.html")
        page.wait_for_load_state("networkidle")
        images = page.evaluate(_INK_PER_IMAGE)
        page.screenshot(path=str(shot), full_page=True)
    finally:
        httpd.shutdown()
    artifacts = REPO / "var" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, artifacts / shot.name)
    assert sorted(image["src"] for image in images) == sorted(ALL_CHARTS)
    for image in images:
        assert image["width"] > 0, f"{image['src']} did not load"
        # A chart with bars or a histogram inks well over 1% of its pixels; an empty axes does not.
        assert image["ink"] > 0.01, f"{image['src']} looks empty ({image['ink']:.3%} ink)"
    assert shot.stat().st_size > 10_000


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


# Per image: its natural size and the share of pixels that are neither white nor near-white.
_INK_PER_IMAGE = """
() => Array.from(document.images).map((img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const data = img.naturalWidth ? ctx.getImageData(0, 0, canvas.width, canvas.height).data : [];
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200) ink++;
  }
  return {src: img.getAttribute("src"), width: img.naturalWidth, ink: ink / (data.length / 4 || 1)};
})
"""


def test_time_travel_returns_the_rows_of_an_older_version(lake, tmp_path):
    """Commits a new version with one row removed, to a copy of curated.web (the shared lake
    stays as the pipeline left it)."""
    copy = Lake(str(tmp_path / "lake"), lake.store)
    shutil.copytree(lake.uri("curated.web"), copy.uri("curated.web"))
    uri = copy.uri("curated.web")
    before = read_arrow(uri)
    dropped = before["id"][0].as_py()
    write_arrow(
        before.filter(pc.not_equal(before["id"], dropped)),
        uri,
        mode="overwrite",
        partition_by=("source",),
    )
    with LakeSQL(copy) as sql:
        [old_version] = sql.arrow("SELECT max(version) - 1 FROM history('curated.web')")[0]
        count = "SELECT count(*) FROM {} WHERE id = $id"
        assert sql.arrow(count.format("curated.web"), {"id": dropped})[0][0].as_py() == 0
        old = sql.arrow(count.format(f"curated.web@v{old_version.as_py()}"), {"id": dropped})
        assert old[0][0].as_py() == 1
        assert sql.arrow(f"SELECT * FROM curated.web@v{old_version.as_py()}").num_rows == (
            before.num_rows
        )
