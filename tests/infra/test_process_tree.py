"""`supervise` (the stop behind `pilehouse ui`, `mlflow-ui` and `serve-outputs`): a process the
supervised command starts while it is being stopped is stopped too."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from infra.process_tree import _stat

# Ignores the SIGINT the stop begins with, so it is still running when the survivors get
# SIGTERM; on SIGTERM it starts one more process and exits (as a server respawning a worker
# it just lost would).
SCRIPT = """
trap '' INT
trap 'sleep 300 & echo $! > late.pid; exit 0' TERM
sleep 300 &
echo $! > first.pid
wait
"""


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _wait_for(path: Path, seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path.name} never written"
        time.sleep(0.05)
    return int(path.read_text())


def test_a_process_started_during_the_stop_is_stopped_too(tmp_path):
    (tmp_path / "server.sh").write_text(SCRIPT)
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from infra.process_tree import supervise; "
            "sys.exit(supervise(['bash', 'server.sh'], grace=0.5))",
        ],
        cwd=tmp_path,
    )
    try:
        first = _wait_for(tmp_path / "first.pid")
        signalled = time.monotonic()
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)
        took = time.monotonic() - signalled
        late = _wait_for(tmp_path / "late.pid", seconds=1)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    survivors = [pid for pid in (first, late) if _alive(pid)]
    for pid in survivors:  # leave nothing behind even when the assertion fails
        subprocess.run(["kill", "-9", str(pid)], check=False)
    assert not survivors, f"still running after the supervisor returned: {survivors}"
    assert took < 15, f"the stop took {took:.1f} s"
