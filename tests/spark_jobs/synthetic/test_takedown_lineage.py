"""A takedown of a source document removes every synthetic sample made from it, and a
sample's lineage names its source document and recipe (Delta tables, no Spark)."""

from __future__ import annotations

import pyarrow as pa

from spark_jobs.delta import read_arrow, write_arrow
from spark_jobs.lake import Lake
from spark_jobs.lineage import document_lineage, render_document_lineage
from spark_jobs.takedown import TakedownRequest, takedown


def synthetic_rows(n_sources: int) -> pa.Table:
    rows = [
        {
            "id": f"syn-{i}-{v}",
            "recipe": "rephrase-test",
            "source": "rephrase-test",
            "source_table": "curated.web",
            "source_version": 3,
            "source_doc_id": f"web-{i:03d}",
            "template_hash": "abcdef0123456789",
            "model": "pilehouse-tiny-bytes",
            "model_fingerprint": "fp_0123",
            "text": "rewritten",
            "chunk": i % 2,
        }
        for i in range(n_sources)
        for v in range(2)
    ]
    return pa.Table.from_pylist(rows)


def test_takedown_reaches_synthetic_samples_and_lineage_names_the_source(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    web = pa.table(
        {
            "id": ["web-000", "web-001"],
            "source": ["sample-crawl"] * 2,
            "url": ["https://a.example/0", "https://b.example/1"],
            "text": ["zero", "one"],
        }
    )
    write_arrow(web, lake.uri("curated.web"), mode="overwrite", partition_by=["source"])
    uri = lake.uri("synthetic.rephrase-test")
    write_arrow(synthetic_rows(2), uri, mode="overwrite", partition_by=["chunk"])
    curated = synthetic_rows(2).select(["id", "source", "source_doc_id", "text"])
    write_arrow(curated, lake.uri("curated.synthetic"), mode="overwrite", partition_by=["source"])

    shown = render_document_lineage(document_lineage("syn-0-1", lake, None))
    assert "synthetic sample of recipe rephrase-test" in shown
    assert "source document web-000 of curated.web @ v3" in shown
    assert "template abcdef0123456789" in shown and "pilehouse-tiny-bytes" in shown

    report = takedown(lake, TakedownRequest(domain="a.example", reason="opt-out"))
    assert set(report.document_ids) == {"web-000", "syn-0-0", "syn-0-1"}
    assert {d.table for d in report.deletions} == {
        "curated.web",
        "synthetic.rephrase-test",
        "curated.synthetic",
    }
    left = read_arrow(uri)["id"].to_pylist()
    assert sorted(left) == ["syn-1-0", "syn-1-1"]
    assert sorted(read_arrow(lake.uri("curated.synthetic"))["id"].to_pylist()) == left
