"""Run expectation suites on Spark DataFrames with GX's Spark engine (no collect to pandas)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig
from pyspark import StorageLevel
from pyspark.sql import DataFrame

from quality.suites import Batch, Subject, Suite

SAMPLE_IDS = 20
# Never copied into results, check metadata or Data Docs: a failing PII expectation would
# otherwise publish the very text it caught.
HIDDEN_COLUMNS = frozenset({"text"})
SHOWN_ROWS = 50


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    observed: str
    unexpected_count: int | None = None
    sample_ids: list[str] = field(default_factory=list)
    description: str | None = None
    batch: str = ""


@dataclass
class ValidationReport:
    suite: str
    success: bool
    outcomes: list[ExpectationOutcome]
    # Small aggregates the suite shows next to its outcomes (batch name -> rows).
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The GX suites and their results, for Data Docs.
    gx_results: list[tuple[gx.ExpectationSuite, ExpectationSuiteValidationResult]] = field(
        default_factory=list, repr=False
    )

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def _observed(result: dict, column: str | None) -> str:
    if "observed_value" in result:
        return str(result["observed_value"])
    if "unexpected_count" in result:
        text = f"{result['unexpected_count']} of {result.get('element_count')} rows unexpected"
        values = result.get("partial_unexpected_list") or []
        if values and result["unexpected_count"] and column not in HIDDEN_COLUMNS:
            text += f", e.g. {values[:5]}"
        return text
    return ""


def _sample_ids(result: dict, id_column: str) -> list[str]:
    rows = result.get("partial_unexpected_index_list") or []
    return [str(row.get(id_column)) for row in rows if isinstance(row, dict)][:SAMPLE_IDS]


def _hide_columns(result: ExpectationSuiteValidationResult) -> None:
    """Drop hidden columns' values from a GX result before anyone stores or shows it."""
    for r in result.results:
        details = r.result
        if r.expectation_config.kwargs.get("column") in HIDDEN_COLUMNS:
            for key in ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list"):
                details.pop(key, None)
        for key in ("partial_unexpected_index_list", "unexpected_index_list"):
            rows = details.get(key)
            if rows:
                details[key] = [
                    {k: v for k, v in row.items() if k not in HIDDEN_COLUMNS}
                    if isinstance(row, dict)
                    else row
                    for row in rows
                ]


def _exception(r: Any) -> str:
    """The first error GX met computing this expectation ('' if none)."""
    info = r.exception_info or {}
    # Either one {raised_exception, exception_message} or one such dict per failed metric.
    for entry in [info, *[v for v in info.values() if isinstance(v, dict)]]:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "error").splitlines()[0][:300]
    return ""


def validate_dataframe(
    df: DataFrame,
    suite_name: str,
    expectations: Sequence[gxe.Expectation],
    *,
    id_column: str = "id",
    batch: str = "",
) -> ValidationReport:
    """Validate `df` against the expectations and report each outcome with sample offending ids."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_spark("lake")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("snapshot")
    )
    suite = context.suites.add(gx.ExpectationSuite(suite_name, expectations=list(expectations)))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_name, data=batch_definition, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": df},
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_IDS,
            "unexpected_index_column_names": [id_column],
        },
    )
    _hide_columns(result)
    outcomes = []
    for r in result.results:
        column = r.expectation_config.kwargs.get("column")
        error = _exception(r)
        outcomes.append(
            ExpectationOutcome(
                expectation=r.expectation_config.type,
                column=column or _pair(r.expectation_config.kwargs),
                success=bool(r.success),
                observed=f"error: {error}" if error else _observed(r.result, column),
                unexpected_count=r.result.get("unexpected_count"),
                sample_ids=_sample_ids(r.result, id_column),
                description=r.expectation_config.description,
                batch=batch,
            )
        )
    return ValidationReport(
        suite=suite_name,
        success=bool(result.success),
        outcomes=outcomes,
        gx_results=[(suite, result)],
    )


def _pair(kwargs: dict) -> str | None:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    return None


def _rows(batch: Batch) -> list[dict[str, Any]]:
    return [row.asDict() for row in batch.frame.limit(SHOWN_ROWS).collect()]


def validate_suite(suite: Suite, subject: Subject) -> ValidationReport:
    """Run every batch of `suite` on the subject table version and merge the outcomes."""
    report = ValidationReport(suite=suite.name, success=True, outcomes=[])
    for batch in suite.batches(subject):
        frame = batch.frame.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            if batch.show:
                report.tables[batch.name] = _rows(batch)
            if not batch.expectations:
                continue
            gx_name = f"{suite.name}.{batch.name.replace(' ', '_')}"
            part = validate_dataframe(
                frame, gx_name, batch.expectations, id_column=batch.id_column, batch=batch.name
            )
        finally:
            frame.unpersist()
        report.success = report.success and part.success
        report.outcomes += part.outcomes
        report.gx_results += part.gx_results
    return report
