"""PDF text layers through pypdf, on PDFs written by the sample generator."""

from __future__ import annotations

import pytest

from spark_jobs.papers.pdf import PdfError, pdf_to_text, read_pdf
from spark_jobs.samples.papers import image_only_pdf, prose_paragraphs, text_pdf

PARAGRAPHS = [paragraph for _, paragraph in prose_paragraphs()[:6]]


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_text_layer_of_every_page_is_extracted() -> None:
    data = text_pdf(PARAGRAPHS, title="Notes (draft)", author="Ana Smith; Bo Li", lines_per_page=10)
    document = read_pdf(data)
    assert document.pages > 1 and document.pages_with_text == document.pages
    assert document.title == "Notes (draft)" and document.author == "Ana Smith; Bo Li"
    for paragraph in PARAGRAPHS:
        assert paragraph in words(document.text)
    assert pdf_to_text(data) == document.text


def test_a_pdf_without_a_text_layer_is_reported_not_returned_empty() -> None:
    with pytest.raises(PdfError) as error:
        pdf_to_text(image_only_pdf())
    assert error.value.reason == "pdf_no_text_layer"
    assert "OCR" in error.value.detail


@pytest.mark.parametrize(
    "data",
    [
        text_pdf(PARAGRAPHS[:1], title="t", author="a")[:300],  # an interrupted download
        b"<html><body>Not found</body></html>",
    ],
    ids=["truncated", "not-a-pdf"],
)
def test_a_broken_file_is_reported_as_corrupt(data: bytes) -> None:
    with pytest.raises(PdfError) as error:
        pdf_to_text(data)
    assert error.value.reason == "pdf_corrupt"
