"""The PDF reader of a git commit against the working tree's: identical output first, then CPU.

For a change meant to make the papers PDF reader faster without changing what it returns. Each
side reads every PDF given (default: every PDF under bench/data/papers_real, both halves, scans
and the unpacked packages) in a process of its own, with the spark_jobs of that side first on
the path (the commit's copied out with `git archive`; the working tree's copied too, so edits
made during a run do not mix in): `PapersReader.read` as the bench calls it (every column of
the row, or the exception) and `read_pdf` (every field of the PdfDocument, or the PdfError's
reason and detail). A document differs when any of that differs. The reader's CPU seconds
(process and waited-for children: pdftotext, Tesseract) are summed per side, the sides run
alternately (old, new, new, old, ...), and the load average is printed with them.

    python -m bench.pdf_equivalence --against a1e60e0
    python -m bench.pdf_equivalence --against a1e60e0 --rounds 2 'bench/data/papers_real/set/*/pdf/*.pdf'
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO / "bench" / "data" / "papers_real"


def pdf_paths(patterns: list[str]) -> list[str]:
    """Every PDF under each folder given, or matching each glob (relative to the repository)."""
    found: set[str] = set()
    for pattern in patterns:
        root = Path(pattern)
        if root.is_dir():
            found |= {os.path.abspath(path) for path in root.rglob("*.pdf")}
        else:
            found |= {str(path) for path in Path(REPO).glob(pattern)}
    return sorted(found)


def read_all(out: str, listing: str) -> None:
    """The worker: every PDF of `listing` read with the spark_jobs first on the path."""
    import pyarrow.fs as pafs

    import spark_jobs.papers.pdf as pdf
    from spark_jobs.papers.reader import PapersReader
    from spark_jobs.sources import Source

    source = Source(
        name="bench", corpus="papers", location="/", format="papers", license="LPPL-1.3c"
    )
    fs = pafs.LocalFileSystem()
    results, seconds = {}, {}
    for name in Path(listing).read_text().split("\n"):
        if not name:
            continue
        path = Path(name)
        started = cpu_seconds()
        try:
            rows = list(PapersReader().read(fs, str(path), path.name, source))
        except Exception as exc:  # the same exception on both sides is the same output
            rows = ("exception", type(exc).__name__, str(exc))
        seconds[name] = cpu_seconds() - started
        try:
            document = dataclasses.asdict(pdf.read_pdf(path.read_bytes()))
        except pdf.PdfError as exc:
            document = ("PdfError", exc.reason, exc.detail)
        except Exception as exc:
            document = ("exception", type(exc).__name__, str(exc))
        results[name] = (rows, document)
    Path(out).write_bytes(
        pickle.dumps({"results": results, "seconds": seconds, "file": pdf.__file__})
    )


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="folders or globs (default: the papers set)")
    parser.add_argument("--against", help="the git commit whose reader is the reference")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each side (alternating)")
    parser.add_argument("--worker", nargs=2, metavar=("OUT", "LIST"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        read_all(*args.worker)
        return
    if not args.against:
        parser.error("--against COMMIT is required")
    paths = pdf_paths(args.paths or [str(DEFAULT_ROOT)])
    if not paths:
        raise SystemExit("no PDFs found; build the set with: python -m bench.papers_data")
    with tempfile.TemporaryDirectory(prefix="pdf-equivalence-") as scratch:
        sides = {"old": Path(scratch) / "old", "new": Path(scratch) / "new"}
        sides["old"].mkdir()
        archive = subprocess.run(
            ["git", "archive", args.against, "spark_jobs"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(sides["old"])], input=archive.stdout, check=True)
        shutil.copytree(REPO / "spark_jobs", sides["new"] / "spark_jobs")
        listing = Path(scratch) / "pdfs.txt"
        listing.write_text("\n".join(paths))
        runs: dict[str, list[dict]] = {"old": [], "new": []}
        for round_ in range(args.rounds):
            for side in ("old", "new") if round_ % 2 == 0 else ("new", "old"):
                out = Path(scratch) / f"{side}.pkl"
                environment = {**os.environ, "PYTHONPATH": f"{sides[side]}:{REPO}"}
                load = os.getloadavg()[0]
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.pdf_equivalence",
                        "--worker",
                        str(out),
                        str(listing),
                    ],
                    cwd=scratch,  # not the repository: `-m` puts the cwd first on the path
                    env=environment,
                    check=True,
                    stderr=subprocess.DEVNULL,  # pypdf's and PDFium's warnings on broken files
                )
                got = pickle.loads(out.read_bytes())
                if not got["file"].startswith(str(sides[side])):
                    raise SystemExit(f"the {side} run read {got['file']}, not its own copy")
                runs[side].append(got)
                print(
                    f"round {round_ + 1} {side}: {sum(got['seconds'].values()):.2f} CPU s for "
                    f"{len(paths)} PDFs (load {load:.1f} -> {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    reference = runs["old"][0]["results"]
    differ = [
        path
        for path in paths
        if any(run["results"][path] != reference[path] for run in runs["old"] + runs["new"])
    ]
    for path in differ[:20]:
        print(f"differs: {path}")
    totals = {side: [sum(run["seconds"].values()) for run in runs[side]] for side in runs}
    old, new = statistics.median(totals["old"]), statistics.median(totals["new"])
    print(
        f"{len(paths)} PDFs, {len(differ)} differ; reader CPU seconds (median of "
        f"{args.rounds}): {args.against} {old:.2f}, working tree {new:.2f} ({old / new:.2f}x)"
    )


if __name__ == "__main__":
    main()
