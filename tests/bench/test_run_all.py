"""The benchmark runner: workload modules follow the contract, figures come back from a child
process, missing and failing workloads are reported, and targets are judged from figures.

Peers (datatrove, spaCy, datasketch, ...) are not installed in CI, so workload modules are read
with `ast` here, never imported; only W0 and W7, which need no peer, are run.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench import run_all
from bench.run_all import WORKLOADS, Outcome, Workload, run_workload, target_rows

BENCH = Path(run_all.__file__).parent


def _main_function(path: Path) -> ast.FunctionDef | None:
    tree = ast.parse(path.read_text())
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"), None)


def test_every_present_workload_has_main_and_quick():
    present = [w for w in WORKLOADS if (BENCH / f"{w.module.split('.')[1]}.py").exists()]
    assert {"bench.baseline", "bench.delta_layer"} <= {w.module for w in present}
    for workload in present:
        path = BENCH / f"{workload.module.split('.')[1]}.py"
        main = _main_function(path)
        assert main is not None, f"{path} has no main()"
        assert [a.arg for a in main.args.args] == ["argv"], f"{path}: main(argv) expected"
        assert '"--quick"' in path.read_text(), f"{path} does not accept --quick"


def test_runner_lists_only_known_workloads():
    assert [w.key for w in run_all.select("w7,baseline")] == ["W7", "W0"]
    assert all(w.default for w in run_all.select(None))
    with pytest.raises(SystemExit):
        run_all.select("W42")


def _corpus(tmp_path: Path, docs: int = 500) -> Path:
    path = tmp_path / "corpus.parquet"
    texts = [f"document {i} " + "word " * (i % 50 + 5) for i in range(docs)]
    pq.write_table(pa.table({"id": [str(i) for i in range(docs)], "text": texts}), path)
    return path


def test_w0_figures_come_back_through_the_child_protocol(tmp_path):
    baseline = next(w for w in WORKLOADS if w.key == "W0")
    lines: list[str] = []
    outcome = run_workload(
        baseline,
        ["--parquet", str(_corpus(tmp_path)), "--repeat", "1"],
        timeout=120,
        log_dir=tmp_path / "logs",
        echo=lines.append,
    )
    assert outcome.status == "ok", outcome.detail
    assert outcome.figures["docs"] == 500
    for name in (run_all.LIMIT_MB, run_all.LIMIT_DOCS, "empty loop docs/s/core"):
        assert outcome.figures[name] > 0
    assert any(line.startswith("step") for line in lines)  # the workload's own table
    assert not any(line.startswith(run_all.RESULT_PREFIX) for line in lines)
    assert (tmp_path / "logs" / "W0.log").read_text().count(run_all.RESULT_PREFIX) == 1


def test_missing_and_failing_workloads_are_reported_not_raised(tmp_path):
    missing = Workload("WX", "bench.not_written_yet", "absent")
    assert run_workload(missing, [], 10, tmp_path).status == "not built"
    # run_all itself as a "workload" that rejects its arguments: argparse exits with 2.
    broken = Workload("WF", "bench.run_all", "fails")
    outcome = run_workload(broken, ["--no-such-flag"], 60, tmp_path, echo=lambda _: None)
    assert outcome.status == "failed"
    assert "exit code 2" in outcome.detail


def test_targets_are_judged_from_figures():
    outcomes = [
        Outcome(
            "W7",
            "bench.delta_layer",
            "",
            "ok",
            figures={
                "write_arrow / pyarrow write": 0.85,
                "read_arrow / pyarrow read": 0.5,
                "100 small appends seconds": 12.0,
            },
        ),
        Outcome("W4", "bench.fuzzy_dedup", "", "ok", figures={"pilehouse F1": 0.9}),
        Outcome("W3", "bench.minhash", "", "not built"),
        Outcome(
            "W1",
            "bench.annotation",
            "",
            "ok",
            figures={"c4 agreement %": 99.9, "fineweb agreement %": 99.2, "pages": 5},
        ),
    ]
    verdicts = {row[0]: row[3] for row in target_rows(outcomes)}
    assert verdicts["W7 Delta write >= 0.8x pyarrow"] == "MET"
    assert verdicts["W7 Delta read >= 0.9x pyarrow"] == "NOT MET"
    assert verdicts["W7 100 commits <= 30 s"] == "MET"
    assert verdicts["W4 F1 >= datatrove's F1"] == "not measured (figure missing)"
    assert verdicts["W3 signatures >= 3x datatrove (worst path)"] == "not measured (not built)"
    assert verdicts["W5 >= 0.3 of the bare xxh3 loop per core (from text)"] == "not run"
    rows = {row[0]: row for row in target_rows(outcomes)}
    # A pattern target takes the worst of the figures it matches.
    assert rows["W1 decision agreement >= 99.5% (every rule set)"][1:] == (
        "99.2",
        ">= 99.5",
        "NOT MET",
    )


def test_report_files_are_written(tmp_path):
    outcome = Outcome("W7", "bench.delta_layer", "", "ok", 3.0, {"100 small appends seconds": 9.5})
    path = run_all.write_report([outcome], "python -m bench.run_all", run_all.machine(), tmp_path)
    text = path.read_text()
    assert re.search(r"\| W7 +\| 100 small appends seconds +\| 9\.5 +\|", text)
    assert re.search(r"\| W7 100 commits <= 30 s +\| 9\.5 +\| <= 30\.0 +\| MET +\|", text)
    saved = json.loads((tmp_path / "latest.json").read_text())
    assert saved["workloads"][0]["figures"] == {"100 small appends seconds": 9.5}


def test_w7_arrow_layer_and_appends_without_spark():
    from bench import delta_layer

    figures = delta_layer.main(["--no-spark", "--mb", "4", "--repeat", "1"])
    for name in (
        "write_arrow / pyarrow write",
        "read_arrow / pyarrow read",
        "100 small appends seconds",
    ):
        assert figures[name] > 0
    assert "spark session start s" not in figures


@pytest.mark.slow
@pytest.mark.spark
def test_w7_quick_in_its_own_process(tmp_path):
    w7 = next(w for w in WORKLOADS if w.key == "W7")
    outcome = run_workload(w7, ["--quick", "--repeat", "1"], 900, tmp_path, echo=lambda _: None)
    assert outcome.status == "ok", outcome.detail
    for name in (
        "spark session start s",
        "write_table / spark parquet write",
        "python per-task overhead ms",
    ):
        assert outcome.figures[name] > 0


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("bench.corpus") is None, reason="bench/corpus.py not written yet"
)
def test_w0_quick_on_the_benchmark_corpus(tmp_path):
    w0 = next(w for w in WORKLOADS if w.key == "W0")
    outcome = run_workload(w0, ["--quick", "--repeat", "1"], 900, tmp_path, echo=lambda _: None)
    assert outcome.status == "ok", outcome.detail
    assert outcome.figures["docs"] > 0


def test_merge_keeps_earlier_measurements_of_workloads_not_run_again(tmp_path):
    earlier = [
        Outcome("W0", "bench.baseline", "", "ok", 5.0, {"docs": 10}, command="run A"),
        Outcome("W7", "bench.delta_layer", "", "ok", 9.0, {"table MB": 50}, command="run A"),
        Outcome("W3", "bench.minhash", "", "failed", detail="exit code 1"),
    ]
    run_all.write_report(earlier, "run A", {}, tmp_path)
    previous = run_all.previous_outcomes(tmp_path)
    assert [o.key for o in previous] == ["W0", "W7", "W3"]
    now = [Outcome("W7", "bench.delta_layer", "", "ok", 8.0, {"table MB": 1000}, command="B")]
    merged = run_all.merge(previous, now)
    assert [(o.key, o.figures) for o in merged] == [
        ("W0", {"docs": 10}),
        ("W7", {"table MB": 1000}),
    ]
    text = run_all.write_report(merged, "B", {}, tmp_path).read_text()
    assert "Commands: `B`, `run A`" in text


def test_combine_merges_reports_of_separate_runs(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    run_all.write_report(
        [Outcome("W7", "bench.delta_layer", "", "ok", 1.0, {"x": 1}, command="A")], "A", {}, first
    )
    run_all.write_report(
        [Outcome("W3", "bench.minhash", "", "failed", detail="exit code 1", command="B")],
        "B",
        {},
        second,
    )
    assert run_all.main(["--out", str(first), "--combine", str(second)]) == 0
    combined = run_all.previous_outcomes(first)
    assert [(o.key, o.status) for o in combined] == [("W3", "failed"), ("W7", "ok")]
