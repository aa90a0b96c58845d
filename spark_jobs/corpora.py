"""Which reader ingests which corpus family: the one place a new family is wired in."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession

from spark_jobs.code.reader import CodeRepoReader
from spark_jobs.ingest import (
    FileReader,
    Listing,
    ingest_files,
    ingest_schema,
    landing_listing,
    raw_columns,
)
from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.papers.reader import PapersReader
from spark_jobs.papers.routes import ingest_papers
from spark_jobs.sources import Source
from spark_jobs.storage import ObjectStore
from spark_jobs.web.ingest import INGEST_SCHEMA as WEB_INGEST_SCHEMA
from spark_jobs.web.ingest import WarcReader, ingest_web_source

# Families whose readers plug into spark_jobs.ingest directly: corpus -> reader factory.
# (Readers take their registry options from the Source they are handed in `read`.)
READERS: dict[str, Callable[[Source], FileReader]] = {
    "code": lambda source: CodeRepoReader(),
    "papers": lambda source: PapersReader(),
    "licensed": lambda source: LicensedReader(),
}


def ingest_documents(
    spark: SparkSession, source: Source, *, run_id: str, store: ObjectStore
) -> tuple[DataFrame, list[str], Listing]:
    """The source's landing files as ingest rows, the columns its raw table keeps, and what
    was listed (units read, entries refused)."""
    if source.corpus == "web":
        listing = landing_listing(WarcReader, source, store)
        return (
            ingest_web_source(spark, source, run_id=run_id, store=store, listing=listing),
            raw_columns(WEB_INGEST_SCHEMA),
            listing,
        )
    if source.corpus not in READERS:
        raise ValueError(
            f"source {source.name!r}: no reader for corpus family {source.corpus!r}; "
            f"families: web, {', '.join(READERS)}"
        )
    reader = READERS[source.corpus](source)
    listing = landing_listing(reader, source, store)
    if source.corpus == "papers":  # cheap routes first, then a stage per heavy route (OCR)
        frame = ingest_papers(spark, source, run_id=run_id, store=store, listing=listing)
    else:
        frame = ingest_files(spark, reader, source, run_id=run_id, store=store, listing=listing)
    return frame, raw_columns(ingest_schema(reader.extra_fields)), listing
