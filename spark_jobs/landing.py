"""The landing zone as the landing sensor sees it: which settled objects of a source are new.

Each registered source's location (a local directory or an s3:// prefix) is listed in
pages, in key order, a bounded number of keys per sensor tick; a listing that does not
finish in one tick resumes after its last key on the next. What was already handed to an
ingest run is remembered in the cursor as a compact set of key digests, so an object is
requested once however often it is listed. A source the cursor has never seen (a fresh
Dagster instance after `make run`, a cursor that was reset) starts from the landing files
its records in the lake came from, so what is already ingested is not requested again.
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pyarrow.compute as pc
import pyarrow.dataset as ds
import xxhash

from spark_jobs.delta import snapshot_dataset, table_exists
from spark_jobs.lake import Lake, document_tables
from spark_jobs.storage import ObjectStore, is_s3
from spark_jobs.walk import walk

# Names uploaders and copy tools use while a file is still being written.
TEMPORARY_SUFFIXES = (
    ".part",
    ".partial",
    ".tmp",
    ".temp",
    "_tmp",
    ".crdownload",
    ".filepart",
    ".inprogress",
    ".uploading",
)


@dataclass(frozen=True)
class LandingObject:
    """One file under a source's location: its path relative to the location, size, mtime."""

    relative: str
    size: int
    modified: float  # seconds since the epoch


def skip_reason(obj: LandingObject, *, now: float, settle_seconds: float) -> str | None:
    """Why an object is not (yet) ingested, or None when it is ready.

    Hidden and temporary names never are; empty and recently changed objects are looked
    at again on a later tick (a local file still being written keeps changing its mtime).
    """
    parts = obj.relative.split("/")
    if any(part.startswith((".", "_")) for part in parts):
        return "hidden"  # markers, manifests, `_source.yaml`, uploads in progress
    if obj.relative.lower().endswith(TEMPORARY_SUFFIXES):
        return "temporary"
    if obj.size == 0:
        return "empty"
    if now - obj.modified < settle_seconds:
        return "settling"
    return None


def key_digest(relative: str) -> bytes:
    return xxhash.xxh3_64_digest(relative.encode())


@dataclass
class SourceCursor:
    """Where a source's listing resumes, and the digests of the objects already requested."""

    after: str = ""  # resume the listing after this relative key; "" = from the start
    seen: set[bytes] = field(default_factory=set)

    def to_json(self) -> dict:
        packed = zlib.compress(b"".join(sorted(self.seen)), 9)
        return {"after": self.after, "seen": base64.b64encode(packed).decode()}

    @classmethod
    def from_json(cls, data: dict) -> SourceCursor:
        packed = zlib.decompress(base64.b64decode(data["seen"])) if data.get("seen") else b""
        seen = {packed[i : i + 8] for i in range(0, len(packed), 8)}
        return cls(after=data.get("after", ""), seen=seen)


@dataclass
class LandingCursor:
    """The landing sensor's cursor: one SourceCursor per source, and where to start next."""

    sources: dict[str, SourceCursor] = field(default_factory=dict)
    next_source: str = ""  # the source the next tick lists first, so none starves

    def serialize(self) -> str:
        return json.dumps(
            {
                "version": 1,
                "next_source": self.next_source,
                "sources": {name: c.to_json() for name, c in sorted(self.sources.items())},
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            sources={n: SourceCursor.from_json(c) for n, c in data.get("sources", {}).items()},
            next_source=data.get("next_source", ""),
        )

    def source(self, name: str) -> SourceCursor:
        return self.sources.setdefault(name, SourceCursor())


@dataclass(frozen=True)
class Page:
    """Objects listed in key order, and the key to resume after (None: the listing ended)."""

    objects: list[LandingObject]
    resume_after: str | None


def list_page(location: str, store: ObjectStore, *, after: str, limit: int, page_size: int) -> Page:
    """Up to `limit` objects under `location` whose relative key sorts after `after`."""
    if is_s3(location):
        return _list_s3(location, store, after=after, limit=limit, page_size=page_size)
    return _list_local(location, after=after, limit=limit)


def _list_s3(location: str, store: ObjectStore, *, after: str, limit: int, page_size: int) -> Page:
    import boto3

    parsed = urlparse(location)
    prefix = parsed.path.strip("/") + "/"
    client = boto3.client("s3", endpoint_url=store.endpoint_url, region_name=store.region)
    objects: list[LandingObject] = []
    start_after = prefix + after if after else ""
    while len(objects) < limit:
        request = {
            "Bucket": parsed.netloc,
            "Prefix": prefix,
            "MaxKeys": min(page_size, limit - len(objects)),
        }
        if start_after:
            request["StartAfter"] = start_after
        response = client.list_objects_v2(**request)
        contents = response.get("Contents", [])
        for item in contents:
            objects.append(
                LandingObject(
                    relative=item["Key"][len(prefix) :],
                    size=item["Size"],
                    modified=item["LastModified"].timestamp(),
                )
            )
        if not response.get("IsTruncated") or not contents:
            return Page(objects, None)
        start_after = contents[-1]["Key"]
    return Page(objects, objects[-1].relative if objects else None)


def _list_local(location: str, *, after: str, limit: int) -> Page:
    root = location[len("file://") :] if location.startswith("file://") else location
    if not os.path.isdir(root):
        return Page([], None)
    # The shared walker follows no link; refused entries (links, devices, undecodable
    # names) are requested like files, so the ingest run records them in quarantine.
    entries = {entry.relative: entry for entry in walk(root) if entry.kind in ("file", "refused")}
    paths = sorted(entries)
    start = bisect.bisect_right(paths, after) if after else 0
    chosen = paths[start : start + limit]
    objects = []
    for relative in chosen:
        entry = entries[relative]
        if entry.kind == "refused":
            objects.append(LandingObject(relative, 1, 0.0))  # nothing to wait for
        else:
            objects.append(LandingObject(relative, entry.size, entry.modified))
    ended = start + limit >= len(paths)
    return Page(objects, None if ended else chosen[-1])


@dataclass
class ScanResult:
    """What one tick found for one source: new ready files, and what it passed over and why."""

    new_files: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    listed: int = 0


def scan_source(
    location: str,
    store: ObjectStore,
    cursor: SourceCursor,
    *,
    budget: int,
    page_size: int,
    settle_seconds: float,
    now: float | None = None,
) -> ScanResult:
    """List up to `budget` keys of a source from where its cursor stopped; record the new
    ready ones in the cursor as seen and return them."""
    now = time.time() if now is None else now
    page = list_page(location, store, after=cursor.after, limit=budget, page_size=page_size)
    result = ScanResult(listed=len(page.objects))
    for obj in page.objects:
        reason = skip_reason(obj, now=now, settle_seconds=settle_seconds)
        if reason:
            result.skipped[reason] = result.skipped.get(reason, 0) + 1
            continue
        digest = key_digest(obj.relative)
        if digest in cursor.seen:
            continue
        cursor.seen.add(digest)
        result.new_files.append(obj.relative)
    # A finished listing starts over next time: new keys may sort anywhere.
    cursor.after = page.resume_after or ""
    return result


def _landing_columns(names: list[str]) -> list[str]:
    """The columns of an ingest table that name a record's landing file or repository."""
    if "warc_file" in names:
        return ["warc_file"]  # raw.web: the locator is the page's URL
    return [c for c in ("repo_location", "locator") if c in names]


def _relative_to(location: str, reference: str) -> str | None:
    """A landing reference (relative key, or full path / URI under `location`, maybe with a
    `#offset=`, `#line=` or `#reason` suffix) as a key relative to the location; None when it
    names no file there (a URL, a path elsewhere)."""
    reference = reference.split("#", 1)[0]
    root = location.removeprefix("file://").rstrip("/") + "/"
    reference = reference.removeprefix("file://")
    if reference.startswith(root):
        return reference[len(root) :]
    if "://" in reference or reference.startswith("/") or not reference:
        return None
    return reference


def ingested_files(lake: Lake, corpus: str, source: str, location: str) -> set[str]:
    """Landing keys (relative to `location`) that a source's rows in the lake came from.

    Every record an ingest reads ends in raw.<corpus>, rejects or quarantine, each row naming
    its landing file (web: `warc_file`; code: `repo_location`, the tarball, and `locator`,
    the file of a repository directory; papers and licensed: `locator`, up to its `#`).
    Keys that are not files (a repository directory's name, a URL) do no harm: they never
    match a listed object. Read with delta-rs, only the source's partitions and these columns.
    """
    raw_table = document_tables(corpus)[0]
    partitions = {
        raw_table: {"source": source},
        "rejects": {"corpus": corpus, "stage": "ingest", "source": source},
        "quarantine": {"corpus": corpus, "source": source},
    }
    files: set[str] = set()
    for name, where in partitions.items():
        uri = lake.uri(name)
        if not table_exists(uri, lake.store):
            continue
        dataset = snapshot_dataset(uri, store=lake.store)
        columns = _landing_columns(dataset.schema.names)
        condition = None
        for column, value in where.items():
            term = ds.field(column) == value
            condition = term if condition is None else condition & term
        for batch in dataset.to_batches(columns=columns, filter=condition):
            for column in columns:
                for reference in pc.unique(batch.column(column)).to_pylist():
                    relative = _relative_to(location, reference) if reference else None
                    if relative:
                        files.add(relative)
    return files


def ingest_units(corpus: str, files: list[str]) -> list[str]:
    """What an ingest run of the family reads for these files: the code family reads whole
    repositories (the first path component), the others single files."""
    if corpus != "code":
        return sorted(files)
    return sorted({f.split("/", 1)[0] for f in files})


def run_key(source: str, files: list[str]) -> str:
    """The same source and file list always get the same key, so Dagster never runs it twice."""
    return f"landing:{source}:{xxhash.xxh3_64_hexdigest(chr(0).join(sorted(files)).encode())}"
