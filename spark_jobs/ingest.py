"""Landing files -> one row per input record, each kept, skipped or quarantined with a reason.

The shared half of every corpus reader: listing landing files, one Spark task per file,
the common columns, and the rule that an unreadable file or a reader bug becomes a
quarantined row instead of a crashed run. A family supplies a `FileReader`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
import pyarrow.fs as pafs
import xxhash
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from spark_jobs.sources import Source
from spark_jobs.storage import LOCAL, ObjectStore

log = logging.getLogger(__name__)

KEPT, SKIPPED, QUARANTINED = "kept", "skipped", "quarantined"
EXCERPT_CHARS = 256
# An output batch is cut at whichever comes first, to bound executor memory.
BATCH_ROWS = 1000
BATCH_TEXT_BYTES = 32 * 2**20

# Every raw.<corpus> table starts with these columns, in this order.
COMMON_FIELDS = [
    pa.field("id", pa.string(), nullable=False),  # xxh3_128(source \0 locator)
    pa.field("corpus", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("locator", pa.string(), nullable=False),  # URL, repo path, paper id, file#line
    pa.field("license", pa.string(), nullable=False),  # SPDX id or a registered non-SPDX id
    pa.field("license_evidence", pa.string(), nullable=False),  # declared / detected:… / metadata
    pa.field("ingest_run_id", pa.string(), nullable=False),
    pa.field("text", pa.string()),
    pa.field("byte_length", pa.int64()),  # UTF-8 bytes of text
]
# Verdict columns: they go to rejects / quarantine, not to raw.<corpus>.
DISPOSITION_FIELDS = [
    pa.field("disposition", pa.string(), nullable=False),  # kept | skipped | quarantined
    pa.field("reason", pa.string()),  # null when kept
    pa.field("detail", pa.string()),
    pa.field("excerpt", pa.string()),  # <= 256 chars of the raw bytes, quarantined rows only
]
DISPOSITION_COLUMNS = [f.name for f in DISPOSITION_FIELDS]


def record_id(source: str, locator: str) -> str:
    return xxhash.xxh3_128_hexdigest(f"{source}\x00{locator}".encode())


def excerpt(raw: bytes | str | None) -> str | None:
    if not raw:
        return None
    if isinstance(raw, str):
        return raw[:EXCERPT_CHARS]
    return raw[:EXCERPT_CHARS].decode("utf-8", "backslashreplace")[:EXCERPT_CHARS]


def ingest_schema(extra_fields: Sequence[pa.Field]) -> pa.Schema:
    """Common columns, then the family's own, then the verdict columns."""
    return pa.schema([*COMMON_FIELDS, *extra_fields, *DISPOSITION_FIELDS])


def raw_columns(schema: pa.Schema) -> list[str]:
    """The columns of raw.<corpus>: everything but the verdict."""
    return [name for name in schema.names if name not in DISPOSITION_COLUMNS]


class FileReader(Protocol):
    """What a corpus family provides: which files it reads, and how one becomes rows.

    `read` yields one dict per input record (a page, a source file, a paper, a book...)
    with at least `locator`, and `text` for kept rows, or `disposition`/`reason`/`detail`
    (and `excerpt`) for skipped and quarantined ones. Missing columns default: id from
    source + locator, license from the source registry, byte_length from text. It must
    not raise on bad bytes; if it does anyway, the rest of the file is quarantined.

    A reader whose units are not single files (the code family: repository directories)
    may also define `list_units(fs, root) -> list[str]`, the units relative to root; each
    is then one task, and `read` may be given a directory path.
    """

    corpus: str
    suffixes: tuple[str, ...]
    extra_fields: tuple[pa.Field, ...]

    def read(
        self, fs: pafs.FileSystem, path: str, relative: str, source: Source
    ) -> Iterator[dict]: ...


def list_landing_files(
    landing_uri: str, suffixes: Sequence[str], store: ObjectStore = LOCAL
) -> list[str]:
    """Paths under landing_uri ending in one of `suffixes`, relative and sorted.

    Names starting with '_' or '.' (markers, manifests, temporary uploads) are left out,
    at any depth.
    """
    fs, root = store.filesystem(landing_uri)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(
            f"landing location {landing_uri} does not exist; check the source registry "
            "entry's location (a local directory or an s3:// prefix)"
        )
    found = []
    lowered = tuple(s.lower() for s in suffixes)
    for entry in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        relative = entry.path[len(root) :].lstrip("/")
        hidden = any(part.startswith(("_", ".")) for part in relative.split("/"))
        if entry.type == pafs.FileType.File and not hidden and relative.lower().endswith(lowered):
            found.append(relative)
    return sorted(found)


def list_units(reader: FileReader, landing_uri: str, store: ObjectStore = LOCAL) -> list[str]:
    """What `ingest_files` reads, one Spark task each: the reader's own units when it has a
    `list_units(fs, root)` (the code family: repository directories and tarballs), else
    the landing files ending in one of its suffixes."""
    own = getattr(reader, "list_units", None)
    if own is None:
        return list_landing_files(landing_uri, reader.suffixes, store)
    fs, root = store.filesystem(landing_uri)
    if fs.get_file_info(root).type == pafs.FileType.NotFound:
        raise FileNotFoundError(
            f"landing location {landing_uri} does not exist; check the source registry "
            "entry's location (a local directory or an s3:// prefix)"
        )
    return own(fs, root)


@dataclass(frozen=True)
class _ReadFiles:
    """The per-task work: read the files whose indexes arrive, emit Arrow batches."""

    reader: FileReader
    landing_uri: str
    files: tuple[str, ...]
    source: Source
    run_id: str
    store: ObjectStore
    schema: pa.Schema

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column(0).to_pylist():
                yield from self.read_file(self.files[index])

    def read_file(self, relative: str) -> Iterator[pa.RecordBatch]:
        uri = f"{self.landing_uri}/{relative}"
        rows = _Rows(self.schema)
        outcomes: Counter[str] = Counter()
        try:
            fs, path = self.store.filesystem(uri)
            if fs.get_file_info(path).type == pafs.FileType.NotFound:
                raise FileNotFoundError(f"{uri} does not exist (any more)")
            for row in self.reader.read(fs, path, relative, self.source):
                row = self.complete(row)
                outcomes[row["disposition"]] += 1
                rows.add(row)
                if rows.full():
                    yield rows.flush()
        except Exception as exc:  # a missing object or a reader bug must not end the run
            log.exception("reading %s failed", uri)
            reason = "unreadable_file" if not outcomes else "reader_error"
            # One row stands for the unread file (or the unread rest of it).
            locator = relative if reason == "unreadable_file" else f"{relative}#reader_error"
            detail = (
                f"{type(exc).__name__}: {exc} (after {sum(outcomes.values())} records of {uri}); "
                "the rest of the file was not read"
            )
            rows.add(
                self.complete(
                    {
                        "locator": locator,
                        "disposition": QUARANTINED,
                        "reason": reason,
                        "detail": detail,
                    }
                )
            )
            outcomes[QUARANTINED] += 1
        if rows:
            yield rows.flush()
        log.info("read %s: %s", uri, dict(outcomes))

    def complete(self, row: dict) -> dict:
        text = row.get("text")
        # A `detect` source whose reader could not say (an unread file): no assertion.
        declared = self.source.license != "detect"
        filled = {
            "id": record_id(self.source.name, row["locator"]),
            "corpus": self.reader.corpus,
            "source": self.source.name,
            "license": self.source.license if declared else "NOASSERTION",
            "license_evidence": self.source.license_evidence if declared else "none",
            "ingest_run_id": self.run_id,
            "byte_length": len(text.encode("utf-8")) if text is not None else None,
            "disposition": KEPT,
        }
        complete = {name: None for name in self.schema.names} | filled
        complete.update({k: v for k, v in row.items() if v is not None or k not in filled})
        complete["excerpt"] = excerpt(complete.get("excerpt"))
        return complete


class _Rows:
    """Column lists for one Arrow batch."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.columns: dict[str, list] = {name: [] for name in schema.names}
        self.count = 0
        self.text_bytes = 0

    def add(self, row: dict) -> None:
        for name, values in self.columns.items():
            values.append(row.get(name))
        self.count += 1
        self.text_bytes += row.get("byte_length") or 0

    def full(self) -> bool:
        return self.count >= BATCH_ROWS or self.text_bytes >= BATCH_TEXT_BYTES

    def __bool__(self) -> bool:
        return self.count > 0

    def flush(self) -> pa.RecordBatch:
        batch = pa.RecordBatch.from_pydict(self.columns, schema=self.schema)
        self.__init__(self.schema)
        return batch


def ingest_files(
    spark: SparkSession,
    reader: FileReader,
    source: Source,
    *,
    run_id: str,
    store: ObjectStore = LOCAL,
) -> DataFrame:
    """One row per input record of the source's landing files (schema: `ingest_schema`).

    The files are listed now and read when the DataFrame is evaluated, one Spark task each.
    """
    schema = ingest_schema(reader.extra_fields)
    # A landing-sensor run names its new files; otherwise read everything at the location.
    files = list(source.files) if source.files else list_units(reader, source.location, store)
    log.info(
        "ingesting %d %s files of source %s (run %s)",
        len(files),
        reader.corpus,
        source.name,
        run_id,
    )
    spark_schema = from_arrow_schema(schema, prefer_timestamp_ntz=False)
    if not files:
        return spark.createDataFrame([], spark_schema)
    job = _ReadFiles(
        reader=reader,
        landing_uri=source.location.rstrip("/"),
        files=tuple(files),
        source=source,
        run_id=run_id,
        store=store,
        schema=schema,
    )
    # spark.range with one partition per file: exactly one file index per task.
    return spark.range(0, len(files), 1, len(files)).mapInArrow(job, spark_schema)
