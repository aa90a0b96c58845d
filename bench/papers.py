"""Papers read right, measured on real papers: the papers reader (LaTeX, PDF text layer, OCR)
beside pylatexenc, pypdf, pypdfium2, pdfminer.six, poppler's pdftotext and a plain Tesseract call,
on the evaluation set bench.papers_data builds.

    python -m bench.papers_data          # once: builds the set (downloads ~2.8 GB)
    python -m bench.papers               # the test half
    python -m bench.papers --half tune

Per document: word recall and precision against the reference (letters-only words, lowercased,
after NFKC, counted as multisets), hyphenations left unjoined at line ends (the joined word is a reference
word and the hyphenated form is not), running header/footer lines left (first or last lines of
pages that repeat, digits aside, on 3 or more pages of the PDF, by pdftotext's page breaks),
words placed outside the page box left (of each word PDFium places wholly outside a page's box,
the copies the output holds beyond those the pages show inside their boxes), and
CPU seconds, run one document at a time in this process: this process's CPU time plus that of
the processes it waited for (pdftotext, Tesseract), so docs/s/core does not move with the load
other work puts on the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

from bench.papers_data import CACHE
from spark_jobs.papers.reader import PapersReader
from spark_jobs.sources import Source

_WORD = re.compile(r"[^\W\d_]+")
_HYPHEN_BREAK = re.compile(r"([^\W\d_]+)(?:[-\u00ad][ \t]*\r?\n[ \t]*|\ufffe)([^\W\d_]+)")


@dataclass
class Scores:
    recall: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    hyphens: int = 0
    furniture: int = 0
    outside: int = 0
    seconds: float = 0.0
    routes: Counter = field(default_factory=Counter)
    failed: int = 0


def words(text: str) -> Counter:
    """Letters-only words, lowercased, after NFKC (a ligature glyph is its letters)."""
    return Counter(word.lower() for word in _WORD.findall(unicodedata.normalize("NFKC", text)))


def overlap(output: str, reference: str) -> tuple[float, float]:
    ours, theirs = words(output), words(reference)
    common = sum((ours & theirs).values())
    recall = common / sum(theirs.values()) if theirs else 1.0
    precision = common / sum(ours.values()) if ours else (1.0 if not theirs else 0.0)
    return recall, precision


def unjoined_hyphenations(output: str, reference: str) -> int:
    vocabulary = set(words(reference))
    lowered = reference.lower()
    count = 0
    for match in _HYPHEN_BREAK.finditer(output):
        head, tail = match.group(1).lower(), match.group(2).lower()
        if head + tail in vocabulary and f"{head}-{tail}" not in lowered:
            count += 1
    return count


def _normal_line(line: str) -> str:
    return " ".join(re.sub(r"\d+", "#", line).split())


def furniture_lines(pdftotext_pages: str) -> set[str]:
    """First and last lines of pages that repeat (digits aside) on 3 or more pages."""
    seen: Counter = Counter()
    for page in pdftotext_pages.split("\f"):
        lines = [_normal_line(line) for line in page.split("\n") if line.strip()]
        for line in {*lines[:1], *lines[-1:]}:
            seen[line] += 1
    return {line for line, count in seen.items() if count >= 3 and line}


def furniture_left(output: str, furniture: set[str]) -> int:
    return sum(1 for line in output.split("\n") if _normal_line(line) in furniture)


def placed_words(pdf: bytes) -> tuple[Counter, Counter]:
    """The words (as `words` counts them) of the characters PDFium places inside their page's
    box and of those it places wholly outside it: text no viewer or printer shows. The box is
    the crop box within the media box, each inherited from the page tree where the page has
    none (PDFium's FPDF_GetPageBoundingBox)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    inside: list[str] = []
    outside: list[str] = []
    document = pdfium.PdfDocument(pdf)
    try:
        for page in document:
            left, bottom, right, top = page.get_bbox()
            textpage = page.get_textpage()
            for index in range(textpage.count_chars()):
                code = pdfium_c.FPDFText_GetUnicode(textpage.raw, index)
                char = chr(code) if 0 < code < 0xD800 else " "
                try:
                    x0, y0, x1, y1 = textpage.get_charbox(index)
                    placed_outside = x1 < left or x0 > right or y1 < bottom or y0 > top
                except pdfium.PdfiumError:  # a character without a box (a generated blank)
                    placed_outside = False
                if placed_outside:
                    inside.append(" ")
                    outside.append(char)
                else:
                    inside.append(char)
                    outside.append(" ")
            inside.append(" ")
            outside.append(" ")
            textpage.close()
            page.close()
    finally:
        document.close()
    return words("".join(inside)), words("".join(outside))


def outside_left(output: str, inside: Counter, outside: Counter) -> int:
    """How many words placed outside the page box the output holds: of each such word, the
    copies beyond those the pages show inside their boxes (PDFium's reading), at most as
    many as were placed outside."""
    if not outside:
        return 0
    ours = words(output)
    return sum(min(count, max(0, ours[word] - inside[word])) for word, count in outside.items())


# ---- the parsers ------------------------------------------------------------------------------


def pilehouse(path: Path) -> tuple[str, str]:
    source = Source(
        name="bench",
        corpus="papers",
        location=str(path.parent),
        format="papers",
        license="LPPL-1.3c",
    )
    rows = list(PapersReader().read(pafs.LocalFileSystem(), str(path), path.name, source))
    row = rows[0]
    route = row.get("route") or (
        "quarantined:" + str(row.get("reason")) if row.get("reason") else "?"
    )
    return row.get("text") or "", route


def pylatexenc_plain(path: Path) -> tuple[str, str]:
    """pylatexenc's LatexNodes2Text with its defaults over the same main file as the reference."""
    import tarfile

    from pylatexenc.latex2text import LatexNodes2Text

    from bench.papers_data import decode_reference

    stem = path.name.removesuffix(".tar.gz").split("__")[-1]
    with tarfile.open(path) as archive:
        data = archive.extractfile(f"{stem}.tex").read()
    source = decode_reference(data)
    begin = source.find("\\begin{document}")
    end = source.rfind("\\end{document}")
    body = source[begin + len("\\begin{document}") : end if end > begin else None]
    return LatexNodes2Text().latex_to_text(body), "latex"


def pypdf_text(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return "\n\n".join(page.extract_text() or "" for page in reader.pages), "text_layer"


def pypdfium2_text(path: Path) -> tuple[str, str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    texts = []
    for page in document:
        textpage = page.get_textpage()
        texts.append(textpage.get_text_range())
        textpage.close()
        page.close()
    document.close()
    return "\n\n".join(texts), "text_layer"


def pdfminer_text(path: Path) -> tuple[str, str]:
    from pdfminer.high_level import extract_text

    return extract_text(str(path)), "text_layer"


def pdftotext_text(path: Path) -> tuple[str, str]:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    return done.stdout.decode("utf-8", "replace"), "text_layer"


def plain_ocr(path: Path) -> tuple[str, str]:
    """pdftoppm at 200 dpi, then `tesseract PAGE - -l eng` on each page."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            ["pdftoppm", "-r", "200", "-gray", "-png", str(path), f"{scratch}/p"], check=True
        )
        texts = []
        for image in sorted(Path(scratch).glob("p-*.png")):
            done = subprocess.run(["tesseract", str(image), "-", "-l", "eng"], capture_output=True)
            texts.append(done.stdout.decode("utf-8", "replace"))
    return "\n\n".join(texts), "ocr"


PARSERS: dict[str, list[tuple[str, Callable[[Path], tuple[str, str]]]]] = {
    "latex": [("pilehouse", pilehouse), ("pylatexenc", pylatexenc_plain)],
    "pdf": [
        ("pilehouse", pilehouse),
        ("pypdf", pypdf_text),
        ("pypdfium2", pypdfium2_text),
        ("pdfminer.six", pdfminer_text),
        ("pdftotext", pdftotext_text),
    ],
    "scan": [("pilehouse", pilehouse), ("tesseract", plain_ocr), ("pypdf", pypdf_text)],
}
SUFFIX = {"latex": ".tar.gz", "pdf": ".pdf", "scan": ".pdf"}


def evaluate(half: str, kinds: list[str], only: set[str] | None = None) -> dict:
    root = CACHE / "set" / half
    if not root.exists():
        raise SystemExit(
            f"no evaluation set under {root}; build it with: python -m bench.papers_data"
        )
    results: dict = {}
    for kind in kinds:
        for path in sorted((root / kind).glob(f"*{SUFFIX[kind]}")):
            name = path.name.removesuffix(SUFFIX[kind])
            reference = (root / kind / f"{name}.ref.txt").read_text()
            second = root / "pdf" / f"{name}.pdftotext.txt"
            furniture = furniture_lines(second.read_text()) if kind == "pdf" else set()
            inside, outside = (
                placed_words(path.read_bytes()) if kind == "pdf" else (Counter(), Counter())
            )
            for parser, run in PARSERS[kind]:
                if only and parser not in only:
                    continue
                scores = results.setdefault((kind, parser), Scores())
                started = cpu_seconds()
                try:
                    text, route = run(path)
                except Exception as exc:  # a baseline that fails on a document scores 0 on it
                    text, route = "", f"error:{type(exc).__name__}"
                    scores.failed += 1
                scores.seconds += cpu_seconds() - started
                recall, precision = overlap(text, reference)
                scores.recall.append(recall)
                scores.precision.append(precision)
                scores.hyphens += unjoined_hyphenations(text, reference)
                scores.furniture += furniture_left(text, furniture)
                scores.outside += outside_left(text, inside, outside)
                scores.routes[route] += 1
                if kind == "pdf" and parser == "pilehouse":
                    _, pdftotext_precision = overlap(text, second.read_text())
                    results.setdefault(("pdf", "pilehouse vs pdftotext"), Scores()).recall.append(
                        overlap(text, second.read_text())[0]
                    )
                    results[("pdf", "pilehouse vs pdftotext")].precision.append(pdftotext_precision)
    return results


def cpu_seconds() -> float:
    """CPU seconds of this process and of the child processes it has waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def p05(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.05 * (len(ordered) - 1))] if ordered else float("nan")


def table(results: dict) -> str:
    lines = [
        "| kind | parser | docs | recall median / p05 / worst | precision median / p05 / worst "
        "| unjoined hyphenations | header/footer lines left | words outside the page box left "
        "| docs/s/core | routes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (kind, parser), s in results.items():
        docs = len(s.recall)
        rate = f"{docs / s.seconds:.1f}" if s.seconds else "-"
        recall = f"{statistics.median(s.recall):.3f} / {p05(s.recall):.3f} / {min(s.recall):.3f}"
        precision = f"{statistics.median(s.precision):.3f} / {p05(s.precision):.3f} / {min(s.precision):.3f}"
        routes = ", ".join(f"{route} {count}" for route, count in sorted(s.routes.items())) or "-"
        if parser.endswith("vs pdftotext"):
            lines.append(
                f"| {kind} | {parser} | {docs} | {recall} | {precision} | - | - | - | - | - |"
            )
            continue
        lines.append(
            f"| {kind} | {parser} | {docs} | {recall} | {precision} | {s.hyphens} | {s.furniture} "
            f"| {s.outside} | {rate} | {routes} |"
        )
    return "\n".join(lines)


def prescan_counts(half: str) -> dict[str, tuple[int, int]]:
    """Per kind of PDF: how many the raw-bytes prescan vouches for (the pypdf structure pass
    skipped), of how many."""
    from spark_jobs.papers.pdf_prescan import vouch
    from spark_jobs.untrusted import ReadLimits

    limit = ReadLimits().max_decompressed_bytes
    counts = {}
    for kind in ("pdf", "scan"):
        paths = sorted((CACHE / "set" / half / kind).glob("*.pdf"))
        vouched = sum(1 for path in paths if vouch(path.read_bytes(), limit) is None)
        counts[kind] = (vouched, len(paths))
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("test", "tune"), default="test")
    parser.add_argument("--kind", action="append", choices=tuple(PARSERS))
    parser.add_argument("--parser", action="append", help="only these parsers (repeatable)")
    parser.add_argument(
        "--prescan", action="store_true", help="only count the PDFs the prescan vouches for"
    )
    args = parser.parse_args(argv)
    if args.prescan:
        for kind, (vouched, total) in prescan_counts(args.half).items():
            print(f"{args.half} {kind}: the prescan vouches for {vouched} of {total}")
        return
    results = evaluate(args.half, args.kind or list(PARSERS), set(args.parser or ()) or None)
    print(f"papers, {args.half} half ({CACHE / 'set' / args.half})")
    print(table(results))


if __name__ == "__main__":
    main()
