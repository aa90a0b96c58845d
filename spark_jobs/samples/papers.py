"""A seeded sample of papers: LaTeX source tarballs, PDFs and JSONL/Parquet metadata dumps built
from real English prose (Python's documentation), with planted hard cases in known numbers."""

from __future__ import annotations

import functools
import io
import json
import random
import re
import tarfile
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker

from spark_jobs.samples.manifest import JsonManifest, Plant

PLANTS = (
    Plant("latex_multi_file", "latex", "kept"),  # \input, \include, macros, a decoy standalone
    Plant("latex_truncated", "latex", "quarantined", "corrupt_archive"),
    Plant("latex_no_main_file", "latex", "quarantined", "latex_no_main_file"),
    Plant("pdf_no_text_layer", "pdf", "quarantined", "pdf_no_text_layer"),
    Plant("pdf_corrupt", "pdf", "quarantined", "pdf_corrupt"),
    Plant("jsonl_malformed", "jsonl", "quarantined", "malformed_json"),
    Plant("jsonl_noncommercial", "jsonl", "kept"),  # CC-BY-NC-4.0: ingested, curation drops it
    Plant("jsonl_missing_text", "jsonl", "skipped", "missing_fields"),
    Plant("jsonl_empty_text", "jsonl", "skipped", "empty_text"),
)
# Clean papers take these formats in turn, so the smallest sample has one of each but LaTeX
# (the planted multi-file paper is one).
CLEAN_FORMATS = ("jsonl", "parquet", "pdf", "latex")
# How dumps spell licenses, and the SPDX id ingest must record (None: the source's license).
LICENSE_SPELLINGS = (
    ("cc-by-4.0", "CC-BY-4.0"),
    ("CC BY 4.0", "CC-BY-4.0"),
    ("http://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
    ("CC0", "CC0-1.0"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
    ("Creative Commons Attribution-ShareAlike 4.0 International", "CC-BY-SA-4.0"),
    (None, None),
)
NONCOMMERCIAL = ("CC BY-NC 4.0", "CC-BY-NC-4.0")
JSONL_PLANTED = "metadata/papers-00000.jsonl"
JSONL_CLEAN = "metadata/papers-00001.jsonl.gz"
PARQUET = "metadata/papers-00000.parquet"


@dataclass
class PapersSampleManifest(JsonManifest):
    """What a generated sample contains, so tests can assert exact ingest outcomes."""

    seed: int
    papers: int  # input records: tarballs, PDFs and dump lines (the malformed one included)
    files: list[str]  # relative to the sample directory
    categories: dict[str, list[str]]  # "clean" and every Plant.category -> locators
    expected_dispositions: dict[str, int]
    expected_reasons: dict[str, int]
    # locator -> SPDX id from the paper's metadata; None: the source's declared license
    expected_licenses: dict[str, str | None]
    titles: dict[str, str]  # kept papers' locator -> title
    must_contain: dict[str, list[str]]  # locator -> snippets of its text (whitespace-normalized)
    must_not_contain: dict[str, list[str]]  # locator -> what must be gone (comments, markup)


@dataclass
class _Paper:
    paper_id: str
    title: str
    authors: list[str]
    abstract: str
    body: list[str]  # paragraphs
    license: tuple[str | None, str | None] = (None, None)  # spelling, expected SPDX
    extra: dict = field(default_factory=dict)


def generate_papers_sample(
    out_dir: str | Path, *, papers: int = 12, seed: int = 0
) -> PapersSampleManifest:
    """Write `papers` papers (as tarballs, PDFs and dump records) and `_manifest.json` to
    out_dir; the same seed gives the same bytes."""
    minimum = len(PLANTS) + len(CLEAN_FORMATS) - 1
    if papers < minimum:
        raise ValueError(
            f"need papers >= {minimum} (one per planted case and format); got {papers}"
        )
    rng = random.Random(seed)
    faker = Faker("en_US")
    faker.seed_instance(seed)
    prose = _ProseSource(rng)
    month = 2300 + rng.randrange(1, 13)
    counter = iter(range(1, 100_000))

    def new_paper() -> _Paper:
        topic, paragraphs = prose.take(4)
        return _Paper(
            paper_id=f"{month}.{next(counter):05d}",
            title=f"Notes on {topic} ({faker.word()})",
            authors=[faker.name() for _ in range(rng.randint(1, 4))],
            abstract=paragraphs[0],
            body=paragraphs[1:],
        )

    clean_formats = [CLEAN_FORMATS[i % len(CLEAN_FORMATS)] for i in range(papers - len(PLANTS))]
    manifest = PapersSampleManifest(
        seed=seed,
        papers=papers,
        files=[],
        categories={},
        expected_dispositions={"kept": 0, "skipped": 0, "quarantined": 0},
        expected_reasons={},
        expected_licenses={},
        titles={},
        must_contain={},
        must_not_contain={},
    )
    out = Path(out_dir)
    writer = _Writer(out, rng, manifest)
    spellings = iter(LICENSE_SPELLINGS * papers)
    dump_lines: dict[str, list[tuple[str, _Paper | str]]] = {JSONL_PLANTED: [], JSONL_CLEAN: []}
    parquet_papers: list[_Paper] = []
    for plant in PLANTS:
        paper = new_paper()
        if plant.category == "jsonl_noncommercial":
            paper.license = NONCOMMERCIAL
        elif plant.format == "jsonl":
            paper.license = next(spellings)
        if plant.format == "jsonl":
            dump_lines[JSONL_PLANTED].append((plant.category, paper))
        else:
            writer.paper_file(plant.category, plant.format, paper)
    for paper_format in clean_formats:
        paper = new_paper()
        if paper_format in ("jsonl", "parquet"):
            paper.license = next(spellings)
        if paper_format == "jsonl":
            dump_lines[JSONL_CLEAN].append(("clean", paper))
        elif paper_format == "parquet":
            parquet_papers.append(paper)
        else:
            writer.paper_file("clean", paper_format, paper)
    for name, lines in dump_lines.items():
        rng.shuffle(lines)
        writer.jsonl(name, lines)
    writer.parquet(PARQUET, parquet_papers)

    for plant in (*PLANTS, Plant("clean", "", "kept")):
        count = len(manifest.categories.get(plant.category, []))
        manifest.expected_dispositions[plant.disposition] += count
        if plant.reason:
            manifest.expected_reasons[plant.reason] = (
                manifest.expected_reasons.get(plant.reason, 0) + count
            )
    manifest.files.sort()
    (out / "_manifest.json").write_text(manifest.to_json())
    return manifest


class _Writer:
    """Writes papers in their formats and records in the manifest what ingest must see."""

    def __init__(self, out: Path, rng: random.Random, manifest: PapersSampleManifest) -> None:
        self.out = out
        self.rng = rng
        self.manifest = manifest

    def record(self, category: str, locator: str, paper: _Paper, kept: bool) -> None:
        self.manifest.categories.setdefault(category, []).append(locator)
        self.manifest.expected_licenses[locator] = paper.license[1]
        if kept:
            self.manifest.titles[locator] = paper.title
            snippets = [_first_sentence(p) for p in (paper.abstract, *paper.body)]
            self.manifest.must_contain[locator] = snippets + paper.extra.get("must_contain", [])
            if paper.extra.get("must_not_contain"):
                self.manifest.must_not_contain[locator] = paper.extra["must_not_contain"]

    def write(self, name: str, data: bytes) -> None:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.manifest.files.append(name)

    def paper_file(self, category: str, paper_format: str, paper: _Paper) -> None:
        if paper_format == "pdf":
            name = f"pdf/{paper.paper_id}.pdf"
            data = text_pdf(
                [paper.abstract, *paper.body], title=paper.title, author="; ".join(paper.authors)
            )
            if category == "pdf_no_text_layer":
                data = image_only_pdf()
            elif category == "pdf_corrupt":
                data = data[: len(data) // 2]  # an interrupted download
        else:
            name = f"latex/{paper.paper_id}.tar.gz"
            if category == "latex_multi_file":
                files = self.multi_file_latex(paper)
            elif category == "latex_no_main_file":
                files = {
                    "sections/intro.tex": "\\section{Introduction}\n" + _wrap(paper.abstract),
                    "sections/body.tex": "\n\n".join(_wrap(p) for p in paper.body),
                }
            else:
                files = self.single_file_latex(paper)
            data = _tar_gz(files)
            if category == "latex_truncated":
                data = data[: len(data) // 2]
        self.write(name, data)
        self.record(category, name, paper, kept=category in ("clean", "latex_multi_file"))

    def single_file_latex(self, paper: _Paper) -> dict[str, str]:
        marker = f"REVIEWNOTE{self.rng.randrange(10**6):06d}"
        paper.extra = {
            "must_contain": ["$x_{i+1} = f(x_i)$"],
            "must_not_contain": [marker, "\\section", "documentclass"],
        }
        body = "\n\n".join(_wrap(p) for p in paper.body)
        return {
            f"{paper.paper_id}.tex": (
                "\\documentclass{article}\n"
                f"\\title{{{paper.title}}}\n\\author{{{_latex_authors(paper)}}}\n"
                "\\begin{document}\n\\maketitle\n"
                f"\\begin{{abstract}}\n{_wrap(paper.abstract)}\n\\end{{abstract}}\n"
                f"\\section{{Background}} % {marker}\n{body}\n"
                "Each step computes $x_{i+1} = f(x_i)$ from the previous one.\n"
                "\\end{document}\n"
            )
        }

    def multi_file_latex(self, paper: _Paper) -> dict[str, str]:
        """main.tex with \\input and \\include of section files, a macro file, a decoy
        standalone figure with its own \\documentclass, comments that must disappear and
        math that must stay."""
        markers = [f"REVIEWNOTE{self.rng.randrange(10**6):06d}" for _ in range(4)]
        first, second, third = (paper.body + paper.body)[:3]
        paper.extra = {
            "must_contain": [
                "Introduction",
                "Method",
                "Results",
                "We study Python semantics.",
                "Roughly 50% of the examples cite prior work.",
                "$O(n \\log n)$",
                "T(n) = 2\\,T(n/2) + \\Theta(n)",
                "\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}",
                "\\begin{equation}",
            ],
            "must_not_contain": [
                *markers,
                "\\cite",
                "\\label",
                "sec:intro",
                "\\pyname",
                "\\input",
                "documentclass",
                "usepackage",
                "A decoy figure",
            ],
        }
        main = (
            "\\documentclass[11pt]{article}\n\\usepackage{amsmath,amssymb}\n"
            f"% Internal review: {markers[0]}\n\\input{{macros}}\n"
            f"\\title{{{paper.title}}}\n\\author{{{_latex_authors(paper)}}}\n"
            "\\begin{document}\n\\maketitle\n"
            f"\\begin{{abstract}}\n{_wrap(paper.abstract)} % {markers[1]}\n\\end{{abstract}}\n\n"
            "\\section{Introduction}\\label{sec:intro}\n"
            f"We study \\pyname{{}} semantics.\n{_wrap(first)}\n"
            "Roughly 50\\% of the examples cite prior work~\\cite{knuth1997}.\n"
            f"Sorting costs $O(n \\log n)$ for $n$ items. % {markers[2]}\n\n"
            "\\begin{equation}\\label{eq:cost}\n  T(n) = 2\\,T(n/2) + \\Theta(n)\n\\end{equation}\n\n"
            "\\input{sections/method}\n\\include{sections/results}\n\n"
            "\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n"
        )
        return {
            "main.tex": main,
            "macros.tex": "\\newcommand{\\pyname}{Python}\n\\newcommand{\\R}{\\mathbb{R}}\n",
            "sections/method.tex": (
                f"\\section{{Method}}\n% {markers[3]}\n{_wrap(second)}\n\n"
                "\\[ \\sum_{i=1}^{n} i = \\frac{n(n+1)}{2} \\]\n"
            ),
            "sections/results.tex": f"\\section{{Results}}\n{_wrap(third)}\n",
            "figures/diagram.tex": (
                "\\documentclass{standalone}\n\\begin{document}\nA decoy figure\n\\end{document}\n"
            ),
        }

    def jsonl(self, name: str, lines: list[tuple[str, _Paper]]) -> None:
        if not lines:
            return
        rendered: list[str] = []
        for category, paper in lines:
            if len(rendered) == len(lines) // 2:
                rendered.append("")  # a blank line is not a record
            record = _dump_record(paper, authors_as_objects=len(rendered) % 2 == 1)
            if category == "jsonl_missing_text":
                del record["text"]
            elif category == "jsonl_empty_text":
                record["text"] = "  \n "
            line = json.dumps(record, ensure_ascii=False)
            if category == "jsonl_malformed":
                line = line[: len(line) // 2]  # a writer killed mid-record
                paper.license = (None, None)  # unreadable: only the source's license is known
            rendered.append(line)
            locator = f"{name}#line={len(rendered)}"
            kept = category in ("clean", "jsonl_noncommercial")
            self.record(category, locator, paper, kept)
        data = ("\n".join(rendered) + "\n").encode()
        if name.endswith(".gz"):
            compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, mtime 0
            data = compressor.compress(data) + compressor.flush()
        self.write(name, data)

    def parquet(self, name: str, papers: list[_Paper]) -> None:
        if not papers:
            return
        records = [_dump_record(paper, authors_as_objects=False) for paper in papers]
        schema = pa.schema(
            [
                ("id", pa.string()),
                ("title", pa.string()),
                ("authors", pa.list_(pa.string())),
                ("abstract", pa.string()),
                ("text", pa.string()),
                ("license", pa.string()),
            ]
        )
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(records, schema=schema), buffer)
        self.write(name, buffer.getvalue())
        for row, paper in enumerate(papers):
            self.record("clean", f"{name}#row={row}", paper, kept=True)


def _dump_record(paper: _Paper, *, authors_as_objects: bool) -> dict:
    authors = [{"name": name} for name in paper.authors] if authors_as_objects else paper.authors
    return {
        "id": paper.paper_id,
        "title": paper.title,
        "authors": authors,
        "abstract": paper.abstract,
        "text": "\n\n".join([paper.abstract, *paper.body]),
        "license": paper.license[0],
    }


class _ProseSource:
    """Paragraphs of real prose, a topic's worth at a time, reshuffled when used up."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool: list[tuple[str, str]] = []

    def take(self, count: int) -> tuple[str, list[str]]:
        if len(self.pool) < count:
            self.pool = list(prose_paragraphs())
            self.rng.shuffle(self.pool)
        taken = [self.pool.pop() for _ in range(count)]
        return taken[0][0], [paragraph for _, paragraph in taken]


@functools.cache
def prose_paragraphs() -> tuple[tuple[str, str], ...]:
    """(topic, paragraph) pairs of plain prose from Python's documentation (pydoc_data).

    Only paragraphs without characters LaTeX treats specially or Helvetica cannot show, so
    the same paragraph can be a LaTeX source, a PDF text layer and a JSON string.
    """
    from pydoc_data.topics import topics

    unsafe = re.compile(r"[#$%&_{}~^\\`\x80-\U0010ffff]|--|''")
    found = []
    for topic in sorted(topics):
        for block in re.split(r"\n\s*\n", topics[topic]):
            if not block.strip() or block.startswith(" "):
                continue
            paragraph = " ".join(block.split())
            if 150 <= len(paragraph) <= 1200 and not unsafe.search(paragraph):
                found.append((topic.replace("-", " "), paragraph))
    return tuple(found)


def _latex_authors(paper: _Paper) -> str:
    return " \\and ".join(paper.authors)


def _first_sentence(paragraph: str) -> str:
    return re.split(r"(?<=[.!?:])\s", paragraph, maxsplit=1)[0]


def _wrap(paragraph: str) -> str:
    return "\n".join(textwrap.wrap(paragraph, 72, break_long_words=False, break_on_hyphens=False))


def _tar_gz(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000  # fixed, so the bytes depend only on the seed
            archive.addfile(info, io.BytesIO(data))
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(buffer.getvalue()) + compressor.flush()


def text_pdf(paragraphs: list[str], *, title: str, author: str, lines_per_page: int = 46) -> bytes:
    """A PDF 1.4 file whose pages show the paragraphs in Helvetica: a real text layer."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += textwrap.wrap(paragraph, 90, break_long_words=False, break_on_hyphens=False)
        lines.append("")
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    font = 4 + 2 * len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 3 0 R >>",
        f"<< /Title {_pdf_string(title)} /Author {_pdf_string(author)} "
        "/Producer (pilehouse-sample) >>".encode("latin-1", "replace"),
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
    ]
    for i, page in enumerate(pages):
        shown = " ".join(f"{_pdf_string(line)} Tj T*" for line in page)
        content = f"BT /F1 11 Tf 14 TL 72 740 Td {shown} ET".encode("latin-1", "replace")
        objects.append(
            f"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(_pdf_stream(content))
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    return _pdf_file(objects)


def scanned_text_pdf(lines: list[str], *, dpi: int = 200) -> bytes:
    """A letter page with `lines` drawn on it (Pillow's built-in font), saved as an image-only
    PDF: what a scanner makes of a typed page, for the OCR route."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (int(8.5 * dpi), 11 * dpi), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=dpi * 22 // 100)
    for number, line in enumerate(lines):
        draw.text((dpi * 3 // 4, dpi + number * dpi * 2 // 5), line, fill=0, font=font)
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


def image_only_pdf() -> bytes:
    """A one-page PDF holding only a grey image, as a scanner makes of a blank sheet: no text
    layer. The image is 300 pixels square over 400 pt (54 ppi), so the reader takes it for a
    scan (spark_jobs.papers.pdf.MIN_SCAN_PPI), not for a picture blown up over the page; its
    grey shades evenly from corner to corner, with no edge OCR could take for a letter."""
    pixels = bytes(225 + (x + y) * 20 // 600 for y in range(300) for x in range(300))
    image = _pdf_stream(
        zlib.compress(pixels),
        " /Type /XObject /Subtype /Image /Width 300 /Height 300 /ColorSpace /DeviceGray"
        " /BitsPerComponent 8 /Filter /FlateDecode",
    )
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 3 0 R >>",
            b"<< /Producer (pilehouse-sample scanner) >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /XObject << /Im1 6 0 R >> >> /Contents 5 0 R >>",
            _pdf_stream(b"q 400 0 0 400 106 196 cm /Im1 Do Q"),
            image,
        ]
    )


def _pdf_file(objects: list[bytes]) -> bytes:
    """Objects numbered from 1 (1: catalog, 2: document information), an xref table, a trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 2 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _pdf_stream(data: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"
