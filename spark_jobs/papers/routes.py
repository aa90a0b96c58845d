"""Papers ingest in stages by route: every paper is read first by the cheap readers (LaTeX,
PDF text layer, dump records); a paper the reader routes to a heavier parser (OCR today; a GPU
OCR or layout model later) becomes a ROUTED row, and each heavy route reads its rows in a
Spark stage of its own, with its own task resources, so cheap papers never wait behind it.

A heavy route is one entry of HEAVY_ROUTES: the reader that reads a routed paper in full, and
the CPUs (and GPUs) each of its tasks asks for. Its stage reads each routed paper again from
the landing location, one paper a task, under the source's per-object time and memory budget
(spark_jobs/isolation.py); a paper it cannot read is quarantined with the reason, as in the
first stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from spark_jobs.ingest import (
    QUARANTINED,
    FileReader,
    Listing,
    ReadFiles,
    ingest_files,
    ingest_schema,
)
from spark_jobs.papers.reader import ROUTED, PapersReader
from spark_jobs.sources import Source
from spark_jobs.storage import ObjectStore
from spark_jobs.untrusted import ReadLimits

OCR_TASK_CPUS = 2  # source option ocr_task_cpus: Tesseract processes one OCR task runs at once


@dataclass(frozen=True)
class HeavyRoute:
    """A parser too slow to run beside the cheap ones: its own stage, its own task resources."""

    name: str  # the `route` of the rows it reads, and of the rows it writes
    reader: Callable[[int], FileReader]  # given the CPUs its task got: reads a paper in full
    task_cpus: Callable[[Source], int]
    task_gpus: float = 0.0

    def profile(self, source: Source, executor_cores: int | None = None):
        """The stage-level resource profile of this route's stage; a task never asks for more
        CPUs than an executor has (`executor_cores`, when the session sets it), since Spark
        refuses such a stage outright."""
        from pyspark.resource import ResourceProfileBuilder, TaskResourceRequests

        cpus = self.task_cpus(source)
        if executor_cores:
            cpus = max(1, min(cpus, executor_cores))
        requests = TaskResourceRequests().cpus(cpus)
        if self.task_gpus:
            requests = requests.resource("gpu", self.task_gpus)
        return ResourceProfileBuilder().require(requests).build


HEAVY_ROUTES: dict[str, HeavyRoute] = {
    "ocr": HeavyRoute(
        name="ocr",
        reader=lambda cpus: PapersReader(ocr=True, ocr_workers=cpus),
        task_cpus=lambda source: int(source.options.get("ocr_task_cpus", OCR_TASK_CPUS)),
    ),
}


def ingest_papers(
    spark: SparkSession,
    source: Source,
    *,
    run_id: str,
    store: ObjectStore,
    listing: Listing,
) -> DataFrame:
    """The source's papers as ingest rows (spark_jobs.ingest schema), read in stages by route.

    The cheap stage runs now and is kept (local checkpoint) so the heavy stages and the
    rows it finished read its output without reading the landing files twice.
    """
    reader = PapersReader(ocr="defer")
    first = ingest_files(spark, reader, source, run_id=run_id, store=store, listing=listing)
    first = first.localCheckpoint(eager=True)
    is_routed = F.col("disposition") == ROUTED
    routed = {
        row["route"]: row["count"]
        for row in first.where(is_routed).groupBy("route").count().collect()
    }
    if not routed:
        return first
    schema = ingest_schema(reader.extra_fields)
    local = spark.sparkContext.master.startswith("local")
    cores = spark.sparkContext.getConf().get("spark.executor.cores", None)
    executor_cores = int(cores) if cores else None  # unset: an executor takes its worker's cores
    out = first.where(~is_routed | ~F.col("route").isin(sorted(HEAVY_ROUTES)))
    unknown = {  # routed to a route no stage reads (a reader bug): quarantined, not lost
        "disposition": F.lit(QUARANTINED),
        "reason": F.lit("unknown_route"),
        "detail": F.concat(F.lit("routed to "), F.col("route"), F.lit(", which no stage reads")),
    }
    out = out.select(
        *[
            F.when(is_routed, unknown[c]).otherwise(F.col(c)).alias(c) if c in unknown else c
            for c in first.columns
        ]
    )
    for name, count in sorted(routed.items()):
        route = HEAVY_ROUTES.get(name)
        if route is None:
            continue
        rows = first.where(is_routed & (F.col("route") == name))
        job = _ReadRouted(route, source, run_id, store, schema)
        # Exactly one paper a task: a long scan holds up no other paper.
        locators = (
            rows.select("locator")
            .rdd.zipWithIndex()
            .map(lambda pair: (pair[1], pair[0][0]))
            .partitionBy(count, lambda index: index)
            .map(lambda pair: (pair[1],))
        )
        frame = spark.createDataFrame(locators, "locator string")
        out = out.unionByName(
            frame.mapInArrow(
                job,
                from_arrow_schema(schema, prefer_timestamp_ntz=False),
                profile=None if local else route.profile(source, executor_cores),
            )
        )
    return out


@dataclass(frozen=True)
class _ReadRouted:
    """The per-task work of a heavy route's stage: read each routed paper in full."""

    route: HeavyRoute
    source: Source
    run_id: str
    store: ObjectStore
    schema: pa.Schema

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        cpus = max(1, context.cpus()) if context is not None else 1
        job = ReadFiles(
            reader=self.route.reader(cpus),
            landing_uri=self.source.location.rstrip("/"),
            files=(),
            refused=(),
            source=self.source,
            run_id=self.run_id,
            store=self.store,
            schema=self.schema,
            limits=ReadLimits.from_options(self.source.options),
        )
        for batch in batches:
            for locator in batch.column(0).to_pylist():
                yield from job.read_isolated(locator)
