"""What Pilehouse would store for one landing file, without Spark: `pilehouse extract FILE...`.

Each file runs through the same reader, listing checks and per-object isolation and budgets
as ingest (spark_jobs.ingest.read_without_spark), and each document it yields is printed as a
JSON line with its text, front matter, route and parser, or, for quarantined input, the reason
and detail. This is how an operator answers "why does this document look like that?".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from spark_jobs.sources import Source

# The family a file goes to, by how its name ends (a directory is a code repository).
_WARC = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc", ".arc.gz")
_PAPER = (".pdf", ".tex", ".tex.gz")
_TARBALL = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")
_DUMP = (".jsonl", ".jsonl.gz", ".json.gz", ".ndjson", ".parquet", ".jsonl.zst")
_TEXT = (".txt", ".txt.gz", ".md")
CORPORA = ("web", "papers", "code", "licensed")
# Columns every printed document has (null where the reader has nothing to say).
FIELDS = (
    "file",
    "locator",
    "corpus",
    "disposition",
    "reason",
    "detail",
    "title",
    "authors",
    "abstract",
    "route",
    "parser",
    "parser_version",
    "route_reason",
    "text",
)
# Parser and route of the families whose readers do not record them per row.
_FAMILY_ROUTE = {"web": ("warc", "pilehouse-web"), "code": ("code", "pilehouse-code")}


def family_of(path: Path) -> str:
    """The corpus family whose reader ingests `path` when it lands."""
    name = path.name.lower()
    if path.is_dir():
        return "code"
    if name.endswith(_WARC):
        return "web"
    if name.endswith(_PAPER) or name.endswith(_DUMP):
        return "papers"
    if name.endswith(_TARBALL):
        return "papers" if _holds_tex(path) else "code"
    if name.endswith(_TEXT):
        return "licensed"
    return "papers"  # the papers reader says what the file is not, as a quarantine reason


def _holds_tex(path: Path) -> bool:
    """Whether a tarball holds .tex files (a paper's sources) rather than a repository. Only
    member names are read, at most the first thousand."""
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for count, member in enumerate(archive):
                if member.name.lower().endswith(".tex"):
                    return True
                if count >= 1000:
                    break
    except (tarfile.TarError, OSError, EOFError):
        return True  # not a readable tar: the papers reader reports why (or reads a lone .tex)
    return False


def _reader(corpus: str):
    if corpus == "web":
        from spark_jobs.web.ingest import WarcReader

        return WarcReader()
    from spark_jobs.corpora import READERS

    return READERS[corpus](None)


def extract_documents(
    paths: Sequence[str | os.PathLike], *, corpus: str | None = None
) -> Iterator[dict]:
    """The documents each landing file makes, as ingest would store them. Raises
    FileNotFoundError (before reading anything) when a path does not exist."""
    resolved = [Path(path) for path in paths]
    for path in resolved:
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(f"{path} does not exist; give a landing file or directory")
    from spark_jobs.ingest import read_without_spark

    for path in resolved:
        family = corpus or family_of(path)
        source = Source(
            name="extract",
            corpus=family,
            location=str(path.absolute().parent),
            format="extract",
            license="detect",
            files=(path.name,),
        )
        for row in read_without_spark(_reader(family), source):
            yield _document(str(path), family, row)


def _document(file: str, corpus: str, row: dict) -> dict:
    document = {name: row.get(name) for name in FIELDS} | {"file": file, "corpus": corpus}
    route, parser = _FAMILY_ROUTE.get(corpus, (None, None))
    document["route"] = document["route"] or route
    document["parser"] = document["parser"] or parser
    if corpus == "code":
        document["title"] = document["title"] or row.get("path")
    if corpus == "web":
        document["title"] = document["title"] or row.get("url")
    return document


def main(argv: Sequence[str] | None = None) -> int:
    """`pilehouse extract FILE...`: JSON lines on stdout; 0 also when an input is quarantined
    (the reason is the answer), 2 with a one-line message when a file is missing."""
    parser = argparse.ArgumentParser(
        prog="pilehouse extract",
        description="Print, as JSON lines, the documents Pilehouse would store for landing files.",
    )
    parser.add_argument(
        "files",
        nargs="+",
        help="WARC, PDF, LaTeX tarball or .tex, JSONL dump, or a code repository directory",
    )
    parser.add_argument(
        "--corpus",
        choices=CORPORA,
        help="read with this family's reader (default: by the file's name and contents)",
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    try:
        for document in extract_documents(args.files, corpus=args.corpus):
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
    except FileNotFoundError as exc:
        print(f"pilehouse extract: {exc}", file=sys.stderr)
        return 2
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
