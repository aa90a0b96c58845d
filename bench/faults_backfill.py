"""Fault group `backfill`: a real ingest (spark_jobs.stages.ingest_source, what the Dagster
ingest assets and `pilehouse backfill` run) of landing folders that mix hostile files with
good ones, one per family, committing real Delta tables. Each must end in minutes with every
good record in raw.<family> and every input record in exactly one of raw, rejects, quarantine.

    .venv/bin/python -m bench.faults_backfill
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

SECRET = "PILEHOUSE-BACKFILL-OUTSIDE-SECRET"
BUDGET = {"object_seconds": 60}


def _tar_gz(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _gzip_bomb(path: Path, size: int, byte: bytes = b"A") -> None:
    """A small .gz file that decompresses to `size` bytes, written without holding them."""
    block = byte * 2**20
    with gzip.open(path, "wb", compresslevel=9) as out:
        for _ in range(size // len(block)):
            out.write(block)


def _dump(path: Path, good: int, bad: dict[int, str], record) -> None:
    """A JSONL dump of `good` + len(bad) lines; bad[i] is the raw line at position i."""
    lines, n = [], 0
    for position in range(good + len(bad)):
        if position in bad:
            lines.append(bad[position])
        else:
            lines.append(json.dumps(record(n)))
            n += 1
    path.write_text("\n".join(lines) + "\n")


BAD_LINES = {
    0: '{"id": "deep", "text": ' + "[" * 100_000 + "]" * 100_000 + "}",
    500: '{"id": "surrogate", "text": "half a pair \\ud800 here"}',
    999: '{"id": "broken", "text": "no closing brace"',
}


def licensed_landing(root: Path, outside: Path, bomb_bytes: int = 1100 * 2**20) -> tuple[int, int]:
    """(good records, all input records) planted under root."""
    root.mkdir(parents=True)
    for n in range(5):
        (root / f"book{n}.txt").write_text(f"Book {n}\n\nA plain public-domain text, part {n}.\n")
    (root / "utf16.txt").write_bytes("Ein Buch in UTF-16.\n\nZweiter Absatz.\n".encode("utf-16"))
    (root / "stolen.txt").symlink_to(outside / "secret.txt")
    (root / "program.txt").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 200 + b"code")
    _gzip_bomb(root / "bomb.txt.gz", bomb_bytes)

    def record(n: int) -> dict:
        return {"id": f"doc-{n}", "title": f"Doc {n}", "text": f"Document {n} of the dump."}

    _dump(root / "dump.jsonl", 997, BAD_LINES, record)
    # good: 5 books + the UTF-16 book + 997 dump records
    return 5 + 1 + 997, 5 + 1 + 1 + 1 + 1 + 1000


def papers_landing(root: Path, outside: Path) -> tuple[int, int]:
    root.mkdir(parents=True)
    good_tex = (
        b"\\documentclass{article}\\title{A Real Paper}\\author{A. Author}\\begin{document}"
        b"\\maketitle\\begin{abstract}We study things.\\end{abstract}"
        b"\\section{Intro}Plain prose about the things we study.\\end{document}"
    )
    _tar_gz(root / "2401.00001.tar.gz", {"main.tex": good_tex})
    nested = b"\\textbf{" * 100_000 + b"x" + b"}" * 100_000
    _tar_gz(
        root / "2401.00002.tar.gz",
        {"main.tex": b"\\documentclass{article}\\begin{document}" + nested + b"\\end{document}"},
    )
    _gzip_bomb(root / "2401.00003.tar.gz", 1100 * 2**20, b"\x00")
    (root / "2401.00004.pdf").symlink_to(outside / "secret.txt")

    def record(n: int) -> dict:
        return {
            "id": f"paper-{n}",
            "title": f"Paper {n}",
            "authors": [{"name": "A. Author"}],
            "abstract": f"Abstract {n}.",
            "text": f"Full text of paper {n}.",
            "license": "CC-BY-4.0",
        }

    bad = dict(BAD_LINES)
    bad[250] = '{"id": "numeric-author", "authors": [{"name": 5}], "text": "t"}'
    _dump(root / "papers.jsonl", 996, bad, record)
    # good: the plain paper, the nesting bomb (read in near-linear time) and 996 records
    return 2 + 996, 4 + 1000


def code_landing(root: Path, outside: Path) -> tuple[int, int]:
    repo = root / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "LICENSE").write_text("MIT License\n\nPermission is hereby granted, free of charge")
    (repo / "src" / "ok.py").write_text("print('a good file')\n")
    (repo / "src" / "x.py").symlink_to(outside / "secret.txt")
    (repo / "etc").symlink_to(outside)
    (repo / "loop").symlink_to("..")
    _tar_gz(
        root / "proj.tar.gz",
        {"proj/ok.py": b"x = 1\n", "proj/../../evil.py": b"import os\n"},
    )
    (root / "escape").symlink_to(outside)
    # good: LICENSE + ok.py + proj/ok.py; hostile: 3 links in repo, 1 unsafe member, escape
    return 3, 3 + 3 + 1 + 1


def web_landing(root: Path, outside: Path) -> tuple[int | None, int]:
    from spark_jobs.samples.web import generate_web_sample

    manifest = generate_web_sample(root, pages=40, files=1, seed=9)
    with open(os.path.join(os.fsencode(root), b"crawl-\xff.warc.gz"), "wb") as out:
        out.write(b"never read")
    (root / "stolen.warc.gz").symlink_to(outside / "secret.txt")
    records = manifest.response_records + manifest.corrupt_records
    return manifest.expected_dispositions["kept"], records + 2


FAMILIES = {
    "licensed": (licensed_landing, "CC0-1.0"),
    "papers": (papers_landing, "CC-BY-4.0"),
    "code": (code_landing, "detect"),
    "web": (web_landing, "unknown"),
}


def cases(workdir: Path) -> list[dict]:
    from spark_jobs.delta import read_arrow, table_exists
    from spark_jobs.lake import Lake, document_tables
    from spark_jobs.session import get_spark
    from spark_jobs.sources import Source
    from spark_jobs.stages import ingest_source

    outside = workdir / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n" * 50)
    spark = get_spark()
    lake = Lake(str(workdir / "lake"))
    rows = []
    for family, (plant, license_) in FAMILIES.items():
        landing = workdir / "landing" / family
        if family != "papers" and family != "licensed":
            landing.mkdir(parents=True)
        good, records = plant(landing, outside)
        source = Source(
            f"hostile-{family}",
            family,
            str(landing),
            family,
            license_,
            "detected" if license_ == "detect" else "declared",
            {"limits": BUDGET},
        )
        started = time.monotonic()
        try:
            report = ingest_source(spark, lake, source, run_id="faults", metadata={})
            error = None
        except Exception as exc:  # the case fails; the suite goes on
            report, error = None, f"{type(exc).__name__}: {exc}"[:300]
        seconds = time.monotonic() - started
        counts: Counter[str] = Counter()
        kept = out = leaked = 0
        raw_table = document_tables(family)[0]
        for name in (raw_table, "rejects", "quarantine"):
            if not table_exists(lake.uri(name)):
                continue
            table = read_arrow(lake.uri(name), store=lake.store).to_pylist()
            mine = [r for r in table if r["source"] == source.name]
            out += len(mine)
            if name == raw_table:
                kept = len(mine)
            else:
                counts.update(f"{name}:{r['reason']}" for r in mine)
            leaked += sum(1 for r in mine if SECRET in json.dumps(r, default=str))
        ok = error is None and out == records and leaked == 0 and (good is None or kept == good)
        observed = error or (
            f"{kept} kept; " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        )
        rows.append(
            {
                "group": "backfill",
                "attack": f"{family}: hostile files beside good ones",
                "expected": f"{good} good kept, {records} records accounted for",
                "observed": observed + f"; outside bytes read: {leaked}",
                "ok": ok,
                "seconds": seconds,
                "records_in": records,
                "records_out": out,
                "outside_reads": leaked,
                "committed": report.counts if report else None,
            }
        )
    return rows


if __name__ == "__main__":
    import tempfile

    from bench.faults import table, totals

    result = cases(Path(tempfile.mkdtemp(prefix="faults-backfill-")))
    print(table(result))
    print("\n".join(totals(result)))
    sys.exit(0 if all(r["ok"] for r in result) else 1)
