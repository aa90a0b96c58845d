import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.definitions import WEB_PIPELINE, defs

REPO = Path(__file__).resolve().parents[2]


def test_dagster_definitions_validate(tmp_path):
    """The code location loads the way the webserver and daemon load it."""
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_asset_graph_has_the_web_pipeline_and_a_blocking_gate():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == {"raw/web", "annotated/web", "curated/web", "training/curated_web_run"}
    assert graph.get(dg.AssetKey(["curated", "web"])).parent_keys == {
        dg.AssetKey(["annotated", "web"])
    }
    checks = list(graph.asset_check_keys)
    assert [c.name for c in checks] == ["curated_documents"]
    assert graph.get_check_spec(checks[0]).blocking
    assert defs.resolve_job_def(WEB_PIPELINE) is not None
