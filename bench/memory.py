"""Peak resident memory of this process and its descendants (the Spark JVM, its Python workers),
sampled from /proc in a background thread: the figure that decides whether a run fits a machine.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from every /proc/<pid>/stat."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss_bytes(root: int | None = None) -> int:
    """Resident bytes of `root` (default: this process) and every process below it."""
    tree = _children()
    todo, total = [root or os.getpid()], 0
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/statm").read_text().split()
            total += int(fields[1]) * _PAGE
        except OSError:
            pass
        todo.extend(tree.get(pid, ()))
    return total


class PeakMemory:
    """Samples tree_rss_bytes every `interval` seconds; `peak()` since the last `reset()`.

    with PeakMemory() as memory:
        ...
        memory.reset(); run_stage(); stage_peak = memory.peak()
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> int:
        rss = tree_rss_bytes()
        with self._lock:
            self._peak = max(self._peak, rss)
        return rss

    def reset(self) -> None:
        with self._lock:
            self._peak = 0
        self.sample()

    def peak(self) -> int:
        self.sample()
        with self._lock:
            return self._peak

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
