"""The landing walker and the code reader never read outside the object they were given:
links, hard links, devices, unsafe tar members and undecodable names are refused with a
reason, and a link loop cannot make a listing hang."""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pyarrow.fs as pafs

from spark_jobs import ingest
from spark_jobs.code.reader import CodeRepoReader
from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.sources import Source
from spark_jobs.untrusted import ReadLimits
from spark_jobs.walk import check_inside, walk

FS = pafs.LocalFileSystem()
SECRET = "pilehouse-outside-secret-7f3a"


def _outside(tmp_path: Path) -> Path:
    """A directory outside the landing location holding a file nobody may ingest."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n" * 20)
    return outside


def _read_units(reader, root: Path, source: Source) -> list[dict]:
    listing = ingest.landing_listing(reader, source)
    rows = [
        {"locator": e.relative, "disposition": "quarantined", "reason": e.reason}
        for e in listing.refused
    ]
    for unit in listing.units:
        rows.extend(reader.read(FS, str(root / unit) if unit else str(root), unit, source))
    return rows


def test_code_repository_links_are_refused_not_followed(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    landing = tmp_path / "landing"
    repo = landing / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "LICENSE").symlink_to(outside / "secret.txt")  # a license that is not its own
    (repo / "src" / "ok.py").write_text("print('kept')\n")
    (repo / "src" / "x.py").symlink_to(outside / "secret.txt")
    (repo / "etc").symlink_to(outside)
    (repo / "loop").symlink_to("..")
    os.link(outside / "secret.txt", repo / "src" / "hard.py")
    os.mkfifo(repo / "src" / "pipe.py")
    (landing / "escape").symlink_to(outside)  # a whole repository that is a link
    source = Source("code-src", "code", str(landing), "repos", "detect", "detected")

    started = time.monotonic()
    rows = _read_units(CodeRepoReader(), landing, source)
    assert time.monotonic() - started < 30

    by_locator = {row["locator"]: row for row in rows}
    assert by_locator["repo/src/ok.py"].get("disposition", "kept") == "kept"
    assert by_locator["repo/src/x.py"]["reason"] == "symlink"
    assert by_locator["repo/etc"]["reason"] == "symlink"
    assert by_locator["repo/loop"]["reason"] == "symlink"
    assert by_locator["repo/LICENSE"]["reason"] == "symlink"
    assert by_locator["repo/src/hard.py"]["reason"] == "hard_link"
    assert by_locator["repo/src/pipe.py"]["reason"] == "not_regular_file"
    assert by_locator["escape"]["reason"] == "symlink"
    assert not any(SECRET in (row.get("text") or "") for row in rows)
    assert not any(SECRET in str(row.get("excerpt") or "") for row in rows)
    # The linked LICENSE was not read as the repository's license evidence.
    assert by_locator["repo/src/ok.py"]["license"] == "NOASSERTION"


def test_tar_members_with_dotdot_absolute_or_link_names_are_refused(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in [
            ("proj/ok.py", b"x = 1\n"),
            ("proj/../../evil.py", b"import os\n"),
            ("/etc/cron.d/evil.py", b"import sys\n"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("proj/passwd.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
        hard = tarfile.TarInfo("proj/hard.py")
        hard.type, hard.linkname = tarfile.LNKTYPE, "proj/ok.py"
        tar.addfile(hard)
    (landing / "proj.tar.gz").write_bytes(buffer.getvalue())
    source = Source("code-src", "code", str(landing), "repos", "MIT")
    rows = _read_units(CodeRepoReader(), landing, source)
    reasons = {row["locator"]: row.get("reason") for row in rows}
    assert reasons["proj/ok.py"] is None
    assert reasons["proj/../evil.py"] == "unsafe_path"
    assert reasons["proj/etc/cron.d/evil.py"] == "unsafe_path"
    assert reasons["proj/passwd.py"] == "symlink"
    assert reasons["proj/hard.py"] == "hard_link"
    kept = [row for row in rows if row.get("text")]
    assert [row["locator"] for row in kept] == ["proj/ok.py"]


def test_links_in_any_family_landing_are_quarantined_with_no_excerpt(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    landing = tmp_path / "books"
    (landing / "shelf").mkdir(parents=True)
    (landing / "good.txt").write_text("A real book.\n\nIt has paragraphs.\n")
    (landing / "book.txt").symlink_to(outside / "secret.txt")
    (landing / "more").symlink_to(outside)
    for n in range(5):  # sibling '..' links made the old listing explode
        (landing / "shelf" / f"up{n}").symlink_to("../..")
    (landing / "loop").symlink_to("..")
    source = Source("books", "licensed", str(landing), "text", "CC0-1.0")
    started = time.monotonic()
    listing = ingest.landing_listing(LicensedReader(), source)
    assert time.monotonic() - started < 5
    assert listing.units == ("good.txt",)
    refused = {e.relative: e.reason for e in listing.refused}
    assert refused == {
        "book.txt": "symlink",
        "more": "symlink",
        "loop": "symlink",
        **{f"shelf/up{n}": "symlink" for n in range(5)},
    }
    assert not any(SECRET in (e.detail or "") for e in listing.refused)


def test_a_non_utf8_name_is_refused_and_the_rest_listed(tmp_path: Path) -> None:
    landing = tmp_path / "crawl"
    landing.mkdir()
    (landing / "ok.warc.gz").write_bytes(b"x")
    with open(os.path.join(os.fsencode(landing), b"caf\xe9.warc.gz"), "wb") as out:
        out.write(b"x")
    entries = {e.relative: e for e in walk(str(landing))}
    assert entries["ok.warc.gz"].kind == "file"
    bad = entries["caf\\xe9.warc.gz"]
    assert (bad.kind, bad.reason) == ("refused", "undecodable_name")
    assert ingest.list_landing_files(str(landing), (".warc.gz",)) == ["ok.warc.gz"]


def test_walks_are_capped_in_depth_and_count(tmp_path: Path) -> None:
    deep = tmp_path / "landing"
    path = deep
    for n in range(6):
        path = path / f"d{n}"
    path.mkdir(parents=True)
    (path / "f.txt").write_text("deep")
    for n in range(10):
        (deep / f"f{n}.txt").write_text("x")
    reasons = [e.reason for e in walk(str(deep), limits=ReadLimits(max_walk_depth=3))]
    assert "too_deep" in reasons
    limited = list(walk(str(deep), limits=ReadLimits(max_walk_entries=5)))
    assert len(limited) == 6 and limited[-1].reason == "too_many_entries"


def test_named_files_are_checked_along_their_whole_path(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "sub").symlink_to(outside)
    (landing / "ok.txt").write_text("fine")
    assert check_inside(str(landing), "ok.txt").kind == "file"
    assert check_inside(str(landing), "sub/secret.txt").reason == "symlink"
    assert check_inside(str(landing), "../outside/secret.txt").reason == "unsafe_path"
    assert check_inside(str(landing), "/etc/passwd").reason == "unsafe_path"
    source = Source("books", "licensed", str(landing), "text", "CC0-1.0").only(
        ["ok.txt", "sub/secret.txt"]
    )
    listing = ingest.landing_listing(LicensedReader(), source)
    assert listing.units == ("ok.txt",)
    assert [e.reason for e in listing.refused] == ["symlink"]
