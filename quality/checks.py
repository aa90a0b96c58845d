"""Asset-check factories: run a GX suite on a lake table as a blocking Dagster check."""

import dagster as dg

from orchestration.resources import LakehouseResource
from quality.suites import SUITES
from quality.validation import ValidationReport, validate_dataframe
from spark_jobs.delta import open_table, read_spark


def _check_metadata(report: ValidationReport, version: int) -> dict[str, dg.MetadataValue]:
    lines = ["| expectation | column | ok | observed | sample ids |", "|---|---|---|---|---|"]
    for o in report.outcomes:
        ids = ", ".join(o.sample_ids[:5])
        lines.append(
            f"| {o.expectation} | {o.column or ''} | {'yes' if o.success else 'NO'} | {o.observed} | {ids} |"
        )
    return {
        "table version": dg.MetadataValue.int(version),
        "expectations": dg.MetadataValue.int(len(report.outcomes)),
        "failed": dg.MetadataValue.int(len(report.failures)),
        "results": dg.MetadataValue.md("\n".join(lines)),
        "failures": dg.MetadataValue.json(
            [
                {
                    "expectation": o.expectation,
                    "column": o.column,
                    "observed": o.observed,
                    "sample_ids": o.sample_ids,
                }
                for o in report.failures
            ]
        ),
    }


def table_suite_check(asset_key: dg.AssetKey, table: str, suite: str) -> dg.AssetChecksDefinition:
    """A blocking check that validates `table`'s current snapshot against `suite`."""

    @dg.asset_check(
        asset=asset_key,
        name=suite,
        blocking=True,
        description=f"Great Expectations suite '{suite}' on {table}; failures stop downstream assets.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
    ) -> dg.AssetCheckResult:
        lake = lakehouse.lake
        version = open_table(lake.uri(table), store=lake.store).version()
        df = read_spark(lakehouse.spark, lake.uri(table), version=version, store=lake.store)
        report = validate_dataframe(df, suite, SUITES[suite]())
        for failure in report.failures:
            context.log.error(
                f"{table} v{version}: {failure.expectation}({failure.column}) failed: "
                f"{failure.observed}; e.g. ids {failure.sample_ids[:5]}"
            )
        return dg.AssetCheckResult(passed=report.success, metadata=_check_metadata(report, version))

    return _check
