"""Reading the Delta transaction log's entries directly, by version (the file name)."""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow.fs as pafs

# The commitInfo key holding each write's unique id: how a writer finds its own version.
COMMIT_ID_KEY = "pilehouse.commit_id"
_LOG_ENTRY = re.compile(r"^(\d{20})\.json$")


def _log_entry_path(root: str, version: int) -> str:
    return f"{root}/_delta_log/{version:020d}.json"


def _read_commit_info(fs: pafs.FileSystem, root: str, version: int) -> dict[str, Any] | None:
    """The commitInfo action of one version's log entry (None: the entry has none).

    Reads only up to that action (delta-rs writes it first). Raises FileNotFoundError when
    the version has no log entry.
    """
    with fs.open_input_stream(_log_entry_path(root, version)) as stream:
        pending = b""
        while True:
            chunk = stream.read(1 << 16)
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop() if chunk else b""
            for line in lines:
                if b'"commitInfo"' in line:
                    action = json.loads(line)
                    if "commitInfo" in action:
                        return action["commitInfo"]
            if not chunk:
                return None


def _log_versions(fs: pafs.FileSystem, root: str) -> list[int]:
    """The versions that have a JSON log entry, ascending, from a listing of _delta_log."""
    listing = fs.get_file_info(pafs.FileSelector(f"{root}/_delta_log", allow_not_found=True))
    found = (_LOG_ENTRY.match(info.base_name) for info in listing)
    return sorted(int(match.group(1)) for match in found if match)
