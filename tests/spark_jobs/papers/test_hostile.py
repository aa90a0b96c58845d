"""Hostile LaTeX tarballs and PDFs end quarantined with a reason (or kept) within seconds,
never read outside the tarball, and leave good papers beside them read as before."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pyarrow.fs as pafs
import pypdf
import pytest

from bench.faults_papers import (
    CASES,
    Case,
    flate_bomb_pdf,
    latex,
    observed,
    read_file,
    text_problems,
)
from spark_jobs.papers.latex import latex_to_text
from spark_jobs.papers.reader import PapersReader
from spark_jobs.sources import Source

# Each case takes well under a second; the quadratic converter took minutes on some.
SECONDS = 10


@contextmanager
def within(seconds: float):
    """Fail (instead of hanging the suite) when the block runs longer than `seconds`."""

    def stop(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def write(root: Path, case: Case) -> None:
    path = root / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.build())


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case's file, written once (the bombs take a moment to compress)."""
    root = tmp_path_factory.mktemp("faults")
    for case in CASES:
        write(root, case)
    return root


def case_named(file: str) -> Case:
    return next(case for case in CASES if case.file == file)


@pytest.mark.parametrize("case", CASES, ids=lambda case: Path(case.file).name)
def test_each_hostile_or_good_paper_ends_as_expected_within_seconds(
    case: Case, landing: Path
) -> None:
    with within(SECONDS):
        rows = read_file(landing, case.file)
    assert observed(rows) == case.expected
    assert text_problems(case, rows) == []
    for row in rows:
        if row.get("disposition") == "quarantined":
            assert row["detail"], row


def test_good_papers_read_after_hostile_ones_keep_their_text(landing: Path) -> None:
    with within(3 * SECONDS):
        rows = {case.file: read_file(landing, case.file) for case in CASES}
    for file in ("latex/good.tar.gz", "latex/lone.tar.gz", "pdf/good.pdf"):
        [row] = rows[file]
        assert row.get("disposition") is None and row["text"], file
        assert text_problems(case_named(file), [row]) == []
    # Reading hostile PDFs leaves pypdf's settings and loggers as they were.
    assert pypdf.get_configuration() == pypdf.Configuration()
    assert logging.getLogger("pypdf").handlers == []


@pytest.mark.parametrize(
    ("file", "listed"),
    [
        ("latex/dotdot.tar.gz", "../evil.tex (named outside the archive)"),
        ("latex/absolute.tar.gz", "/tmp/evil.tex (named outside the archive)"),
        ("latex/symlink.tar.gz", "linked.tex (a link to /etc/passwd)"),
        ("latex/hardlink.tar.gz", "hard.tex (a link to ../../etc/passwd)"),
    ],
)
def test_unsafe_members_are_listed_on_the_paper_and_never_read(
    landing: Path, file: str, listed: str
) -> None:
    [row] = read_file(landing, file)
    assert row.get("disposition") is None and "We measure how quickly" in row["text"]
    assert listed in row["detail"]
    assert "OUTSIDE" not in row["text"] and "root:" not in row["text"]


def test_the_whole_tar_stream_counts_against_max_decompressed_bytes(landing: Path) -> None:
    """Not only the .tex members: a 48 MiB data file trips a 16 MiB bound, not the 1 GiB one."""
    file = "latex/huge-member.tar.gz"
    [bounded] = read_file(landing, file)  # the bench's source: 16 MiB
    assert bounded["reason"] == "decompression_bomb"
    assert "max_decompressed_bytes" in bounded["detail"]
    default = Source("papers", "papers", str(landing), "papers", "CC-BY-4.0")
    [kept] = PapersReader().read(pafs.LocalFileSystem(), str(landing / file), file, default)
    assert kept.get("disposition") is None and "After." in kept["text"]


def test_pypdfs_decompression_bound_follows_the_source_limit(tmp_path: Path) -> None:
    (tmp_path / "bomb.pdf").write_bytes(flate_bomb_pdf(24 * 2**20))
    fs = pafs.LocalFileSystem()
    path = str(tmp_path / "bomb.pdf")

    def read(**options) -> dict:
        source = Source("papers", "papers", str(tmp_path), "papers", "CC-BY-4.0", options=options)
        with within(SECONDS):
            [row] = PapersReader().read(fs, path, "bomb.pdf", source)
        return row

    # pypdf's own 75 MB bound lets 24 MiB of blanks through: a page without text.
    assert read()["reason"] == "pdf_no_text_layer"
    bounded = read(limits={"max_decompressed_bytes": 8 * 2**20})
    assert bounded["reason"] == "decompression_bomb" and "page 1" in bounded["detail"]


def _paper(body: str, preamble: str = "") -> dict[str, str]:
    return {"main.tex": latex(body, preamble)}


def _macros(n: int) -> dict[str, str]:
    """n argument-free macros, \\maaa to \\mzzz..., each used once."""
    names = [
        f"m{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676 % 26)}" for i in range(n)
    ]
    definitions = "".join(f"\\newcommand{{\\{name}}}{{v}}\n" for name in names)
    return _paper("".join(f"\\{name} " for name in names), preamble=definitions)


HOSTILE_MARKUP: dict[str, Callable[[int], dict[str, str]]] = {
    "nested textbf": lambda n: _paper("\\textbf{" * n + "x" + "}" * n),
    "nested footnote": lambda n: _paper("\\footnote{" * n + "x" + "}" * n),
    "nested section": lambda n: _paper("\\section{" * n + "x" + "}" * n),
    "nested environments": lambda n: _paper("\\begin{quote}" * n + "x" + "\\end{quote}" * n),
    "unclosed display math": lambda n: _paper("\\[ x " * n + "\\( y " * n),
    "unclosed dollars": lambda n: _paper("$$ x $ y " * n),
    "unclosed figures": lambda n: _paper("\\begin{figure}\\begin{verbatim}[" * n),
    "unclosed comment blocks": lambda n: _paper("\\begin{comment}\n\\iffalse\n" * n),
    "unclosed arguments": lambda n: _paper("\\cite{\\cite[\\section[\\item[\\input{" * n),
    "unclosed definitions": lambda n: _paper("x", preamble="\\def\\a{" * n),
    "nested authors": lambda n: _paper("x", preamble="\\author{" * n + "A" + "}" * n),
    "many authors": lambda n: _paper("x", preamble="\\author{" + " \\and A" * n + "}"),
    "unclosed captions": lambda n: _paper("\\begin{figure}" + "\\caption{" * n + "\\end{figure}"),
    "blank runs": lambda n: _paper("a" + " " * (40 * n) + "\\section" + " " * (40 * n) + "b"),
    "one-line paragraph of many lines": lambda n: _paper("a\n" * (10 * n)),
    "backslash runs": lambda n: _paper("\\" * (10 * n)),
    "many macros": lambda n: _macros(n // 4),
}


@pytest.mark.parametrize("make", HOSTILE_MARKUP.values(), ids=HOSTILE_MARKUP.keys())
def test_the_converter_stays_fast_on_hostile_markup(make) -> None:
    """A few hundred KB of each construct; one pass per nesting level or a scan to the end
    per unclosed opener took minutes here."""
    files = make(50_000)
    with within(SECONDS):
        paper = latex_to_text(files)
    assert "We measure how quickly" in paper.text
