"""Reading one untrusted object in a child process that can be stopped.

A reader bug or a hostile object (a parser that goes quadratic, a decompressor that runs away)
must cost that object, not the source. `run_isolated` forks a child that produces the
object's Arrow batches and streams them back over a pipe, while the parent watches the clock
and the child's resident memory; past `ReadLimits.object_seconds` or `object_memory_bytes`
the child is killed and `ObjectStopped` tells the caller why. Fork (not spawn) keeps the cost
to a few milliseconds an object; the parent touches no storage client, so none is forked
half-initialised.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pyarrow as pa

POLL_SECONDS = 0.05
MEMORY_CHECK_SECONDS = 0.2
_PAGE = os.sysconf("SC_PAGE_SIZE")


class ObjectStopped(Exception):
    """The child reading an object was stopped; `reason` is timeout, memory_limit or
    reader_crashed, and `batches` says how many batches arrived before it."""

    def __init__(self, reason: str, detail: str, batches: int) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.batches = batches


@functools.cache
def _warm_up() -> None:
    """Pay pyarrow's lazy first-use costs (about 0.2 s) once in the parent, not per child."""
    pa.RecordBatch.from_pydict({"x": ["warm"]})


def _private_bytes(pid: int) -> int | None:
    """Memory only this process holds (Private_Clean + Private_Dirty): what a forked child
    allocated or wrote, not the pages it still shares with its parent. None where the kernel
    has no smaps_rollup."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            total = 0
            for line in rollup:
                if line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
            return total
    except (OSError, IndexError, ValueError):
        return None


def _grown_bytes(pid: int, inherited: int) -> int:
    private = _private_bytes(pid)
    return private if private is not None else _rss_bytes(pid) - inherited


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int) -> bytes | None:
    """One framed message from the pipe; None at its end (or a message cut short)."""
    header = _read_exactly(fd, 8)
    if header is None:
        return None
    return _read_exactly(fd, int.from_bytes(header, "little"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts, left = [], size
    while left:
        part = os.read(fd, min(left, 2**20))
        if not part:
            return None
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _child(produce: Callable[[], Iterator[pa.RecordBatch]], schema: pa.Schema, fd: int) -> None:
    code = 1
    try:
        # The parent's handlers (Spark's worker, Dagster's) are not this process's business.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for batch in produce():
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, schema) as writer:
                writer.write_batch(batch)
            _send(fd, sink.getvalue().to_pybytes())
        code = 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)  # never run the parent's atexit hooks or flush its buffers


def run_isolated(
    produce: Callable[[], Iterator[pa.RecordBatch]],
    schema: pa.Schema,
    *,
    seconds: float,
    memory_bytes: int,
    what: str = "the object",
) -> Iterator[pa.RecordBatch]:
    """The batches `produce()` yields, computed in a forked child under a time and memory
    budget. Raises ObjectStopped (after yielding what arrived) when the child is stopped or
    dies; `produce` should turn its own errors into rows, as the ingest does."""
    _warm_up()
    # A forked child starts out resident with everything it inherited (a Dagster or pytest
    # process may hold gigabytes, shared with the child until written); the budget is for what
    # reading the object adds: the child's private memory (reading it costs about 15 ms per
    # GB mapped, so it is read every MEMORY_CHECK_SECONDS, not at every poll).
    inherited = _rss_bytes(os.getpid())
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        _child(produce, schema, write_fd)
    os.close(write_fd)
    arrived: queue.Queue = queue.Queue(maxsize=4)
    done = object()

    def pump() -> None:
        try:
            while (message := _receive(read_fd)) is not None:
                arrived.put(pa.ipc.open_stream(message).read_next_batch())
        except (pa.ArrowInvalid, OSError):  # the child died mid-message
            pass
        finally:
            arrived.put(done)

    thread = threading.Thread(target=pump, name=f"isolated-read-{pid}", daemon=True)
    thread.start()
    started = time.monotonic()
    next_memory_check = 0.0
    batches = 0
    stopped: tuple[str, str] | None = None
    finished = False
    try:
        while True:
            try:
                item = arrived.get(timeout=POLL_SECONDS)
            except queue.Empty:
                item = None
            if item is done:
                finished = True
                break
            if item is not None:
                batches += 1
                yield item
                continue
            elapsed = time.monotonic() - started
            if elapsed > seconds:
                stopped = (
                    "timeout",
                    f"reading {what} took over {seconds:g} s (options.limits.object_seconds); "
                    "stopped",
                )
            elif elapsed >= next_memory_check:
                next_memory_check = elapsed + MEMORY_CHECK_SECONDS
                if (grown := _grown_bytes(pid, inherited)) > memory_bytes:
                    stopped = (
                        "memory_limit",
                        f"reading {what} needed over {memory_bytes // 2**20} MiB "
                        f"({grown // 2**20} MiB of its own; "
                        "options.limits.object_memory_bytes); stopped",
                    )
            if stopped:
                os.kill(pid, signal.SIGKILL)
                break
    finally:
        if stopped is None and not finished:
            # The consumer stopped early (or an error): do not leave the child running.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        status = _reap(pid, inherited)
        # Drain what the pump still holds so it reaches the end of the (now closed) pipe.
        deadline = time.monotonic() + 5
        while thread.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                arrived.get(timeout=POLL_SECONDS)
        thread.join(timeout=1)
        os.close(read_fd)
    if stopped:
        raise ObjectStopped(*stopped, batches)
    if status != 0:
        detail = (
            f"the reader of {what} died ({_describe(status)}) after {batches} batches; "
            "the rest of it was not read"
        )
        raise ObjectStopped("reader_crashed", detail, batches)


def _reap(pid: int, inherited: int) -> int:
    global _peak_rss_bytes
    try:
        _, status, usage = os.wait4(pid, 0)
    except ChildProcessError:  # someone else reaped it (SIGCHLD ignored): assume it finished
        return 0
    _peak_rss_bytes = max(_peak_rss_bytes, usage.ru_maxrss * 1024 - inherited, 0)
    return status


_peak_rss_bytes = 0


def peak_rss_bytes(reset: bool = False) -> int:
    """The most memory any object-reading child added over what it inherited from its parent
    so far (optionally reset)."""
    global _peak_rss_bytes
    peak = _peak_rss_bytes
    if reset:
        _peak_rss_bytes = 0
    return peak


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"
