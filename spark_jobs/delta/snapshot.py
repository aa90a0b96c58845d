"""Opening a table's snapshot (latest, a version, a timestamp) and listing its history."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from spark_jobs.delta.failures import _s3_failures
from spark_jobs.delta.log import _log_versions, _read_commit_info
from spark_jobs.storage import LOCAL, ObjectStore


def table_exists(uri: str, store: ObjectStore = LOCAL) -> bool:
    """Whether `uri` holds a Delta table (a readable _delta_log)."""
    return DeltaTable.is_deltatable(uri, storage_options=store.delta_storage_options(uri))


def open_table(
    uri: str,
    *,
    version: int | None = None,
    timestamp: datetime | str | None = None,
    store: ObjectStore = LOCAL,
) -> DeltaTable:
    """Open a snapshot of a Delta table: the latest, a version, or the one current at a time.

    Args:
        uri: table root, a local path or s3://bucket/prefix.
        version: a commit version (0 is the first).
        timestamp: a datetime (naive means UTC) or an ISO 8601 string; the snapshot is the
            last commit at or before it.
        store: how to reach s3:// URIs.

    Raises:
        FileNotFoundError: no Delta table at `uri`.
        ValueError: both version and timestamp given, a version that does not exist, or a
            timestamp before the table's first commit.
        S3EndpointUnreachable: the S3 endpoint did not answer.
    """
    if version is not None and timestamp is not None:
        raise ValueError("pass either version or timestamp, not both")
    with _s3_failures(uri, store, "reading"):
        return _open_snapshot(uri, version, timestamp, store)


def _open_snapshot(
    uri: str, version: int | None, timestamp: datetime | str | None, store: ObjectStore
) -> DeltaTable:
    options = store.delta_storage_options(uri)
    try:
        table = DeltaTable(uri, storage_options=options)
    except TableNotFoundError as error:
        raise FileNotFoundError(
            f"no Delta table at {uri} ({error}); write it first with write_table or write_arrow"
        ) from error
    latest = table.version()
    if version is not None:
        if not 0 <= version <= latest:
            raise ValueError(f"{uri} has versions 0..{latest}; version {version} does not exist")
        table.load_as_version(version)
    elif timestamp is not None:
        moment = _utc(timestamp)
        table.load_as_version(moment)
        # delta-rs answers a time before the first commit with version 0 instead of an error.
        if table.version() == 0:
            fs, root = store.filesystem(uri)
            versions = _log_versions(fs, root)
            first = _read_commit_info(fs, root, versions[0]) if versions else None
            if first is not None and "timestamp" in first:
                created = datetime.fromtimestamp(first["timestamp"] / 1000, UTC)
                if moment < created:
                    raise ValueError(
                        f"{moment.isoformat()} is before the first commit of {uri} "
                        f"({created.isoformat()}); there is no snapshot that old"
                    )
    return table


def _utc(timestamp: datetime | str) -> datetime:
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp)
        except ValueError as error:
            raise ValueError(
                f"timestamp {timestamp!r} is not ISO 8601 (e.g. 2024-10-01T12:00:00Z)"
            ) from error
    return timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp


def table_history(uri: str, store: ObjectStore = LOCAL) -> list[dict[str, Any]]:
    """Commit history, newest first, with our commit metadata as top-level keys.

    Each entry has `version`, `timestamp` (ms since epoch), `operation`, and the
    metadata passed at write time plus the `pilehouse.*` counters.

    Read from the log entries, each labelled with the version in its file name: delta-rs
    1.6's `DeltaTable.history()` labels entries by counting down from the version its
    snapshot was loaded at, which mislabels every entry once someone commits between the
    load and the listing (and on a time-travelled table).
    """
    open_table(uri, store=store)  # FileNotFoundError (or unreachable) before listing
    with _s3_failures(uri, store, "reading"):
        fs, root = store.filesystem(uri)
        versions = _log_versions(fs, root)[::-1]

        def commit_info(version: int) -> dict[str, Any] | None:
            try:
                return _read_commit_info(fs, root, version)
            except FileNotFoundError:  # cleaned up since the listing
                return None

        with ThreadPoolExecutor(max_workers=8) as pool:
            infos = list(pool.map(commit_info, versions))
    return [{**info, "version": v} for v, info in zip(versions, infos, strict=True) if info]
