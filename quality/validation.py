"""Run an expectation suite on a Spark DataFrame with GX's Spark engine (no collect to pandas)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig
from pyspark.sql import DataFrame

SAMPLE_IDS = 20


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    observed: str
    unexpected_count: int | None = None
    sample_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ValidationReport:
    suite: str
    success: bool
    outcomes: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def _observed(result: dict) -> str:
    if "observed_value" in result:
        return str(result["observed_value"])
    if "unexpected_count" in result:
        return f"{result['unexpected_count']} of {result.get('element_count')} rows unexpected"
    return ""


def _sample_ids(result: dict, id_column: str) -> list[str]:
    rows = result.get("partial_unexpected_index_list") or []
    return [str(row.get(id_column)) for row in rows if isinstance(row, dict)][:SAMPLE_IDS]


def validate_dataframe(
    df: DataFrame,
    suite_name: str,
    expectations: Sequence[gxe.Expectation],
    *,
    id_column: str = "id",
) -> ValidationReport:
    """Validate `df` against the expectations and report each outcome with sample offending ids."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_spark("lake")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("snapshot")
    )
    suite = context.suites.add(gx.ExpectationSuite(suite_name, expectations=list(expectations)))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": df},
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_IDS,
            "unexpected_index_column_names": [id_column],
        },
    )
    outcomes = [
        ExpectationOutcome(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            observed=_observed(r.result),
            unexpected_count=r.result.get("unexpected_count"),
            sample_ids=_sample_ids(r.result, id_column),
        )
        for r in result.results
    ]
    return ValidationReport(suite=suite_name, success=bool(result.success), outcomes=outcomes)
