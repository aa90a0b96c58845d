"""Fault group `landing`: what a landing location may hold that a reader must not go through,
and readers that hang, balloon or die. Every case runs the real listing and the real family
reader under the real per-object budgets (spark_jobs.ingest.read_without_spark: the same
code a Spark task runs), and checks that no byte from outside the landing location arrived.

    .venv/bin/python -m bench.faults_landing
"""

from __future__ import annotations

import io
import os
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from spark_jobs.code.reader import CodeRepoReader
from spark_jobs.ingest import read_without_spark
from spark_jobs.isolation import peak_rss_bytes
from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.papers.reader import PapersReader
from spark_jobs.sources import Source
from spark_jobs.web.ingest import WarcReader

SECRET = "PILEHOUSE-FAULTS-OUTSIDE-SECRET"
BUDGET = {"object_seconds": 5, "object_memory_bytes": 512 * 2**20}


class _HangingReader(LicensedReader):
    """A licensed reader with a planted bug per file name: hang, balloon, or die."""

    def read(self, fs, path, relative, source):
        name = os.path.basename(relative)
        if name.startswith("hang"):
            while True:
                pass
        if name.startswith("balloon"):
            hog = bytearray(2 * 2**30)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
        if name.startswith("die"):
            os.kill(os.getpid(), 9)
        yield from super().read(fs, path, relative, source)


def _tar(path: Path, members: list[tuple[str, bytes | None, bytes]]) -> None:
    """members: (name, data or None, tar type)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = data.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def _book(path: Path, n: int = 0) -> None:
    path.write_text(f"A good book number {n}.\n\nIt has two paragraphs of plain prose.\n")


def _repo(path: Path) -> None:
    (path / "src").mkdir(parents=True)
    (path / "LICENSE").write_text("MIT License\n\nPermission is hereby granted, free of charge")
    (path / "src" / "ok.py").write_text("print('a good file')\n")


Setup = Callable[[Path, Path], None]  # (landing, outside)

# (attack, family, setup, expected reasons of the hostile entries, good records)
CASES: list[tuple[str, str, Setup, dict[str, int], int]] = [
    (
        "book.txt -> /etc/passwd-like file outside",
        "licensed",
        lambda d, o: (_book(d / "good.txt"), (d / "book.txt").symlink_to(o / "secret.txt")),
        {"symlink": 1},
        1,
    ),
    (
        "directory link to a folder outside",
        "licensed",
        lambda d, o: (_book(d / "good.txt"), (d / "shelf").symlink_to(o)),
        {"symlink": 1},
        1,
    ),
    (
        "loop -> .. and 6 sibling ../.. links",
        "licensed",
        lambda d, o: (
            _book(d / "good.txt"),
            (d / "loop").symlink_to(".."),
            (d / "sub").mkdir(),
            *[(d / "sub" / f"up{i}").symlink_to("../..") for i in range(6)],
        ),
        {"symlink": 7},
        1,
    ),
    (
        "hard link to a file outside",
        "licensed",
        lambda d, o: (_book(d / "good.txt"), os.link(o / "secret.txt", d / "hard.txt")),
        {"hard_link": 1},
        1,
    ),
    (
        "FIFO named like a book (reading it would block)",
        "licensed",
        lambda d, o: (_book(d / "good.txt"), os.mkfifo(d / "fifo.txt")),
        {"not_regular_file": 1},
        1,
    ),
    (
        "file name that is not UTF-8",
        "web",
        lambda d, o: (d / os.fsdecode(b"caf\xe9.warc.gz")).write_bytes(b"never read"),
        {"undecodable_name": 1},
        0,
    ),
    (
        "40 nested directories",
        "licensed",
        lambda d, o: (
            _book(d / "good.txt"),
            (d.joinpath(*[f"d{i}" for i in range(40)])).mkdir(parents=True),
            _book(d.joinpath(*[f"d{i}" for i in range(40)]) / "deep.txt"),
        ),
        {"too_deep": 1},
        1,
    ),
    (
        "paper.pdf -> file outside (no excerpt of it)",
        "papers",
        lambda d, o: (d / "paper.pdf").symlink_to(o / "secret.txt"),
        {"symlink": 1},
        0,
    ),
    (
        "dump.jsonl -> file outside",
        "papers",
        lambda d, o: (d / "dump.jsonl").symlink_to(o / "secret.jsonl"),
        {"symlink": 1},
        0,
    ),
    (
        "crawl.warc.gz -> file outside",
        "web",
        lambda d, o: (d / "crawl.warc.gz").symlink_to(o / "secret.txt"),
        {"symlink": 1},
        0,
    ),
    (
        "repo: src/x.py -> outside, etc -> outside dir, loop -> ..",
        "code",
        lambda d, o: (
            _repo(d / "repo"),
            (d / "repo" / "src" / "x.py").symlink_to(o / "secret.txt"),
            (d / "repo" / "etc").symlink_to(o),
            (d / "repo" / "loop").symlink_to(".."),
        ),
        {"symlink": 3},
        2,
    ),
    (
        "repo: LICENSE -> file outside",
        "code",
        lambda d, o: (
            (d / "repo" / "src").mkdir(parents=True),
            (d / "repo" / "src" / "ok.py").write_text("x = 1\n"),
            (d / "repo" / "LICENSE").symlink_to(o / "secret.txt"),
        ),
        {"symlink": 1},
        1,
    ),
    (
        "repo: a whole repository that is a link",
        "code",
        lambda d, o: (_repo(d / "repo"), (d / "evil").symlink_to(o)),
        {"symlink": 1},
        2,
    ),
    (
        "tarball: ../ member, absolute member",
        "code",
        lambda d, o: _tar(
            d / "proj.tar.gz",
            [
                ("proj/ok.py", b"x = 1\n", tarfile.REGTYPE),
                ("proj/../../evil.py", b"import os\n", tarfile.REGTYPE),
                ("/etc/cron.d/evil.py", b"import sys\n", tarfile.REGTYPE),
            ],
        ),
        {"unsafe_path": 2},
        1,
    ),
    (
        "tarball: symlink and hard-link members",
        "code",
        lambda d, o: _tar(
            d / "proj.tar.gz",
            [
                ("proj/ok.py", b"x = 1\n", tarfile.REGTYPE),
                ("proj/passwd.py", b"/etc/passwd", tarfile.SYMTYPE),
                ("proj/hard.py", b"proj/ok.py", tarfile.LNKTYPE),
            ],
        ),
        {"symlink": 1, "hard_link": 1},
        1,
    ),
    (
        "reader hangs on one file (budget 5 s)",
        "hang",
        lambda d, o: (_book(d / "good.txt"), _book(d / "hang.txt")),
        {"timeout": 1},
        1,
    ),
    (
        "reader balloons to 2 GiB on one file (budget 512 MiB)",
        "hang",
        lambda d, o: (_book(d / "good.txt"), _book(d / "balloon.txt")),
        {"memory_limit": 1},
        1,
    ),
    (
        "reader process killed on one file",
        "hang",
        lambda d, o: (_book(d / "good.txt"), _book(d / "die.txt")),
        {"reader_crashed": 1},
        1,
    ),
]

READERS = {
    "licensed": LicensedReader,
    "papers": PapersReader,
    "code": CodeRepoReader,
    "web": WarcReader,
    "hang": _HangingReader,
}


def _outside(workdir: Path) -> Path:
    outside = workdir / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text(f"{SECRET}\n" * 50)
    (outside / "secret.jsonl").write_text(f'{{"id": "x", "text": "{SECRET}"}}\n')
    return outside


def run_case(index: int, workdir: Path) -> dict:
    attack, family, setup, expected, good = CASES[index]
    outside = _outside(workdir)
    landing = workdir / f"case{index}"
    landing.mkdir()
    setup(landing, outside)
    corpus = "licensed" if family == "hang" else family
    license_ = "detect" if family == "code" else "CC0-1.0"
    source = Source("faults", corpus, str(landing), family, license_, options={"limits": BUDGET})
    peak_rss_bytes(reset=True)
    started = time.monotonic()
    rows = list(read_without_spark(READERS[family](), source))
    seconds = time.monotonic() - started
    hostile = Counter(
        row["reason"] for row in rows if row["disposition"] != "kept" and row["reason"] in expected
    )
    kept = sum(1 for row in rows if row["disposition"] == "kept")
    outside_reads = sum(
        1 for row in rows if SECRET in (row.get("text") or "") + (row.get("excerpt") or "")
    )
    ok = dict(hostile) == expected and kept == good and outside_reads == 0
    observed = ", ".join(f"{n} {r}" for r, n in sorted(hostile.items())) or "nothing refused"
    return {
        "group": "landing",
        "attack": attack,
        "expected": ", ".join(f"{n} {r}" for r, n in sorted(expected.items()))
        + f"; {good} good kept",
        "observed": f"{observed}; {kept} kept; outside bytes read: {outside_reads}",
        "ok": ok,
        "seconds": seconds,
        "records_in": sum(expected.values()) + good,
        "records_out": len(rows),
        "outside_reads": outside_reads,
        "peak_rss_mb": peak_rss_bytes(reset=True) / 2**20,
    }


def cases(workdir: Path) -> list[dict]:
    return [run_case(i, workdir) for i in range(len(CASES))]


if __name__ == "__main__":
    import tempfile

    from bench.faults import table, totals

    rows = cases(Path(tempfile.mkdtemp(prefix="faults-landing-")))
    print(table(rows))
    print("\n".join(totals(rows)))
    sys.exit(0 if all(r["ok"] for r in rows) else 1)
