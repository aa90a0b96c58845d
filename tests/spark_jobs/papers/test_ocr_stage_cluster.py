"""The OCR stage on a real Spark standalone cluster: its tasks get the CPUs its stage-level
resource profile asks for (`ocr_task_cpus`), and run that many Tesseract processes at once."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.spark_cluster import StandaloneCluster
from spark_jobs.samples.papers import scanned_text_pdf, text_pdf

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr"),
]
ROOT = Path(__file__).resolve().parents[3]

# Its own process: one JVM holds one SparkContext, and the test session's is local.
CLUSTER_RUN = """
import json, sys
from spark_jobs.ingest import landing_listing
from spark_jobs.papers.reader import PapersReader
from spark_jobs.papers.routes import ingest_papers
from spark_jobs.session import get_spark
from spark_jobs.sources import Source
from spark_jobs.storage import LOCAL

args = json.load(open(sys.argv[1]))
spark = get_spark(args["master"], app_name="ocr-stage-test", conf=args["conf"])
source = Source("scans", "papers", args["landing"], "mixed", "CC-BY-4.0",
                options={"ocr_task_cpus": 2})
listing = landing_listing(PapersReader(), source)
rows = ingest_papers(spark, source, run_id="r", store=LOCAL, listing=listing).collect()
json.dump([r.asDict() for r in rows], open(sys.argv[2], "w"))
spark.stop()
"""


def test_ocr_tasks_get_the_cpus_their_profile_asks_for(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "scan.pdf").write_bytes(
        scanned_text_pdf(["Tidal currents carry sediment along the estuary"])
    )
    (landing / "typeset.pdf").write_bytes(
        text_pdf(["A typeset page about lighthouses and their keepers."], title="t", author="a")
    )
    with StandaloneCluster(tmp_path / "cluster", worker_cores=2, worker_memory="2g") as cluster:
        args = {
            "master": cluster.master_url,
            "conf": {
                **cluster.application_conf(executor_cores=2, driver_host="127.0.0.1"),
                "spark.driver.memory": "1g",
                "spark.ui.enabled": "false",
            },
            "landing": str(landing),
        }
        (tmp_path / "args.json").write_text(json.dumps(args))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("SPARK_LOCAL_IP", None)
        run = subprocess.run(
            [sys.executable, "-c", CLUSTER_RUN, str(tmp_path / "args.json"), str(tmp_path / "out.json")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    rows = {row["paper_id"]: row for row in json.loads((tmp_path / "out.json").read_text())}

    scan = rows["scan"]
    assert (scan["disposition"], scan["route"]) == ("kept", "ocr")
    assert {"tidal", "sediment", "estuary"} <= set(scan["text"].lower().split())
    # The OCR stage's task held 2 CPUs (its profile), not the application's 1 per task.
    assert scan["route_reason"].endswith("; OCR 2 page(s) at a time")
    assert rows["typeset"]["route"] == "text_layer"
