"""The interactive SQL shell on a real terminal (a pseudo-terminal): Ctrl-C clears the line
instead of ending the shell with a traceback, and history survives across sessions in
PILEHOUSE_HOME."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 300  # starting the interpreter on a loaded machine; never a bound on behaviour


def _spawn(home: Path) -> tuple[int, int]:
    env = {**os.environ, "PILEHOUSE_HOME": str(home), "PYTHONPATH": str(REPO), "TERM": "dumb"}
    pid, master = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, as in a real terminal
        os.chdir(REPO)
        # As in a login shell: Ctrl-C delivered (an ignored SIGINT would survive the exec).
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execve(sys.executable, [sys.executable, "-m", "orchestration.cli", "sql"], env)
    return pid, master


def _read_until(master: int, marker: str, seen: list[str]) -> str:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 4096).decode(errors="replace")
            except OSError:  # the child closed the terminal
                break
            seen.append(chunk)
            if marker in "".join(seen):
                return "".join(seen)
    raise AssertionError(f"{marker!r} never came; output:\n{''.join(seen)}")


def _session(home: Path, keys: list[tuple[bytes, str]]) -> str:
    """Type each input once the expected text has appeared; return everything shown."""
    pid, master = _spawn(home)
    seen: list[str] = []
    try:
        _read_until(master, "sql> ", seen)
        for typed, expect in keys:
            if typed == b"\x03":
                # At a person's pace: a Ctrl-C within microseconds of the last echoed key can
                # reach the shell before readline waits for the next key (CPython's readline
                # only sees a signal that interrupts that wait), and then acts on the next key.
                time.sleep(0.5)
            os.write(master, typed)
            _read_until(master, expect, seen)
        os.write(master, b".quit\n")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "".join(seen)
    finally:
        os.close(master)
    return "".join(seen)


def test_ctrl_c_clears_the_line_and_history_persists(tmp_path):
    shown = _session(
        tmp_path,
        [
            (b"SELECT 'never run'", "SELECT 'never run'"),
            (b"\x03", "^C"),  # Ctrl-C through the terminal driver: SIGINT to the shell
            (b"SELECT 40 + 2 AS answer;\n", "(1 row)"),
        ],
    )
    assert "Traceback" not in shown and "KeyboardInterrupt" not in shown, shown
    assert "42" in shown
    assert "never run\r\n" not in shown.split("^C", 1)[1]  # the cleared line was not run
    history = (tmp_path / "sql_history").read_text()
    assert "SELECT 40 + 2 AS answer;" in history

    # A new session: the up arrow, twice (past `.quit`), brings back the last statement.
    again = _session(tmp_path, [(b"\x1b[A\x1b[A\n", "(1 row)")])
    assert "42" in again.split("sql> ", 1)[1], again
