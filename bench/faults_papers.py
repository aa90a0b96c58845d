"""Fault cases for the papers reader: hostile LaTeX tarballs and PDFs, beside good papers.

    python -m bench.faults_papers                # all cases, printed as a table

`cases(workdir)` writes each file (KBs on disk) into workdir and reads it with
`PapersReader().read` in a spawned child process, timing it and taking the child's peak RSS
growth; one dict per case (group "papers"). A case is ok when its rows end as expected
(kept, or quarantined with the reason), kept text holds what it must and none of what it
must not (a file outside the tarball), within CASE_SECONDS and CASE_RSS_MB.

The source sets `max_decompressed_bytes` to 16 MiB so bombs that are KBs on disk cross it;
a production source keeps the 1 GiB default, and these files then stop at that bound.
"""

from __future__ import annotations

import argparse
import gzip
import io
import multiprocessing
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GROUP = "papers"
MiB = 2**20
LIMITS = {"max_decompressed_bytes": 16 * MiB}
BOMB_BYTES = 48 * MiB  # three times the limit
CASE_SECONDS = 10.0
CASE_RSS_MB = 512.0
CHILD_TIMEOUT_S = 120.0
OUTSIDE = "OUTSIDE-THE-TARBALL"  # text of members that must never be read

BODY = (
    "We measure how quickly the reader turns a source tarball into text. "
    "The method is simple and the results are stable across runs."
)


# ---------------------------------------------------------------------------------------
# Building files (deterministic bytes)
# ---------------------------------------------------------------------------------------


def latex(body: str, preamble: str = "") -> str:
    """A compilable main file around `body`."""
    return (
        f"\\documentclass{{article}}\n{preamble}\\title{{A Paper}}\n\\author{{Ann Lee}}\n"
        f"\\begin{{document}}\n\\maketitle\n{BODY}\n\n{body}\n\\end{{document}}\n"
    )


class _Zeros(io.RawIOBase):
    """`size` zero bytes as a stream, so a huge member is never held in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def member(name: str, data: bytes | str | int = b"", *, kind: bytes = tarfile.REGTYPE, link=""):
    """A tar member: content as bytes or text, or an int for that many zero bytes."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mtime = 1_700_000_000
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, int):
        info.size, stream = data, io.BufferedReader(_Zeros(data))
    else:
        info.size, stream = len(data), io.BytesIO(data)
    if kind != tarfile.REGTYPE:
        info.size, stream = 0, None
    return info, stream


def tar_gz(members: list[tuple[tarfile.TarInfo, io.IOBase | None]]) -> bytes:
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.GNU_FORMAT) as archive,
    ):
        for info, stream in members:
            archive.addfile(info, stream)
    return buffer.getvalue()


def gzip_filler(size: int) -> bytes:
    """A gzip of `size` spaces (not a tar: zeros would read as an empty one), a MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * MiB
    parts = [compressor.compress(chunk) for _ in range(size // MiB)]
    return b"".join(parts) + compressor.flush()


def pdf_file(objects: list[bytes]) -> bytes:
    """Objects numbered from 1 (1: the catalog), an xref table and a trailer."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def pdf_stream(data: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"


_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 12 Tf 72 700 Td (" + BODY[:60].encode() + b") Tj ET"


def _page(contents: int, font: int, extra: str = "") -> bytes:
    return (
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R "
        f"/Resources << /Font << /F1 {font} 0 R >>{extra} >> >>"
    ).encode()


def good_pdf() -> bytes:
    return pdf_file(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(4, 5),
            pdf_stream(_TEXT),
            _FONT,
        ]
    )


def cyclic_page_tree_pdf() -> bytes:
    """The root's second kid is a /Pages node whose /Kids holds the root again."""
    return pdf_file(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>",
            _page(4, 5),
            pdf_stream(_TEXT),
            _FONT,
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        ]
    )


def self_drawing_xobject_pdf() -> bytes:
    """A form XObject whose content draws the form itself."""
    form = pdf_stream(
        b"BT /F1 12 Tf (again) Tj ET /X1 Do",
        " /Type /XObject /Subtype /Form /BBox [0 0 612 792]"
        " /Resources << /XObject << /X1 6 0 R >> /Font << /F1 5 0 R >> >>",
    )
    return pdf_file(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(4, 5, " /XObject << /X1 6 0 R >>"),
            pdf_stream(_TEXT + b" /X1 Do"),
            _FONT,
            form,
        ]
    )


def flate_bomb_pdf(size: int = BOMB_BYTES) -> bytes:
    """A page whose content stream inflates to `size` bytes (KBs on disk)."""
    deflated = zlib.compressobj(9)
    chunk = b" " * MiB
    data = b"".join(deflated.compress(chunk) for _ in range(size // MiB)) + deflated.flush()
    return pdf_file(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(4, 5),
            pdf_stream(data, " /Filter /FlateDecode"),
            _FONT,
        ]
    )


def spread_flate_bomb_pdf(pages: int = 6, each: int = 4 * MiB) -> bytes:
    """`pages` pages whose content streams inflate to `each` bytes apiece: every stream is
    under a per-stream bound, their sum is not."""
    kids = " ".join(f"{4 + 2 * page} 0 R" for page in range(pages))
    objects = [_CATALOG, f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(), _FONT]
    for page in range(pages):
        deflated = zlib.compressobj(9)
        data = b"".join(deflated.compress(b" " * MiB) for _ in range(each // MiB))
        objects.append(_page(5 + 2 * page, 3))
        objects.append(pdf_stream(data + deflated.flush(), " /Filter /FlateDecode"))
    return pdf_file(objects)


def deep_page_tree_pdf(depth: int = 150) -> bytes:
    """A chain of /Pages nodes `depth` deep above one page."""
    nodes = [
        f"<< /Type /Pages /Kids [{number + 1} 0 R] /Count 1 >>".encode()
        for number in range(2, 2 + depth)
    ]
    contents, font = 3 + depth, 4 + depth  # the page is object 2 + depth
    return pdf_file(
        [
            _CATALOG,
            *nodes,
            _page(contents, font).replace(b"/Parent 2 0 R ", b""),
            pdf_stream(_TEXT),
            _FONT,
        ]
    )


def _unclosed() -> str:
    return (
        "\\[ x + y " * 20_000
        + "$$ z " * 2
        + "\\begin{figure}\\caption{" * 20_000
        + "\\begin{comment}\n" * 5_000
    )


def _fan_out() -> str:
    names = "abcdefg"
    definitions = "".join(
        f"\\def\\{names[i]}{{" + f"\\{names[i + 1]}" * 16 + "}\n" for i in range(6)
    )
    return latex("\\a " * 100, preamble=definitions)


def _repeated_inputs() -> list:
    files = [member("main.tex", latex("\\input{f0}" * 10))]
    for level in range(12):
        files.append(member(f"f{level}.tex", f"Level {level}. " + f"\\input{{f{level + 1}}}" * 10))
    return files


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    attack: str
    file: str  # its suffix picks the route
    build: Callable[[], bytes]
    expected: str  # "kept" or "quarantined: <reason>"
    must_contain: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()


CASES = (
    Case(
        "nesting bomb: \\textbf{ 100,000 deep",
        "latex/nesting.tar.gz",
        lambda: tar_gz([member("main.tex", latex("\\textbf{" * 100_000 + "deep" + "}" * 100_000))]),
        "kept",
        must_contain=("deep",),
    ),
    Case(
        "\\input loop: a inputs b inputs a",
        "latex/input-loop.tar.gz",
        lambda: tar_gz(
            [
                member("main.tex", latex("\\input{a}")),
                member("a.tex", "Part A. \\input{b}"),
                member("b.tex", "Part B. \\input{a}"),
            ]
        ),
        "kept",
        must_contain=("Part A. Part B.",),
    ),
    Case(
        "repeated \\input: 12 nested files each input the next 10 times (10^12 copies)",
        "latex/input-repeated.tar.gz",
        lambda: tar_gz(_repeated_inputs()),
        "kept",
        must_contain=("Level 11.",),
    ),
    Case(
        "macro fan-out: 6 levels of \\def, each using the next 16 times",
        "latex/fan-out.tar.gz",
        lambda: tar_gz([member("main.tex", _fan_out())]),
        "quarantined: expansion_limit",
    ),
    Case(
        "unclosed openers: 20,000 \\[, $$, \\begin{figure}\\caption{, \\begin{comment}",
        "latex/unclosed.tar.gz",
        lambda: tar_gz([member("main.tex", latex(_unclosed()))]),
        "kept",
        must_contain=(BODY[:40],),
    ),
    Case(
        "deep environments: \\begin{itemize} 50,000 deep, 20,000 unclosed \\cite{",
        "latex/deep-envs.tar.gz",
        lambda: tar_gz(
            [
                member(
                    "main.tex",
                    latex(
                        "\\begin{itemize}\\item " * 50_000
                        + "inner"
                        + "\\end{itemize}" * 50_000
                        + "\\cite{" * 20_000
                    ),
                )
            ]
        ),
        "kept",
        must_contain=("inner",),
    ),
    Case(
        "blank runs: 4 MB of spaces after \\item, \\section and \\input",
        "latex/blanks.tar.gz",
        lambda: tar_gz(
            [
                member(
                    "main.tex",
                    latex(
                        "a" + " " * 2_000_000 + "\\item[x"
                        "\\section" + " " * 1_000_000 + "\\input" + " " * 1_000_000 + "b"
                    ),
                )
            ]
        ),
        "kept",
    ),
    Case(
        "gzip bomb that is not a tar (48 MiB of spaces)",
        "latex/gzip-bomb.tar.gz",
        lambda: gzip_filler(BOMB_BYTES),
        "quarantined: decompression_bomb",
    ),
    Case(
        "tar whose 48 MiB non-.tex member comes before main.tex",
        "latex/huge-member.tar.gz",
        lambda: tar_gz([member("data.bin", BOMB_BYTES), member("main.tex", latex("After."))]),
        "quarantined: decompression_bomb",
    ),
    Case(
        "../ member, \\input{../evil}",
        "latex/dotdot.tar.gz",
        lambda: tar_gz(
            [member("main.tex", latex("\\input{../evil}")), member("../evil.tex", OUTSIDE)]
        ),
        "kept",
        must_not_contain=(OUTSIDE,),
    ),
    Case(
        "absolute member /tmp/evil.tex, \\input{/tmp/evil} and \\input{/etc/passwd}",
        "latex/absolute.tar.gz",
        lambda: tar_gz(
            [
                member("main.tex", latex("\\input{/tmp/evil}\\input{/etc/passwd}")),
                member("/tmp/evil.tex", OUTSIDE),
            ]
        ),
        "kept",
        must_not_contain=(OUTSIDE, "root:"),
    ),
    Case(
        "symlink member linked.tex -> /etc/passwd, \\input{linked}",
        "latex/symlink.tar.gz",
        lambda: tar_gz(
            [
                member("main.tex", latex("\\input{linked}")),
                member("linked.tex", kind=tarfile.SYMTYPE, link="/etc/passwd"),
            ]
        ),
        "kept",
        must_not_contain=("root:",),
    ),
    Case(
        "hard-link member hard.tex -> ../../etc/passwd, \\input{hard}",
        "latex/hardlink.tar.gz",
        lambda: tar_gz(
            [
                member("main.tex", latex("\\input{hard}")),
                member("hard.tex", kind=tarfile.LNKTYPE, link="../../etc/passwd"),
            ]
        ),
        "kept",
        must_not_contain=("root:",),
    ),
    Case("zero-byte tarball", "latex/empty.tar.gz", lambda: b"", "quarantined: corrupt_archive"),
    Case(
        "cyclic page tree (/Kids holds an ancestor)",
        "pdf/cyclic.pdf",
        cyclic_page_tree_pdf,
        "quarantined: pdf_corrupt",
    ),
    Case(
        "self-referencing form XObject",
        "pdf/xobject-loop.pdf",
        self_drawing_xobject_pdf,
        "quarantined: pdf_corrupt",
    ),
    Case(
        "flate bomb: a 48 MiB content stream",
        "pdf/flate-bomb.pdf",
        flate_bomb_pdf,
        "quarantined: decompression_bomb",
    ),
    Case(
        "flate bomb spread over 6 pages, 4 MiB each (each under the bound, the sum not)",
        "pdf/spread-bomb.pdf",
        spread_flate_bomb_pdf,
        "quarantined: decompression_bomb",
    ),
    Case(
        "page tree 150 levels deep",
        "pdf/deep.pdf",
        deep_page_tree_pdf,
        "quarantined: too_deep",
    ),
    Case("zero-byte PDF", "pdf/empty.pdf", lambda: b"", "quarantined: pdf_corrupt"),
    Case(
        "truncated PDF",
        "pdf/truncated.pdf",
        lambda: good_pdf()[:300],
        "quarantined: pdf_corrupt",
    ),
    Case(
        "good multi-file LaTeX tarball",
        "latex/good.tar.gz",
        lambda: tar_gz(
            [
                member("main.tex", latex("\\input{sections/method}")),
                member("sections/method.tex", "\\section{Method}\nWe sort in $O(n \\log n)$."),
            ]
        ),
        "kept",
        must_contain=(BODY[:40], "Method", "$O(n \\log n)$"),
    ),
    Case(
        "good lone gzipped .tex (arXiv's single-file form)",
        "latex/lone.tar.gz",
        lambda: gzip.compress(latex("Alone.").encode(), mtime=0),
        "kept",
        must_contain=("Alone.",),
    ),
    Case("good PDF", "pdf/good.pdf", good_pdf, "kept", must_contain=(BODY[:40],)),
)


def source(workdir: Path):
    from spark_jobs.sources import Source

    return Source(
        name="faults",
        corpus="papers",
        location=str(workdir),
        format="papers",
        license="CC-BY-4.0",
        options={"limits": LIMITS},
    )


def read_file(workdir: Path, relative: str) -> list[dict]:
    """The reader's rows for one file under workdir, read here."""
    import pyarrow.fs as pafs

    from spark_jobs.papers.reader import PapersReader

    path = str(workdir / relative)
    return list(PapersReader().read(pafs.LocalFileSystem(), path, relative, source(workdir)))


def observed(rows: list[dict]) -> str:
    """Each row's disposition and reason: "kept", "quarantined: decompression_bomb"."""
    return "; ".join(
        (row.get("disposition") or "kept") + (f": {row['reason']}" if row.get("reason") else "")
        for row in rows
    )


def text_problems(case: Case, rows: list[dict]) -> list[str]:
    """What kept text lacks or holds that it must not."""
    text = " ".join(" ".join((row.get("text") or "").split()) for row in rows)
    missing = [f"lacks {snippet!r}" for snippet in case.must_contain if snippet not in text]
    return missing + [f"holds {bad!r}" for bad in case.must_not_contain if bad in text]


def _child(workdir: str, relative: str, connection) -> None:
    import resource

    import pyarrow.fs  # noqa: F401  (imports before the baseline)

    import spark_jobs.papers.reader  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        rows = read_file(Path(workdir), relative)
        error = None
    except Exception as caught:  # a reader crash is an observation, not a bench failure
        rows, error = [], f"{type(caught).__name__}: {caught}"[:300]
    seconds = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    slim = [
        {k: row.get(k) for k in ("disposition", "reason", "detail", "text", "locator")}
        for row in rows
    ]
    connection.send({"rows": slim, "error": error, "seconds": seconds, "rss_kb": grown})
    connection.close()


def run_case(case: Case, workdir: Path) -> dict:
    """Write the case's file and read it in a spawned child; its result row."""
    path = workdir / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.build())
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(str(workdir), case.file, send))
    started = time.monotonic()
    child.start()
    send.close()
    result = receive.recv() if receive.poll(CHILD_TIMEOUT_S) else None
    child.join(5)
    if child.is_alive():
        child.kill()
        child.join()
    if result is None:
        seen = f"no answer after {time.monotonic() - started:.0f} s (exit {child.exitcode})"
        rows, seconds, rss_mb = [], CHILD_TIMEOUT_S, 0.0
    else:
        rows, seconds = result["rows"], result["seconds"]
        rss_mb = result["rss_kb"] / 1024
        seen = result["error"] or observed(rows)
    problems = text_problems(case, rows) if result and not result["error"] else []
    if problems:
        seen += " (" + ", ".join(problems) + ")"
    ok = (
        result is not None
        and observed(rows) == case.expected
        and not problems
        and seconds <= CASE_SECONDS
        and rss_mb <= CASE_RSS_MB
    )
    return {
        "group": GROUP,
        "attack": case.attack,
        "expected": case.expected,
        "observed": seen,
        "ok": ok,
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(rss_mb, 1),
        "records_in": 1,
        "records_out": len(rows),
        "file_bytes": path.stat().st_size,
    }


def cases(workdir: Path) -> list[dict]:
    """Run every papers fault case under `workdir`; one dict per case (see module docs)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    return [run_case(case, workdir) for case in CASES]


def _print_table(rows: list[dict]) -> None:
    print(f"{'':4} {'seconds':>8} {'rss MB':>7} {'bytes':>7}  attack -> observed")
    for row in rows:
        mark = "ok  " if row["ok"] else "FAIL"
        print(
            f"{mark} {row['seconds']:8.3f} {row['peak_rss_mb']:7.1f} {row['file_bytes']:7d}  "
            f"{row['attack']}"
        )
        if not row["ok"] or row["observed"] != row["expected"]:
            print(f"{'':30} expected: {row['expected']}")
        print(f"{'':30} observed: {row['observed']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.workdir is not None:
        rows = cases(args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="faults-papers-") as workdir:
            rows = cases(Path(workdir))
    _print_table(rows)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
