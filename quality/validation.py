"""Run expectation suites as Great Expectations validations, in as few Spark jobs as GX allows.

A suite on a small table (at most bounds.yaml's `engine.pandas_max_bytes` of Delta files)
reads the tables it needs into memory with delta-rs, computes each frame it validates in this
process (quality.measures' `*_rows`) and validates the rows with GX's pandas engine: no Spark
job runs (type expectations are judged by GX's Spark engine on a frame with the rows' schema
and no rows). A bigger table stays on GX's Spark engine, where each expectation costs a few
Spark jobs over the cached frame. Both report the same outcomes (tests/quality/test_gates.py
compares them).
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.validator.validation_statistics import calc_validation_statistics
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql.types import ArrayType, MapType, StructType

from quality.bounds import Judged, pandas_max_bytes
from quality.suites import Batch, Subject, Suite, snapshot_bytes
from spark_jobs.delta import open_table

# auto: pandas up to engine.pandas_max_bytes of Delta files, Spark above.
Engine = Literal["auto", "pandas", "spark"]
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
    # The GX engine that computed the rows' metrics: pandas or spark.
    engine: str = "spark"
    # Distribution measures with their bounds (quality.bounds), recorded in quality.profiles.
    judged: list[Judged] = field(default_factory=list)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def _plain(value: Any) -> Any:
    """numpy scalars (GX's pandas engine reports them, also in pairs) as the Python values
    GX's Spark engine reports."""
    if isinstance(value, tuple | list):
        return type(value)(_plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def _observed(result: dict, column: str | None) -> str:
    if "observed_value" in result:
        return str(_plain(result["observed_value"]))
    if "unexpected_count" in result:
        text = f"{result['unexpected_count']} of {result.get('element_count')} rows unexpected"
        values = [_plain(v) for v in result.get("partial_unexpected_list") or []]
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


# GX's pandas engine knows no Spark type names (StringType, LongType): type expectations are
# judged by GX's Spark engine, which reads them from the frame's schema without a Spark job.
SCHEMA_EXPECTATIONS = (gxe.ExpectColumnValuesToBeOfType,)
# Arrow integers with nulls would become floats in pandas (5.0 where Spark reports 5).
NULLABLE_INTEGERS = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
}


def validate_dataframe(
    df: DataFrame | None,
    suite_name: str,
    expectations: Sequence[gxe.Expectation],
    *,
    id_column: str = "id",
    batch: str = "",
    rows: pa.Table | None = None,
) -> ValidationReport:
    """Validate `df` against the expectations and report each outcome with sample offending ids.

    Without `rows`, GX's Spark engine computes every metric on `df`. With `rows` (df's rows,
    collected or computed in this process), GX's pandas engine validates them and no Spark
    job runs; type expectations are still judged on df's schema (df may then have no rows,
    and is only needed when there are type expectations), and both land in one GX result.
    """
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # Copies: an expectation belongs to one GX suite, and a caller may validate a list twice.
    copies = [copy.copy(e) for e in expectations]
    if rows is None:
        suite, result = _run(context, "spark", df, suite_name, copies, id_column)
    else:
        on_schema = [e for e in copies if isinstance(e, SCHEMA_EXPECTATIONS)]
        on_rows = [e for e in copies if not isinstance(e, SCHEMA_EXPECTATIONS)]
        parts = []
        if on_rows:
            frame = rows.to_pandas(types_mapper=NULLABLE_INTEGERS.get)
            parts.append(_run(context, "pandas", frame, suite_name, on_rows, id_column))
        if on_schema:
            parts.append(_run(context, "spark", df, f"{suite_name}.schema", on_schema, id_column))
        suite, result = parts[0] if len(parts) == 1 else _merged(suite_name, copies, parts)
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
        engine="spark" if rows is None else "pandas",
    )


def _run(
    context: Any,
    engine: str,
    data: DataFrame | pd.DataFrame,
    suite_name: str,
    expectations: Sequence[gxe.Expectation],
    id_column: str,
) -> tuple[gx.ExpectationSuite, ExpectationSuiteValidationResult]:
    """One GX validation of `data` with the named engine's datasource."""
    sources = context.data_sources
    source = sources.add_spark(engine) if engine == "spark" else sources.add_pandas(engine)
    batch_definition = source.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe(
        "snapshot"
    )
    suite = context.suites.add(gx.ExpectationSuite(suite_name, expectations=list(expectations)))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_name, data=batch_definition, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": data},
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_IDS,
            "unexpected_index_column_names": [id_column],
        },
    )
    return suite, result


def _merged(
    suite_name: str,
    expectations: Sequence[gxe.Expectation],
    parts: list[tuple[gx.ExpectationSuite, ExpectationSuiteValidationResult]],
) -> tuple[gx.ExpectationSuite, ExpectationSuiteValidationResult]:
    """The parts' results as one result of the whole suite, in its order, on the rows' batch.

    `expectations` are the objects the parts validated (GX gave them their ids).
    """
    position = {e.id: i for i, e in enumerate(expectations)}
    results = sorted(
        (r for _, result in parts for r in result.results),
        key=lambda r: position[r.expectation_config.id],
    )
    statistics = calc_validation_statistics(results)
    rows_result = parts[0][1]
    result = ExpectationSuiteValidationResult(
        success=statistics.success,
        results=results,
        suite_name=suite_name,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=rows_result.meta,
        batch_id=rows_result.batch_id,
    )
    return gx.ExpectationSuite(
        suite_name, expectations=[copy.copy(e) for e in expectations]
    ), result


def _pair(kwargs: dict) -> str | None:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    return None


def choose_engine(subject: Subject, engine: Engine = "auto") -> str:
    """pandas or spark: auto picks pandas for a table of at most engine.pandas_max_bytes."""
    if engine != "auto":
        return engine
    lake = subject.lake
    snapshot = open_table(lake.uri(subject.table), version=subject.version, store=lake.store)
    return "pandas" if snapshot_bytes(snapshot) <= pandas_max_bytes() else "spark"


def validate_suite(suite: Suite, subject: Subject, *, engine: Engine = "auto") -> ValidationReport:
    """Run every batch of `suite` on the subject table version and merge the outcomes.

    On pandas each batch's frame is computed once, by one Spark action, and validated in this
    process; on spark it is cached and GX's Spark engine computes each metric on it.
    """
    chosen = choose_engine(subject, engine)
    if chosen == "pandas":
        # auto reads each table in memory up to the same bound; pandas, asked for, reads all.
        limit = pandas_max_bytes() if engine == "auto" else sys.maxsize
        subject = replace(subject, in_memory_max_bytes=limit)
    engine = chosen
    report = ValidationReport(suite=suite.name, success=True, outcomes=[], engine=engine)
    for batch in suite.batches(subject):
        report.judged += batch.judged
        if engine == "pandas":
            part = _validate_collected(suite, batch, report)
        else:
            part = _validate_on_spark(suite, batch, report)
        if part is None:
            continue
        report.success = report.success and part.success
        report.outcomes += part.outcomes
        report.gx_results += part.gx_results
    return report


def _gx_name(suite: Suite, batch: Batch) -> str:
    return f"{suite.name}.{batch.name.replace(' ', '_')}"


def _validate_collected(
    suite: Suite, batch: Batch, report: ValidationReport
) -> ValidationReport | None:
    if batch.rows is not None:
        # Computed in this process: no Spark job at all.
        rows = batch.rows
        if batch.show:
            report.tables[batch.name] = rows.slice(0, SHOWN_ROWS).to_pylist()
        if not batch.expectations:
            return None
        rows = rows.select(_columns_to_collect(batch, rows.schema))
    else:
        if not batch.expectations:
            if batch.show:
                report.tables[batch.name] = batch.frame.limit(SHOWN_ROWS).toArrow().to_pylist()
            return None
        rows = batch.frame.select(*_columns_to_collect(batch, batch.frame.schema)).toArrow()
        if batch.show:
            report.tables[batch.name] = rows.slice(0, SHOWN_ROWS).to_pylist()
    return validate_dataframe(
        batch.frame,
        _gx_name(suite, batch),
        batch.expectations,
        id_column=batch.id_column,
        batch=batch.name,
        rows=rows,
    )


def _columns_to_collect(batch: Batch, schema: StructType | pa.Schema) -> list[str]:
    """The frame's columns, less nested ones (struct, map, array) that no expectation names:
    documents carry dozens of annotation fields that pandas would turn into a dict per row."""
    named = " ".join(repr(e.configuration.kwargs) for e in batch.expectations)
    if isinstance(schema, pa.Schema):
        nested = [pa.types.is_nested(f.type) for f in schema]
        names = schema.names
    else:
        nested = [isinstance(f.dataType, StructType | MapType | ArrayType) for f in schema.fields]
        names = schema.names
    return [
        name for name, deep in zip(names, nested, strict=True) if not deep or repr(name) in named
    ]


def _validate_on_spark(
    suite: Suite, batch: Batch, report: ValidationReport
) -> ValidationReport | None:
    frame = batch.frame.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        if batch.show:
            report.tables[batch.name] = [row.asDict() for row in frame.limit(SHOWN_ROWS).collect()]
        if not batch.expectations:
            return None
        return validate_dataframe(
            frame,
            _gx_name(suite, batch),
            batch.expectations,
            id_column=batch.id_column,
            batch=batch.name,
        )
    finally:
        frame.unpersist()
