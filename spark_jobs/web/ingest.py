"""The web family's reader: landed WARC files become one row per document record or corrupt
stretch of a file, each marked kept, skipped or quarantined with a reason."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.fs as pafs
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from spark_jobs.ingest import (
    QUARANTINED,
    SKIPPED,
    Listing,
    ingest_files,
    ingest_schema,
    list_landing_files,
    raw_columns,
    record_id,
)
from spark_jobs.ranges import WARC, ByteRange
from spark_jobs.sources import Source
from spark_jobs.storage import LOCAL, ObjectStore
from spark_jobs.untrusted import ReadLimits
from spark_jobs.web.extract import (
    DOCUMENT_RECORD_TYPES,
    Page,
    Quarantine,
    Skip,
    domain_of,
    extract_page,
    mime_type,
)
from spark_jobs.web.warc import (
    GZIP_MAGIC,
    CorruptRecord,
    WarcRecord,
    iter_warc_records,
    range_bounds,
)

CORPUS = "web"
WARC_SUFFIXES = (".warc.gz", ".warc")
DEFAULT_MAX_RECORD_BYTES = 8 * 2**20

WEB_FIELDS = (
    pa.field("url", pa.string()),
    pa.field("domain", pa.string()),
    pa.field("title", pa.string()),
    pa.field("fetch_date", pa.timestamp("us", tz="UTC")),
    pa.field("http_status", pa.int32()),
    pa.field("content_type", pa.string()),
    pa.field("warc_file", pa.string()),  # full URI of the WARC file
    pa.field("warc_offset", pa.int64()),  # where to seek to re-read the record
)
# The locator and id a record gets if its URL turns out to be a repeat fetch.
_REPEAT_FIELDS = (
    pa.field("_repeat_locator", pa.string()),
    pa.field("_repeat_id", pa.string()),
)
INGEST_SCHEMA = ingest_schema(WEB_FIELDS)
# raw.web holds kept rows without the verdict columns; warc_file + warc_offset stay:
# they are the provenance that re-reads the record.
RAW_COLUMNS = raw_columns(INGEST_SCHEMA)


class WarcReader:
    """Reads WARC/WET files (gzip or plain); see `spark_jobs.web.warc` for the recovery rules."""

    corpus = CORPUS
    suffixes = WARC_SUFFIXES
    extra_fields = WEB_FIELDS + _REPEAT_FIELDS

    def __init__(
        self,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        opt_out_domains: tuple[str, ...] = (),
    ) -> None:
        self.max_record_bytes = max_record_bytes
        self.opt_out_domains = tuple(opt_out_domains)

    def split_kind(self, relative: str) -> str:
        """Every WARC/WET file can be read in byte ranges (spark_jobs.ranges)."""
        return WARC

    def read(
        self,
        fs: pafs.FileSystem,
        path: str,
        relative: str,
        source: Source,
        span: ByteRange | None = None,
    ) -> Iterator[dict]:
        """The rows of a WARC file, or of the records that start in one byte range of it
        (`span`: offsets, locators and ids are those a whole-file read gives)."""
        uri = f"{source.location.rstrip('/')}/{relative}"
        limits = ReadLimits.from_options(source.options)
        with contextlib.ExitStack() as stack:
            size = fs.get_file_info(path).size
            start, end, gzipped = 0, None, None
            if span is None:
                # compression=None: pyarrow would otherwise gunzip .gz itself, without recovery.
                stream = stack.enter_context(fs.open_input_stream(path, compression=None))
            else:
                stream = stack.enter_context(fs.open_input_file(path))
                gzipped = stream.read(2) == GZIP_MAGIC[:2]
                start, end = range_bounds(stream, span, gzipped)
                if start >= end:
                    return  # no record starts in this range
                # Read on from the range's first record to the file's end, as a whole-file
                # read does (so damage near the edge reads the same), and stop at the first
                # record that starts where the next range does.
                stream.seek(start)
            records = iter_warc_records(
                stream,
                max_record_bytes=self.max_record_bytes,
                max_decompressed_bytes=limits.max_decompressed_bytes,
                file_size=size,
                start_offset=start,
                gzipped=gzipped,
            )
            for item in records:
                if end is not None and item.offset >= end:
                    break
                if isinstance(item, CorruptRecord):
                    yield _corrupt_row(relative, uri, item)
                elif item.warc_type in DOCUMENT_RECORD_TYPES:
                    row = _record_row(relative, uri, item, source.name)
                    opted_out = opted_out_domain(row["domain"], self.opt_out_domains)
                    if opted_out and row.get("disposition") != QUARANTINED:
                        row |= {
                            "text": None,
                            "disposition": SKIPPED,
                            "reason": "domain_opt_out",
                            "detail": f"{row['domain']} is covered by the registry's "
                            f"opt-out entry {opted_out}",
                        }
                    yield row


def opted_out_domain(domain: str | None, opt_out: tuple[str, ...]) -> str | None:
    """The opt-out entry covering `domain` (the domain itself or a parent), if any."""
    if not domain:
        return None
    for entry in opt_out:
        if domain == entry or domain.endswith("." + entry):
            return entry
    return None


def _position(offset: int, offset_in_member: int) -> str:
    return f"{offset}+{offset_in_member}" if offset_in_member else str(offset)


def _corrupt_row(relative: str, uri: str, item: CorruptRecord) -> dict:
    return {
        "locator": f"{relative}#offset={_position(item.offset, item.offset_in_member)}",
        "warc_file": uri,
        "warc_offset": item.offset,
        "disposition": QUARANTINED,
        "reason": item.reason,
        "detail": item.detail,
        "excerpt": item.excerpt,
    }


def _record_row(relative: str, uri: str, record: WarcRecord, source: str) -> dict:
    try:
        verdict = extract_page(record)
    except Exception as exc:  # resiliparse on hostile input: quarantine, keep going
        verdict = Quarantine("extract_error", f"{type(exc).__name__}: {exc}", record.payload[:256])
    url = record.target_uri
    position = _position(record.offset, record.offset_in_member)
    locator = url or f"{relative}#offset={position}"
    repeat_locator = f"{url}#warc={relative}:{position}" if url else locator
    row = {
        "locator": locator,
        "url": url,
        "domain": domain_of(url or "") or None,
        "fetch_date": record.date,
        "http_status": record.http_status,
        "content_type": mime_type(record),
        "warc_file": uri,
        "warc_offset": record.offset,
        "_repeat_locator": repeat_locator,
        "_repeat_id": record_id(source, repeat_locator),
    }
    if isinstance(verdict, Page):
        return row | {
            "title": verdict.title,
            "content_type": verdict.content_type,
            "text": verdict.text,
        }
    if isinstance(verdict, Skip):
        return row | {"disposition": SKIPPED, "reason": verdict.reason, "detail": verdict.detail}
    return row | {
        "disposition": QUARANTINED,
        "reason": verdict.reason,
        "detail": verdict.detail,
        "excerpt": verdict.excerpt,
    }


def list_warc_files(landing_uri: str, store: ObjectStore = LOCAL) -> list[str]:
    """WARC file paths under landing_uri, relative to it and sorted (hidden names left out)."""
    return list_landing_files(landing_uri, WARC_SUFFIXES, store)


def ingest_web_source(
    spark: SparkSession,
    source: Source,
    *,
    run_id: str,
    store: ObjectStore = LOCAL,
    listing: Listing | None = None,
) -> DataFrame:
    """Rows (INGEST_SCHEMA) for every document record and corrupt stretch of a web source.

    A URL fetched more than once keeps the bare URL as locator for its first fetch (by
    file, then offset); later fetches get `<url>#warc=<file>:<offset>`, so ids stay unique.
    """
    reader = WarcReader(
        int(source.options.get("max_record_bytes", DEFAULT_MAX_RECORD_BYTES)),
        tuple(source.options.get("opt_out_domains", ())),
    )
    rows = ingest_files(spark, reader, source, run_id=run_id, store=store, listing=listing)
    # Numbering the fetches of a URL needs all its rows together: one shuffle, which is
    # cheaper than reading every WARC file twice to find the repeated URLs first.
    fetch_order = Window.partitionBy("locator").orderBy(
        "warc_file", "warc_offset", "_repeat_locator"
    )
    repeat = F.row_number().over(fetch_order) > 1
    chosen = {
        "id": F.when(repeat, F.col("_repeat_id")).otherwise(F.col("id")),
        "locator": F.when(repeat, F.col("_repeat_locator")).otherwise(F.col("locator")),
    }
    return rows.select(*(chosen.get(name, F.col(name)).alias(name) for name in INGEST_SCHEMA.names))


def ingest_warc(
    spark: SparkSession,
    landing_uri: str,
    *,
    source: str,
    license: str,
    license_evidence: str,
    run_id: str,
    store: ObjectStore = LOCAL,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> DataFrame:
    """`ingest_web_source` for a location given directly rather than by a registry entry."""
    entry = Source(
        name=source,
        corpus=CORPUS,
        location=landing_uri,
        format="warc",
        license=license,
        license_evidence=license_evidence,
        options={"max_record_bytes": max_record_bytes},
    )
    return ingest_web_source(spark, entry, run_id=run_id, store=store)
