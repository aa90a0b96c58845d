"""Metadata dumps (JSONL, gzipped JSONL, Parquet) read record by record with their line or row
number, and the license spellings found in them mapped to SPDX ids. Shared by the papers and
licensed readers."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from spark_jobs.ingest import SKIPPED
from spark_jobs.licenses import normalize_license as normalize_spdx

DUMP_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
READ_CHUNK_BYTES = 2**20
PUBLIC_DOMAIN = "PublicDomain"


@dataclass(frozen=True)
class DumpRecord:
    """One record of a dump, or the reason it could not be read (then `record` is None)."""

    locator: str  # file#line=N (1-based) for JSONL, file#row=N (0-based) for Parquet
    record: dict | None
    reason: str | None = None  # malformed_json, undecodable, corrupt_archive, corrupt_parquet
    detail: str | None = None
    raw: bytes | None = None  # the bytes to excerpt in quarantine


def dump_format(relative: str) -> str:
    return "parquet" if relative.lower().endswith(".parquet") else "jsonl"


def iter_dump_records(fs: pafs.FileSystem, path: str, relative: str) -> Iterator[DumpRecord]:
    """Every record of a JSONL(.gz) or Parquet file; blank JSONL lines are not records."""
    if dump_format(relative) == "parquet":
        yield from _parquet_records(fs, path, relative)
    else:
        yield from _jsonl_records(fs, path, relative)


def _jsonl_records(fs: pafs.FileSystem, path: str, relative: str) -> Iterator[DumpRecord]:
    number = 0
    # compression=None: pyarrow would gunzip by extension itself, with no way to tell a
    # truncated member from the end of the file.
    with fs.open_input_stream(path, compression=None) as raw:
        stream = gzip.GzipFile(fileobj=raw) if relative.lower().endswith(".gz") else raw
        try:
            for number, line in enumerate(_lines(stream), start=1):
                if line.strip():
                    yield _parse_line(relative, number, line)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:  # damaged or truncated .gz
            yield DumpRecord(
                locator=f"{relative}#corrupt_archive",
                record=None,
                reason="corrupt_archive",
                detail=(
                    f"the compressed stream breaks after line {number}: {type(exc).__name__}: "
                    f"{exc}; the lines before it were read, the rest of the file was not"
                ),
            )


def _lines(stream) -> Iterator[bytes]:
    # read1 returns what one decompression step gave: a plain read would lose those bytes
    # when a truncated stream then raises.
    read = getattr(stream, "read1", stream.read)
    pending = b""
    while chunk := read(READ_CHUNK_BYTES):
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        yield from lines
    if pending:
        yield pending


def _parse_line(relative: str, number: int, line: bytes) -> DumpRecord:
    locator = f"{relative}#line={number}"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        detail = (
            f"line {number} is not UTF-8 (byte {exc.start}: {line[exc.start : exc.start + 4]!r})"
        )
        return DumpRecord(locator, None, "undecodable", detail, line)
    try:
        record = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        detail = f"line {number} is not valid JSON: {exc.msg} at column {exc.colno}"
        return DumpRecord(locator, None, "malformed_json", detail, line)
    if not isinstance(record, dict):
        detail = f"line {number} is a JSON {type(record).__name__}, not an object"
        return DumpRecord(locator, None, "malformed_json", detail, line)
    return DumpRecord(locator, record)


def _parquet_records(fs: pafs.FileSystem, path: str, relative: str) -> Iterator[DumpRecord]:
    row = 0
    try:
        with fs.open_input_file(path) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=256):
                for record in batch.to_pylist():
                    yield DumpRecord(f"{relative}#row={row}", record)
                    row += 1
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... on damaged files
        yield DumpRecord(
            locator=f"{relative}#corrupt_parquet",
            record=None,
            reason="corrupt_parquet",
            detail=(
                f"the Parquet file cannot be read after row {row}: {type(exc).__name__}: {exc}; "
                "the rows before it were read, the rest of the file was not"
            ),
        )


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
