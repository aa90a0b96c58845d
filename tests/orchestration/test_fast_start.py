"""Fast start: light commands do not import the heavy libraries, and loading the Dagster
definitions imports none of pyspark, torch, MLflow and Great Expectations (each is imported
inside the asset or check that uses it). Each probe runs in a fresh interpreter; the import cost is measured with `python -X importtime` and printed (the figure
depends on the machine's load, so no test bounds it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("pyspark", "torch", "mlflow", "great_expectations")


def _probe(
    code: str, env: dict[str, str] | None = None, *flags: str
) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def _heavy_after(code: str, env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """The heavy top-level packages in sys.modules after `code` ran, and its stdout."""
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = _probe(probe, env)
    assert done.returncode == 0, done.stderr[-2000:]
    *output, last = done.stdout.strip().splitlines()
    return json.loads(last), "\n".join(output)


def test_sql_select_one_imports_no_spark(tmp_path):
    heavy, output = _heavy_after(
        "from orchestration.cli import main\nassert main(['sql', 'SELECT 1 AS one']) == 0",
        {"PILEHOUSE_HOME": str(tmp_path)},
    )
    assert "(1 row)" in output
    assert "pyspark" not in heavy, heavy
    assert "torch" not in heavy, heavy


def test_status_imports_no_spark(tmp_path):
    heavy, output = _heavy_after(
        "from orchestration.cli import main\nassert main(['status']) == 0",
        {"PILEHOUSE_HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path / "dagster")},
    )
    assert "queued or running:" in output
    assert "pyspark" not in heavy, heavy


def test_definitions_load_without_heavy_libraries_and_print_their_cost(capsys):
    """Loading the code location imports none of pyspark, torch, MLflow or Great Expectations
    (they load inside the asset or check that uses them); what loading costs is printed."""
    done = _probe(
        "import resource, sys, json\nfrom orchestration.definitions import defs\n"
        "assert defs.resolve_all_job_defs()\n"
        "assert defs.resolve_asset_graph().asset_check_keys\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(usage.ru_utime + usage.ru_stime)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))",
        None,
        "-X",
        "importtime",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    *_, cpu, last = done.stdout.strip().splitlines()
    heavy = json.loads(last)
    cumulative = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, total, name = line.split("|")
            if total.strip().isdigit():
                cumulative[name.strip()] = int(total)
    seconds = cumulative["orchestration.definitions"] / 1e6
    with capsys.disabled():
        print(
            f"\nimporting orchestration.definitions: {seconds:.2f} s cumulative "
            f"(python -X importtime); the whole process: {float(cpu):.2f} s CPU; "
            f"heavy packages loaded: {', '.join(heavy) or 'none'}"
        )
    assert heavy == [], f"loading the definitions imported {heavy}: import them where used"


def test_light_asset_modules_name_the_engines_tables():
    """assets/dedup.py spells the shared curation tables so as not to import the stages."""
    from assets.dedup import _SHARED
    from spark_jobs.stages import CLUSTER_TABLE, FLAG_TABLE

    assert sorted(_SHARED.values()) == sorted([CLUSTER_TABLE, FLAG_TABLE])


def test_classifier_assets_name_the_registrys_latest():
    """assets/classifiers.py spells the registry's LATEST so as not to import MLflow for it."""
    from assets.classifiers import LATEST
    from spark_jobs.classifiers.registry import LATEST as REGISTRY_LATEST

    assert LATEST == REGISTRY_LATEST
