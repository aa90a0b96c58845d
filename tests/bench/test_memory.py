"""The scale benchmark's memory figure: resident memory of this process and its children."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.memory import PeakMemory, tree_rss_bytes

MB = 2**20
# A child that touches 300 MB, says so, and waits to be stopped.
HOLDER = "import sys; b = bytearray(300 * 2**20); print('ready', flush=True); sys.stdin.read()"


def _hold_memory() -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    return child


def test_tree_rss_counts_a_child_process():
    before = tree_rss_bytes()
    child = _hold_memory()
    try:
        during = tree_rss_bytes()
    finally:
        child.communicate("")
    after = tree_rss_bytes()
    assert during - before >= 280 * MB
    assert during - after >= 280 * MB


def test_peak_remembers_a_child_that_has_ended_until_reset():
    with PeakMemory(interval=0.05) as memory:
        memory.reset()
        child = _hold_memory()
        time.sleep(0.3)
        child.communicate("")
        held = memory.peak()
        assert held - tree_rss_bytes() >= 280 * MB
        memory.reset()
        assert memory.peak() < held - 280 * MB
