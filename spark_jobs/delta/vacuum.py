"""Deleting data files that no commit references (failed writes, or history past retention)."""

from __future__ import annotations

from spark_jobs.delta.log import _log_versions
from spark_jobs.delta.snapshot import open_table
from spark_jobs.storage import LOCAL, ObjectStore


def vacuum_orphans(
    uri: str,
    store: ObjectStore = LOCAL,
    *,
    retention_hours: int = 0,
    keep_history: bool = True,
    dry_run: bool = False,
) -> list[str]:
    """Delete data files that no commit references (left by failed or interrupted writes).

    delta-rs's default vacuum only deletes files that a commit removed; files never
    committed need its "full" mode, used here.

    Args:
        uri: table root.
        store: how to reach s3:// URIs.
        retention_hours: only delete files older than this. The default 0 also deletes
            files that a write running right now has not committed yet: run it when no
            writer is active, or pass the longest write's duration.
        keep_history: keep files of every version still in the log, so time travel keeps
            working (only never-committed files go). False also deletes files that older
            versions need (a classic vacuum with zero retention).
        dry_run: only list what would be deleted.

    Returns:
        Paths of the deleted files, relative to the table root, sorted.
    """
    table = open_table(uri, store=store)
    keep = None
    if keep_history:
        fs, root = store.filesystem(uri)
        keep = [v for v in _log_versions(fs, root) if v <= table.version()]
    removed = table.vacuum(
        retention_hours=retention_hours,
        dry_run=dry_run,
        enforce_retention_duration=False,
        full=True,
        keep_versions=keep,
    )
    return sorted(_relative_to_root(path, uri, store) for path in removed)


def _relative_to_root(path: str, uri: str, store: ObjectStore) -> str:
    # delta-rs returns some paths relative and some absolute (file paths or URIs).
    _, root = store.filesystem(uri)
    for prefix in (uri.rstrip("/") + "/", "file://" + root + "/", root + "/"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path
