"""PDF pages read by the route that reads them right: the text layer (clipped to the page box,
in column order, hyphenations joined, accents recomposed, running headers dropped) or OCR for
pages that are pictures of text."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from bench.faults_papers import pdf_file, pdf_stream
from spark_jobs.papers.pdf import read_pdf
from spark_jobs.samples.papers import scanned_text_pdf, text_pdf


def one_page_pdf(content: bytes, objects: list[bytes], fonts: int = 1) -> bytes:
    """A US Letter page drawing `content`; `objects` are numbered from 5, and the first `fonts`
    of them are the page's fonts /F1, /F2, ..."""
    names = b" ".join(b"/F%d %d 0 R" % (n + 1, n + 5) for n in range(fonts))
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << " + names + b" >> >> >>",
            pdf_stream(content),
            *objects,
        ]
    )


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


def _helvetica_tj(tj: bytes) -> bytes:
    """One line drawn as one TJ array in Helvetica (WinAnsi), as TeX writes a line: an accent
    is its own glyph, moved over its letter by the kerns either side of it."""
    content = b"BT /F1 11 Tf 72 700 Td [" + tj + b"] TJ ET"
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            pdf_stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ]
    )


def test_an_accent_goes_onto_the_letter_it_sits_over_not_the_next_one() -> None:
    # Polish `treść` as TeX sets it with accents of their own: PDFium gives the accent of the
    # s between s and c (`Tres`, U+00B4, `c`), and the one of the c, drawn last, after the line
    size = 11 / 1000  # Helvetica widths in points at 11 pt: T 611, r 333, e 556, s/c 500
    s_at = 72 + (611 + 333 + 556) * size
    c_at = s_at + 500 * size
    accent = 333 * size
    data = helvetica_pdf(
        [
            [
                (72, 700, "Tres"),
                (round(s_at + (500 * size - accent) / 2, 2), 700, "\u00b4"),
                (round(c_at, 2), 700, "c punktu jeden."),
                (round(c_at + (500 * size - accent) / 2, 2), 700, "\u00b4"),
            ]
        ]
    )
    assert read_pdf(data).text == "Tre\u015b\u0107 punktu jeden."


def test_a_blank_pdfium_sees_before_an_accent_inside_a_word_is_dropped() -> None:
    # TeX draws the accent, then backs up to draw its letter under it; PDFium sees a gap
    # between the R and the accent and puts a blank there (`GR \u00a8OSSE`)
    data = _helvetica_tj(b"(Die GR) -222 (\xa8) 555 (OSSE der M) -222 (\xa8) 555 (OWE.)")
    assert read_pdf(data).text == "Die GR\u00d6SSE der M\u00d6WE."


def test_a_quote_on_the_next_line_is_not_an_accent_of_the_letter_above_it() -> None:
    # a backtick at the start of a line sits under the last letters of the line above
    o_at = 72 + (611 + 556 + 500 + 278) * 11 / 1000  # "Text" in Helvetica at 11 pt
    data = helvetica_pdf([[(72, 700, "Texto entre"), (round(o_at + 1, 2), 690, "`!' verbatim")]])
    assert read_pdf(data).text == "Texto entre\n`!' verbatim"


def test_the_angle_brackets_of_a_tex_math_symbol_font_are_brackets() -> None:
    # pdfTeX's subset of Latin Modern's math symbol font, as etoolbox's manual embeds it: the
    # brackets sit at the codes of `h` and `i`, named in the font's encoding by names PDFium
    # does not map, so it gave `\meta{name}` as `hnamei`
    font = (Path(__file__).parent / "data" / "lmmathsymbols10-angle-brackets.t1").read_bytes()
    content = (
        b"BT /F1 11 Tf 72 700 Td (Replace the ) Tj /F2 11 Tf (h) Tj /F1 11 Tf (name) Tj "
        b"/F2 11 Tf (i) Tj /F1 11 Tf ( of the hook; hi to Ahi.) Tj ET"
    )
    data = one_page_pdf(
        content,
        fonts=2,
        objects=[
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /XPVMCL+LMMathSymbols10-Regular "
            b"/FirstChar 104 /LastChar 105 /Widths [388.9 388.9] /FontDescriptor 7 0 R "
            b"/Encoding << /Type /Encoding /Differences [104 /angbracketleft /angbracketright] >> >>",
            b"<< /Type /FontDescriptor /FontName /XPVMCL+LMMathSymbols10-Regular /Flags 4 "
            b"/FontBBox [-29 -960 1116 775] /Ascent 750 /CapHeight 683 /Descent -194 "
            b"/ItalicAngle -14 /StemV 40 /XHeight 431 /FontFile 8 0 R >>",
            pdf_stream(font, " /Length1 1728 /Length2 1402 /Length3 0"),
        ],
    )
    # the letters h and i of the text font stay letters
    assert read_pdf(data).text == "Replace the \u27e8name\u27e9 of the hook; hi to Ahi."


def _type3_pdf(
    text: bytes, name=lambda code: f"a{code}", to_unicode: bytes = b"", content: bytes = b""
) -> bytes:
    """`text` in a Type 3 font as dvips makes of a Metafont bitmap font: no font name, each
    glyph named by its code (`/a28`, or as `name` names it), no ToUnicode map unless given
    (a CMap's stream); `content`, when given, draws the page instead of one line of `text`."""
    codes = sorted(set(text))
    glyph = pdf_stream(b"500 0 0 0 400 600 d1 0 0 400 600 re f")
    procs = " ".join(f"/{name(code)} 7 0 R" for code in codes)
    differences = " ".join(f"{code} /{name(code)}" for code in codes)
    widths = " ".join("500" if code in codes else "0" for code in range(codes[0], codes[-1] + 1))
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            pdf_stream(content or b"BT /F1 11 Tf 72 700 Td (" + text + b") Tj ET"),
            (
                f"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 500 600] "
                f"/FontMatrix [0.001 0 0 0.001 0 0] /CharProcs 6 0 R "
                f"/Encoding << /Type /Encoding /Differences [{differences}] >> "
                f"/FirstChar {codes[0]} /LastChar {codes[-1]} /Widths [{widths}]"
                + (" /ToUnicode 8 0 R >>" if to_unicode else " >>")
            ).encode(),
            f"<< {procs} >>".encode(),
            glyph,
            *([pdf_stream(to_unicode)] if to_unicode else []),
        ]
    )


def test_the_ligatures_of_a_nameless_type3_t1_font_are_spelled_out() -> None:
    # T1 (EC) encoding: 0x1B ff, 0x1C fi, 0x1D fl, 0x1E ffi, 0x1F ffl
    data = _type3_pdf(b"The \034rst de\034nition, a\035oat, e\036cient and o\033.")
    assert read_pdf(data).text == "The first definition, afloat, efficient and off."


def _ghostscript_name(code: int) -> str:
    """Ghostscript's name for a glyph of a bitmap font it makes from dvips output: the code
    in two base-36 digits, A for the first (`/CR` is 99, `/BS` 64)."""
    return "ABCDEFGH"[code // 36] + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[code % 36]


def test_glyphs_named_like_control_characters_are_read_as_their_codes() -> None:
    # pst-sigsys-doc (dvips + Ghostscript 8.64): Ghostscript's ToUnicode maps the glyphs it
    # named /CR (c) and /BS (@) to the control characters of those names, PDFium read them
    # so, and every c was lost: `pa\rkage`
    assert _ghostscript_name(99) == "CR" and _ghostscript_name(64) == "BS"
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapType 2 def "
        b"/CMapName /R1 def 1 begincodespacerange <00> <ff> endcodespacerange "
        b"2 beginbfchar <63> <000d> <40> <0008> endbfchar endcmap "
        b"CMapName currentdict /CMap defineresource pop end end"
    )
    text = b"This package of macros: mail fdelgosha@gmail.com."
    assert read_pdf(_type3_pdf(text, _ghostscript_name, cmap)).text == text.decode()


def test_glyphs_drawn_on_one_spot_are_a_drawing_not_text() -> None:
    # pst-coxeterp-doc: PSTricks draws each dot of a figure as two glyphs of a Type 3 font on
    # one spot (fill and outline), which PDFium gave as the letters of their codes, `bc`
    dots = b" ".join(
        b"BT /F1 11 Tf %d 500 Td (b) Tj ET BT /F1 11 Tf %d 500 Td (c) Tj ET" % (x, x)
        for x in range(72, 400, 40)
    )
    words = b"BT /F1 11 Tf 72 700 Td (a cab bc) Tj ET"
    data = _type3_pdf(b"abc", content=words + b" " + dots)
    assert read_pdf(data).text == "a cab bc"


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


def test_a_line_that_ends_many_pages_at_other_heights_is_text_not_a_footer() -> None:
    # PSTricks manuals end many pages with a listing whose last line is `\end{pspicture}`,
    # at whatever height the page's text ends; a running header stands at one height
    topics = ["arcs", "grids", "nodes", "curves", "frames"]
    pages = [
        [
            (72, 760, "PSTricks user guide"),
            *((72, 700 - 14 * i, f"Drawing {topic}, step {i}.") for i in range(n + 2)),
            (72, 700 - 14 * (n + 2), "end{pspicture}"),
        ]
        for n, topic in enumerate(topics)
    ]
    document = read_pdf(helvetica_pdf(pages))
    assert "PSTricks user guide" not in document.text
    assert document.text.count("end{pspicture}") == 5
    assert document.furniture_lines == 5


def test_letter_spaced_fixed_pitch_words_keep_their_letters_together() -> None:
    # countriesofeurope's listings (Libertinus Mono, letter-spaced: a TJ kern of -128 after
    # every glyph) came out of PDFium as `\ E U C o u n t r y`; a word space is one cell more
    cell = 600 + 128  # Courier's advance and the letter spacing, in thousandths of an em

    def spaced(words: list[str]) -> str:
        gap = f" -{2 * cell - 600} "  # the blank's own cell
        escaped = {"\\": "\\\\", "(": "\\(", ")": "\\)"}
        return gap.join(" -128 ".join(f"({escaped.get(c, c)})" for c in word) for word in words)

    content = (
        "BT /F1 12 Tf 72 700 Td ["
        + spaced(["\\EUCountry[Scale=0.2]{Germany}", "prints", "a", "map."])
        + "] TJ 0 -30 Td (Prose in Courier stays as it is.) Tj ET"
    )
    data = one_page_pdf(
        content.encode(),
        [b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"],
    )
    assert read_pdf(data).text == (
        "\\EUCountry[Scale=0.2]{Germany} prints a map.\nProse in Courier stays as it is."
    )


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


_UNICODE_MAP = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
3 beginbfchar
<0101> <0906>
<0102> <0923>
<0103> <0020>
endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


def test_a_glyph_without_unicode_in_a_cid_font_is_no_letter() -> None:
    # XeTeX's Devanagari (latex-mr): the font's ToUnicode map has no entry for the vowel sign
    # of आणि, drawn before ण, so PDFium gave the glyph's number as a character: `आЭण`,
    # Cyrillic and Greek letters amid the Marathi text. The glyph is a word break, as
    # pdftotext reads it, and no letter. An unmapped code beside no letter (the arrow, the
    # lone Ϋ) is left as PDFium gives it: PDFium flags glyphs it named by their glyph
    # names too, which are right.
    content = b"BT /F1 12 Tf 72 700 Td <0101042D01020103010104CB010201032192010303AB> Tj ET"
    data = one_page_pdf(
        content,
        [
            b"<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Sarai /Encoding /Identity-H "
            b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Sarai /CIDSystemInfo "
            b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R "
            b"/DW 600 /CIDToGIDMap /Identity >>",
            pdf_stream(_UNICODE_MAP),
            b"<< /Type /FontDescriptor /FontName /ABCDEF+Sarai /Flags 4 /FontBBox [0 -300 1000 "
            b"900] /ItalicAngle 0 /Ascent 900 /Descent -300 /CapHeight 700 /StemV 80 >>",
        ],
    )
    assert read_pdf(data).text == "\u0906 \u0923 \u0906 \u0923 \u2192 \u03ab"


def _glyphs(*placed: tuple[bytes, float, float, int]) -> bytes:
    """Helvetica text objects, each `(text, x, y, a)` set with the text matrix [a 0 0 1 x y]
    (a = -1 draws it mirrored, its origin at its right edge)."""
    content = b"".join(
        b"BT /F1 12 Tf %d 0 0 1 %.2f %.2f Tm (%s) Tj ET " % (a, x, y, text)
        for text, x, y, a in placed
    )
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            pdf_stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ]
    )


def test_the_mirrored_e_of_the_xetex_logo_is_read_after_its_x() -> None:
    # xevlna, ltnews24: \XeTeX draws an X, then an E mirrored (\reflectbox) and tucked under
    # the X, then TeX; PDFium ordered the E by its origin, its right edge: `X TEEX`
    before = (b"Written in", 72, 700, 1), (b"X", 127.4, 700, 1), (b"E", 141.9, 697, -1)
    xetex = _glyphs(
        *before,
        (b"T", 139.9, 700, 1),
        (b"E", 146.6, 697, 1),
        (b"X", 153.9, 700, 1),
        (b"and more.", 165, 700, 1),
    )
    xelatex = _glyphs(
        *before, (b"L", 139.9, 700, 1), (b"ATEX", 147, 700, 1), (b"too.", 185, 700, 1)
    )
    assert read_pdf(xetex).text == "Written in XETEX and more."
    assert read_pdf(xelatex).text == "Written in XELATEX too."
    # an E that is not mirrored stays where it is
    plain = _glyphs((b"Axis X", 72, 700, 1), (b"TEX", 120, 700, 1))
    assert read_pdf(plain).text == "Axis X TEX"


def test_the_page_box_inherited_from_the_page_tree_is_the_page_box() -> None:
    # xdvipdfmx (XeTeX's and dvipdfmx's driver) writes the MediaBox once, on the /Pages node:
    # the Chinese exam of the tune half is A3 landscape, and its right half was clipped away
    # as if the page were US Letter (as was the top of every A4 page so written)
    data = pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 1190.55 841.89] >>",
            b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            pdf_stream(
                b"BT /F1 11 Tf 72 810 Td (Running head above a letter page) Tj ET "
                b"BT /F1 11 Tf 72 700 Td (Left half of the exam) Tj ET "
                b"BT /F1 11 Tf 700 700 Td (Right half of the exam) Tj ET "
                b"BT /F1 11 Tf 1300 600 Td (Off the page) Tj ET"
            ),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ]
    )
    document = read_pdf(data)
    assert document.text == (
        "Running head above a letter page\nLeft half of the exam Right half of the exam"
    )
    assert document.clipped_lines == 1


# A ToUnicode map giving two letters as math italic beyond the Basic Multilingual Plane, as
# unicode-math's fonts do (U+1D465 and U+1D466, written as UTF-16 pairs)
MATH_ITALIC_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <00> <FF> endcodespacerange
2 beginbfchar
<78> <D835DC65>
<79> <D835DC66>
endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


def test_characters_beyond_the_bmp_keep_the_boxes_of_the_characters_after_them() -> None:
    # PDFium holds each math italic letter as two characters, its text as one: every later
    # character's box was looked up one index off per letter, and the accent of GRÖSSE was
    # placed by the wrong boxes (`GR ÖSSE`)
    content = (
        b"BT /F1 11 Tf 72 700 Td (Die Summe ) Tj /F2 11 Tf (x) Tj /F1 11 Tf ( plus ) Tj "
        b"/F2 11 Tf (y) Tj /F1 11 Tf [( ist die GR) -222 (\xa8) 555 (OSSE.)] TJ ET"
    )
    data = one_page_pdf(
        content,
        fonts=2,
        objects=[
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Oblique "
            b"/Encoding /WinAnsiEncoding /ToUnicode 7 0 R >>",
            pdf_stream(MATH_ITALIC_TO_UNICODE),
        ],
    )
    assert read_pdf(data).text == "Die Summe \U0001d465 plus \U0001d466 ist die GR\u00d6SSE."


def _typeset_pdf_with_a_picture_page(pixels: int) -> bytes:
    """hvfloat's paper-default1s1c, in small: a typeset page, then a page that is one colour
    picture of `pixels` square drawn over the whole text area (no text layer)."""
    import zlib

    rows = bytes(
        value
        for y in range(pixels)
        for x in range(pixels)
        for value in ((200, 30, 30) if (x * 7 + y * 3) % 11 < 5 else (250, 250, 250))
    )
    picture = pdf_stream(
        zlib.compress(rows),
        f" /Type /XObject /Subtype /Image /Width {pixels} /Height {pixels}"
        " /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode",
    )
    text = b"BT /F1 11 Tf 72 700 Td (Floats placed on a page of their own, rotated or not.) Tj ET"
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 7 0 R >> >> >>",
            pdf_stream(text),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 6 0 R "
            b"/Resources << /XObject << /Im1 8 0 R >> >> >>",
            pdf_stream(b"q 468 0 0 580 72 106 cm /Im1 Do Q"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            picture,
        ]
    )


def test_a_picture_blown_up_over_a_page_is_no_scan() -> None:
    # a 107x133-pixel rose over a whole page (13 ppi) routed a typeset PDF `mixed`: at that
    # resolution no text could be read from it, so the page is a figure page
    document = read_pdf(_typeset_pdf_with_a_picture_page(100))  # 100 px over 6.5 in: 15 ppi
    assert document.route == "text_layer" and document.pages_ocr == 0
    assert "Floats placed on a page of their own" in document.text


def test_an_image_sharp_enough_to_hold_text_is_still_read_as_a_scan() -> None:
    document = read_pdf(_typeset_pdf_with_a_picture_page(500), ocr="defer")  # 77 ppi
    assert document.pages_ocr == 1 and document.ocr_pending


def test_a_ligature_glyph_named_in_underscore_form_is_read_as_its_letters() -> None:
    # listofitems (Linux Libertine, Type 1, custom encoding): /f_f and /f_i in the font's
    # /Differences, which PDFium does not map; it gave their codes, `di\x1derent`
    content = b"BT /F1 11 Tf 72 700 Td (Two di\x1derent \x1bles, speci\x1bed.) Tj ET"
    data = one_page_pdf(
        content,
        [
            b"<< /Type /Font /Subtype /Type1 /BaseFont /QUCCUA+Helvetica /Encoding << /Type "
            b"/Encoding /BaseEncoding /WinAnsiEncoding /Differences [27 /f_i 29 /f_f] >> >>",
        ],
    )
    assert read_pdf(data).text == "Two different files, specified."
