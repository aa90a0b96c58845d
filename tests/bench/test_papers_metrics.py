"""The papers benchmark's per-document measures (bench/papers.py) on small drawn PDFs."""

from __future__ import annotations

from collections import Counter

from bench.faults_papers import pdf_file, pdf_stream
from bench.papers import outside_left, overlap, placed_words
from spark_jobs.papers.pdf import read_pdf


def helvetica_page(runs: list[tuple[float, float, str]], crop: str = "") -> bytes:
    """One US Letter page of Helvetica runs at (x, y); `crop`: a /CropBox array, if any."""
    content = " ".join(f"BT /F1 11 Tf {x} {y} Td ({text}) Tj ET" for x, y, text in runs)
    box = f" /CropBox [{crop}]" if crop else ""
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]{box} /Contents 4 0 R "
            "/Resources << /Font << /F1 5 0 R >> >> >>".encode(),
            pdf_stream(content.encode("cp1252")),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ]
    )


def test_words_placed_outside_the_page_box_are_found_and_counted_when_left() -> None:
    pdf = helvetica_page(
        [(72, 700, "Visible words on the page."), (700, 700, "Hidden right"), (72, 900, "Above")]
    )
    inside, outside = placed_words(pdf)
    assert outside == Counter({"hidden": 1, "right": 1, "above": 1})
    assert inside == Counter({"visible": 1, "words": 1, "on": 1, "the": 1, "page": 1})
    assert outside_left("Visible words on the page. Hidden right Above", inside, outside) == 3
    assert outside_left(read_pdf(pdf).text, inside, outside) == 0


def test_a_word_the_page_also_shows_inside_its_box_is_left_only_beyond_that_count() -> None:
    # beamer repeats a slide's words on each overlay page: copies shown inside the box are
    # not text from outside it
    pdf = helvetica_page([(72, 700, "Overlay words"), (72, 686, "Overlay"), (700, 700, "Overlay")])
    inside, outside = placed_words(pdf)
    assert (inside["overlay"], outside["overlay"]) == (2, 1)
    assert outside_left("Overlay words Overlay", inside, outside) == 0
    assert outside_left("Overlay words Overlay Overlay", inside, outside) == 1


def test_the_crop_box_is_the_page_box_where_a_page_has_one() -> None:
    pdf = helvetica_page([(72, 700, "Kept here"), (72, 100, "Cropped away")], crop="0 300 612 792")
    assert placed_words(pdf)[1] == Counter({"cropped": 1, "away": 1})
    assert placed_words(helvetica_page([(72, 700, "All inside")]))[1] == Counter()


def test_recall_and_precision_count_words_as_multisets() -> None:
    recall, precision = overlap("the cat the", "the cat sat the end")
    assert (recall, precision) == (3 / 5, 1.0)
