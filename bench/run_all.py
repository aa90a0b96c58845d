"""Run every benchmark workload, each in its own subprocess, and print their figures side by side
with the project's targets.

    python -m bench.run_all                 # W0..W8, the classifiers, LND and GAT, full size
    python -m bench.run_all --quick         # the same at small sizes (a few minutes)
    python -m bench.run_all --only W3,W4    # some workloads (ids or module names)
    python -m bench.run_all --list          # what there is, and what is built
    python -m bench.run_all --only W7 --merge   # re-run one, keep the others' last figures
    python -m bench.run_all --combine var/bench/part2   # merge another run's report in

A workload is a module `bench/<name>.py` whose `main(argv) -> dict` prints its own table and
returns its headline figures ({"figure name": number}). Each runs in a fresh interpreter
(`python -m bench.run_all --child bench.<name> -- [--quick]`) so that a crash, an out-of-memory
kill or a timeout of one does not stop the rest; the child prints its figures as one final
`BENCH_RESULT {json}` line. A module that is not there is reported as "not built".

The final table (figures, targets met or not, fraction of the W0 machine limit) is printed and
written to var/bench/latest.md and var/bench/latest.json; each workload's full output goes to
var/bench/logs/<id>.log.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fnmatch
import importlib
import importlib.util
import json
import math
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULT_PREFIX = "BENCH_RESULT "
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "var" / "bench"


@dataclass(frozen=True)
class Workload:
    key: str
    module: str
    title: str
    default: bool = True  # part of a plain `run_all` (else only with --only)
    minutes: float = 20  # full-size time limit (half with --quick) unless --timeout says


WORKLOADS = [
    Workload("W0", "bench.baseline", "baseline: pyarrow read, xxh3, empty loop"),
    Workload("W1", "bench.annotation", "heuristic annotation vs datatrove filters"),
    Workload("ANE", "bench.annotation_equivalence", "annotators: old vs new values and speed"),
    Workload("W2", "bench.fasttext_scoring", "fastText lid.176 + quality classifier"),
    Workload("W3", "bench.minhash", "MinHash signatures vs datatrove, datasketch, rensa"),
    Workload("W4", "bench.fuzzy_dedup", "fuzzy dedup end to end vs datatrove"),
    Workload("W5", "bench.exact_dedup", "exact dedup vs bare xxh3 loop and datatrove"),
    Workload("W6", "bench.pii", "PII detection + redaction vs datatrove, Presidio"),
    Workload("W7", "bench.delta_layer", "Delta layer and Spark overheads vs pyarrow"),
    Workload("W8", "bench.pipeline", "whole pipeline on the web sample crawl"),
    Workload("CLS", "bench.classifiers", "classifier heads"),
    Workload("LND", "bench.landing_latency", "a newly landed 100-page WARC to curated tables"),
    Workload("GAT", "bench.gates", "every check of the sample run: old Spark path vs one pass"),
    Workload("DEC", "bench.decontamination", "decontamination n-gram scan vs a Python set", False),
    Workload("EXT", "bench.extraction", "HTML extraction: resiliparse vs trafilatura", False),
    Workload("SQL", "bench.sql_queries", "analyst SQL: DuckDB vs Spark SQL", False),
    Workload(
        "SCL", "bench.curation_scale", "annotation + dedup stages on 200k documents", False, 60
    ),
]


@dataclass(frozen=True)
class Target:
    """One of the project's goals (issue #10), checked against a workload's figures.

    `figure` names a figure; a pair (a, b) means the ratio a / b. `bound` is a number or, as a
    string, another figure of the same workload (e.g. a peer's F1).
    """

    workload: str
    text: str
    figure: str | tuple[str, str]
    op: str  # ">=" or "<="
    bound: float | str

    def measure(self, figures: dict[str, float]) -> tuple[float | None, float | None]:
        """(measured value, bound value); None where a figure is missing."""
        return _value(figures, self.figure), (
            self.bound if isinstance(self.bound, int | float) else _value(figures, self.bound)
        )


def _value(figures: dict[str, float], name: str | tuple[str, str]) -> float | None:
    if isinstance(name, tuple):
        top, bottom = (_value(figures, n) for n in name)
        if top is None or not bottom:
            return None
        return top / bottom
    if "*" in name:  # the smallest of the figures the pattern matches
        matches = [_value(figures, k) for k in figures if fnmatch.fnmatchcase(k, name)]
        values = [v for v in matches if v is not None]
        return min(values) if values else None
    value = figures.get(name)
    if value is None or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


TARGETS = [
    Target("W1", "W1 >= 2x datatrove per core", "datatrove/pilehouse time ratio", ">=", 2.0),
    Target("ANE", "annotation values identical to the old code", "texts differing", "<=", 0),
    Target("ANE", "annotation >= 3x the old per-core throughput", "annotators speedup", ">=", 3.0),
    Target("W1", "W1 decision agreement >= 99.5% (every rule set)", "* agreement %", ">=", 99.5),
    # The worse of Pilehouse's signature code alone and its Spark stage.
    Target("W3", "W3 signatures >= 3x datatrove (worst path)", "pilehouse*/datatrove", ">=", 3.0),
    Target("W4", "W4 F1 >= datatrove's F1", "pilehouse F1", ">=", "datatrove F1"),
    Target("W4", "W4 wall time <= datatrove's", "pilehouse wall s", "<=", "datatrove wall s"),
    Target(
        "W5",
        "W5 >= 0.3 of the bare xxh3 loop per core (from text)",
        "pilehouse (from text)/bare per core",
        ">=",
        0.3,
    ),
    Target("W6", "W6 recall >= 0.98 (every entity type)", "pilehouse min recall", ">=", 0.98),
    Target(
        "W6", "W6 >= 20 MB/s/core (detect+redact)", "pilehouse detect+redact MB/s/core", ">=", 20.0
    ),
    Target("W7", "W7 Delta write >= 0.8x pyarrow", "write_arrow / pyarrow write", ">=", 0.8),
    Target("W7", "W7 Delta read >= 0.9x pyarrow", "read_arrow / pyarrow read", ">=", 0.9),
    Target("W7", "W7 100 commits <= 30 s", "100 small appends seconds", "<=", 30.0),
    # Issue 19: a newly landed 100-page WARC reaches curated tables, checked, in <= 60 s of runs.
    Target("LND", "landed 100-page WARC curated + checked <= 60 s", "run seconds", "<=", 60.0),
    Target("LND", "its runs succeed and every check passes", "checks failed", "<=", 0),
    # Issue 19: `make run`'s pipeline on the default sample (Spark start included) <= 90 s.
    Target("LND", "`make run`'s pipeline on the default sample <= 90 s", "base run s", "<=", 90.0),
    # Issue 19: all checks of the sample run together >= 5x faster than the old Spark path.
    Target("GAT", "gates: every check of the sample >= 5x the old path", "ratio", ">=", 5.0),
    # Not from issue #10: the classifiers issue's goal for the Spark scoring stage.
    Target("CLS", "CLS Spark stage >= 0.9x the bare loop", "spark/bare ratio", ">=", 0.9),
]

# The W0 figures other workloads' per-core rates are divided by ("fraction of the limit").
LIMIT_MB = "read+hash MB/s/core"
LIMIT_DOCS = "read+hash docs/s/core"


@dataclass
class Outcome:
    key: str
    module: str
    title: str
    status: str  # ok | failed | timed out | not built | no figures
    seconds: float = 0.0
    figures: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    measured: str = ""  # when it finished (UTC)
    load: str = ""  # 1-minute load average before and after: the machine may be shared
    command: str = ""  # the runner command it was measured by


# ---------------------------------------------------------------------------------------
# Child side: run one workload's main() and report its figures
# ---------------------------------------------------------------------------------------


def child(module_name: str, argv: list[str]) -> int:
    # The runner stops a workload with SIGTERM: exit through SystemExit so that the
    # workload's finally blocks run (servers it started in their own sessions, temp dirs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    module = importlib.import_module(module_name)
    result = module.main(argv)
    if isinstance(result, int) and not isinstance(result, bool):
        # An older script that returns an exit code: no figures to report.
        print(f"{RESULT_PREFIX}{json.dumps({'_exit_code': result})}", flush=True)
        return result
    if not isinstance(result, dict):
        print(f"{module_name}.main returned {type(result).__name__}, not a dict", file=sys.stderr)
        return 2
    figures = {str(k): _jsonable(v) for k, v in result.items()}
    print(f"{RESULT_PREFIX}{json.dumps(figures)}", flush=True)
    return 0


def _jsonable(value: object) -> float | int | str | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    try:
        return float(value)  # numpy scalars
    except (TypeError, ValueError):
        return str(value)


# ---------------------------------------------------------------------------------------
# Parent side
# ---------------------------------------------------------------------------------------


def is_built(workload: Workload) -> bool:
    return importlib.util.find_spec(workload.module) is not None


def select(only: str | None) -> list[Workload]:
    if not only:
        return [w for w in WORKLOADS if w.default]
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    chosen = []
    for name in wanted:
        match = [
            w
            for w in WORKLOADS
            if name.upper() == w.key or name in (w.module, w.module.removeprefix("bench."))
        ]
        if not match:
            known = ", ".join(w.key for w in WORKLOADS)
            raise SystemExit(f"unknown workload {name!r} (known: {known})")
        chosen.extend(w for w in match if w not in chosen)
    return chosen


def run_workload(
    workload: Workload,
    args: Sequence[str],
    timeout: float,
    log_dir: Path,
    echo: Callable[[str], None] = print,
) -> Outcome:
    """Run one workload in a fresh interpreter, streaming its output; parse its figures."""
    outcome = Outcome(workload.key, workload.module, workload.title, "not built")
    if not is_built(workload):
        return outcome
    command = [sys.executable, "-m", "bench.run_all", "--child", workload.module, "--", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{workload.key}.log"
    load_before = _load()
    started = time.monotonic()
    figures: dict | None = None
    with log_path.open("w", buffering=1) as log:  # line-buffered: readable while it runs
        log.write(f"$ {' '.join(command)}\n")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group: Spark's JVM goes with it
        )
        tail: list[str] = []

        def pump() -> None:
            nonlocal figures
            for line in process.stdout:
                log.write(line)
                if line.startswith(RESULT_PREFIX):
                    try:
                        figures = json.loads(line[len(RESULT_PREFIX) :])
                    except json.JSONDecodeError:
                        tail.append(line)
                    continue
                echo(line.rstrip("\n"))
                tail.append(line)
                del tail[:-20]

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process)
        except KeyboardInterrupt:
            _kill_group(process)
            raise
        reader.join(10)
    outcome.seconds = time.monotonic() - started
    outcome.measured = _now()
    outcome.load = f"{load_before} -> {_load()}"
    code = process.returncode
    if timed_out:
        outcome.status, outcome.detail = "timed out", f"killed after {timeout:.0f} s"
    elif code != 0:
        outcome.status = "failed"
        outcome.detail = f"exit code {code}" + (
            " (killed by a signal: out of memory?)" if code < 0 else ""
        )
        last = [line.strip() for line in tail if line.strip()]
        if last:
            outcome.detail += f": {last[-1][:200]}"
    elif not figures or set(figures) == {"_exit_code"}:
        outcome.status = "no figures"
        outcome.detail = "main() returned no dict of figures"
    else:
        outcome.status = "ok"
        outcome.figures = figures
    return outcome


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def _fmt(value: float | int | str | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and value > 999):
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 10 else f"{value:.1f}"
    return f"{value:.3g}"


def target_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, str, str, str]]:
    """(target, measured, bound, verdict) for every target."""
    by_key = {o.key: o for o in outcomes}
    rows = []
    for target in TARGETS:
        outcome = by_key.get(target.workload)
        if outcome is None:
            rows.append((target.text, "", "", "not run"))
            continue
        if outcome.status != "ok":
            rows.append((target.text, "", "", f"not measured ({outcome.status})"))
            continue
        measured, bound = target.measure(outcome.figures)
        if measured is None or bound is None:
            rows.append((target.text, "", "", "not measured (figure missing)"))
            continue
        met = measured >= bound if target.op == ">=" else measured <= bound
        rows.append(
            (target.text, _fmt(measured), f"{target.op} {_fmt(bound)}", "MET" if met else "NOT MET")
        )
    return rows


def limit_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, str, str, str]]:
    """Per-core rates of W1..W8 as a fraction of W0's (the machine's limit for this corpus)."""
    base = next((o for o in outcomes if o.key == "W0" and o.status == "ok"), None)
    if base is None:
        return []
    limits = {"MB/s/core": base.figures.get(LIMIT_MB), "docs/s/core": base.figures.get(LIMIT_DOCS)}
    rows = []
    for outcome in outcomes:
        if outcome.key == "W0" or outcome.status != "ok":
            continue
        for name, value in outcome.figures.items():
            for unit, limit in limits.items():
                if name.endswith(unit) and isinstance(value, int | float) and limit:
                    rows.append((outcome.key, name, _fmt(value), f"{value / limit:.3g}"))
    return rows


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    line = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    out = [line.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line.format(*(str(x) for x in row)) for row in rows]
    return out


def render(outcomes: Sequence[Outcome]) -> str:
    out = ["### Workloads", ""]
    out += _table(
        ["id", "workload", "status", "seconds", "finished", "load 1 min", "detail"],
        [
            (
                o.key,
                o.module,
                o.status,
                f"{o.seconds:.0f}" if o.seconds else "",
                o.measured,
                o.load,
                o.detail,
            )
            for o in outcomes
        ],
    )
    figure_rows = [
        (o.key, name, _fmt(value)) for o in outcomes for name, value in o.figures.items()
    ]
    if figure_rows:
        out += ["", "### Figures", ""]
        out += _table(["id", "figure", "value"], figure_rows)
    out += ["", "### Targets (issue #10)", ""]
    out += _table(["target", "measured", "bound", "verdict"], target_rows(outcomes))
    limits = limit_rows(outcomes)
    if limits:
        base = next(o for o in outcomes if o.key == "W0")
        out += [
            "",
            "### Fraction of the machine's limit (W0)",
            "",
            f"MB/s/core divided by W0's {LIMIT_MB} ({_fmt(base.figures.get(LIMIT_MB))}), "
            f"docs/s/core by W0's {LIMIT_DOCS} ({_fmt(base.figures.get(LIMIT_DOCS))}).",
            "",
        ]
        out += _table(["id", "figure", "value", "fraction of W0"], limits)
    return "\n".join(out)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores (os.cpu_count)": str(os.cpu_count()),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
        info["load average"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        pass
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return info


def previous_outcomes(out_dir: Path) -> list[Outcome]:
    """The outcomes of the last report in out_dir (for --merge); none if there is none."""
    path = out_dir / "latest.json"
    if not path.exists():
        return []
    saved = json.loads(path.read_text())
    known = {f.name for f in dataclasses.fields(Outcome)}
    return [
        Outcome(**{k: v for k, v in entry.items() if k in known})
        for entry in saved.get("workloads", [])
    ]


def merge(previous: Sequence[Outcome], current: Sequence[Outcome]) -> list[Outcome]:
    """The current outcomes, plus previous measured ones of workloads not run now, in the
    order of WORKLOADS."""
    by_key = {o.key: o for o in previous if o.status == "ok"}
    by_key.update({o.key: o for o in current})
    order = {w.key: i for i, w in enumerate(WORKLOADS)}
    return sorted(by_key.values(), key=lambda o: order.get(o.key, len(order)))


def write_report(
    outcomes: Sequence[Outcome], command: str, info: dict[str, str], out_dir: Path
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    commands = sorted({o.command for o in outcomes if o.command} | ({command} - {""}))
    lines = [
        "# Latest benchmark run",
        "",
        "Commands: " + ", ".join(f"`{c}`" for c in commands),
        "",
        *(f"- {name}: {value}" for name, value in info.items()),
        "",
        render(outcomes),
        "",
    ]
    path = out_dir / "latest.md"
    path.write_text("\n".join(lines))
    (out_dir / "latest.json").write_text(
        json.dumps(
            {
                "command": command,
                "machine": info,
                "workloads": [asdict(o) for o in outcomes],
                "targets": [
                    dict(zip(("target", "measured", "bound", "verdict"), row, strict=True))
                    for row in target_rows(outcomes)
                ],
            },
            indent=2,
        )
        + "\n"
    )
    return path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        rest = argv[2:]
        return child(argv[1], rest[1:] if rest[:1] == ["--"] else rest)
    parser = argparse.ArgumentParser(
        prog="python -m bench.run_all",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", help="comma-separated workload ids or module names (W3,W4)")
    parser.add_argument("--quick", action="store_true", help="pass --quick: small sizes")
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds per workload (default: its own limit, 20 minutes for most, half with --quick)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the last report's measured workloads that this run does not run",
    )
    parser.add_argument(
        "--combine",
        type=Path,
        action="append",
        metavar="DIR",
        help="run nothing: merge the reports in DIR (repeatable) into the one in --out",
    )
    args = parser.parse_args(argv)

    chosen = select(args.only)
    if args.list:
        for w in WORKLOADS:
            built = "built" if is_built(w) else "not built"
            default = "" if w.default else " (only with --only)"
            print(f"{w.key:<4} {w.module:<24} {built:<10} {w.title}{default}")
        return 0
    if args.combine:
        outcomes = previous_outcomes(args.out)
        for folder in args.combine:  # a later report's workloads replace the earlier ones
            outcomes = merge([], [*outcomes, *previous_outcomes(folder)])
        print(render(outcomes))
        path = write_report(outcomes, "", machine(), args.out)
        print(f"\nwritten to {path} and {path.with_suffix('.json')}")
        return 0
    child_args = ["--quick"] if args.quick else []
    command = ("python -m bench.run_all " + " ".join(argv)).strip()
    info = machine()
    previous = previous_outcomes(args.out) if args.merge else []

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt  # run_workload then stops the running workload's group

    signal.signal(signal.SIGTERM, interrupted)
    outcomes = []
    for workload in chosen:
        print(f"\n===== {workload.key} {workload.module}: {workload.title} =====", flush=True)
        timeout = args.timeout or workload.minutes * (30 if args.quick else 60)
        outcome = run_workload(workload, child_args, timeout, args.out / "logs")
        outcome.command = command
        print(f"----- {workload.key}: {outcome.status} in {outcome.seconds:.0f} s", flush=True)
        outcomes.append(outcome)
        # After every workload, so an interrupted run still leaves what it measured.
        write_report(merge(previous, outcomes) if args.merge else outcomes, command, info, args.out)
    if args.merge:
        outcomes = merge(previous, outcomes)
    print("\n" + render(outcomes))
    path = write_report(outcomes, command, info, args.out)
    print(f"\nwritten to {path} and {path.with_suffix('.json')}")
    return 0 if all(o.status in ("ok", "not built") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
