"""OCR of scanned pages: in scripts other than Latin the page's script model reads it together
with the Latin one (the document's script where OSD named a page Latin), Tesseract's blanks
between Chinese and Japanese characters go, TeX's logos are read as their names, and a
contents page's dot leaders are erased before Tesseract sees them."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from spark_jobs.papers.pdf import _ocr_lines, read_pdf, tesseract_models

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="needs Tesseract: apt-get install tesseract-ocr tesseract-ocr-eng",
)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
needs_cyrillic_ocr = pytest.mark.skipif(
    shutil.which("tesseract") is None
    or not {"Cyrillic", "Latin", "osd"} <= tesseract_models()
    or not DEJAVU.exists(),
    reason="needs Tesseract with osd, Cyrillic and Latin models "
    "(apt-get install tesseract-ocr tesseract-ocr-script-cyrl tesseract-ocr-script-latn) "
    "and DejaVu fonts (fonts-dejavu-core)",
)
# A Russian TeX manual's page: Cyrillic prose quoting Latin-script commands and programs.
RUSSIAN_LINES = [
    "Для набора текста на русском языке в системе TeX",
    "используйте компилятор XeLaTeX и редактор Notepad или Vim.",
    "В преамбуле документа напишите команду usepackage",  # noqa: RUF001
    "с параметром fontspec, затем укажите шрифт командой",  # noqa: RUF001
    "setmainfont и сохраните файл в кодировке Unicode.",
    "Готовый документ откройте программой Adobe Reader",
    "или SumatraPDF под управлением Windows.",
]


def drawn_page(lines: list[str], dpi: int = 200):
    """A letter page with `lines` drawn in DejaVu Sans (a Pillow image)."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (int(8.5 * dpi), 11 * dpi), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(DEJAVU), size=dpi * 16 // 100)
    for number, line in enumerate(lines):
        draw.text((dpi * 3 // 4, dpi + number * dpi * 3 // 10), line, fill=0, font=font)
    return page


def cyrillic_scan(*pages: list[str], dpi: int = 200) -> bytes:
    """Pages with these lines drawn in DejaVu Sans, saved as an image-only PDF."""
    images = [drawn_page(lines, dpi) for lines in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()


@needs_cyrillic_ocr
def test_latin_words_on_a_cyrillic_page_are_read_in_latin_letters() -> None:
    document = read_pdf(cyrillic_scan(RUSSIAN_LINES))
    assert document.route == "ocr"
    words = set(document.text.replace(",", " ").replace(".", " ").split())
    # the Cyrillic model alone reads these as Cyrillic look-alikes (`Windows` as `Міпаомѕ`,
    # `Unicode` as `Опісоде`). All-lowercase Latin words (`usepackage`) it still reads as
    # Cyrillic look-alikes with the Latin model beside it: not asserted, a known miss.
    assert {"XeLaTeX", "Notepad", "Unicode", "Adobe", "Reader", "SumatraPDF", "Windows"} <= words
    assert {"русском", "документа", "кодировке", "программой"} <= words


def test_blanks_tesseract_puts_between_japanese_characters_are_dropped() -> None:
    # Tesseract's Japanese model's output for a line of zxjafont's manual
    lines = _ocr_lines("本 パッ ケー ジ で は 、 日 本 語 用 フォ ント 設定 (プリ セッ ト ) を\n")
    assert lines[0] == "本パッケージでは、日本語用フォント設定 (プリセット ) を"


def test_the_tex_logos_as_tesseract_reads_them_are_their_names() -> None:
    # Tesseract's lines for pages of the tune half's TeX manuals (texlive-es, the beamer
    # tutorial, tamethebeast, cjhebrew, psgo): TeX's lowered E read as F or as E with a dot below
    out = (
        "1.3. Instalación básica de TFX Live\n"
        "TẸX Live y la Colección de TFX\n"
        "Beamer é uma classe BTFX para produzir apresentações.\n"
        "1 Basic bibliography with IATẸX 3\n"
        "Hebrew text in IATEX documents, with BibTẸX.\n"
        "ETFX distributions. Supported ATFX Commands\n"
    )
    assert _ocr_lines(out)[:6] == [
        "1.3. Instalación básica de TeX Live",
        "TeX Live y la Colección de TeX",
        "Beamer é uma classe LaTeX para produzir apresentações.",
        "1 Basic bibliography with LaTeX 3",
        "Hebrew text in LaTeX documents, with BibTeX.",
        "LaTeX distributions. Supported LaTeX Commands",
    ]


def test_words_that_only_look_like_a_tex_logo_stay() -> None:
    out = "LATEX gloves, ATEX zones and BTEX in TEXT; Latex paint.\n"
    assert _ocr_lines(out)[0] == "LATEX gloves, ATEX zones and BTEX in TEXT; Latex paint."


def test_blanks_between_latin_words_and_around_them_stay() -> None:
    lines = _ocr_lines("XeLaTeX で は fontspec パッ ケー ジ を 用 いる\nplain Latin words stay\n")
    assert lines[:2] == ["XeLaTeX では fontspec パッケージを用いる", "plain Latin words stay"]


CONTENTS = [
    ("1  Introduction", "1"),
    ("2  Options of the amsmath package", "2"),
    ("3  Displayed equations", "3"),
    ("3.1  Single equations", "4"),
    ("3.2  Split equations without alignment", "4"),
    ("3.3  Interrupting a display", "8"),
    ("3.4  Numbering equations", "8"),
    ("4  Miscellaneous mathematical features", "9"),
]


def contents_scan(dpi: int = 200) -> bytes:
    """A contents page as TeX sets one: each entry, a row of evenly spaced dots, the page."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (int(8.5 * dpi), 11 * dpi), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=dpi * 16 // 100)
    dot = max(2, dpi // 60)
    for number, (entry, page_number) in enumerate(CONTENTS):
        y = dpi + number * dpi * 3 // 10
        draw.text((dpi * 3 // 4, y), entry, fill=0, font=font)
        right = int(7.5 * dpi)
        draw.text((right + dpi // 10, y), page_number, fill=0, font=font)
        start = dpi * 3 // 4 + int(draw.textlength(entry, font=font)) + dpi // 10
        baseline = y + dpi * 12 // 100
        for x in range(start, right - dpi // 10, dpi // 8):
            draw.rectangle((x, baseline - dot, x + dot, baseline), fill=0)
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


@needs_tesseract
def test_dot_leaders_of_a_contents_page_do_not_garble_its_entries() -> None:
    text = read_pdf(contents_scan()).text
    lines = [line for line in text.split("\n") if line.strip()]
    # each entry is read as the line it is, no dot read as a letter beside it (Tesseract may
    # read the page numbers, alone at the right once the dots are gone, as a block of their own)
    for entry, _ in CONTENTS:
        assert any(line.split()[: len(entry.split())] == entry.split() for line in lines), (
            entry,
            text,
        )


def test_dots_that_are_no_leader_stay() -> None:
    from PIL import Image, ImageDraw

    from spark_jobs.papers.pdf import erase_dot_leaders

    page = Image.new("L", (800, 200), 255)
    draw = ImageDraw.Draw(page)
    for x in (100, 125, 150):  # an ellipsis: three dots
        draw.rectangle((x, 50, x + 3, 53), fill=0)
    for x in (100, 125, 190, 300):  # four dots, unevenly spaced
        draw.rectangle((x, 150, x + 3, 153), fill=0)
    assert erase_dot_leaders(page, 200) is page
    for x in range(400, 700, 25):  # a leader
        draw.rectangle((x, 100, x + 3, 103), fill=0)
    erased = erase_dot_leaders(page, 200)
    assert erased.getpixel((401, 101)) == 255 and erased.getpixel((101, 51)) == 0
    assert erased.getpixel((191, 151)) == 0


# Tesseract's OSD names Korean pages `Korean` or `Hangul` (the tune half's kotex and oblivoir
# manuals). No model of that name is installed: the pages were read with the Latin model.
def test_a_korean_page_is_read_with_the_korean_model(monkeypatch) -> None:
    from spark_jobs.papers import pdf

    monkeypatch.setattr(pdf, "tesseract_models", lambda: frozenset({"Latin", "kor", "osd"}))
    for osd in ("Script: Korean\nScript confidence: 0.36\n", "Script: Hangul\n"):
        assert pdf._model_for(osd) == "kor"
        assert pdf._with_fallback(pdf._model_for(osd)) == "kor+Latin"
    # the script model where the Korean language model is not installed, else Latin
    monkeypatch.setattr(pdf, "tesseract_models", lambda: frozenset({"Latin", "Hangul", "osd"}))
    assert pdf._model_for("Script: Korean\n") == "Hangul"
    monkeypatch.setattr(pdf, "tesseract_models", lambda: frozenset({"Latin", "osd"}))
    assert pdf._model_for("Script: Korean\n") == "Latin"


def test_any_installed_script_model_is_used_for_its_script(monkeypatch) -> None:
    from spark_jobs.papers import pdf

    monkeypatch.setattr(
        pdf, "tesseract_models", lambda: frozenset({"Latin", "Arabic", "HanS", "osd"})
    )
    assert pdf._model_for("Script: Arabic\n") == "Arabic"
    assert pdf._model_for("Script: Han\n") == "HanS"
    assert pdf._model_for("Script: Hebrew\n") == "Latin"  # not installed
    assert pdf._model_for("") == "Latin"  # OSD found nothing


def test_the_document_script_needs_a_share_of_the_pages(monkeypatch) -> None:
    from spark_jobs.papers import pdf

    monkeypatch.setattr(pdf, "tesseract_models", lambda: frozenset({"Latin", "HanS", "osd"}))
    assert pdf._document_script(["Latin", "HanS"]) == "HanS"
    assert pdf._document_script(["Latin", "Latin", "Latin"]) is None
    assert pdf._document_script(["Latin"] * 7 + ["HanS"]) is None  # one stray page of 8


# A Russian manual's page that is mostly English (OSD: Latin) beside a Russian one: the first
# page's Russian lines were read with the Latin model alone, as Latin look-alikes.
ENGLISH_LINES = [
    "This manual describes the package for typesetting",
    "Russian text with XeLaTeX and the fontspec package.",
    "Load it in the preamble of your document and choose",
    "a font that has the Cyrillic letters, as shown below.",
    "The commands keep their English names in any language.",
    "Every example was typeset with the default options.",
    "Для набора текста на русском языке",
    "используйте программу XeLaTeX.",
]


@needs_cyrillic_ocr
def test_a_mostly_latin_page_of_a_cyrillic_document_is_read_with_the_cyrillic_model() -> None:
    document = read_pdf(cyrillic_scan(ENGLISH_LINES, RUSSIAN_LINES))
    words = document.text.replace(",", " ").replace(".", " ").split()
    assert {"manual", "preamble", "Cyrillic", "typeset"} <= set(words)
    # the first line of the Russian page is on the first page too
    assert all(words.count(word) == 2 for word in ("набора", "текста", "русском", "языке"))
