"""The corpus report counts papers per route and parser, and those not read per reason."""

import pyarrow as pa

from spark_jobs.analyst.corpus_report import _routes_chart, paper_routes
from spark_jobs.analyst.sql import LakeSQL
from spark_jobs.delta import write_arrow
from spark_jobs.lake import Lake


def test_papers_are_counted_per_route_and_parser_and_per_reason_not_read(tmp_path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    routes = [
        ("latex", "pilehouse-latex"),
        ("latex", "pilehouse-latex"),
        ("text_layer", "pypdfium2"),
        ("ocr", "tesseract"),
        ("mixed", "pypdfium2+tesseract"),
    ]
    raw = pa.table(
        {
            "id": [f"p{i}" for i in range(len(routes))],
            "corpus": ["papers"] * len(routes),
            "source": ["arxiv"] * len(routes),
            "route": [route for route, _ in routes],
            "parser": [parser for _, parser in routes],
        }
    )
    write_arrow(raw, lake.uri("raw.papers"), mode="overwrite")
    quarantine = pa.table(
        {
            "id": ["q1", "q2", "q3", "w1"],
            "corpus": ["papers", "papers", "papers", "web"],
            "source": ["arxiv", "arxiv", "arxiv", "crawl"],
            "locator": ["a.pdf", "b.pdf", "c.tar.gz", "warc#1"],
            "stage": ["ingest"] * 4,
            "reason": ["pdf_no_text_layer", "pdf_no_text_layer", "corrupt_archive", "gzip_corrupt"],
        }
    )
    write_arrow(quarantine, lake.uri("quarantine"), mode="overwrite")

    with LakeSQL(lake) as sql:
        counts = paper_routes(sql, lake.tables())
        chart, png = _routes_chart(sql, lake.tables())

    rows = {
        (row.outcome, row.route, row.parser, row.reason): row.documents
        for row in counts.astype(object).where(counts.notna(), None).itertuples()
    }
    assert rows == {
        ("read", "latex", "pilehouse-latex", None): 2,
        ("read", "text_layer", "pypdfium2", None): 1,
        ("read", "ocr", "tesseract", None): 1,
        ("read", "mixed", "pypdfium2+tesseract", None): 1,
        ("quarantined", None, None, "pdf_no_text_layer"): 2,
        ("quarantined", None, None, "corrupt_archive"): 1,
    }
    assert chart.file == "paper_routes.png" and png.startswith(b"\x89PNG")
