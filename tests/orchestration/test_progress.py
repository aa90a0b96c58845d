"""Progress of runs: read from Dagster's event log, shown line by line when not on a terminal,
ending with a per-step table (step, status, seconds, rows)."""

from __future__ import annotations

import io

import dagster as dg
import pytest

from orchestration.progress import RunProgress, materialized_rows


@dg.asset(key=["demo", "table"])
def demo_table() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"demo.table rows": dg.MetadataValue.int(3), "rejects rows": 2}
    )


@dg.asset(key=["demo", "broken"], deps=[demo_table])
def demo_broken() -> None:
    raise ValueError("this step fails on purpose")


DEFS = dg.Definitions(
    assets=[demo_table, demo_broken],
    jobs=[dg.define_asset_job("demo_job")],
    executor=dg.in_process_executor,
)


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def test_plain_progress_lines_and_step_table(instance):
    out = io.StringIO()
    progress = RunProgress(out)
    assert not progress.live  # a StringIO is not a terminal: plain lines
    with progress.follow(instance, "demo_job") as run_id:
        result = DEFS.resolve_job_def("demo_job").execute_in_process(
            instance=instance, raise_on_error=False, run_id=run_id
        )
    assert result.run_id == run_id and not result.success
    progress.render_table()
    text = out.getvalue()
    lines = text.splitlines()
    assert any("demo_job > demo__table: started" in line for line in lines), text
    assert any("demo__table: succeeded in" in line and "3 rows" in line for line in lines), text
    assert any("demo__broken: FAILED" in line for line in lines), text
    assert any(line.startswith(f"run {run_id[:8]} demo_job: FAILURE") for line in lines), text
    header = next(
        i
        for i, line in enumerate(lines)
        if line.split()[:5] == ["run", "step", "status", "seconds", "rows"]
    )
    table = [line.split() for line in lines[header + 1 :]]
    assert [row[:3] for row in table] == [
        ["demo_job", "demo__table", "SUCCESS"],
        ["demo_job", "demo__broken", "FAILURE"],
    ], text
    assert table[0][4] == "3"  # the table's own row count, not rejects' 2
    assert float(table[0][3]) >= 0


def test_materialized_rows_prefers_the_assets_own_table():
    key = dg.AssetKey(["raw", "web"])
    metadata = {
        "raw.web rows": dg.MetadataValue.int(10),
        "quarantine rows": dg.MetadataValue.int(4),
        "raw.web bytes": dg.MetadataValue.int(2048),
    }
    assert materialized_rows(key, metadata) == (10, 2048)
    other = {"mixture rows": dg.MetadataValue.int(5), "shard rows": dg.MetadataValue.int(6)}
    assert materialized_rows(dg.AssetKey(["mixtures", "x"]), other) == (11, None)
    assert materialized_rows(key, {"note": dg.MetadataValue.text("no counts")}) == (None, None)
