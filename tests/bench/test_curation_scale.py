"""The scale benchmark, at a tiny size through the runner: every stage runs on real Spark and Delta
tables, every document is accounted for, and the new partition's signatures are the only ones
recomputed."""

from __future__ import annotations

import pytest

from bench.run_all import WORKLOADS, run_workload

STAGES = (
    "annotate",
    "signatures",
    "paragraphs",
    "exact clusters",
    "fuzzy clusters",
    "curate",
    "increment: annotate",
    "increment: curate",
)


@pytest.mark.spark
@pytest.mark.slow
def test_scale_bench_runs_every_stage_and_accounts_for_every_document(tmp_path):
    workload = next(w for w in WORKLOADS if w.module == "bench.curation_scale")
    lines: list[str] = []
    outcome = run_workload(
        workload,
        ["--docs", "600", "--increment", "60", "--cores", "2"],
        timeout=600,
        log_dir=tmp_path,
        echo=lines.append,
    )
    assert outcome.status == "ok", outcome.detail + "\n".join(lines[-30:])
    figures = outcome.figures
    for stage in STAGES:
        assert figures[f"{stage} docs/s/core"] > 0
        assert figures[f"{stage} MB/s/core"] > 0
        assert figures[f"{stage} peak GiB"] > 0.1  # at least the JVM
    assert figures["annotate rows"] == figures["signatures rows"] == 600
    assert figures["paragraphs rows"] == 600
    assert figures["curate kept"] + figures["curate rejected"] == 600
    assert figures["increment: curate kept"] + figures["increment: curate rejected"] == 660
    # The corpus plants exact copies and near duplicates.
    assert figures["exact clusters duplicates"] > 0
    assert figures["fuzzy clusters duplicates"] > 0
    assert figures["curate signature partitions recomputed"] == 0
    assert figures["curate signature partitions reused"] == 4
    assert figures["increment: curate signature partitions recomputed"] == 1
    assert figures["increment: curate signature partitions reused"] == 4
    assert figures["peak GiB"] == max(figures[f"{s} peak GiB"] for s in STAGES)


def test_compare_annotations_counts_the_rows_whose_annotations_changed(tmp_path):
    import pyarrow as pa

    from bench.curation_scale import compare_annotations
    from spark_jobs.delta import write_arrow

    def table(scores: list[float]) -> str:
        uri = str(tmp_path / f"t{len(list(tmp_path.iterdir()))}")
        n = len(scores)
        rows = pa.table(
            {
                "id": [f"d{i}" for i in range(n)],
                "language": ["en"] * n,
                "language_score": scores,
                "script": ["Latin"] * n,
                "quality_signals": [{"word_count": 3}] * n,
                "text_hash": ["h"] * n,
                "pii_counts": [{"email": 0}] * n,
            }
        )
        write_arrow(rows, uri, mode="overwrite")
        return uri

    before = table([0.9, 0.8, 0.7])
    assert compare_annotations(before, table([0.9, 0.8, 0.7])) == {
        "rows compared": 3,
        "rows differing": 0,
    }
    assert compare_annotations(before, table([0.9, 0.5, 0.7]))["rows differing"] == 1
