"""Stop means stop: SIGTERM or SIGINT on each long-running `pilehouse` command ends it and
every process it started (webserver, daemon, code servers, run workers, Spark JVM) within
15 s, and leaves no Dagster run STARTED.

Each command runs as a real subprocess on free loopback ports over its own PILEHOUSE_HOME.
Only the command's own pid is signalled (not its process group), so the command has to
stop its children itself. Survivors are looked for twice: the process tree read from /proc
just before the signal, and every process whose environment names the test's home (which
catches anything started after the snapshot, or reparented away from the tree).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from spark_jobs.analyst.spark_sql import READY_LINE

REPO = Path(__file__).resolve().parents[2]
PILEHOUSE = str(Path(sys.executable).with_name("pilehouse"))
STOP_BOUND_S = 15  # the bound: every process gone within 15 s of the signal
# Starting a server (Dagster's code location, a JVM) on the loaded 2-core machine is slow;
# these bound only the wait for the command to get going, not the stop.
START_TIMEOUT_S = 420
IN_PROGRESS = {
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _live_processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process that is not a zombie."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            table[int(stat.parent.name)] = (int(fields[1]), fields[19])
    return table


def _tree(pid: int) -> dict[int, str]:
    """The process and its descendants: pid -> start time (to tell a reused pid apart)."""
    table = _live_processes()
    found, todo = {pid: table[pid][1]}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, started) in table.items():
            if ppid == parent:
                found[child] = started
                todo.append(child)
    return found


def _marked(marker: str) -> set[int]:
    """Processes whose environment holds `marker` (the test's PILEHOUSE_HOME)."""
    needle = f"PILEHOUSE_HOME={marker}".encode()
    found = set()
    for pid in _live_processes():
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.add(pid)
        except OSError:
            continue
    return found - {os.getpid()}


def _survivors(tree: dict[int, str], marker: str) -> list[str]:
    table = _live_processes()
    alive = {pid for pid, started in tree.items() if table.get(pid, (0, None))[1] == started}
    described = []
    for pid in sorted(alive | _marked(marker)):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        described.append(f"{pid}: {command[:160]}")
    return described


def _command(home: Path, args: list[str], **extra: str) -> tuple[dict[str, str], list[str]]:
    env = {
        **os.environ,
        "PILEHOUSE_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "PILEHOUSE_SPARK_MASTER": "local[1]",
        **extra,
    }
    return env, [PILEHOUSE, *args]


@contextlib.contextmanager
def _started(home: Path, args: list[str], log: Path, **extra: str) -> Iterator[subprocess.Popen]:
    """The command in a session of its own (like a terminal's); whatever is left at the end
    of the test is killed, so a failing test does not leave servers behind."""
    home.mkdir(parents=True, exist_ok=True)
    env, command = _command(home, args, **extra)
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        for pid in {process.pid, *_tree_or_empty(process.pid), *_marked(str(home))}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()


def _tree_or_empty(pid: int) -> dict[int, str]:
    try:
        return _tree(pid)
    except KeyError:
        return {}


def _wait_for(ready: Callable[[], bool], process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        assert process.poll() is None, f"exited {process.returncode}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"not ready:\n{log.read_text()[-3000:]}"
        time.sleep(1)


def _stop(process: subprocess.Popen, number: int, home: Path, log: Path) -> float:
    """Signal the command alone; assert it and every process it started are gone within the
    bound. Returns how long that took."""
    tree = _tree(process.pid)
    assert len(tree) > 1, "the command has not started anything to stop"
    signalled = time.monotonic()
    process.send_signal(number)
    deadline = signalled + STOP_BOUND_S
    while True:
        left = _survivors(tree, str(home))
        if not left:
            break
        assert time.monotonic() < deadline, (
            f"still running {STOP_BOUND_S} s after {signal.Signals(number).name}:\n"
            + "\n".join(left)
            + f"\n{log.read_text()[-3000:]}"
        )
        time.sleep(0.2)
    process.wait(timeout=5)
    return time.monotonic() - signalled


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster")))


def _in_progress_runs(home: Path) -> list[dg.DagsterRun]:
    with _instance(home) as instance:
        return [run for run in instance.get_runs() if run.status in IN_PROGRESS]


def _run_is_executing(home: Path) -> bool:
    """A run's step has started (Dagster captures its logs) and its Spark JVM is up (the
    JVM is what is slowest to stop). Read from files and /proc: opening the instance while
    the command is still creating it would race its schema migration."""
    storage = home / "dagster" / "storage"
    step_started = storage.is_dir() and any(storage.glob("*/compute_logs"))
    return step_started and any("java" in c for c in _commands_with(home))


def _statuses(home: Path, runs: list[dg.DagsterRun]) -> set[dg.DagsterRunStatus]:
    assert runs, "no run was executing when the signal was sent"
    with _instance(home) as instance:
        return {instance.get_run_by_id(run.run_id).status for run in runs}


def _commands_with(home: Path) -> list[str]:
    commands = []
    for pid in _marked(str(home)):
        with contextlib.suppress(OSError):
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
    return commands


@pytest.mark.slow  # starts an MLflow server
def test_mlflow_ui_stops_with_its_workers_on_sigterm(tmp_path):
    port = _free_port()
    log = tmp_path / "mlflow.log"
    with _started(tmp_path / "home", ["mlflow-ui", "--port", str(port)], log) as process:
        _wait_for(lambda: _port_open(port), process, log)
        _stop(process, signal.SIGTERM, tmp_path / "home", log)
    assert not _port_open(port)


@pytest.mark.spark
def test_sql_server_stops_with_its_jvm_on_sigint(tmp_path):
    port = _free_port()
    log = tmp_path / "sql-server.log"
    args = ["sql-server", "--port", str(port)]
    with _started(tmp_path / "home", args, log) as process:
        _wait_for(lambda: READY_LINE in log.read_text(), process, log)
        assert any("java" in c for c in _commands_with(tmp_path / "home"))
        _stop(process, signal.SIGINT, tmp_path / "home", log)
    assert not _port_open(port)


@pytest.mark.spark
def test_run_stops_its_worker_and_jvm_on_sigterm_and_cancels_the_run(tmp_path):
    home = tmp_path / "home"
    log = tmp_path / "run.log"
    with _started(home, ["run", "--pages", "40"], log) as process:
        _wait_for(lambda: _run_is_executing(home), process, log)
        executing = _in_progress_runs(home)
        _stop(process, signal.SIGTERM, home, log)
    assert process.returncode != 0  # a stopped pipeline does not report success
    assert not _in_progress_runs(home)
    assert _statuses(home, executing) == {dg.DagsterRunStatus.CANCELED}


@pytest.mark.slow
@pytest.mark.spark
def test_ui_stops_webserver_daemon_code_servers_and_run_workers_on_sigterm(tmp_path):
    """A file in a registered landing location makes the landing sensor request an ingest;
    SIGTERM arrives while the daemon's run worker (and its JVM) executes it."""
    landing = tmp_path / "home" / "landing" / "books"
    landing.mkdir(parents=True)
    (landing / "a.txt").write_text("A settled public-domain book. " * 200)
    old = time.time() - 120  # past the sensor's settle time
    os.utime(landing / "a.txt", (old, old))
    registry = tmp_path / "sources.yaml"
    registry.write_text(
        "sources:\n  books:\n    corpus: licensed\n    format: text\n"
        '    location: "{landing}/books"\n    license: PublicDomain\n'
    )
    home, port = tmp_path / "home", _free_port()
    log = tmp_path / "ui.log"
    args = ["ui", "--port", str(port)]
    with _started(home, args, log, PILEHOUSE_SOURCES_FILE=str(registry)) as process:
        _wait_for(lambda: _port_open(port), process, log)
        _wait_for(lambda: _run_is_executing(home), process, log)
        executing = _in_progress_runs(home)
        _stop(process, signal.SIGTERM, home, log)
    assert not _port_open(port)
    assert not _in_progress_runs(home)
    # The source registry sensor asks for the new source too; that run may still be QUEUED
    # (the spark pool admits one run at a time), which is not a run stuck as STARTED.
    assert _statuses(home, executing) == {dg.DagsterRunStatus.CANCELED}
