"""Stopping a long-running command and everything it started (Linux).

`supervise` runs a server (or a pipeline worker) as a child in its own process group and
becomes the reaper of its orphans, so that on Ctrl-C, SIGTERM or SIGHUP nothing it started
outlives it: the group gets SIGINT (what Ctrl-C in a terminal sends), the child gets
`STOP_GRACE_S` to shut down its own way, then every descendant still alive gets SIGTERM
and, `KILL_GRACE_S` later, SIGKILL: 8 s at most, well inside the 15 s a stop may take.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_S = 5.0
KILL_GRACE_S = 3.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Proc:
    """A process as /proc shows it; `started` (clock ticks after boot) tells a reused pid apart."""

    pid: int
    ppid: int
    started: int
    command: str


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent pid and start time of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def processes() -> dict[int, Proc]:
    """Every live (not zombie) process, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None or stat[0] == "Z":
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = Proc(int(entry.name), stat[1], stat[2], command.strip())
    return found


def descendants(pid: int) -> list[Proc]:
    """The live processes below `pid` (children, their children, ...)."""
    table = processes()
    children: dict[int, list[Proc]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def is_alive(proc: Proc) -> bool:
    stat = _stat(proc.pid)
    return stat is not None and stat[0] != "Z" and stat[2] == proc.started


def adopt_orphans() -> bool:
    """Make this process the parent of its descendants whose own parent dies (a subreaper),
    so a grandchild left behind by a crashed child is still found, and stopped, here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _signal(procs: Iterable[Proc], number: int) -> None:
    for proc in procs:
        if is_alive(proc):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, number)


def _reap(procs: Iterable[Proc], keep: int | None = None) -> None:
    """Collect the exit status of adopted children that ended (no zombies left behind)."""
    for proc in procs:
        if proc.pid == keep:
            continue
        with contextlib.suppress(ChildProcessError):
            os.waitpid(proc.pid, os.WNOHANG)


def terminate(
    procs: Sequence[Proc], grace: float = KILL_GRACE_S, *, keep: int | None = None
) -> int:
    """SIGTERM each process, SIGKILL those still alive after `grace` seconds; returns how many
    had to be killed. `keep`: a child whose exit status its Popen collects."""
    _signal(procs, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(procs, keep)
        if not any(is_alive(p) for p in procs):
            return 0
        time.sleep(0.1)
    survivors = [p for p in procs if is_alive(p)]
    _signal(survivors, signal.SIGKILL)
    time.sleep(0.1)
    _reap(procs, keep)
    return len(survivors)


StopHook = Callable[[list[Proc]], None]


def _run_hook(hook: StopHook | None, tree: list[Proc]) -> None:
    # A hook that fails (a database that does not answer) must not keep the processes alive.
    if hook is None:
        return
    try:
        hook(tree)
    except Exception as error:
        print(f"warning: while stopping: {type(error).__name__}: {error}", file=sys.stderr)


def supervise(
    command: Sequence[str],
    *,
    before_stop: StopHook | None = None,
    after_stop: StopHook | None = None,
    grace: float = STOP_GRACE_S,
) -> int:
    """Run `command` until it exits or this process is asked to stop; either way leave no
    descendant alive. Returns the child's exit status (128 + signal when it was killed).

    `before_stop` sees the process tree before anything is signalled (mark work as being
    canceled); `after_stop` sees the same list once every process in it is gone (record
    what could not finish).
    """
    stop: list[int] = []

    def request_stop(number: int, frame: object) -> None:
        stop.append(number)

    # Before the child starts: a handled signal is reset to the default in the child, where
    # an ignored one (SIGINT of a background job) would stay ignored, and Dagster maps
    # SIGTERM to whatever SIGINT does.
    previous = {number: signal.signal(number, request_stop) for number in STOP_SIGNALS}
    adopt_orphans()
    child = subprocess.Popen(command, process_group=0)
    try:
        while child.poll() is None and not stop:
            time.sleep(0.2)
        tree = descendants(os.getpid())
        if stop and child.poll() is None:
            _run_hook(before_stop, tree)
            # The child's process group, as Ctrl-C in a terminal would: every server process
            # and run worker shuts down its own way (the Spark JVM ignores it; see below).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(grace)
        # Whatever is left (the JVM, code servers, processes in a session of their own,
        # orphans adopted here) gets SIGTERM, then SIGKILL.
        left = {p.pid: p for p in [*tree, *descendants(os.getpid())] if is_alive(p)}
        terminate(list(left.values()), keep=child.pid)
        # A process started while the others stopped (a server respawning a worker it lost)
        # is not in that list: it was adopted here, so look again until nothing is left.
        for _ in range(3):
            late = [p for p in descendants(os.getpid()) if p.pid != child.pid and is_alive(p)]
            if not late:
                break
            terminate(late, grace=1.0, keep=child.pid)
        if child.poll() is None:
            child.kill()
        child.wait()
        if stop:
            _run_hook(after_stop, tree)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    code = child.returncode
    return code if code >= 0 else 128 - code
