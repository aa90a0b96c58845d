"""Reports over the lake: the corpus report (HTML + PNG charts), linked from the asset's metadata."""

import dagster as dg

from assets.automation import EAGER_AFTER_GATES
from assets.resources import LakehouseResource
from assets.web import CURATED_WEB

CORPUS_REPORT = dg.AssetKey(["reports", "corpus"])


@dg.asset(
    key=CORPUS_REPORT,
    deps=[CURATED_WEB],
    group_name="reports",
    kinds={"duckdb", "html"},
    automation_condition=EAGER_AFTER_GATES,
)
def corpus_report(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    """Corpus report: words by source/license/language, lengths, quality, removals, duplicates."""
    from spark_jobs.analyst.corpus_report import write_corpus_report  # matplotlib: when it runs

    report = write_corpus_report(lakehouse.lake)
    # An http link (served by `pilehouse ui`): a browser does not open file:// from the UI.
    link = lakehouse.output_url(report.index_uri) or (
        report.index_uri if "://" in report.index_uri else f"file://{report.index_uri}"
    )
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.url(link),
            "report path": dg.MetadataValue.path(report.index_uri),
            "curated.web version": dg.MetadataValue.int(report.curated_version),
            "charts": dg.MetadataValue.int(len(report.charts)),
        }
    )
