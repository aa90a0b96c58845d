"""A seeded sample of openly licensed collections: plain-text books, an encyclopedic JSONL dump
and a Parquet file of government documents, built from real English prose (Python's
documentation), with planted hard cases in known numbers."""

from __future__ import annotations

import io
import json
import random
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker

from spark_jobs.samples.manifest import JsonManifest, Plant
from spark_jobs.samples.papers import prose_paragraphs

PLANTS = (
    Plant("gutenberg_book", "text", "kept"),  # header and footer stripped, title from the header
    Plant("empty_book", "text", "skipped", "empty_text"),
    Plant("undecodable_book", "text", "quarantined", "undecodable"),  # Latin-1 bytes
    Plant("truncated_gz_book", "text_gz", "quarantined", "corrupt_archive"),
    Plant("malformed_line", "jsonl", "quarantined", "malformed_json"),
    Plant("missing_text", "jsonl", "skipped", "missing_fields"),
    Plant("proprietary_license", "jsonl", "kept"),  # ingested; curation's allowlist drops it
)
CLEAN_FORMATS = ("text", "jsonl", "parquet", "text_gz")
# One source per collection, each with the license its registry entry declares.
SOURCES = {
    "books": "PublicDomain",
    "encyclopedia": "CC-BY-SA-4.0",
    "gov": "PublicDomain",
}
ENCYCLOPEDIA = "encyclopedia/articles-00000.jsonl"
GOV = "gov/documents-00000.parquet"
# Per-record licenses in the dumps, and the SPDX id ingest must record (None: the source's).
RECORD_LICENSES = (
    ("CC BY-SA 4.0", "CC-BY-SA-4.0"),
    (None, None),
    ("https://creativecommons.org/licenses/by-sa/3.0/", "CC-BY-SA-3.0"),
    ("public domain", "PublicDomain"),
)
PROPRIETARY = ("LicenseRef-proprietary", "LicenseRef-proprietary")


@dataclass
class LicensedSampleManifest(JsonManifest):
    """What a generated sample contains, so tests can assert exact ingest outcomes."""

    seed: int
    documents: int  # input records: text files and dump records (the malformed one included)
    files: list[str]  # relative to the sample directory; the first folder names the source
    sources: dict[str, str]  # folder (= source) -> the license its registry entry declares
    categories: dict[str, list[str]]  # "clean" and every Plant.category -> locators
    expected_dispositions: dict[str, int]
    expected_reasons: dict[str, int]
    # locator -> SPDX id the record carries; None: its source's declared license
    expected_licenses: dict[str, str | None]
    titles: dict[str, str]  # kept documents' locator -> title
    must_contain: dict[str, list[str]]  # locator -> paragraphs of its text
    must_not_contain: dict[str, list[str]]


@dataclass
class _Document:
    doc_id: str
    title: str
    paragraphs: list[str]
    license: tuple[str | None, str | None] = (None, None)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def generate_licensed_sample(
    out_dir: str | Path, *, documents: int = 20, seed: int = 0
) -> LicensedSampleManifest:
    """Write `documents` documents and `_manifest.json` to out_dir; the same seed gives the
    same bytes. Each top-level folder is one source (see `SOURCES`)."""
    minimum = len(PLANTS) + len(CLEAN_FORMATS)
    if documents < minimum:
        raise ValueError(f"need documents >= {minimum} (one per planted case and format)")
    rng = random.Random(seed)
    faker = Faker("en_US")
    faker.seed_instance(seed)
    pool = list(prose_paragraphs())
    rng.shuffle(pool)
    numbers = iter(range(1, 100_000))

    def new_document() -> _Document:
        nonlocal pool
        if len(pool) < 4:
            pool = list(prose_paragraphs())
            rng.shuffle(pool)
        taken = [pool.pop() for _ in range(rng.randint(2, 4))]
        return _Document(
            doc_id=f"doc-{seed}-{next(numbers):05d}",
            title=f"{faker.catch_phrase()}: on {taken[0][0]}",
            paragraphs=[paragraph for _, paragraph in taken],
        )

    manifest = LicensedSampleManifest(
        seed=seed,
        documents=documents,
        files=[],
        sources=dict(SOURCES),
        categories={},
        expected_dispositions={"kept": 0, "skipped": 0, "quarantined": 0},
        expected_reasons={},
        expected_licenses={},
        titles={},
        must_contain={},
        must_not_contain={},
    )
    out = Path(out_dir)
    licenses = iter(RECORD_LICENSES * documents)
    planned = [(plant, new_document()) for plant in PLANTS]
    planned += [
        (Plant("clean", CLEAN_FORMATS[i % len(CLEAN_FORMATS)], "kept"), new_document())
        for i in range(documents - len(PLANTS))
    ]
    lines: list[str] = []
    gov: list[_Document] = []

    def record(category: str, locator: str, document: _Document, kept: bool) -> None:
        manifest.categories.setdefault(category, []).append(locator)
        manifest.expected_licenses[locator] = document.license[1]
        if kept:
            manifest.titles[locator] = document.title
            manifest.must_contain[locator] = list(document.paragraphs)

    def write(name: str, data: bytes) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        manifest.files.append(name)

    for plant, document in planned:
        if plant.format in ("text", "text_gz"):
            name = f"books/{document.doc_id}.txt" + (".gz" if plant.format == "text_gz" else "")
            data = _book(document).encode()
            if plant.category == "gutenberg_book":
                data = _gutenberg_book(document, faker.name()).encode()
                manifest.must_not_contain[name] = ["Project Gutenberg", "*** START OF"]
            elif plant.category == "empty_book":
                data = b"\n  \n"
            elif plant.category == "undecodable_book":
                data = data.replace(b" ", " caf\xe9 ".encode("latin-1"), 1)
            if plant.format == "text_gz":
                data = _gzip(data)
                if plant.category == "truncated_gz_book":
                    data = data[: len(data) // 2]
            write(name, data)
            record(plant.category, name, document, plant.disposition == "kept")
        elif plant.format == "jsonl":
            document.license = (
                PROPRIETARY if plant.category == "proprietary_license" else next(licenses)
            )
            line = {"id": document.doc_id, "title": document.title, "text": document.text}
            if document.license[0] is not None:
                line["license"] = document.license[0]
            if plant.category == "missing_text":
                del line["text"]
            rendered = json.dumps(line)
            if plant.category == "malformed_line":
                rendered = rendered[: len(rendered) // 2]  # a writer killed mid-record
                document.license = (None, None)  # unreadable: only the source's license is known
            lines.append(rendered)
            record(
                plant.category,
                f"{ENCYCLOPEDIA}#line={len(lines)}",
                document,
                plant.disposition == "kept",
            )
        else:
            document.license = next(licenses)
            gov.append(document)
            record(plant.category, f"{GOV}#row={len(gov) - 1}", document, True)
    write(ENCYCLOPEDIA, ("\n".join(lines) + "\n").encode())
    table = pa.Table.from_pylist(
        [{"id": d.doc_id, "title": d.title, "text": d.text, "license": d.license[0]} for d in gov],
        schema=pa.schema(
            [
                ("id", pa.string()),
                ("title", pa.string()),
                ("text", pa.string()),
                ("license", pa.string()),
            ]
        ),
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    write(GOV, buffer.getvalue())

    for plant in (*PLANTS, Plant("clean", "", "kept")):
        count = len(manifest.categories.get(plant.category, []))
        manifest.expected_dispositions[plant.disposition] += count
        if plant.reason:
            manifest.expected_reasons[plant.reason] = count
    manifest.files.sort()
    (out / "_manifest.json").write_text(manifest.to_json())
    return manifest


def _book(document: _Document) -> str:
    chapters = "\n\n".join(
        f"CHAPTER {number}\n\n{paragraph}"
        for number, paragraph in enumerate(document.paragraphs, 1)
    )
    return f"{document.title}\n\n\n{chapters}\n"


def _gutenberg_book(document: _Document, author: str) -> str:
    title = document.title
    return (
        f"The Project Gutenberg eBook of {title}\r\n\r\n"
        "This ebook is for the use of anyone anywhere in the United States and most other\r\n"
        "parts of the world at no cost and with almost no restrictions whatsoever.\r\n\r\n"
        f"Title: {title}\r\n\r\nAuthor: {author}\r\n\r\nLanguage: English\r\n\r\n"
        f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\r\n\r\n"
        + _book(document).replace("\n", "\r\n")
        + f"\r\n*** END OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\r\n\r\n"
        "Updated editions will replace the previous one. Project Gutenberg is a registered\r\n"
        "trademark.\r\n"
    )


def _gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip with mtime 0: reproducible
    return compressor.compress(data) + compressor.flush()
