"""The raw-bytes prescan vouches for ordinary PDFs, so the exact (pypdf) structure pass is
skipped for them, and sends every file it cannot vouch for to the exact pass, which decides."""

from __future__ import annotations

import zlib

import pytest

from bench.faults_papers import (
    _CATALOG,
    _FONT,
    _TEXT,
    _page,
    cyclic_page_tree_pdf,
    deep_page_tree_pdf,
    flate_bomb_pdf,
    good_pdf,
    pdf_file,
    pdf_stream,
    self_drawing_xobject_pdf,
    spread_flate_bomb_pdf,
)
from spark_jobs.papers import pdf as pdf_module
from spark_jobs.papers.pdf import PdfError, read_pdf
from spark_jobs.papers.pdf_prescan import vouch
from spark_jobs.samples.papers import scanned_text_pdf, text_pdf
from spark_jobs.untrusted import ReadLimits

MiB = 2**20


def deflated(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def one_page(contents: bytes, extra: str = "") -> bytes:
    return pdf_file(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(4, 5),
            pdf_stream(contents, extra),
            _FONT,
        ]
    )


def form_bomb_pdf(size: int) -> bytes:
    """A page drawing a form XObject whose stream inflates to `size` bytes."""
    form = pdf_stream(
        deflated(b" " * size),
        " /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Filter /FlateDecode",
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


@pytest.mark.parametrize(
    "data",
    [
        good_pdf(),
        one_page(deflated(_TEXT), " /Filter /FlateDecode"),
        text_pdf(["A typeset page about lighthouses."] * 40, title="t", author="a"),
        scanned_text_pdf(["A scanned line"]),
    ],
    ids=["plain", "deflated", "multi-page", "scan"],
)
def test_ordinary_pdfs_are_vouched_for(data: bytes) -> None:
    assert vouch(data, ReadLimits().max_decompressed_bytes) is None


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (cyclic_page_tree_pdf(), "reached twice"),
        (deep_page_tree_pdf(), "deep"),
        (self_drawing_xobject_pdf(), "leads back to itself"),
        (flate_bomb_pdf(24 * MiB), "inflate to over"),
        (spread_flate_bomb_pdf(), "inflate to over"),
        (form_bomb_pdf(12 * MiB), "inflate to over"),
        # LZW is not run here: a bomb in it must reach the exact pass.
        (one_page(b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01", " /Filter /LZWDecode"), "filters"),
        (one_page(_TEXT).replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 9 0 R"), "encrypted"),
        (good_pdf() + b"3 0 obj\n<< /Type /Page >>\nendobj\n", "defined twice"),
        # A form bomb whose type hides behind a comment and NUL blanks is still counted.
        (
            form_bomb_pdf(12 * MiB).replace(b"/Subtype /Form", b"/Subtype%x\n\x00/Form"),
            "inflate to over",
        ),
        # An object header written with a comment in it is read, or the file is not vouched for.
        (form_bomb_pdf(12 * MiB).replace(b"\n6 0 obj", b"\n6 0%x\nobj"), "inflate to over"),
    ],
    ids=[
        "cyclic",
        "deep",
        "form-loop",
        "bomb",
        "spread-bomb",
        "form-bomb",
        "lzw",
        "enc",
        "twice",
        "hidden-form",
        "commented-header",
    ],
)
def test_what_the_prescan_cannot_vouch_for_goes_to_the_exact_pass(data: bytes, why: str) -> None:
    assert why in vouch(data, 8 * MiB)


def test_a_bomb_in_a_form_is_still_quarantined_by_the_exact_pass() -> None:
    with pytest.raises(PdfError) as error:
        read_pdf(form_bomb_pdf(12 * MiB), limits=ReadLimits(max_decompressed_bytes=8 * MiB))
    assert error.value.reason == "decompression_bomb"
    assert read_pdf(form_bomb_pdf(12 * MiB)).text  # under the default bound: read


def test_a_vouched_pdf_reads_as_the_exact_pass_reads_it(monkeypatch) -> None:
    data = text_pdf(["A typeset page about lighthouses."] * 60, title="Light", author="Ana")
    vouched = read_pdf(data)
    monkeypatch.setattr(pdf_module, "vouch", lambda data, limit: "forced")
    exact = read_pdf(data)
    assert vouched == exact and vouched.pages > 1
    assert (vouched.title, vouched.author) == ("Light", "Ana")
