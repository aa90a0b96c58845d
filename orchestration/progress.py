"""Live progress of Dagster runs in the terminal, read from the instance's event log.

A thread follows each run's events (step started / succeeded / failed, materializations
with their row counts) while the run executes in process; Spark's own task counters give
an estimate inside a step. On a terminal this is a rich live display; redirected to a file
it is one plain, flushed line per event. Either way a run ends with its per-step table
(step, status, seconds, rows), timed by Dagster's step stats.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

import dagster as dg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

POLL_S = 0.5
_FOLLOWED = {
    dg.DagsterEventType.RUN_START,
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.RUN_CANCELED,
}


@dataclass
class StepLine:
    """One step of a run as the final table shows it."""

    step: str
    status: str
    seconds: float | None
    rows: int | None


@dataclass
class RunRecord:
    """What was seen of one run: its label, its steps in order, the rows each step wrote."""

    run_id: str
    label: str
    started: float = field(default_factory=time.monotonic)
    steps: list[StepLine] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    checks_failed: list[str] = field(default_factory=list)
    status: str = "RUNNING"
    cursor: str | None = None  # where reading the run's event log left off
    running: dict[str, float] = field(default_factory=dict)  # step -> start time


def materialized_rows(asset_key: dg.AssetKey, metadata: dict) -> tuple[int | None, int | None]:
    """Rows (and bytes) a materialization reports: its own table's `<table> rows` entry where
    it names one (raw/web -> `raw.web rows`), else the sum of its `... rows` entries."""
    own = ".".join(asset_key.path)
    counts = {
        key[: -len(" rows")].strip(): value.value
        for key, value in metadata.items()
        if key.endswith("rows") and isinstance(getattr(value, "value", None), int)
    }
    size = [
        value.value
        for key, value in metadata.items()
        if key.endswith("bytes") and isinstance(getattr(value, "value", None), int)
    ]
    rows = counts.get(own, sum(counts.values()) if counts else None)
    return rows, (sum(size) if size else None)


def _spark_tasks() -> tuple[int, int] | None:
    """(completed, total) tasks of Spark's active stages in this process, if Spark runs here."""
    if "pyspark" not in sys.modules:
        return None
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is None:
        return None
    with contextlib.suppress(Exception):  # the JVM may be stopping
        tracker = context.statusTracker()
        stages = [tracker.getStageInfo(i) for i in tracker.getActiveStageIds()]
        stages = [s for s in stages if s is not None]
        if stages:
            return sum(s.numCompletedTasks for s in stages), sum(s.numTasks for s in stages)
    return None


class RunProgress:
    """Shows the runs of one command as they execute; `follow(instance, label)` around each
    `execute_in_process(run_id=...)`, then `render_table()` for the per-step summary."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal if live is None else live
        self.runs: list[RunRecord] = []
        self.started = time.monotonic()

    def _say(self, line: str) -> None:
        if self.live:
            self.console.log(line)
        else:
            self.console.file.write(line + "\n")
            self.console.file.flush()

    @contextlib.contextmanager
    def follow(self, instance: dg.DagsterInstance, label: str) -> Iterator[str]:
        """Yield a new run id; while the caller executes that run, show its events."""
        record = RunRecord(run_id=str(uuid.uuid4()), label=label)
        self.runs.append(record)
        done = threading.Event()
        display = None
        task = None
        if self.live:
            display = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            task = display.add_task(label, total=None, detail="")
            display.start()
        else:
            self._say(f"run {record.run_id[:8]} {label}: starting")

        def poll() -> None:
            while True:
                finished = done.wait(POLL_S)
                self._drain(instance, record)
                if display is not None:
                    tasks = _spark_tasks()
                    step = ", ".join(record.running) or "between steps"
                    rows = sum(record.rows.values())
                    size = sum(record.bytes.values())
                    detail = f"{rows:,} rows" + (f", {_human(size)}" if size else "")
                    display.update(
                        task,
                        description=f"{label} > {step}",
                        completed=tasks[0] if tasks else 0,
                        total=tasks[1] if tasks else None,
                        detail=detail,
                    )
                if finished:
                    return

        watcher = threading.Thread(target=poll, name="run-progress", daemon=True)
        watcher.start()
        try:
            yield record.run_id
        finally:
            done.set()
            watcher.join()
            if display is not None:
                display.stop()
            self._finish(instance, record)

    def _drain(self, instance: dg.DagsterInstance, record: RunRecord) -> None:
        """Read the run's new events and report each."""
        while True:
            try:
                connection = instance.get_records_for_run(
                    record.run_id, cursor=record.cursor, of_type=_FOLLOWED, limit=200
                )
            except Exception:  # the run's log may not exist yet
                return
            for entry in connection.records:
                self._event(record, entry.event_log_entry)
            record.cursor = connection.cursor
            if not connection.has_more:
                return

    def _event(self, record: RunRecord, entry) -> None:
        event = entry.dagster_event
        kind = event.event_type
        step = event.step_key
        elapsed = f"{time.monotonic() - record.started:6.1f} s"
        if kind == dg.DagsterEventType.STEP_START:
            record.running[step] = entry.timestamp
            self._say(f"[{elapsed}] {record.label} > {step}: started")
        elif kind in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.STEP_SKIPPED,
        ):
            began = record.running.pop(step, None)
            took = f" in {entry.timestamp - began:.1f} s" if began else ""
            rows = record.rows.get(step)
            written = f", {rows:,} rows" if rows is not None else ""
            word = {
                dg.DagsterEventType.STEP_SUCCESS: "succeeded",
                dg.DagsterEventType.STEP_FAILURE: "FAILED",
                dg.DagsterEventType.STEP_SKIPPED: "skipped",
            }[kind]
            self._say(f"[{elapsed}] {record.label} > {step}: {word}{took}{written}")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            rows, size = materialized_rows(materialization.asset_key, materialization.metadata)
            if rows is not None and step:
                record.rows[step] = record.rows.get(step, 0) + rows
            if size is not None and step:
                record.bytes[step] = record.bytes.get(step, 0) + size
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                record.checks_failed.append(name)
                self._say(f"[{elapsed}] {record.label} > check {name}: FAILED")
        elif kind in (
            dg.DagsterEventType.RUN_SUCCESS,
            dg.DagsterEventType.RUN_FAILURE,
            dg.DagsterEventType.RUN_CANCELED,
        ):
            record.status = kind.value.removeprefix("PIPELINE_").removeprefix("RUN_")

    def _finish(self, instance: dg.DagsterInstance, record: RunRecord) -> None:
        """Fill the run's per-step table from Dagster's step stats (Dagster's own timing)."""
        with contextlib.suppress(Exception):
            self._drain(instance, record)  # anything the last poll missed
        with contextlib.suppress(Exception):
            for stats in instance.get_run_step_stats(record.run_id):
                seconds = None
                if stats.start_time and stats.end_time:
                    seconds = stats.end_time - stats.start_time
                status = stats.status.value if stats.status else "NOT STARTED"
                record.steps.append(
                    StepLine(stats.step_key, status, seconds, record.rows.get(stats.step_key))
                )
        run = instance.get_run_by_id(record.run_id)
        if run is not None:
            record.status = run.status.value
        self._say(
            f"run {record.run_id[:8]} {record.label}: {record.status} "
            f"in {time.monotonic() - record.started:.1f} s"
        )

    def render_table(self) -> None:
        """The per-step table of every run followed: step, status, seconds, rows."""
        if self.live:
            table = Table(title=f"Pilehouse: {len(self.runs)} run(s)", title_justify="left")
            for name, justify in (
                ("run", "left"),
                ("step", "left"),
                ("status", "left"),
                ("seconds", "right"),
                ("rows", "right"),
            ):
                table.add_column(name, justify=justify)
            for record in self.runs:
                for line in record.steps:
                    table.add_row(*_cells(record, line))
            self.console.print(table)
            return
        rows = [_cells(record, line) for record in self.runs for line in record.steps]
        header = ("run", "step", "status", "seconds", "rows")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        aligns = "<<<>>"
        for cells in [header, *rows]:
            line = "  ".join(
                f"{cell:{align}{width}}"
                for cell, align, width in zip(cells, aligns, widths, strict=True)
            )
            self._say(line.rstrip())


def _cells(record: RunRecord, line: StepLine) -> tuple[str, str, str, str, str]:
    seconds = f"{line.seconds:.1f}" if line.seconds is not None else ""
    rows = f"{line.rows:,}" if line.rows is not None else ""
    return record.label, line.step, line.status, seconds, rows


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def line_buffered_output() -> None:
    """Redirected to a file or a pipe, flush every line (progress must not wait in a buffer)."""
    for stream in (sys.stdout, sys.stderr):
        if not stream.isatty() and hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)
