"""Expectation suites, one per promise a table keeps. Read each suite as a list of promises.

A suite turns the table version under test (a `Subject`) into batches: the frame to validate
(the table itself, or a small Spark aggregate of it), the column that names its rows in a
failure, and the Great Expectations expectations it must meet. Bounds come from bounds.yaml,
license allowlists from licenses.yaml, PII detection from spark_jobs/annotators/pii.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.core.metric_function_types import MetricPartialFunctionTypes
from great_expectations.execution_engine import PandasExecutionEngine, SparkDFExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.metric_provider import metric_partial
from great_expectations.expectations.row_conditions import Column
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, LongType, StructField, StructType

from quality import measures
from quality.bounds import (
    BYTE_LENGTH,
    LANGUAGE_SHARE,
    REMOVAL,
    Judged,
    Measure,
    judge_measures,
    load_bounds,
)
from quality.history import profile_history
from quality.licenses import LicensePolicy, license_class_of, policy_for_table
from quality.promises import (
    CONSERVATION,
    CURATED_DISTRIBUTION,
    CURATED_DOCUMENTS,
    PROMISES,
    RAW_DOCUMENTS,
)
from spark_jobs.annotators.pii import PII_TYPES, pii_spans
from spark_jobs.delta import open_table, read_arrow, read_spark
from spark_jobs.lake import Lake


@dataclass(frozen=True)
class Subject:
    """The table version a suite validates, and how to read it and the tables around it."""

    spark: SparkSession
    lake: Lake
    table: str
    version: int
    # The version drift is measured against: the last one that passed, if any.
    baseline_version: int | None = None
    # Validate only this source partition of the table (a partitioned run's partition).
    source: str | None = None
    # Tables of at most this many bytes are read with delta-rs and handed to Spark from
    # memory: no Spark task reads their files (see `read`).
    in_memory_max_bytes: int = 0

    @property
    def corpus(self) -> str:
        return self.table.split(".", 1)[1]

    def read(
        self,
        table: str | None = None,
        *,
        version: int | None = None,
        columns: Sequence[str] | None = None,
    ) -> DataFrame:
        """A table's snapshot (only `columns`, if given): the subject at its version, any other
        table at its latest.

        A small table (in_memory_max_bytes) comes from this process's memory: Spark's jobs
        over it then schedule no Python task to read Parquet, which on a small table costs
        more than the query.
        """
        rows = self.rows(table, version=version, columns=columns)
        if rows is not None:
            return self.spark.createDataFrame(rows)
        table = table or self.table
        if table == self.table and version is None:
            version = self.version
        uri = self.lake.uri(table)
        return read_spark(self.spark, uri, version=version, columns=columns, store=self.lake.store)

    def rows(
        self,
        table: str | None = None,
        *,
        version: int | None = None,
        columns: Sequence[str] | None = None,
        named: Iterable[str] | None = None,
    ) -> pa.Table | None:
        """A table's snapshot read into this process with delta-rs when its files are at most
        in_memory_max_bytes (the subject at its version, any other table at its latest);
        None when it is bigger. A suite computes a small table's frames from these rows in
        this process, with no Spark job.

        `named`: read only those of these columns that the table has (the ones its
        expectations name: a missing one still fails its expectation)."""
        if not self.in_memory_max_bytes:
            return None
        table = table or self.table
        if table == self.table and version is None:
            version = self.version
        uri = self.lake.uri(table)
        snapshot = open_table(uri, version=version, store=self.lake.store)
        if snapshot_bytes(snapshot) > self.in_memory_max_bytes:
            return None
        if named is not None:
            wanted = set(named)
            columns = [f.name for f in snapshot.schema().fields if f.name in wanted]
        return read_arrow(uri, columns=columns, store=self.lake.store, snapshot=snapshot)

    def frame_of(self, rows: pa.Table) -> DataFrame:
        """A Spark frame with the rows' schema and none of their rows: what GX's Spark engine
        judges column types on (it reads them from the schema, with no Spark job)."""
        return self.spark.createDataFrame(rows.slice(0, 0))


def snapshot_bytes(snapshot: DeltaTable) -> int:
    """Bytes of a Delta snapshot's data files, from its log."""
    sizes = pa.table(snapshot.get_add_actions(flatten=True)).column("size_bytes")
    return pc.sum(sizes).as_py() or 0


@dataclass(frozen=True)
class Batch:
    """One frame to validate, the column naming its rows, and the promises it must keep.

    A small table's suite computes the frame's rows in this process (`rows`) instead: GX's
    pandas engine validates them, and `frame`, if any, only carries their Spark schema for
    the type expectations.
    """

    name: str
    frame: DataFrame | None
    id_column: str
    expectations: list[gxe.Expectation]
    # A small aggregate whose rows are also shown in the check result.
    show: bool = False
    # Distribution measures judged in this batch, recorded in quality.profiles with the result.
    judged: tuple[Judged, ...] = ()
    # The frame's rows, computed in this process from tables read with delta-rs.
    rows: pa.Table | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    batches: Callable[[Subject], list[Batch]]
    # Whether the suite compares against a baseline version of the table (drift).
    uses_baseline: bool = False


# --- promises ------------------------------------------------------------------------------


def document_integrity(bounds: dict[str, Any], *, annotated: bool) -> list[gxe.Expectation]:
    """Required columns with the right types, unique non-null ids, non-empty text of sane size."""
    documents = bounds["documents"]
    columns = {**documents["columns"], **(documents["annotation_columns"] if annotated else {})}
    min_bytes, max_bytes = documents["min_bytes"], documents["max_bytes"]
    return [
        *[
            gxe.ExpectColumnValuesToBeOfType(
                column=name, type_=type_, description=f"column {name} exists and is a {type_}"
            )
            for name, type_ in columns.items()
        ],
        gxe.ExpectColumnValuesToNotBeNull(column="id", description="every document has an id"),
        gxe.ExpectColumnValuesToBeUnique(column="id", description="no two documents share an id"),
        gxe.ExpectColumnValuesToNotBeNull(column="text", description="every document has text"),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="text", min_value=1, description="no document's text is empty"
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="byte_length",
            min_value=min_bytes,
            max_value=max_bytes,
            description=f"every document is {min_bytes} to {max_bytes} bytes",
        ),
    ]


def licensing(policy: LicensePolicy) -> list[gxe.Expectation]:
    """Every document has a license its table's policy allows, and evidence for it.

    Validates a `license_class` column (see `with_license_class`), so SPDX expressions
    (MIT OR Apache-2.0) are judged the way the recipes judge them.
    """
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column="license", description="every document has a license"
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="license_class",
            value_set=list(policy.classes),
            description=f"every license is allowed by policy '{policy.name}' "
            f"({', '.join(policy.classes)})",
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="license_evidence", description="every license says how it was determined"
        ),
    ]


def with_license_class(documents: DataFrame) -> DataFrame:
    return documents.withColumn("license_class", license_class_of("license"))


def with_license_class_rows(documents: pa.Table) -> pa.Table:
    """`with_license_class` on rows in memory (a license_class column already there is
    replaced in place, as Spark's withColumn does)."""
    classes = measures.license_classes(documents["license"], nulls=True)
    if "license_class" in documents.column_names:
        at = documents.column_names.index("license_class")
        return documents.set_column(at, "license_class", classes)
    return documents.append_column("license_class", classes)


# PII is judged by the detector that redaction uses (Luhn, mod-97 and id checks included),
# run on the text itself: a regex-only check would flag numbers that redaction rightly
# leaves, and span counts stored at annotation describe the text before redaction.


@cache
def _pii_free(kind: str) -> Callable[..., Any]:
    """A Spark (pandas) UDF: True where a text holds no span of `kind` (null counts as free)."""

    @F.pandas_udf(BooleanType())
    def free(texts: pd.Series) -> pd.Series:
        return texts.map(lambda text: text is None or not pii_spans(text, (kind,)))

    return free


class ColumnValuesHoldNoPii(ColumnMapMetricProvider):
    condition_metric_name = "column_values.pilehouse_hold_no_pii"
    condition_value_keys = ("pii_type",)

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column, pii_type, _table=None, **kwargs):
        # A frame prepared by `with_pii_spans` has the counts: one detector pass serves all
        # types. Otherwise the detector runs on the column for this type.
        counted = f"pii_spans_{pii_type}"
        if _table is not None and counted in _table.columns:
            return F.col(counted) == 0
        return _pii_free(pii_type)(column)

    # GX hands a pandas column condition the column alone; the counts of a prepared frame sit
    # in other columns, so this partial takes the whole domain (what column_condition_partial
    # does for pandas, null values skipped likewise).
    @metric_partial(
        engine=PandasExecutionEngine,
        partial_fn_type=MetricPartialFunctionTypes.MAP_CONDITION_SERIES,
        domain_type=MetricDomainTypes.COLUMN,
    )
    def _pandas(
        cls,
        execution_engine,
        metric_domain_kwargs,
        metric_value_kwargs,
        metrics,
        runtime_configuration,
    ):
        df, compute_kwargs, accessor_kwargs = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.COLUMN
        )
        column = accessor_kwargs["column"]
        df = df[df[column].notnull()]
        kind = metric_value_kwargs["pii_type"]
        counted = f"pii_spans_{kind}"
        if counted in df.columns:
            holds_pii = df[counted] != 0
        else:
            holds_pii = df[column].map(lambda text: bool(pii_spans(text, (kind,))))
        return holds_pii, compute_kwargs, accessor_kwargs


class ExpectColumnValuesToHoldNoPii(ColumnMapExpectation):
    """Expect no value of a text column to hold a span of `pii_type` (spark_jobs PII detector)."""

    pii_type: str
    map_metric = "column_values.pilehouse_hold_no_pii"
    success_keys = ("pii_type", "mostly")
    args_keys = ("column", "pii_type")


def no_pii(bounds: dict[str, Any]) -> list[gxe.Expectation]:
    """No residual personal data or secrets in the text, one promise per redacted type.

    Runs the detector on `text`, or reads the counts of a frame prepared by `with_pii_spans`
    (faster: one pass for all types)."""
    return [
        ExpectColumnValuesToHoldNoPii(
            column="text", pii_type=kind, description=f"no {kind} in any document's text"
        )
        for kind in bounds["pii"]
    ]


def with_pii_spans(documents: DataFrame, types: Iterable[str] = PII_TYPES) -> DataFrame:
    """One `pii_spans_<type>` column per type, counted on the current text in one pass (not
    read from the annotation's `pii_counts`, which describe the text before redaction)."""
    kinds = tuple(types)
    columns = [StructField(f"pii_spans_{kind}", LongType(), False) for kind in kinds]
    schema = StructType([*documents.schema.fields, *columns])
    text_index = documents.columns.index("text")

    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            arrays = pii_span_counts(batch.column(text_index), kinds)
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, *arrays], names=[*batch.schema.names, *schema.names[-len(kinds) :]]
            )

    return documents.mapInArrow(count, schema)


def with_pii_spans_rows(documents: pa.Table, types: Iterable[str] = PII_TYPES) -> pa.Table:
    """`with_pii_spans` on rows in memory."""
    kinds = tuple(types)
    for kind, counts in zip(kinds, pii_span_counts(documents["text"], kinds), strict=True):
        documents = documents.append_column(pa.field(f"pii_spans_{kind}", pa.int64()), counts)
    return documents


def pii_span_counts(texts: pa.Array | pa.ChunkedArray, kinds: tuple[str, ...]) -> list[pa.Array]:
    """Per type, the number of its spans in each text (0 for a null text)."""
    counts = {kind: [0] * len(texts) for kind in kinds}
    for row, text in enumerate(texts.to_pylist()):
        for span in pii_spans(text or "", kinds):
            counts[span.type][row] += 1
    return [pa.array(counts[kind], pa.int64()) for kind in kinds]


def within_learned_bounds() -> list[gxe.Expectation]:
    """Every source's measures within the bounds its own history sets (quality.bounds)."""
    what = {
        REMOVAL: "removal rates (per stage and per reason)",
        LANGUAGE_SHARE: "language shares",
        BYTE_LENGTH: "byte-length quantiles",
    }
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=column,
            max_value=0,
            row_condition=Column("kind") == kind,
            description=f"every source's {words} {side} the bounds its history sets",
        )
        for kind, words in what.items()
        for column, side in (("above_high", "are at most"), ("below_low", "are at least"))
    ]


def conservation_by_source() -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="input_records",
            column_B="accounted",
            description="per source: input records = kept + rejected + quarantined",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="rejected_without_reason",
            max_value=0,
            description="every rejected record has a reason",
        ),
    ]


def conservation_by_document() -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="outcomes",
            min_value=1,
            max_value=1,
            description="every ingested document is either kept or rejected, exactly once",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="inputs",
            min_value=1,
            max_value=1,
            description="every kept or rejected document was ingested",
        ),
    ]


# --- suites --------------------------------------------------------------------------------


def named_columns(expectations: Iterable[gxe.Expectation], *also: str) -> set[str]:
    """The columns the expectations validate, and `also`."""
    names = set(also)
    for expectation in expectations:
        kwargs = expectation.configuration.kwargs
        names.update(kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k))
    return names


def raw_documents(subject: Subject) -> list[Batch]:
    bounds = load_bounds(subject.table)
    promises = [*document_integrity(bounds, annotated=False), *licensing_evidence()]
    rows = subject.rows(named=named_columns(promises, "id", "source"))
    if rows is not None:
        if subject.source is not None:
            rows = rows.filter(pc.equal(rows["source"], subject.source))
        return [Batch("documents", subject.frame_of(rows), "id", promises, rows=rows)]
    documents = subject.read()
    if subject.source is not None:
        documents = documents.where(F.col("source") == subject.source)
    return [Batch("documents", documents, "id", promises)]


def licensing_evidence() -> list[gxe.Expectation]:
    # Raw tables may hold any license (a policy applies where data is selected); what they
    # must always carry is the license and how it was determined.
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column="license", description="every document has a license"
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="license_evidence", description="every license says how it was determined"
        ),
    ]


def curated_documents(subject: Subject) -> list[Batch]:
    bounds = load_bounds(subject.table)
    policy = policy_for_table(subject.table)
    promises = [*document_integrity(bounds, annotated=True), *licensing(policy), *no_pii(bounds)]
    rows = subject.rows(named=named_columns(promises, "id"))
    if rows is not None:
        rows = with_pii_spans_rows(with_license_class_rows(rows), bounds["pii"])
        return [
            Batch("documents", subject.frame_of(rows), "id", promises, rows=rows),
            Batch(
                "license shares",
                None,
                "license",
                [],
                show=True,
                rows=measures.license_shares_rows(rows["license"], policy.classes),
            ),
        ]
    documents = with_license_class(subject.read())
    return [
        # PII is recounted on the text itself in one pass for all types (the annotation's
        # counts describe the text before redaction).
        Batch("documents", with_pii_spans(documents, bounds["pii"]), "id", promises),
        Batch(
            "license shares",
            license_shares(documents, policy.classes),
            "license",
            [],
            show=True,
        ),
    ]


def license_shares(documents: DataFrame, allowed: Sequence[str]) -> DataFrame:
    """Documents and share per license, with its class and whether the policy allows it;
    most documents first (ties by license, null first)."""
    # Classified after counting: the class is a function of the license, and a table holds
    # few distinct licenses (a null license has no class, as before).
    return (
        measures.shares(documents, "license")
        .withColumn(
            "license_class", F.when(F.col("license").isNotNull(), license_class_of("license"))
        )
        .withColumn("allowed", F.col("license_class").isin(list(allowed)))
        .orderBy(F.desc("documents"), F.asc_nulls_first("license"))
    )


DISTRIBUTION_COLUMNS = (
    "measure string, source string, kind string, key string, value double, n long, "
    "low double, high double, above_high double, below_low double, basis string, within boolean"
)
DISTRIBUTION_SCHEMA = pa.schema(
    [
        (
            name,
            {"string": pa.string(), "double": pa.float64(), "long": pa.int64()}.get(
                kind, pa.bool_()
            ),
        )
        for name, kind in (column.split() for column in DISTRIBUTION_COLUMNS.split(", "))
    ]
)


def curated_distribution(subject: Subject) -> list[Batch]:
    """Each source's removal rates, language shares and length quantiles, judged against the
    bounds learned from the source's own accepted versions (quality.profiles)."""
    settings = load_bounds(subject.table)["distribution"]
    qs = [float(q) for q in settings["quantiles"]]
    removed = ["corpus", "source", "stage", "reason"]
    observed = _distribution_in_memory(subject, removed, qs)
    if observed is None:
        documents = subject.read(columns=["source", "language", "byte_length"])
        rejects = subject.read("rejects", columns=removed).where(F.col("corpus") == subject.corpus)
        quarantine = subject.read("quarantine", columns=removed).where(
            F.col("corpus") == subject.corpus
        )
        removals = rejects.select("source", "stage", "reason").unionByName(
            quarantine.select("source", "stage", "reason")
        )
        raw = subject.read(f"raw.{subject.corpus}", columns=["source"])
        observed = measures.source_profile(documents, raw, removals, qs)
    history = profile_history(
        subject.lake,
        subject.table,
        before=subject.version,
        window=int(settings["history_window"]),
        relearn_from=settings.get("relearn_from") or {},
    )
    judged = judge_measures(observed, history, settings)
    rows = [
        (
            j.measure.name,
            j.measure.source,
            j.measure.kind,
            j.measure.key,
            float(j.measure.value),
            int(j.measure.n),
            float(j.low),
            float(j.high),
            float(j.measure.value - j.high),
            float(j.low - j.measure.value),
            j.basis,
            j.within,
        )
        for j in sorted(judged, key=lambda j: (j.within, j.measure.name))
    ]
    if subject.in_memory_max_bytes:
        frame, table = (
            None,
            pa.Table.from_pylist(
                [dict(zip(DISTRIBUTION_SCHEMA.names, row, strict=True)) for row in rows],
                schema=DISTRIBUTION_SCHEMA,
            ),
        )
    else:
        frame, table = subject.spark.createDataFrame(rows, DISTRIBUTION_COLUMNS), None
    return [
        Batch(
            "distribution by source",
            frame,
            "measure",
            within_learned_bounds(),
            show=True,
            judged=tuple(judged),
            rows=table,
        )
    ]


def _distribution_in_memory(
    subject: Subject, removed: list[str], qs: list[float]
) -> list[Measure] | None:
    """`measures.source_profile` of the subject's tables read in memory; None when one of them
    is too big for memory or a source too big for the same quantiles as Spark's."""
    documents = subject.rows(columns=["source", "language", "byte_length"])
    rejects = subject.rows("rejects", columns=removed)
    quarantine = subject.rows("quarantine", columns=removed)
    raw = subject.rows(f"raw.{subject.corpus}", columns=["source"])
    if documents is None or rejects is None or quarantine is None or raw is None:
        return None
    removals = pa.concat_tables(
        [
            t.filter(pc.equal(t["corpus"], subject.corpus)).select(["source", "stage", "reason"])
            for t in (rejects, quarantine)
        ],
        promote_options="permissive",
    )
    return measures.source_profile_rows(documents, raw, removals, qs)


def conservation(subject: Subject) -> list[Batch]:
    in_memory = _conservation_in_memory(subject)
    if in_memory is not None:
        return in_memory
    documents = ["id", "source"]
    kept = subject.read(columns=documents)
    raw = subject.read(f"raw.{subject.corpus}", columns=documents)
    removed = ["id", "corpus", "source", "stage", "reason"]
    rejects = subject.read("rejects", columns=removed).where(F.col("corpus") == subject.corpus)
    quarantine = subject.read("quarantine", columns=removed).where(
        F.col("corpus") == subject.corpus
    )
    balance = measures.source_balance(raw, kept, rejects, quarantine)
    ledger = measures.outcome_ledger(raw, kept, rejects.where(F.col("stage") == "curate"))
    return [
        Batch(
            "balance by source",
            balance.orderBy("source"),
            "source",
            conservation_by_source(),
            show=True,
        ),
        Batch("documents", ledger, "id", conservation_by_document()),
    ]


def _conservation_in_memory(subject: Subject) -> list[Batch] | None:
    """`conservation` on the subject's tables read in memory; None when one is too big."""
    documents = ["id", "source"]
    removed = ["id", "corpus", "source", "stage", "reason"]
    kept = subject.rows(columns=documents)
    raw = subject.rows(f"raw.{subject.corpus}", columns=documents)
    rejects = subject.rows("rejects", columns=removed)
    quarantine = subject.rows("quarantine", columns=removed)
    if kept is None or raw is None or rejects is None or quarantine is None:
        return None
    rejects, quarantine = (
        t.filter(pc.equal(t["corpus"], subject.corpus)) for t in (rejects, quarantine)
    )
    balance = measures.source_balance_rows(raw, kept, rejects, quarantine)
    curate_rejects = rejects.filter(pc.equal(rejects["stage"], "curate"))
    ledger = measures.outcome_ledger_rows(raw, kept, curate_rejects)
    return [
        Batch(
            "balance by source", None, "source", conservation_by_source(), show=True, rows=balance
        ),
        Batch("documents", None, "id", conservation_by_document(), rows=ledger),
    ]


# The promises (names, descriptions) live in quality/promises.py, which the check
# declarations read without importing Great Expectations.
_BATCHES: dict[str, Callable[[Subject], list[Batch]]] = {
    RAW_DOCUMENTS: raw_documents,
    CURATED_DOCUMENTS: curated_documents,
    CURATED_DISTRIBUTION: curated_distribution,
    CONSERVATION: conservation,
}
SUITES: dict[str, Suite] = {
    name: Suite(name, promise.description, _BATCHES[name], promise.uses_baseline)
    for name, promise in PROMISES.items()
}
