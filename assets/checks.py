"""Asset-check factory: run a suite on a lake table as a blocking Dagster check.

A check validates the table's current version with GX (its pandas engine on a small table's
collected frames, its Spark engine on a big table; quality/validation.py), appends every outcome
to quality.validations, publishes the result to Data Docs, and fails (blocking everything
downstream in the run) when any expectation fails.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from assets.resources import LakehouseResource
from quality.promises import (
    CONSERVATION,
    CURATED_DISTRIBUTION,
    CURATED_DOCUMENTS,
    PROMISES,
    RAW_DOCUMENTS,
)
from spark_jobs.lake import document_tables

if TYPE_CHECKING:  # Great Expectations and pyspark load when a check runs, not with the defs
    from quality.validation import ValidationReport

PARTITION_TAG = "dagster/partition"


def _cell(value: Any) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in header) + " |" for row in rows]
    return "\n".join(lines)


def check_metadata(
    report: "ValidationReport", version: int, baseline: int | None
) -> dict[str, dg.MetadataValue]:
    """What a reviewer sees in the UI: every outcome, the failures with offending ids, aggregates."""
    results = [
        {
            "promise": o.description or o.expectation,
            "batch": o.batch,
            "expectation": o.expectation,
            "column": o.column or "",
            "ok": "yes" if o.success else "NO",
            "observed": o.observed,
            "sample ids": ", ".join(o.sample_ids[:5]),
        }
        for o in report.outcomes
    ]
    metadata = {
        "table version": dg.MetadataValue.int(version),
        "engine": dg.MetadataValue.text(report.engine),
        "expectations": dg.MetadataValue.int(len(report.outcomes)),
        "failed": dg.MetadataValue.int(len(report.failures)),
        "results": dg.MetadataValue.md(_markdown(results)),
        "failures": dg.MetadataValue.json(
            [
                {
                    "promise": o.description,
                    "batch": o.batch,
                    "expectation": o.expectation,
                    "column": o.column,
                    "observed": o.observed,
                    "unexpected_count": o.unexpected_count,
                    "sample_ids": o.sample_ids,
                }
                for o in report.failures
            ]
        ),
    }
    if baseline is not None:
        metadata["baseline version"] = dg.MetadataValue.int(baseline)
    for name, rows in report.tables.items():
        metadata[name] = dg.MetadataValue.md(_markdown(rows))
    return metadata


def table_suite_check(
    asset_key: dg.AssetKey, table: str, suite_name: str
) -> dg.AssetChecksDefinition:
    """A blocking check that validates `table`'s current version against suite `suite_name`."""
    promise = PROMISES[suite_name]

    @dg.asset_check(
        asset=asset_key,
        name=suite_name,
        blocking=True,
        description=f"{promise.description} ({table}; Great Expectations). "
        "A failure stops downstream assets.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
    ) -> dg.AssetCheckResult:
        from quality.history import last_passing_version, record_validation
        from quality.suites import SUITES, Subject
        from quality.validation import validate_suite
        from spark_jobs.delta import open_table

        suite = SUITES[suite_name]
        lake = lakehouse.lake
        version = open_table(lake.uri(table), store=lake.store).version()
        baseline = (
            last_passing_version(lake, table, suite_name, before=version)
            if suite.uses_baseline
            else None
        )
        subject = Subject(
            lakehouse.spark,
            lake,
            table,
            version,
            baseline_version=baseline,
            source=context.run.tags.get(PARTITION_TAG),
        )
        report = validate_suite(suite, subject)
        for failure in report.failures:
            context.log.error(
                f"{table} v{version} {suite_name}: '{failure.description}' failed "
                f"({failure.expectation} on {failure.column}): {failure.observed}; "
                f"e.g. {failure.sample_ids[:5]}"
            )
        run_id = context.run.run_id
        metadata = check_metadata(report, version, baseline)
        history_version = record_validation(
            lake, report, table=table, version=version, run_id=run_id
        )
        metadata["quality.validations version"] = dg.MetadataValue.int(history_version)
        metadata.update(_publish_docs(context, lakehouse, report, table, version))
        return dg.AssetCheckResult(passed=report.success, metadata=metadata)

    return _check


def _publish_docs(
    context: dg.AssetCheckExecutionContext,
    lakehouse: LakehouseResource,
    report: "ValidationReport",
    table: str,
    version: int,
) -> dict[str, dg.MetadataValue]:
    from quality import data_docs
    from spark_jobs.storage import is_s3

    # Data Docs are a view: failing to render them must not fail (or pass) the gate.
    lake = lakehouse.lake
    project = data_docs.project_dir(lake, Path(lakehouse.settings.home))
    try:
        published = data_docs.publish(
            report,
            project=project,
            run_name=f"{table}-v{version}-run-{context.run.run_id[:8]}",
            batch=f"{table.replace('.', '_')}_v{version}",
        )
        if is_s3(lake.root_uri):
            index = data_docs.copy_site(project, lake, published.rebuilt)
            return {"data docs": dg.MetadataValue.url(index)}
    except Exception as error:
        context.log.warning(f"Data Docs not built for {table} v{version}: {error}")
        return {}

    def link(page: Path) -> dg.MetadataValue:
        # An http link (served by `pilehouse ui`): a browser does not open file:// from the UI.
        page = page.resolve()
        return dg.MetadataValue.url(lakehouse.output_url(str(page)) or page.as_uri())

    # This validation's own page (one per batch of the suite), then the site's index.
    first, *others = published.pages or [published.index]
    metadata = {"data docs": link(first)}
    for page in others:  # validations/<suite>/<batch>/<run>/<time>/<table>.html
        metadata[f"data docs ({page.parts[-4]})"] = link(page)
    metadata["data docs index"] = link(published.index)
    metadata["data docs path"] = dg.MetadataValue.path(str(published.index))
    return metadata


CURATED_SUITES = (CURATED_DOCUMENTS, CURATED_DISTRIBUTION, CONSERVATION)


def corpus_checks(
    corpus: str, raw_key: dg.AssetKey, curated_key: dg.AssetKey
) -> list[dg.AssetChecksDefinition]:
    """The gates of one corpus family: schema on its raw table, the curated suites on curated."""
    raw, _, curated = document_tables(corpus)
    return [
        table_suite_check(raw_key, raw, RAW_DOCUMENTS),
        *[table_suite_check(curated_key, curated, suite) for suite in CURATED_SUITES],
    ]
