"""The one landing walker: what is under a landing location, without ever leaving it.

Every family and the landing sensor list landing locations through `walk`. It yields regular
files only as readable entries; a symbolic link (to a file or a directory), a hard link, a
device, FIFO or socket, a name that is not UTF-8, an S3 key with `..` or empty segments, and
anything past the depth or count caps come back as *refused* entries with a reason, so the
ingest records them in quarantine instead of reading through them or silently passing them
over. Nothing is followed, so a listing takes time linear in the entries it meets.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow.fs as pafs

from spark_jobs.storage import LOCAL, ObjectStore, is_s3
from spark_jobs.untrusted import ReadLimits

REFUSAL_REASONS = {
    "symlink": "a symbolic link: readers never follow links out of the landing location",
    "hard_link": "a file with more than one hard link: its bytes may belong to a file "
    "outside the landing location",
    "not_regular_file": "a device, FIFO or socket",
    "undecodable_name": "a name that is not valid UTF-8",
    "unsafe_path": "a name with '..', an empty or absolute segment",
    "too_deep": "deeper than options.limits.max_walk_depth",
    "too_many_entries": "past options.limits.max_walk_entries; the rest was not listed",
}


@dataclass(frozen=True)
class LandingEntry:
    """One entry under a location: a readable file, a directory, or a refusal with a reason."""

    relative: str  # '/'-separated; an undecodable name is shown with backslash escapes
    kind: str  # "file", "dir" or "refused"
    size: int = 0
    modified: float = 0.0
    reason: str | None = None  # for refused entries, a key of REFUSAL_REASONS
    detail: str | None = None

    @property
    def hidden(self) -> bool:
        """Markers, manifests and uploads in progress: names starting with '_' or '.'."""
        return any(part.startswith(("_", ".")) for part in self.relative.split("/"))


def _refused(relative: str, reason: str, detail: str | None = None) -> LandingEntry:
    return LandingEntry(
        relative, "refused", reason=reason, detail=detail or REFUSAL_REASONS[reason]
    )


def walk(
    location: str,
    store: ObjectStore = LOCAL,
    *,
    limits: ReadLimits | None = None,
    recursive: bool = True,
) -> Iterator[LandingEntry]:
    """Every entry under `location` (a local directory or an s3:// prefix), in no set order.

    The location itself is the operator's choice and may be a link; nothing under it is
    followed. Raises FileNotFoundError when the location does not exist.
    """
    if is_s3(location):
        fs, root = store.filesystem(location)
        if fs.get_file_info(root).type == pafs.FileType.NotFound:
            raise _missing(location)
    else:
        fs, root = pafs.LocalFileSystem(), local_root(location)
        if not os.path.isdir(root):
            raise _missing(location)
    yield from walk_fs(fs, root, limits=limits, recursive=recursive)


def walk_fs(
    fs: pafs.FileSystem, root: str, *, limits: ReadLimits | None = None, recursive: bool = True
) -> Iterator[LandingEntry]:
    """`walk` for a directory already opened as a pyarrow filesystem and a path in it."""
    limits = limits or ReadLimits()
    if isinstance(fs, pafs.LocalFileSystem):
        yield from _walk_local(root, limits, recursive)
    else:
        yield from _walk_store(fs, root, limits, recursive)


def local_root(location: str) -> str:
    path = location[len("file://") :] if location.startswith("file://") else location
    return os.path.abspath(path)


def _missing(location: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"landing location {location} does not exist; check the source registry "
        "entry's location (a local directory or an s3:// prefix)"
    )


def _walk_local(root: str, limits: ReadLimits, recursive: bool) -> Iterator[LandingEntry]:
    count = 0
    pending: list[tuple[bytes, str, int]] = [(os.fsencode(root), "", 0)]
    while pending:
        directory, prefix, depth = pending.pop()
        try:
            scanner = os.scandir(directory)
        except OSError as exc:
            yield _refused(prefix or ".", "not_regular_file", f"cannot list: {exc.strerror}")
            continue
        with scanner:
            for entry in scanner:
                count += 1
                if count > limits.max_walk_entries:
                    yield _refused(prefix or ".", "too_many_entries")
                    return
                try:
                    name = entry.name.decode("utf-8")
                    undecodable = False
                except UnicodeDecodeError:
                    name = entry.name.decode("utf-8", "backslashreplace")
                    undecodable = True
                relative = f"{prefix}/{name}" if prefix else name
                yield from _local_entry(entry, relative, undecodable, depth, limits, recursive)
                if (
                    recursive
                    and not undecodable
                    and entry.is_dir(follow_symlinks=False)
                    and depth + 1 <= limits.max_walk_depth
                ):
                    pending.append((entry.path, relative, depth + 1))


def _local_entry(
    entry: os.DirEntry, relative: str, undecodable: bool, depth: int, limits, recursive: bool
) -> Iterator[LandingEntry]:
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError as exc:  # removed while listing
        yield _refused(relative, "not_regular_file", f"cannot stat: {exc.strerror}")
        return
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        try:
            target = os.fsdecode(os.readlink(entry.path))
        except OSError:
            target = "?"
        yield _refused(
            relative, "symlink", f"a symbolic link (to {target}); links are not followed"
        )
    elif undecodable:
        yield _refused(relative, "undecodable_name")
    elif stat.S_ISDIR(mode):
        if recursive and depth + 1 > limits.max_walk_depth:
            yield _refused(relative, "too_deep")
        else:
            yield LandingEntry(relative, "dir", modified=info.st_mtime)
    elif not stat.S_ISREG(mode):
        yield _refused(relative, "not_regular_file")
    elif info.st_nlink > 1:
        yield _refused(relative, "hard_link", f"{info.st_nlink} hard links to these bytes")
    else:
        yield LandingEntry(relative, "file", info.st_size, info.st_mtime)


def _walk_store(
    fs: pafs.FileSystem, root: str, limits: ReadLimits, recursive: bool
) -> Iterator[LandingEntry]:
    root = root.rstrip("/")
    selector = pafs.FileSelector(root, recursive=recursive)
    for count, info in enumerate(fs.get_file_info(selector), start=1):
        if count > limits.max_walk_entries:
            yield _refused(".", "too_many_entries")
            return
        relative = info.path[len(root) :].lstrip("/")
        parts = relative.split("/")
        if any(part in ("", ".", "..") for part in parts):
            yield _refused(relative, "unsafe_path")
        elif len(parts) - 1 > limits.max_walk_depth:
            yield _refused(relative, "too_deep")
        elif info.type == pafs.FileType.Directory:
            yield LandingEntry(relative, "dir")
        else:
            modified = info.mtime.timestamp() if info.mtime else 0.0
            yield LandingEntry(relative, "file", info.size or 0, modified)


def check_inside(location: str, relative: str) -> LandingEntry:
    """The entry for one named path under a local location, refused when any part of the way
    there is a link, not a directory, or leaves the location. For S3 keys only the name is
    checked (an object store has no links)."""
    parts = relative.split("/")
    if relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return _refused(relative, "unsafe_path")
    if is_s3(location):
        return LandingEntry(relative, "file")
    path = local_root(location)
    for index, part in enumerate(parts):
        path = os.path.join(path, part)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return _refused(relative, "not_regular_file", f"{relative} does not exist (any more)")
        last = index == len(parts) - 1
        if stat.S_ISLNK(info.st_mode):
            return _refused(relative, "symlink", f"{'/'.join(parts[: index + 1])} is a link")
        if not last and not stat.S_ISDIR(info.st_mode):
            return _refused(relative, "unsafe_path")
    if stat.S_ISDIR(info.st_mode):
        return LandingEntry(relative, "dir", modified=info.st_mtime)
    if not stat.S_ISREG(info.st_mode):
        return _refused(relative, "not_regular_file")
    if info.st_nlink > 1:
        return _refused(relative, "hard_link", f"{info.st_nlink} hard links to these bytes")
    return LandingEntry(relative, "file", info.st_size, info.st_mtime)
