"""The web ingest Spark job: landed WARC files become one row per document record or corrupt
stretch of a file, each marked kept, skipped or quarantined with a reason."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import xxhash
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from spark_jobs.storage import LOCAL, ObjectStore
from spark_jobs.web.extract import (
    DOCUMENT_RECORD_TYPES,
    Page,
    Quarantine,
    Skip,
    domain_of,
    extract_page,
    mime_type,
)
from spark_jobs.web.warc import CorruptRecord, WarcRecord, iter_warc_records

log = logging.getLogger(__name__)

CORPUS = "web"
WARC_SUFFIXES = (".warc.gz", ".warc")
EXCERPT_CHARS = 256
# An output batch is cut at whichever comes first, to bound executor memory.
BATCH_ROWS = 1000
BATCH_TEXT_BYTES = 32 * 2**20

INGEST_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),  # xxh3_128(source \0 locator)
        pa.field("corpus", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("locator", pa.string(), nullable=False),  # see _locator and ingest_warc
        pa.field("url", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("title", pa.string()),
        pa.field("fetch_date", pa.timestamp("us", tz="UTC")),
        pa.field("http_status", pa.int32()),
        pa.field("content_type", pa.string()),
        pa.field("license", pa.string(), nullable=False),
        pa.field("license_evidence", pa.string(), nullable=False),
        pa.field("ingest_run_id", pa.string(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("byte_length", pa.int64()),
        pa.field("warc_file", pa.string(), nullable=False),  # full URI of the WARC file
        pa.field("warc_offset", pa.int64()),  # where to seek to re-read the record
        pa.field("disposition", pa.string(), nullable=False),  # kept | skipped | quarantined
        pa.field("reason", pa.string()),  # null when kept
        pa.field("detail", pa.string()),
        pa.field("excerpt", pa.string()),  # <= 256 chars of raw bytes, quarantined rows only
    ]
)
# Verdict columns, for the rejects / quarantine tables; raw.web holds kept rows without them.
# warc_file + warc_offset stay in raw.web: they are the provenance that re-reads the record.
DISPOSITION_COLUMNS = ["disposition", "reason", "detail", "excerpt"]
RAW_COLUMNS = [name for name in INGEST_SCHEMA.names if name not in DISPOSITION_COLUMNS]

# Per-file task output: the ingest row plus the locator and id to use if the URL repeats.
_TASK_SCHEMA = INGEST_SCHEMA.append(
    pa.field("_repeat_locator", pa.string(), nullable=False)
).append(pa.field("_repeat_id", pa.string(), nullable=False))


def ingest_warc(
    spark: SparkSession,
    landing_uri: str,
    *,
    source: str,
    license: str,
    license_evidence: str,
    run_id: str,
    store: ObjectStore = LOCAL,
    max_record_bytes: int = 8 * 2**20,
) -> DataFrame:
    """Rows (INGEST_SCHEMA) for every response/resource/conversion record and every corrupt
    stretch of the WARC files under landing_uri; one Spark task per file.

    The files are listed now; they are read when the DataFrame is evaluated, and a file that
    cannot be opened then becomes one `unreadable_file` row. A URL fetched more than once keeps
    the bare URL as locator for its first fetch (by file, then offset); later fetches get
    `<url>#warc=<file>:<offset>`, so ids stay unique within one ingest.
    """
    files = list_warc_files(landing_uri, store)
    log.info("ingesting %d WARC files from %s (run %s)", len(files), landing_uri, run_id)
    if not files:
        return spark.createDataFrame(
            [], from_arrow_schema(INGEST_SCHEMA, prefer_timestamp_ntz=False)
        )
    job = _IngestFiles(
        landing_uri=landing_uri.rstrip("/"),
        files=tuple(files),
        source=source,
        license=license,
        license_evidence=license_evidence,
        run_id=run_id,
        store=store,
        max_record_bytes=max_record_bytes,
    )
    task_schema = from_arrow_schema(_TASK_SCHEMA, prefer_timestamp_ntz=False)
    # spark.range with one partition per file: exactly one file index per task.
    rows = spark.range(0, len(files), 1, len(files)).mapInArrow(job, task_schema)
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


def list_warc_files(landing_uri: str, store: ObjectStore = LOCAL) -> list[str]:
    """WARC file paths under landing_uri, relative to it and sorted; names starting with
    '_' or '.' (markers, manifests, temporary uploads) are left out, at any depth."""
    fs, root = store.filesystem(landing_uri)
    if fs.get_file_info(root).type == pafs.FileType.NotFound:
        raise FileNotFoundError(
            f"landing location {landing_uri} does not exist; check the path or bucket"
        )
    found = []
    for info in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        relative = info.path[len(root) :].lstrip("/")
        hidden = any(part.startswith(("_", ".")) for part in relative.split("/"))
        if (
            info.type == pafs.FileType.File
            and not hidden
            and relative.lower().endswith(WARC_SUFFIXES)
        ):
            found.append(relative)
    return sorted(found)


def record_id(source: str, locator: str) -> str:
    return xxhash.xxh3_128_hexdigest(f"{source}\x00{locator}".encode())


@dataclass(frozen=True)
class _IngestFiles:
    """The per-task work: read the files whose indexes arrive, emit Arrow batches of rows."""

    landing_uri: str
    files: tuple[str, ...]
    source: str
    license: str
    license_evidence: str
    run_id: str
    store: ObjectStore
    max_record_bytes: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column(0).to_pylist():
                yield from self.read_file(self.files[index])

    def read_file(self, relative: str) -> Iterator[pa.RecordBatch]:
        uri = f"{self.landing_uri}/{relative}"
        log.info("reading %s", uri)
        rows = _Rows()
        dispositions: Counter[str] = Counter()
        try:
            fs, path = self.store.filesystem(uri)
            # compression=None: pyarrow would otherwise gunzip .gz itself, without recovery.
            stream = fs.open_input_stream(path, compression=None)
        except Exception as exc:  # missing object, permissions, network: all one verdict
            detail = f"cannot open {uri}: {type(exc).__name__}: {exc}; check that it exists and is readable"
            log.warning(detail)
            rows.add(
                self._quarantined(self._row(uri, locator=relative), "unreadable_file", detail, None)
            )
            yield rows.flush()
            return
        with stream:
            for row in self._rows_of(relative, uri, stream):
                rows.add(row)
                dispositions[row["disposition"]] += 1
                if rows.full():
                    yield rows.flush()
        if rows:
            yield rows.flush()
        log.info("read %s: %s", uri, dict(dispositions))

    def _rows_of(self, relative: str, uri: str, stream: pa.NativeFile) -> Iterator[dict]:
        last_offset = 0
        try:
            for item in iter_warc_records(stream, max_record_bytes=self.max_record_bytes):
                last_offset = item.offset
                if isinstance(item, CorruptRecord):
                    yield self._corrupt_row(relative, uri, item)
                elif item.warc_type in DOCUMENT_RECORD_TYPES:
                    yield self._record_row(relative, uri, item)
        except Exception as exc:  # a reader bug must not lose the rest of the run
            log.exception("reading %s failed after byte %d", uri, last_offset)
            detail = f"reader failed after byte {last_offset}: {type(exc).__name__}: {exc}"
            row = self._row(uri, locator=f"{relative}#offset={last_offset}+reader_error")
            yield self._quarantined(row, "reader_error", detail, None)

    def _corrupt_row(self, relative: str, uri: str, item: CorruptRecord) -> dict:
        position = _position(item.offset, item.offset_in_member)
        row = self._row(uri, locator=f"{relative}#offset={position}", offset=item.offset)
        return self._quarantined(row, item.reason, item.detail, item.excerpt)

    def _record_row(self, relative: str, uri: str, record: WarcRecord) -> dict:
        try:
            verdict = extract_page(record)
        except Exception as exc:  # resiliparse on hostile input: quarantine, keep going
            verdict = Quarantine(
                "extract_error", f"{type(exc).__name__}: {exc}", record.payload[:256]
            )
        url = record.target_uri
        position = _position(record.offset, record.offset_in_member)
        row = self._row(
            uri,
            locator=url or f"{relative}#offset={position}",
            offset=record.offset,
            repeat_locator=f"{url}#warc={relative}:{position}" if url else None,
        )
        row |= {
            "url": url,
            "domain": domain_of(url or "") or None,
            "fetch_date": record.date,
            "http_status": record.http_status,
            "content_type": mime_type(record),
        }
        if isinstance(verdict, Page):
            row |= {
                "title": verdict.title,
                "content_type": verdict.content_type,
                "text": verdict.text,
                "byte_length": verdict.byte_length,
            }
            return row
        if isinstance(verdict, Skip):
            return row | {
                "disposition": "skipped",
                "reason": verdict.reason,
                "detail": verdict.detail,
            }
        return self._quarantined(row, verdict.reason, verdict.detail, verdict.excerpt)

    def _row(
        self,
        uri: str,
        *,
        locator: str,
        offset: int | None = None,
        repeat_locator: str | None = None,
    ) -> dict:
        """A kept row with nothing known yet but where it came from."""
        repeat_locator = repeat_locator or locator
        return {
            "id": record_id(self.source, locator),
            "corpus": CORPUS,
            "source": self.source,
            "locator": locator,
            "url": None,
            "domain": None,
            "title": None,
            "fetch_date": None,
            "http_status": None,
            "content_type": None,
            "license": self.license,
            "license_evidence": self.license_evidence,
            "ingest_run_id": self.run_id,
            "text": None,
            "byte_length": None,
            "warc_file": uri,
            "warc_offset": offset,
            "disposition": "kept",
            "reason": None,
            "detail": None,
            "excerpt": None,
            "_repeat_locator": repeat_locator,
            "_repeat_id": record_id(self.source, repeat_locator),
        }

    @staticmethod
    def _quarantined(row: dict, reason: str, detail: str, excerpt: bytes | None) -> dict:
        return row | {
            "disposition": "quarantined",
            "reason": reason,
            "detail": detail,
            "excerpt": _excerpt(excerpt),
        }


def _position(offset: int, offset_in_member: int) -> str:
    return f"{offset}+{offset_in_member}" if offset_in_member else str(offset)


def _excerpt(raw: bytes | None) -> str | None:
    if not raw:
        return None
    return raw[:EXCERPT_CHARS].decode("utf-8", "backslashreplace")[:EXCERPT_CHARS]


class _Rows:
    """Column lists for one Arrow batch."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in _TASK_SCHEMA.names}
        self.count = 0
        self.text_bytes = 0

    def add(self, row: dict) -> None:
        for name, values in self.columns.items():
            values.append(row[name])
        self.count += 1
        self.text_bytes += row["byte_length"] or 0

    def full(self) -> bool:
        return self.count >= BATCH_ROWS or self.text_bytes >= BATCH_TEXT_BYTES

    def __bool__(self) -> bool:
        return self.count > 0

    def flush(self) -> pa.RecordBatch:
        batch = pa.RecordBatch.from_pydict(self.columns, schema=_TASK_SCHEMA)
        self.__init__()
        return batch
