"""Landing files -> one row per input record, each kept, skipped or quarantined with a reason.

The shared half of every corpus reader: listing landing files, spreading them over tasks by size,
the common columns, and the rule that an unreadable file or a reader bug becomes a
quarantined row instead of a crashed run. A family supplies a `FileReader`.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import xxhash
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from spark_jobs.delta.read import largest_first
from spark_jobs.isolation import ObjectStopped, run_isolated
from spark_jobs.ranges import LINES, ByteRange, count_newlines, split
from spark_jobs.session import parse_bytes
from spark_jobs.sources import Source, license_override
from spark_jobs.storage import LOCAL, ObjectStore, is_s3
from spark_jobs.untrusted import ReadLimits
from spark_jobs.walk import LandingEntry, check_inside, local_root, walk

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

    A reader whose units are not single files (the code family: each immediate child of the
    location, directory or tarball, is one repository) sets `units = "children"`; `read`
    may then be given a directory path.

    A reader that can read part of a big file defines `split_kind(relative)` ("lines",
    "warc" or None, see spark_jobs.ranges) and takes a `span` keyword (a `ByteRange`) in
    `read`: it then yields the rows of the records that start in that range, exactly as a
    whole-file read yields them.
    """

    corpus: str
    suffixes: tuple[str, ...]
    extra_fields: tuple[pa.Field, ...]

    def read(
        self, fs: pafs.FileSystem, path: str, relative: str, source: Source
    ) -> Iterator[dict]: ...


# A quarantine row with one of these reasons stands for a whole unit that was not read.
UNIT_FAILURES = frozenset(
    {"unreadable_file", "reader_error", "timeout", "memory_limit", "reader_crashed"}
)


@dataclass(frozen=True)
class Listing:
    """What an ingest reads (units, relative to the location) and what it refuses to."""

    units: tuple[str, ...]
    refused: tuple[LandingEntry, ...] = ()
    sizes: tuple[int, ...] = ()  # bytes of each unit where the listing knows them (else empty)
    # The byte range each unit reads (None: the whole file); empty when nothing is split.
    # A split file appears once per range in `units` (see `split_listing`).
    spans: tuple[ByteRange | None, ...] = ()


def list_landing_files(
    landing_uri: str, suffixes: Sequence[str], store: ObjectStore = LOCAL
) -> list[str]:
    """Regular files under landing_uri ending in one of `suffixes`, relative and sorted.

    Names starting with '_' or '.' (markers, manifests, temporary uploads) are left out,
    at any depth; links and other refused entries are not files (see `landing_listing`).
    """
    lowered = tuple(s.lower() for s in suffixes)
    return sorted(
        entry.relative
        for entry in walk(landing_uri, store)
        if entry.kind == "file" and not entry.hidden and entry.relative.lower().endswith(lowered)
    )


def landing_listing(
    reader: FileReader,
    source: Source,
    store: ObjectStore = LOCAL,
    limits: ReadLimits | None = None,
) -> Listing:
    """The units an ingest of `source` reads (their sizes where known) and the entries it refuses.

    A landing-sensor run names its files (`source.files`): each is checked on its own, every
    step of its path, so a link planted after the listing is refused too. Otherwise the
    whole location is walked: files ending in one of the reader's suffixes, or for a
    `units = "children"` reader every visible immediate child. Refused entries (links,
    devices, undecodable or unsafe names) are listed whatever their suffix.
    """
    limits = limits or ReadLimits.from_options(source.options)
    location = source.location
    if source.files:
        entries = [check_inside(location, relative) for relative in source.files]
        kept = [e for e in entries if e.kind != "refused"]
        return Listing(
            tuple(e.relative for e in kept),
            tuple(e for e in entries if e.kind == "refused"),
            tuple(e.size for e in kept),
        )
    children = getattr(reader, "units", None) == "children"
    if children and not is_s3(location) and os.path.isfile(local_root(location)):
        return Listing(("",))  # the location is one tarball
    lowered = tuple(s.lower() for s in reader.suffixes)
    units, refused = [], []
    for entry in walk(location, store, limits=limits, recursive=not children):
        if entry.hidden:
            continue
        if entry.kind == "refused":
            refused.append(entry)
        elif children or (entry.kind == "file" and entry.relative.lower().endswith(lowered)):
            units.append(entry)
    units.sort(key=lambda e: e.relative)
    return Listing(
        tuple(e.relative for e in units),
        tuple(sorted(refused, key=lambda e: e.relative)),
        tuple(e.size for e in units),
    )


def list_units(reader: FileReader, landing_uri: str, store: ObjectStore = LOCAL) -> list[str]:
    """The units an ingest of everything at `landing_uri` reads (see `landing_listing`)."""
    probe = Source("listing", reader.corpus, landing_uri, "", "NOASSERTION")
    return list(landing_listing(reader, probe, store).units)


@dataclass(frozen=True)
class ReadFiles:
    """The per-task work: read the units whose indexes arrive, emit Arrow batches.

    Index `len(files)` stands for the refused entries: they become quarantine rows without
    a byte of them being read.
    """

    reader: FileReader
    landing_uri: str
    files: tuple[str, ...]
    refused: tuple[LandingEntry, ...]
    source: Source
    run_id: str
    store: ObjectStore
    schema: pa.Schema
    limits: ReadLimits
    # Task index -> the unit indexes that task reads (None: task index = unit index).
    groups: tuple[tuple[int, ...], ...] | None = None
    # The byte range of each unit (parallel to `files`; empty: every unit is a whole file).
    spans: tuple[ByteRange | None, ...] = ()

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for task in batch.column(0).to_pylist():
                for index in self.groups[task] if self.groups is not None else (task,):
                    if index == len(self.files):
                        yield from self.refused_rows()
                    else:
                        span = self.spans[index] if self.spans else None
                        yield from self.read_isolated(self.files[index], span)

    def refused_rows(self) -> Iterator[pa.RecordBatch]:
        rows = _Rows(self.schema)
        for entry in self.refused:
            rows.add(
                self.complete(
                    {
                        "locator": entry.relative,
                        "disposition": QUARANTINED,
                        "reason": entry.reason,
                        "detail": f"landing entry {entry.relative}: {entry.detail}",
                    }
                )
            )
            if rows.full():
                yield rows.flush()
        if rows:
            yield rows.flush()

    def read_isolated(
        self, relative: str, span: ByteRange | None = None
    ) -> Iterator[pa.RecordBatch]:
        """`read_file` in a child process under the object's time and memory budget (a byte
        range of a file has a budget of its own; its failures name the range)."""
        uri = f"{self.landing_uri}/{relative}" if relative else self.landing_uri
        name = span.locator(relative) if span is not None else relative
        what = span.locator(uri) if span is not None else uri
        try:
            yield from run_isolated(
                lambda: self.read_file(relative, span),
                self.schema,
                seconds=self.limits.object_seconds,
                memory_bytes=self.limits.object_memory_bytes,
                what=what,
            )
        except ObjectStopped as stopped:
            log.warning("reading %s stopped: %s", what, stopped.detail)
            partly = stopped.batches > 0
            row = {
                "locator": f"{name}#{stopped.reason}" if partly else name,
                "disposition": QUARANTINED,
                "reason": stopped.reason,
                "detail": stopped.detail
                + ("; rows read before it were kept" if partly else "; nothing of it was read"),
            }
            rows = _Rows(self.schema)
            rows.add(self.complete(row))
            yield rows.flush()

    def read_file(self, relative: str, span: ByteRange | None = None) -> Iterator[pa.RecordBatch]:
        uri = f"{self.landing_uri}/{relative}" if relative else self.landing_uri
        name = span.locator(relative) if span is not None else relative
        what = "range" if span is not None else "file"
        rows = _Rows(self.schema)
        outcomes: Counter[str] = Counter()
        try:
            fs, path = self.store.filesystem(uri)
            if fs.get_file_info(path).type == pafs.FileType.NotFound:
                raise FileNotFoundError(f"{uri} does not exist (any more)")
            if span is None:
                read = self.reader.read(fs, path, relative, self.source)
            else:
                read = self.reader.read(fs, path, relative, self.source, span=span)
            for row in read:
                row = self.complete(row)
                outcomes[row["disposition"]] += 1
                rows.add(row)
                if rows.full():
                    yield rows.flush()
        except Exception as exc:  # a missing object or a reader bug must not end the run
            log.exception("reading %s failed", uri)
            reason = "unreadable_file" if not outcomes else "reader_error"
            # One row stands for the unread file or range (or the unread rest of it).
            locator = name if reason == "unreadable_file" else f"{name}#reader_error"
            of = span.locator(uri) if span is not None else uri
            detail = (
                f"{type(exc).__name__}: {exc} (after {sum(outcomes.values())} records of {of}); "
                f"the rest of the {what} was not read"
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
        log.info("read %s: %s", span.locator(uri) if span else uri, dict(outcomes))

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
            "byte_length": _utf8_length(text),
            "disposition": KEPT,
        }
        complete = {name: None for name in self.schema.names} | filled
        complete.update({k: v for k, v in row.items() if v is not None or k not in filled})
        declared_here = row.get("license") is None or (
            row["license"] == self.source.license
            and row.get("license_evidence") == self.source.license_evidence
        )
        if self.source.license_overrides and declared_here:
            complete.update(_overridden_license(self.source, row))
        complete["excerpt"] = excerpt(complete.get("excerpt"))
        return complete


def _overridden_license(source: Source, row: dict) -> dict:
    """The license of the source's first override matching the record's domain and path (a
    URL's path on the web, else the locator), with evidence naming the override; {} if none."""
    url = row.get("url")
    path = urlsplit(url).path if url else row.get("locator")
    domain = row.get("domain") or (urlsplit(url).hostname if url else None)
    override = license_override(source.license_overrides, domain=domain, path=path)
    if override is None:
        return {}
    where = ", ".join(
        f"{key}={value}"
        for key, value in (("domain", override.domain), ("path", override.path))
        if value is not None
    )
    return {"license": override.license, "license_evidence": f"{override.evidence} ({where})"}


def _utf8_length(text: str | None) -> int | None:
    if text is None:
        return None
    return len(text.encode("utf-8", "surrogatepass"))


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
    listing: Listing | None = None,
) -> DataFrame:
    """One row per input record of the source's landing units (schema: `ingest_schema`).

    The units are listed now (or given as `listing`) and read when the DataFrame is
    evaluated, every unit in a child process under the source's `ReadLimits`; refused landing
    entries become quarantine rows. A file over the split size (source option `split_bytes`,
    else the session's spark.sql.files.maxPartitionBytes) whose reader can read parts of it
    is read in byte ranges, each a unit of its own (`split_listing`). The units are spread
    over tasks by size (`unit_groups`): a task pays a fixed cost, so many small files share
    one, and a big file or range has its own.
    """
    schema = ingest_schema(reader.extra_fields)
    limits = ReadLimits.from_options(source.options)
    listing = listing or landing_listing(reader, source, store, limits)
    log.info(
        "ingesting %d %s units of source %s (run %s)%s",
        len(listing.units),
        reader.corpus,
        source.name,
        run_id,
        f"; {len(listing.refused)} landing entries refused" if listing.refused else "",
    )
    spark_schema = from_arrow_schema(schema, prefer_timestamp_ntz=False)
    session_split = spark.conf.get("spark.sql.files.maxPartitionBytes", None)
    counter = NewlineCounter(store, source.location.rstrip("/"))

    def count_lines(items: list[tuple[str, ByteRange]]) -> list[int | None]:
        # One task per range: only one number per range comes back to the driver.
        return spark.sparkContext.parallelize(items, len(items)).map(counter).collect()

    listing = split_listing(listing, reader, split_bytes_of(source, session_split), count_lines)
    groups = unit_groups(listing, spark.sparkContext.defaultParallelism)
    if not groups:
        return spark.createDataFrame([], spark_schema)
    job = ReadFiles(
        reader=reader,
        landing_uri=source.location.rstrip("/"),
        files=listing.units,
        refused=listing.refused,
        source=source,
        run_id=run_id,
        store=store,
        schema=schema,
        limits=limits,
        groups=groups,
        spans=listing.spans,
    )
    # spark.range with one partition per group: exactly one group index per task.
    return spark.range(0, len(groups), 1, len(groups)).mapInArrow(job, spark_schema)


# A task of an ingest gets at least this many landing bytes (while there are more units than
# cores): below it, the task's fixed cost outweighs its reading. Units of unknown size
# (directories, repositories) count as UNIT_MIN_BYTES each.
TASK_MIN_BYTES = 32 << 20
UNIT_MIN_BYTES = 1 << 20


def unit_groups(listing: Listing, parallelism: int) -> tuple[tuple[int, ...], ...]:
    """The unit indexes each ingest task reads (index len(units): the refused entries).

    As many tasks as the landing bytes need at TASK_MIN_BYTES each, at least one per core and
    at most four per core, never more than the units; units go largest first to the least
    loaded task, so a big file keeps a task to itself.
    """
    count = len(listing.units)
    sizes = listing.sizes if len(listing.sizes) == count else (0,) * count
    weights = [max(size, UNIT_MIN_BYTES) for size in sizes]
    if listing.refused:
        weights.append(UNIT_MIN_BYTES)
    if not weights:
        return ()
    cores = max(1, parallelism)
    tasks = min(len(weights), 4 * cores, max(cores, -(-sum(weights) // TASK_MIN_BYTES)))
    return tuple(tuple(sorted(group)) for group in largest_first(weights, tasks))


# Files over this many bytes are read in byte ranges where the reader can (what the local
# profile's spark_max_partition_bytes says; ingest_files takes the session's value).
DEFAULT_SPLIT_BYTES = 128 << 20


def split_bytes_of(source: Source, default: int | str | None) -> int:
    """The split size for a source: its `split_bytes` option (0: never split), else `default`
    (bytes or a Spark size such as "128m"), else DEFAULT_SPLIT_BYTES."""
    value = source.options.get("split_bytes", default)
    if value is None:
        return DEFAULT_SPLIT_BYTES
    try:
        return parse_bytes(value)
    except ValueError as exc:
        raise ValueError(f"source {source.name}: options.split_bytes: {exc}") from None


@dataclass(frozen=True)
class NewlineCounter:
    """Counts the newlines of one byte range of a landing file (a task of its own in
    ingest_files); None when the file cannot be read, which leaves the file unsplit."""

    store: ObjectStore
    landing_uri: str

    def __call__(self, item: tuple[str, ByteRange]) -> int | None:
        relative, span = item
        try:
            fs, path = self.store.filesystem(f"{self.landing_uri}/{relative}")
            return count_newlines(fs, path, span.start, span.end)
        except Exception:  # the read itself will fail the same way and say why
            log.exception("counting the lines of %s failed", span.locator(relative))
            return None


def split_listing(
    listing: Listing,
    reader: FileReader,
    split_bytes: int,
    count_lines: Callable[[list[tuple[str, ByteRange]]], list[int | None]],
) -> Listing:
    """`listing` with each file over `split_bytes` that its reader can split replaced by its
    byte ranges (`spark_jobs.ranges.split`), one unit each; smaller files stay whole.

    Line-split files need the newlines before each range for absolute line numbers:
    `count_lines` counts them, one number per range (a file whose count fails stays whole).
    """
    kind_of = getattr(reader, "split_kind", None)
    if kind_of is None or split_bytes <= 0 or len(listing.sizes) != len(listing.units):
        return listing
    planned = [
        (relative, split(size or 0, split_bytes, kind_of(relative)) if relative else ())
        for relative, size in zip(listing.units, listing.sizes, strict=True)
    ]
    if not any(ranges for _, ranges in planned):
        return listing
    lines = [
        (relative, span)
        for relative, ranges in planned
        if ranges and kind_of(relative) == LINES
        for span in ranges
    ]
    counts = iter(count_lines(lines) if lines else [])
    units, sizes, spans = [], [], []
    for (relative, ranges), size in zip(planned, listing.sizes, strict=True):
        if ranges and kind_of(relative) == LINES:
            newlines = [next(counts) for _ in ranges]
            if any(n is None for n in newlines):
                ranges = ()
            else:
                before = [0, *itertools.accumulate(newlines)][: len(ranges)]
                ranges = tuple(
                    replace(span, lines_before=n) for span, n in zip(ranges, before, strict=True)
                )
        if not ranges:
            units.append(relative)
            sizes.append(size)
            spans.append(None)
            continue
        log.info("reading %s (%d bytes) in %d byte ranges", relative, size, len(ranges))
        for span in ranges:
            units.append(relative)
            sizes.append(span.length)
            spans.append(span)
    return Listing(tuple(units), listing.refused, tuple(sizes), tuple(spans))


def read_without_spark(
    reader: FileReader,
    source: Source,
    *,
    run_id: str = "local",
    store: ObjectStore = LOCAL,
    listing: Listing | None = None,
    split_bytes: int | str | None = None,
) -> Iterator[dict]:
    """The rows `ingest_files` makes, in this process: the same listing, the same byte
    ranges (`split_bytes`, else the source's option, else DEFAULT_SPLIT_BYTES), the same
    per-unit isolation and budgets, no Spark. For one-off inspection, tests and the fault
    suite."""
    limits = ReadLimits.from_options(source.options)
    listing = listing or landing_listing(reader, source, store, limits)
    counter = NewlineCounter(store, source.location.rstrip("/"))
    size = split_bytes_of(source, split_bytes)
    listing = split_listing(listing, reader, size, lambda items: [counter(i) for i in items])
    job = ReadFiles(
        reader=reader,
        landing_uri=source.location.rstrip("/"),
        files=listing.units,
        refused=listing.refused,
        source=source,
        run_id=run_id,
        store=store,
        schema=ingest_schema(reader.extra_fields),
        limits=limits,
        spans=listing.spans,
    )
    indexes = pa.record_batch([pa.array(range(len(listing.units) + 1), pa.int64())], ["id"])
    for batch in job(iter([indexes])):
        yield from batch.to_pylist()


def check_unreadable_fraction(
    source: Source, units: int, failures: Mapping[str, int], example: str | None = None
) -> None:
    """Fail when most of a source could not be read at all (wrong credentials, a dead
    mount): quietly quarantining everything and succeeding would hide it."""
    limits = ReadLimits.from_options(source.options)
    failed = sum(failures.values())
    if units < limits.unreadable_min_units or failed <= limits.max_unreadable_fraction * units:
        return
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(failures.items()))
    raise UnreadableSource(
        f"source {source.name}: {failed} of {units} landing units could not be read ({reasons}), "
        f"over options.limits.max_unreadable_fraction {limits.max_unreadable_fraction:g}"
        + (f"; first error: {example}" if example else "")
        + "; check the location's credentials and permissions, then re-run"
    )


class UnreadableSource(RuntimeError):
    """Most of a source's units could not be read; nothing of it was committed."""
