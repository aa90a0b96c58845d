"""Metadata dumps (JSONL, gzipped JSONL, Parquet) read record by record with their line or row
number, and the license spellings found in them mapped to SPDX ids. Shared by the papers and
licensed readers.

A dump is untrusted: one bad record is quarantined alone and reading goes on; only a broken
container (an unreadable gzip stream, a Parquet footer that does not parse) ends the file,
with a row saying how many records came before. Work is bounded by the source's
`ReadLimits`: lines and Parquet rows by max_line_bytes, JSON nesting by max_json_depth, what
a file decompresses or decodes to by max_decompressed_bytes.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from spark_jobs.ingest import SKIPPED
from spark_jobs.licenses import normalize_license as normalize_spdx
from spark_jobs.ranges import LINES, ByteRange, LineRange
from spark_jobs.untrusted import (
    BoundedGunzip,
    LimitExceeded,
    LongLine,
    ReadLimits,
    bounded_lines,
    check_json_depth,
)

DUMP_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
PUBLIC_DOMAIN = "PublicDomain"
EXCERPT_BYTES = 256
# Parquet: rows per batch at most, and bytes of values decoded or converted at once. A
# dictionary page bigger than PARQUET_DICTIONARY_BYTES is read as a dictionary, so that a
# value the file stores once is not copied into every row that points to it.
PARQUET_BATCH_ROWS = 64
PARQUET_BATCH_BYTES = 64 * 2**20
PARQUET_DICTIONARY_BYTES = 8 * 2**20
# Why a record (or the rest of a file) was not read, for whoever reads the quarantine table.
DUMP_REASONS = {
    "malformed_json": "a JSONL line that is not a JSON object",
    "undecodable": "a line that is not UTF-8, a string holding a lone surrogate (a \\ud800 "
    "escape no UTF-8 text can hold) or a Parquet value that is not UTF-8",
    "too_deep": "a JSON record nested deeper than options.limits.max_json_depth",
    "line_too_long": "a JSONL line over options.limits.max_line_bytes (not split, not read)",
    "value_too_large": "a Parquet row whose values hold over options.limits.max_line_bytes",
    "malformed_record": "any other error reading or converting the record (the detail names "
    "the exception): the record is quarantined alone",
    "row_group_too_large": "a Parquet row group whose footer says it decompresses to over "
    "options.limits.max_decompressed_bytes; its rows are one row (locator #rows=A-B)",
    "decompression_bomb": "the file decompresses or decodes to over "
    "options.limits.max_decompressed_bytes; the records after that point were not read",
    "corrupt_archive": "the gzip stream breaks; the records before the break were read",
    "corrupt_parquet": "the Parquet file cannot be read further; the rows before were read",
    "empty_file": "the file has no bytes at all (an upload that did not finish?)",
}
# A JSON escape of a UTF-16 surrogate: only these can leave a lone surrogate in parsed text.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class DumpRecord:
    """One record of a dump, or the reason it could not be read (then `record` is None)."""

    locator: str  # file#line=N (1-based) for JSONL, file#row=N (0-based) for Parquet
    record: dict | None
    reason: str | None = None  # a DUMP_REASONS key
    detail: str | None = None
    raw: bytes | None = None  # the bytes to excerpt in quarantine


def dump_format(relative: str) -> str:
    return "parquet" if relative.lower().endswith(".parquet") else "jsonl"


def read_dump(
    fs: pafs.FileSystem,
    path: str,
    relative: str,
    limits: ReadLimits,
    to_row: Callable[[DumpRecord], dict],
    span: ByteRange | None = None,
) -> Iterator[dict]:
    """One row per record of a dump (of one byte range of it when `span` is given, see
    `split_kind`): `to_row` turns a record (or an unread one) into the family's row. An
    exception in `to_row` quarantines that record alone (malformed_record)."""
    for item in iter_dump_records(fs, path, relative, limits, span):
        try:
            row = to_row(item)
        except Exception as exc:  # the family's conversion met a value it did not expect
            detail = f"the record cannot be converted: {type(exc).__name__}: {exc}"[:1000]
            raw = item.raw if item.raw is not None else _record_excerpt(item.record)
            row = to_row(DumpRecord(item.locator, None, "malformed_record", detail, raw))
        yield row


def split_kind(relative: str) -> str | None:
    """How a dump can be read in byte ranges: plain JSONL by lines; gzip JSONL and Parquet
    not at all (spark_jobs.ranges)."""
    return LINES if relative.lower().endswith(".jsonl") else None


def iter_dump_records(
    fs: pafs.FileSystem,
    path: str,
    relative: str,
    limits: ReadLimits | None = None,
    span: ByteRange | None = None,
) -> Iterator[DumpRecord]:
    """Every record of a JSONL(.gz) or Parquet file; blank JSONL lines are not records.

    With `span` (plain JSONL only): the records whose line starts in that byte range, with
    the line numbers (and so the locators) a whole-file read gives them.
    """
    limits = limits or ReadLimits()
    if span is not None:
        if split_kind(relative) != LINES:
            raise ValueError(f"{relative} cannot be read in byte ranges")
        yield from _jsonl_records(fs, path, relative, limits, span)
    elif fs.get_file_info(path).size == 0:
        detail = "the file is empty (0 bytes): an upload that did not finish? land it again"
        yield DumpRecord(relative, None, "empty_file", detail)
    elif dump_format(relative) == "parquet":
        yield from _parquet_records(fs, path, relative, limits)
    else:
        yield from _jsonl_records(fs, path, relative, limits)


def _record_excerpt(record: dict | None) -> bytes | None:
    """The first bytes of a record rendered as JSON, each value cut short first."""
    if record is None:
        return None
    shown = {str(key)[:64]: _short(value) for key, value in list(record.items())[:16]}
    text = json.dumps(shown, ensure_ascii=False, default=repr)
    return text.encode("utf-8", "backslashreplace")[:EXCERPT_BYTES]


def _short(value):
    if isinstance(value, str | bytes):
        return value[:64] if isinstance(value, str) else repr(value[:64])
    if isinstance(value, list | tuple):
        return [_short(v) for v in value[:4]]
    if isinstance(value, dict):
        return {str(k)[:32]: _short(v) for k, v in list(value.items())[:4]}
    return value


# --- JSONL -----------------------------------------------------------------------------


def _jsonl_records(
    fs: pafs.FileSystem,
    path: str,
    relative: str,
    limits: ReadLimits,
    span: ByteRange | None = None,
) -> Iterator[DumpRecord]:
    records = 0
    # compression=None: pyarrow would gunzip by extension itself, unbounded, and with no way
    # to tell a truncated member from the end of the file.
    opened = (
        fs.open_input_stream(path, compression=None) if span is None else fs.open_input_file(path)
    )
    with opened as raw:
        gzipped = relative.lower().endswith(".gz")
        part = LineRange(raw, span) if span is not None else None
        stream = BoundedGunzip(raw, limits.max_decompressed_bytes) if gzipped else part or raw
        first = part.first_number if part is not None else 1
        try:
            for number, line in enumerate(bounded_lines(stream, limits.max_line_bytes), first):
                if part is not None:
                    if part.done:
                        break
                    part.advance(line.length if isinstance(line, LongLine) else len(line))
                if isinstance(line, LongLine):
                    detail = (
                        f"line {number} is {line.length} bytes, over {limits.max_line_bytes} "
                        "(options.limits.max_line_bytes); it was skipped, not read"
                    )
                    locator = f"{relative}#line={number}"
                    yield DumpRecord(locator, None, "line_too_long", detail, line.head)
                elif line.strip():
                    yield _guarded_parse(relative, number, line, limits)
                else:
                    continue
                records += 1
        except LimitExceeded as exc:  # the gzip stream expands past the limit
            detail = (
                f"{exc.detail}; {records} records were read before that point, "
                "the rest of the file was not"
            )
            yield DumpRecord(f"{relative}#{exc.reason}", None, exc.reason, detail)
        except (EOFError, OSError, zlib.error) as exc:  # damaged or truncated .gz
            if not gzipped:
                raise  # the storage failed, not the file: ingest reports a reader_error
            detail = (
                f"the compressed stream breaks after {records} records: "
                f"{type(exc).__name__}: {exc}; the records before it were read, "
                "the rest of the file was not"
            )
            yield DumpRecord(f"{relative}#corrupt_archive", None, "corrupt_archive", detail)


def _guarded_parse(relative: str, number: int, line: bytes, limits: ReadLimits) -> DumpRecord:
    try:
        return _parse_line(relative, number, line, limits)
    except Exception as exc:  # RecursionError, ValueError on a 5,000-digit number...
        detail = f"line {number} cannot be read: {type(exc).__name__}: {exc}"[:1000]
        return DumpRecord(
            f"{relative}#line={number}", None, "malformed_record", detail, line[:EXCERPT_BYTES]
        )


def _parse_line(relative: str, number: int, line: bytes, limits: ReadLimits) -> DumpRecord:
    locator = f"{relative}#line={number}"
    raw = line[:EXCERPT_BYTES]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        detail = (
            f"line {number} is not UTF-8 (byte {exc.start}: {line[exc.start : exc.start + 4]!r})"
        )
        return DumpRecord(
            locator, None, "undecodable", detail, line[max(0, exc.start - 64) :][:EXCERPT_BYTES]
        )
    try:
        check_json_depth(line, limits)
    except LimitExceeded as exc:
        return DumpRecord(locator, None, exc.reason, f"line {number}: {exc.detail}", raw)
    try:
        record = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        detail = f"line {number} is not valid JSON: {exc.msg} at column {exc.colno}"
        return DumpRecord(locator, None, "malformed_json", detail, raw)
    if not isinstance(record, dict):
        detail = f"line {number} is a JSON {type(record).__name__}, not an object"
        return DumpRecord(locator, None, "malformed_json", detail, raw)
    if _SURROGATE_ESCAPE.search(line):
        where = _lone_surrogate(record)
        if where is not None:
            detail = (
                f"line {number}: {where} holds a lone surrogate (a \\ud800-\\udfff escape "
                "without its pair), which no UTF-8 text can hold"
            )
            return DumpRecord(locator, None, "undecodable", detail, raw)
    return DumpRecord(locator, record, raw=raw)


def _lone_surrogate(record: dict) -> str | None:
    """Where in the record a key or string holds a lone surrogate ("field text"), or None."""
    todo: list[tuple[str, object]] = [("the record", record)]
    while todo:
        where, value = todo.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                todo.append((f"field {key!r}", key))
                todo.append((f"field {key!r}", item))
        elif isinstance(value, list):
            todo.extend((where, item) for item in value)
    return None


# --- Parquet ---------------------------------------------------------------------------


class _ParquetDump:
    """One Parquet file read row group by row group, in batches small enough that no batch
    decodes to more than PARQUET_BATCH_BYTES, whatever its dictionary pages hold."""

    def __init__(self, relative: str, limits: ReadLimits) -> None:
        self.relative = relative
        self.limits = limits
        self.row = 0  # rows accounted for: the next row's number
        self.rows_in_file: int | None = None  # from the footer, once it is read
        self.decoded = 0.0  # bytes of values decoded so far

    def records(self, handle) -> Iterator[DumpRecord]:
        parquet = pq.ParquetFile(handle)
        metadata = parquet.metadata
        self.rows_in_file = metadata.num_rows
        for index in range(metadata.num_row_groups):
            group = metadata.row_group(index)
            if group.num_rows <= 0:
                continue
            over = _row_group_over_budget(group, self.limits)
            if over:
                locator = f"{self.relative}#rows={self.row}-{self.row + group.num_rows - 1}"
                detail = f"row group {index} ({group.num_rows} rows) {over}; its rows were not read"
                yield DumpRecord(locator, None, "row_group_too_large", detail)
                self.row += group.num_rows
                continue
            batch_rows, as_dictionary = _read_plan(handle, group, parquet.schema)
            reader = pq.ParquetFile(handle, metadata=metadata, read_dictionary=as_dictionary)
            for batch in reader.iter_batches(
                batch_size=batch_rows, row_groups=[index], use_threads=False
            ):
                yield from self._batch(batch)

    def _batch(self, batch: pa.RecordBatch) -> Iterator[DumpRecord]:
        sizes = [_value_bytes(column) for column in batch.columns]
        total = np.sum(sizes, axis=0) if sizes else np.zeros(batch.num_rows)
        # Columns read as dictionaries are decoded only when a row is converted.
        eager = [
            s for s, c in zip(sizes, batch.columns, strict=True) if not _has_dictionary(c.type)
        ]
        decoded = np.sum(eager, axis=0) if eager else np.zeros(batch.num_rows)
        start, run_bytes = 0, 0.0
        for i in range(batch.num_rows):
            too_large = total[i] > self.limits.max_line_bytes
            # A run of rows converted at once stays within the batch budget and within
            # what is left of the file's, so the rows before the file's limit are all kept.
            room = min(PARQUET_BATCH_BYTES, self.limits.max_decompressed_bytes - self.decoded)
            if too_large or (run_bytes + total[i] > room and i > start):
                yield from self._convert(batch, start, i, run_bytes)
                start, run_bytes = i, 0.0
            if too_large:
                yield self._too_large(batch, i, sizes, total[i])
                self._charge(decoded[i])
                start = i + 1
            else:
                run_bytes += total[i]
        yield from self._convert(batch, start, batch.num_rows, run_bytes)

    def _convert(
        self, batch: pa.RecordBatch, start: int, end: int, size: float
    ) -> Iterator[DumpRecord]:
        if start >= end:
            return
        self._charge(size)
        part = batch.slice(start, end - start)
        try:
            records = part.to_pylist()
        except Exception:  # one bad value: convert row by row to find which
            records = None
        for offset in range(end - start):
            locator = f"{self.relative}#row={self.row}"
            if records is not None:
                item = DumpRecord(locator, records[offset])
            else:
                item = _row_record(locator, self.row, part.slice(offset, 1))
            self.row += 1
            yield item

    def _too_large(self, batch: pa.RecordBatch, i: int, sizes, total: float) -> DumpRecord:
        largest = max(range(len(sizes)), key=lambda j: sizes[j][i])
        detail = (
            f"row {self.row} holds {int(total)} bytes of values ({int(sizes[largest][i])} in "
            f"column {batch.schema.names[largest]!r}), over {self.limits.max_line_bytes} "
            "(options.limits.max_line_bytes)"
        )
        item = DumpRecord(f"{self.relative}#row={self.row}", None, "value_too_large", detail)
        self.row += 1
        return item

    def _charge(self, size: float) -> None:
        self.decoded += size
        if self.decoded > self.limits.max_decompressed_bytes:
            raise LimitExceeded(
                "decompression_bomb",
                f"the file decodes to over {self.limits.max_decompressed_bytes} bytes "
                "(options.limits.max_decompressed_bytes)",
            )


def _parquet_records(
    fs: pafs.FileSystem, path: str, relative: str, limits: ReadLimits
) -> Iterator[DumpRecord]:
    dump = _ParquetDump(relative, limits)
    try:
        with fs.open_input_file(path) as handle:
            yield from dump.records(handle)
    except LimitExceeded as exc:
        last = max((dump.rows_in_file or 0) - 1, dump.row)
        detail = (
            f"{exc.detail}; {dump.row} rows were read before that point, "
            f"rows {dump.row}-{last} were not"
        )
        yield DumpRecord(f"{relative}#rows={dump.row}-{last}", None, exc.reason, detail)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... on damaged files
        detail = (
            f"the Parquet file cannot be read after {dump.row} rows: {type(exc).__name__}: "
            f"{exc}; the rows before it were read, the rest of the file was not"
        )[:1000]
        yield DumpRecord(f"{relative}#corrupt_parquet", None, "corrupt_parquet", detail)


def _row_record(locator: str, number: int, row: pa.RecordBatch) -> DumpRecord:
    """One row converted on its own; a value that is not UTF-8 (or another failure) makes it
    an unread record naming the column."""
    try:
        return DumpRecord(locator, row.to_pylist()[0])
    except Exception as exc:
        name, raw = _failing_column(row)
        where = f"column {name!r} of row {number}" if name else f"row {number}"
        if isinstance(exc, UnicodeDecodeError):
            detail = f"{where} is not UTF-8: {exc.reason} at byte {exc.start}"
            return DumpRecord(locator, None, "undecodable", detail, raw)
        detail = f"{where} cannot be read: {type(exc).__name__}: {exc}"[:1000]
        return DumpRecord(locator, None, "malformed_record", detail, raw)


def _failing_column(row: pa.RecordBatch) -> tuple[str | None, bytes | None]:
    """The first column of a one-row batch that does not convert, and its first bytes."""
    for name, column in zip(row.schema.names, row.columns, strict=True):
        try:
            column.to_pylist()
        except Exception:
            try:
                return name, column.cast(pa.binary())[0].as_py()[:EXCERPT_BYTES]
            except Exception:  # nested or dictionary values: no excerpt
                return name, None
    return None, None


def _row_group_over_budget(group, limits: ReadLimits) -> str | None:
    """Why a row group is too large to decode, from the footer's sizes, or None."""
    chunks = [max(0, group.column(j).total_uncompressed_size) for j in range(group.num_columns)]
    size = max(group.total_byte_size, sum(chunks))
    if size > limits.max_decompressed_bytes:
        return (
            f"decompresses to {size} bytes per the file's footer, over "
            f"{limits.max_decompressed_bytes} (options.limits.max_decompressed_bytes)"
        )
    return None


def _read_plan(handle, group, schema) -> tuple[int, list[str] | None]:
    """Rows per batch, and the columns to read as dictionaries, for one row group.

    A dictionary-encoded column decodes each row's value in full, however many rows point
    to the same dictionary entry: a value up to the dictionary page's size per row (per
    list element in a repeated column). Columns whose dictionary could expand past the batch
    budget are read as dictionaries instead; the others set how many rows a batch holds.
    """
    per_row, as_dictionary = 0, []
    for j in range(group.num_columns):
        chunk = group.column(j)
        if chunk.physical_type not in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
            continue  # numbers: a few bytes a value, however large their dictionary
        size = _dictionary_page_bytes(handle, chunk)
        if not size:
            continue
        repeated = schema.column(j).max_repetition_level > 0
        risky = size > PARQUET_DICTIONARY_BYTES or (
            repeated and size * max(chunk.num_values, 1) > PARQUET_BATCH_BYTES
        )
        if risky and chunk.physical_type == "BYTE_ARRAY":
            as_dictionary.append(chunk.path_in_schema)
        elif not repeated or risky:
            per_row += size
    rows = min(PARQUET_BATCH_ROWS, max(1, PARQUET_BATCH_BYTES // max(per_row, 1)))
    return rows, as_dictionary or None


def _dictionary_page_bytes(handle, chunk) -> int:
    """The size of a column chunk's dictionary page, from its page header (0: none); the
    whole chunk's size when the header cannot be read."""
    offset = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    try:
        header = _page_header_sizes(handle.read_at(32, offset))
    except Exception:  # an offset outside the file
        header = None
    if header is None:
        return max(0, chunk.total_uncompressed_size)
    kind, uncompressed, compressed = header
    return max(uncompressed, compressed, 0) if kind == _DICTIONARY_PAGE else 0


_DICTIONARY_PAGE = 2  # parquet.thrift PageType


def _page_header_sizes(data: bytes) -> tuple[int, int, int] | None:
    """(type, uncompressed_page_size, compressed_page_size): fields 1-3 of a Parquet
    PageHeader, three i32 in Thrift's compact protocol; None if the bytes are not that."""
    values, field, pos = [], 0, 0
    while len(values) < 3:
        if pos >= len(data) or data[pos] & 0x0F != 5 or not data[pos] >> 4:  # short-form i32
            return None
        field += data[pos] >> 4
        if field != len(values) + 1:
            return None
        pos += 1
        value = shift = 0
        while True:
            if pos >= len(data) or shift > 28:
                return None
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        values.append((value >> 1) ^ -(value & 1))  # zigzag
    return values[0], values[1], values[2]


def _has_dictionary(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return True
    return any(_has_dictionary(kind.field(i).type) for i in range(kind.num_fields))


def _value_bytes(array: pa.Array) -> np.ndarray:
    """Bytes each row's values take once decoded (strings and binaries in full, a dictionary
    entry once per row that points to it, 8 a number): a float per row."""
    n = len(array)
    kind = array.type
    if pa.types.is_dictionary(kind):
        entries = pa.array(_value_bytes(array.dictionary), pa.float64())
        return _numpy(pc.take(entries, array.indices)) if len(entries) else np.zeros(n)
    if kind in _BINARY_TYPES or pa.types.is_fixed_size_binary(kind):
        return _numpy(pc.binary_length(array))
    if pa.types.is_struct(kind):
        fields = [_value_bytes(field) for field in array.flatten()]
        return np.sum(fields, axis=0) if fields else np.zeros(n)
    if pa.types.is_map(kind):  # the same layout as a list of key-value structs
        entries = pa.struct([kind.key_field, kind.item_field])
        return _value_bytes(array.cast(pa.list_(pa.field("entries", entries, nullable=False))))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
        return np.bincount(parents, weights=_value_bytes(array.flatten()), minlength=n) + 8
    if pa.types.is_primitive(kind) or pa.types.is_decimal(kind) or pa.types.is_null(kind):
        return np.full(n, 8.0)
    return np.full(n, array.nbytes / max(n, 1))  # a type Parquet readers rarely give


_BINARY_TYPES = (pa.string(), pa.large_string(), pa.binary(), pa.large_binary())


def _numpy(array: pa.Array) -> np.ndarray:
    return array.cast(pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)


def first_present(record: dict, names: Sequence[str]):
    """The value of the first of `names` the record has and that is not null."""
    for name in names:
        value = record.get(name)
        if value is not None:
            return value
    return None


def field_names(defaults: dict[str, tuple[str, ...]], options: dict) -> dict[str, tuple[str, ...]]:
    """Field aliases, with a source's `fields` option (field -> column name) tried first."""
    overrides = options.get("fields") or {}
    return {
        field: (overrides[field], *names) if field in overrides else names
        for field, names in defaults.items()
    }


def authors_string(value) -> str | None:
    """Authors as one "; "-joined string, from a string, a list of names, or a list of
    {"name": ...} / {"first": ..., "last": ...} / {"given": ..., "family": ...} objects."""
    if value is None:
        return None
    if isinstance(value, str):
        return " ".join(value.split()) or None
    if isinstance(value, dict):
        value = [value]
    names = []
    for author in value if isinstance(value, list | tuple) else [value]:
        if isinstance(author, dict):
            name = author.get("name") or " ".join(
                str(author[key]) for key in ("given", "first", "family", "last") if author.get(key)
            )
        else:
            name = str(author)
        if name.strip():
            names.append(" ".join(name.split()))
    return "; ".join(names) or None


# SPDX ids this normalizer returns, looked up case-insensitively.
_CC_KINDS = ("BY", "BY-SA", "BY-ND", "BY-NC", "BY-NC-SA", "BY-NC-ND")
_KNOWN = [
    f"CC-{kind}-{version}" for kind in _CC_KINDS for version in ("1.0", "2.0", "2.5", "3.0", "4.0")
]
_KNOWN += ["CC0-1.0", "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "PDDL-1.0"]
_KNOWN += ["ODC-By-1.0", "ODbL-1.0", "OGL-UK-3.0", "Unlicense", "GFDL-1.3-or-later"]
_SPDX = {name.lower(): name for name in _KNOWN}
_ALIASES = {
    "cc0": "CC0-1.0",
    "cc-0": "CC0-1.0",
    "cc-zero": "CC0-1.0",
    "public-domain": PUBLIC_DOMAIN,
    "publicdomain": PUBLIC_DOMAIN,
    "pd": PUBLIC_DOMAIN,
    "us-government-work": PUBLIC_DOMAIN,
    "apache-2": "Apache-2.0",
    "apache": "Apache-2.0",
    "bsd-3": "BSD-3-Clause",
    "bsd-2": "BSD-2-Clause",
    "gfdl": "GFDL-1.3-or-later",
}
_URLS = (
    (re.compile(r"creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)"), "CC-{0}-{1}"),
    (re.compile(r"creativecommons\.org/publicdomain/zero/1\.0"), "CC0-1.0"),
    (re.compile(r"creativecommons\.org/publicdomain/mark"), PUBLIC_DOMAIN),
    (
        re.compile(r"arxiv\.org/licenses/nonexclusive-distrib/1\.0"),
        "LicenseRef-arxiv-nonexclusive-distrib-1.0",
    ),
    (re.compile(r"opensource\.org/licenses?/([a-z0-9.-]+)"), "{0}"),
)
_WORDS = (
    (r"creative\s*commons", "cc"),
    (r"attribution", "by"),
    (r"non-?commercial", "nc"),
    (r"share-?alike", "sa"),
    (r"no-?deriv(?:ative)?s?", "nd"),
    (r"\b(?:licen[cs]e|international|unported|generic|public license|version)\b", " "),
)


def normalize_license(value: object) -> str | None:
    """An SPDX id (or a LicenseRef-… id) for a license as dumps spell it; None when blank.

    "cc-by-4.0", "CC BY 4.0", "Creative Commons Attribution 4.0 International" and
    "http://creativecommons.org/licenses/by/4.0/" all become "CC-BY-4.0". A spelling it does
    not know is kept, as LicenseRef-<slug>, so curation's allowlist still sees it.
    """
    if value is None or not str(value).strip():
        return None
    raw = str(value).strip()
    # The platform's license knowledge first (spark_jobs.licenses); dump-specific spellings
    # (license URLs, slugs) after it.
    known = normalize_spdx(raw)
    if known:
        return known
    lowered = raw.lower()
    for pattern, template in _URLS:
        match = pattern.search(lowered)
        if match:
            return normalize_license(template.format(*(g.upper() for g in match.groups()))) or raw
    if lowered.startswith("licenseref-"):
        return raw
    words = lowered
    for pattern, replacement in _WORDS:
        words = re.sub(pattern, replacement, words)
    slug = re.sub(r"[^a-z0-9.+]+", "-", words).strip("-")
    slug = re.sub(r"-v?(\d)(?:-(\d))?$", lambda m: f"-{m.group(1)}.{m.group(2) or 0}", slug)
    slug = re.sub(r"^cc-?(?=0\b)", "cc", slug)
    if slug in _SPDX:
        return _SPDX[slug]
    if slug.startswith("cc0"):
        return "CC0-1.0"
    return _ALIASES.get(slug) or _ALIASES.get(re.sub(r"-\d\.\d$", "", slug)) or f"LicenseRef-{slug}"


def finish_record_row(
    row: dict, record: dict, names: dict[str, tuple[str, ...]], record_id: object, text: object
) -> dict:
    """The verdict on one dump record: its own license if it states one, skipped when the
    id or the text is missing (or the text is not a string, or blank), else kept."""
    license = normalize_license(first_present(record, names["license"]))
    if license:
        row |= {"license": license, "license_evidence": "metadata"}
    missing = [field for field, value in (("id", record_id), ("text", text)) if value is None]
    if missing:
        looked_for = ", ".join(names[missing[0]])
        detail = f"the record has no {' and no '.join(missing)} (looked for {looked_for})"
        return row | {"disposition": SKIPPED, "reason": "missing_fields", "detail": detail}
    if not isinstance(text, str):
        detail = f"the text field holds a {type(text).__name__}, not a string"
        return row | {"disposition": SKIPPED, "reason": "missing_fields", "detail": detail}
    if not text.strip():
        return row | {"disposition": SKIPPED, "reason": "empty_text", "detail": "the text is blank"}
    return row | {"text": text}
