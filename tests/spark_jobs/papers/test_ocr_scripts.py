"""OCR of scanned pages in scripts other than Latin: the page's script model reads it together
with the Latin one, and Tesseract's blanks between Chinese and Japanese characters go."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from spark_jobs.papers.pdf import _ocr_lines, read_pdf, tesseract_models

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
    "В преамбуле документа напишите команду usepackage",
    "с параметром fontspec, затем укажите шрифт командой",
    "setmainfont и сохраните файл в кодировке Unicode.",
    "Готовый документ откройте программой Adobe Reader",
    "или SumatraPDF под управлением Windows.",
]


def cyrillic_scan(lines: list[str], dpi: int = 200) -> bytes:
    """A letter page with `lines` drawn in DejaVu Sans, saved as an image-only PDF."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (int(8.5 * dpi), 11 * dpi), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(DEJAVU), size=dpi * 16 // 100)
    for number, line in enumerate(lines):
        draw.text((dpi * 3 // 4, dpi + number * dpi * 3 // 10), line, fill=0, font=font)
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=dpi)
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


def test_blanks_between_latin_words_and_around_them_stay() -> None:
    lines = _ocr_lines("XeLaTeX で は fontspec パッ ケー ジ を 用 いる\nplain Latin words stay\n")
    assert lines[:2] == ["XeLaTeX では fontspec パッケージを用いる", "plain Latin words stay"]
