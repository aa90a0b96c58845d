"""PDF pages read by the route that reads them right: the text layer (clipped to the page box,
in column order, hyphenations joined, accents recomposed, running headers dropped) or OCR for
pages that are pictures of text."""

from __future__ import annotations

import io
import shutil

import pytest
from pypdf import PdfReader, PdfWriter

from bench.faults_papers import pdf_file, pdf_stream
from spark_jobs.papers.pdf import read_pdf
from spark_jobs.samples.papers import scanned_text_pdf, text_pdf

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="needs Tesseract: apt-get install tesseract-ocr tesseract-ocr-eng",
)
SCAN_LINES = [
    "Tidal currents carry sediment along the estuary",
    "and the harbour silts up every winter season.",
    "Dredging keeps the channel open for ferries.",
]


def scan_pdf(lines: list[str] = SCAN_LINES) -> bytes:
    return scanned_text_pdf(lines)


def helvetica_pdf(pages: list[list[tuple[float, float, str]]], size: int = 11) -> bytes:
    """Pages of (x, y, text) runs in Helvetica (WinAnsi), drawn in the order given."""
    count = len(pages)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    for i, runs in enumerate(pages):
        content = " ".join(
            f"BT /F1 {size} Tf {x} {y} Td ({text}) Tj ET" for x, y, text in runs
        ).encode("cp1252")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        objects.append(pdf_stream(content))
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    return pdf_file(objects)


@needs_tesseract
def test_a_scanned_page_is_routed_to_ocr_and_its_words_are_read() -> None:
    document = read_pdf(scan_pdf())
    assert document.route == "ocr" and document.parser == "tesseract"
    assert document.parser_version.startswith("tesseract ")
    assert "0 page(s) text layer, 1 OCR" in document.route_reason
    words = set(document.text.lower().split())
    assert {"tidal", "sediment", "estuary", "harbour", "dredging", "ferries."} <= words


@needs_tesseract
def test_a_pdf_mixing_text_pages_and_scanned_pages_is_routed_per_page() -> None:
    writer = PdfWriter()
    for data in (
        text_pdf(["Typeset first page about lighthouses."], title="t", author="a"),
        scan_pdf(),
    ):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    document = read_pdf(out.getvalue())
    assert document.route == "mixed" and document.pages_ocr == 1
    assert document.parser == "pypdfium2+tesseract"
    assert "Typeset first page about lighthouses." in document.text
    assert "estuary" in document.text


def test_without_ocr_a_scan_is_quarantined_with_a_reason() -> None:
    from spark_jobs.papers.pdf import PdfError

    with pytest.raises(PdfError) as error:
        read_pdf(scan_pdf(), ocr=False)
    assert error.value.reason == "pdf_no_text_layer"


def test_text_outside_the_page_box_is_left_out() -> None:
    data = helvetica_pdf(
        [
            [
                (72, 700, "Visible words on the page."),
                (700, 700, "HIDDEN RIGHT"),
                (72, 900, "HIDDEN ABOVE"),
            ]
        ]
    )
    document = read_pdf(data)
    assert document.text == "Visible words on the page."
    assert document.clipped_lines >= 1


def test_hyphenated_line_breaks_are_joined_when_the_joined_word_is_a_word() -> None:
    data = helvetica_pdf(
        [
            [
                (72, 700, "The experiment was repeated and the experi-"),
                (72, 686, "ment worked. A well-"),
                (72, 672, "known result, state-of-the-"),
                (72, 658, "art as the well-known saying goes."),
            ]
        ]
    )
    text = " ".join(read_pdf(data).text.split())
    assert "the experiment worked." in text
    assert "A well-known result" in text  # the hyphenated form is the document's own word


def test_spacing_accents_are_recomposed() -> None:
    data = helvetica_pdf([[(72, 700, "Th\u00b4eor`eme de Poincar\u00b4e et na\u00a8ive")]])
    assert read_pdf(data).text == "Th\u00e9or\u00e8me de Poincar\u00e9 et na\u00efve"


def test_a_grave_accent_before_a_one_letter_word_is_recomposed() -> None:
    # TeX's OT1 fonts set Italian `è` as a grave accent and an `e`; PDFium reads `\`e`
    data = helvetica_pdf([[(72, 700, "Il pacchetto `e utile, `E vero; `quoted' e `a' restano")]])
    assert read_pdf(data).text == "Il pacchetto \u00e8 utile, \u00c8 vero; `quoted' e `a' restano"


def test_an_accent_pdfium_gives_after_its_word_goes_onto_the_letter_under_it() -> None:
    # TeX draws an accent after its letter; PDFium then gives it after the word (`fur ¨`)
    data = helvetica_pdf(
        [[(72, 700, "Das Geld fur die Tiere"), (125.6, 700, "\u00a8"), (72, 680, "Zeile zwei")]]
    )
    assert read_pdf(data).text == "Das Geld f\u00fcr die Tiere\nZeile zwei"


def test_running_headers_footers_and_page_numbers_are_dropped() -> None:
    topics = ["waves", "tides", "dunes", "reefs"]
    pages = [
        [
            (72, 760, f"Journal of Coastal Studies 12 (2024) {n + 40}"),
            *((72, 700 - 14 * i, f"On {topic}, line {i} of the page body.") for i in range(5)),
            (300, 40, str(n)),
        ]
        for n, topic in enumerate(topics, start=1)
    ]
    document = read_pdf(helvetica_pdf(pages))
    assert "Journal of Coastal Studies" not in document.text
    assert [line for line in document.text.split("\n") if line] == [
        f"On {topic}, line {i} of the page body." for topic in topics for i in range(5)
    ]
    assert document.furniture_lines == 8


def test_two_column_pages_read_left_column_then_right() -> None:
    left = [(72, 700 - 14 * i, f"Left column line {i}.") for i in range(8)]
    right = [(330, 700 - 14 * i, f"Right column line {i}.") for i in range(8)]  # same width
    # Drawn row by row, alternating columns, as some producers write them.
    runs = [(72, 740, "A Title Spanning Both Columns Of The Page Here Now")]
    for a, b in zip(left, right, strict=True):
        runs += [a, b]
    lines = [line for line in read_pdf(helvetica_pdf([runs])).text.split("\n") if line]
    assert lines[0].startswith("A Title")
    assert lines[1:9] == [f"Left column line {i}." for i in range(8)]
    assert lines[9:] == [f"Right column line {i}." for i in range(8)]
