"""`pilehouse ui` in a real browser: the webserver and one daemon on loopback, the corpus
asset groups in the asset graph, and a materialization launched from the UI that succeeds."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from assets.ops import SOURCE_REGISTRY
from infra.process_tree import descendants
from spark_jobs.lake import CORPORA

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# Loading the code location on a busy 2-core machine can take minutes.
START_TIMEOUT_S = 420
RUN_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dagster_ui(chromium, tmp_path: Path):
    """`pilehouse ui` on a free loopback port, over an empty source registry (so the running
    sensors start no Spark work beside the test); yields (base URL, DAGSTER_HOME, pgid).

    Asks for the browser first, so a machine without one skips before the UI starts."""
    (tmp_path / "sources.yaml").write_text("sources: {}\n")
    env = {
        **os.environ,
        "PILEHOUSE_HOME": str(tmp_path / "home"),
        "PILEHOUSE_SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }
    port = _free_port()
    log = (tmp_path / "ui.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("pilehouse")), "ui", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "ui.log").read_text()[-3000:]
            time.sleep(2)
        yield base, tmp_path / "dagster", process.pid
    finally:
        # `dagster dev` shuts its children down on SIGINT; do not wait long for it.
        os.killpg(process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


def test_the_ui_shows_the_corpus_groups_and_launches_a_materialization(
    dagster_ui, chromium, tmp_path
):
    base, dagster_home, pgid = dagster_ui
    # `pilehouse ui` supervises `dagster dev` in a process group of its own: look at its tree.
    commands = [proc.command for proc in descendants(pgid)]
    assert len([c for c in commands if "dagster._daemon run" in c]) == 1, commands
    [webserver] = [c for c in commands if "dagster_webserver" in c]
    assert "--host 127.0.0.1" in webserver

    screenshot = tmp_path / "dagster-asset-graph.png"
    page = chromium.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{base}/asset-groups", timeout=120_000)
    page.get_by_text("Global asset lineage").wait_for(timeout=120_000)
    page.wait_for_timeout(5000)
    skip = page.get_by_role("button", name="Skip")  # the first-visit community dialog
    if skip.count():
        skip.click()
    # Zoom out until the whole graph is drawn (nodes outside the view are not rendered): each
    # family is a group, listed in the sidebar and drawn as a node of the graph. How far
    # depends on how many groups the code location has.
    zoom_out = page.locator("button:has([aria-label='zoom_out'])")

    def undrawn() -> list[str]:
        return [
            group
            for group in CORPORA
            if sum(e.is_visible() for e in page.get_by_text(group, exact=True).all()) < 2
        ]

    deadline = time.monotonic() + 90
    for step in range(40):
        missing = undrawn()
        if not missing:
            break
        if time.monotonic() > deadline:
            page.screenshot(path=str(tmp_path / "undrawn.png"))
            artifacts = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
            artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "undrawn.png", artifacts / "dagster-undrawn-groups.png")
            raise AssertionError(f"groups {missing} are not drawn in the graph")
        if step < 8:
            zoom_out.click()
        page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot))

    page.goto(f"{base}/assets/ops/source_registry", timeout=120_000)
    page.get_by_text("Materialize", exact=True).first.click(timeout=120_000)
    page.get_by_text("Launched run", exact=False).or_(
        page.get_by_text("Materializing", exact=False)
    ).first.wait_for(timeout=60_000)
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("PILEHOUSE_DOCS_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["PILEHOUSE_DOCS_SCREENSHOT"])

    # The run the button launched: queued, dequeued by the daemon, succeeded.
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            runs = [r for r in instance.get_runs() if SOURCE_REGISTRY in (r.asset_selection or ())]
            if runs and runs[0].is_finished:
                break
            assert time.monotonic() < deadline, [r.status for r in runs]
            time.sleep(2)
        [run] = runs
        assert run.status == dg.DagsterRunStatus.SUCCESS
        event = instance.get_latest_materialization_event(SOURCE_REGISTRY)
        assert event.run_id == run.run_id
        assert event.asset_materialization.metadata["sources"].value == 0
