r"""The papers set's LaTeX reference (bench/papers_data.py, pylatexenc with the bench's
corrections): the rules round 5 of the split added, each on a source shaped as the tune
document that showed the flaw."""

from __future__ import annotations

from bench.papers_data import decode_reference, reference_text


def document(body: str, preamble: str = "") -> str:
    return (
        f"\\documentclass{{article}}\n{preamble}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )


def test_an_environment_whose_opening_starts_verbatim_is_read_verbatim() -> None:
    # AroundTheBend (memoir): `lcode` is \verbatim with a different indent; pylatexenc read
    # its TeX code as LaTeX (\b{ put a bar under the rest of the book)
    preamble = (
        "\\newenvironment{lcode}{\\zeroseps\n  \\renewcommand{\\verbatim@startline}%\n"
        "    {\\verbatim@line{\\hskip\\gparindent}}%\n  \\small\\verbatim}%\n"
        "  {\\endverbatim\n   \\vspace{-\\baselineskip}\\noindent}\n"
    )
    body = (
        "Here is the solution.\n\\begin{lcode}\n"
        "\\let~\\catcode~` 13\\let \\let \\u\\uccode \\b{ \\e\\expandafter\n"
        "\\end{lcode}\nMichael: here is just another version."
    )
    text = reference_text(document(body, preamble))
    assert "\\let~\\catcode~` 13\\let \\let \\u\\uccode \\b{ \\e\\expandafter" in text
    assert "Michael: here is just another version." in text
    assert "\u0331" not in text  # no bar under any letter


def test_a_declared_cp1250_source_is_decoded_as_cp1250() -> None:
    # serbian-apostrophe: \usepackage[cp1250]{inputenc} was read as Latin-1 (`poèinu`)
    source = document("Počinuše noć.", "\\usepackage[cp1250]{inputenc}")
    assert decode_reference(source.encode("cp1250")).endswith(
        "\\begin{document}\nPočinuše noć.\n\\end{document}\n"
    )


def test_href_prints_its_text_not_its_target() -> None:
    # alphabeta-doc: the link's URL was printed before its text (`http://www.ctan.org/pkg/
    # greek-inputenc greek-inputenc`); a % in a URL is a character, not a comment
    body = (
        "With \\emph{\\href{http://www.ctan.org/pkg/greek-inputenc}{greek-inputenc}}, and "
        "\\href{https://example.com/@%D1%80_}{the example} too."
    )
    text = reference_text(document(body))
    assert " ".join(text.split()) == "With greek-inputenc, and the example too."


def test_a_tikz_node_label_is_read_with_the_sources_verbatim_rules() -> None:
    # tex-font-cheatsheet: the error messages sit in Verbatim inside TikZ nodes, and the
    # labels were read without the bench's verbatim rules (the messages were lost)
    body = (
        "\\begin{tikzpicture}\n\\node [errormsg] {\\begin{minipage}{5cm}\n\\begin{Verbatim}\n"
        "kpathsea: Running mktextfm jcsr8t\n\\end{Verbatim}\n\\end{minipage}};\n"
        "\\draw (0,0) -- (1,1);\n\\end{tikzpicture}\n"
    )
    text = reference_text(document(body))
    assert "kpathsea: Running mktextfm jcsr8t" in text
    assert "draw" not in text


def test_par_ends_a_paragraph() -> None:
    # pxcjkcat (round 6's test half, tune since round 7): a block table of
    # `\xI{latn} ... \xN{Basic Latin}\par` lines came out as `Basic Latinlatn1 ...`
    preamble = "\\newcommand*\\xI[1]{#1}\n\\newcommand*\\xN[1]{#1}"
    body = "\\xI{latn}  \\xN{Basic Latin}\\par\n\\xI{latn1} \\xN{Latin-1 Supplement}\\par"
    words = reference_text(document(body, preamble)).split()
    assert "Latinlatn1" not in words
    assert words == ["latn", "Basic", "Latin", "latn1", "Latin-1", "Supplement"]


def test_short_verbatim_spans_are_verbatim_until_deleted() -> None:
    # platexsheet (round 6's test half, tune since round 7): under \MakeShortVerb{\|} a
    # `|\begin{verbatim}|` cell opened a verbatim environment that ran to the document's end
    preamble = "\\usepackage{shortvrb}\n\\MakeShortVerb{\\|}"
    body = (
        "|\\begin{verbatim}| & prints its input as it is \\\\\n"
        "|\\centering| centres. % a |comment\n"
        "\\begin{verbatim}\na|b\n\\end{verbatim}\n"
        "\\DeleteShortVerb{\\|}\nA $|x|$ norm and the end."
    )
    text = reference_text(document(body, preamble))
    assert "\\begin{verbatim} " in text and "prints its input as it is" in text
    assert "\\centering centres." in text
    assert "a|b" in text
    assert "$|x|$ norm and the end." in text


def test_not_takes_no_argument() -> None:
    # platexsheet: `$\not$ & |\not|` took the closing $ as \not's argument and the math ran
    # on through the next tables
    text = reference_text(document("$\\ni$ & x & $\\not$ & y \\\\\nAfter the table."))
    assert "$\\not$" in text
    assert "After the table." in text and "$ & y" not in text


def test_german_shorthands_print_what_babel_prints_in_the_inputs_too() -> None:
    # abstdok (`f"ur`, `da"s` were `f ur`, `da s`) and l2picfaq, whose \input GFDL text
    # prints `"Endorsements"` as Ëndorsements" under ngerman
    source = document(
        'Die Stile f"ur BibTeX sind anpa"sbar, "`so"\' hei"st es. \\verb|f"ur| stays.\n'
        "\\input{gfdl}",
        "\\usepackage[ngerman]{babel}",
    )
    text = reference_text(source, {"gfdl.tex": 'a section Entitled "Endorsements".'})
    assert "Die Stile für BibTeX sind anpaßbar, \u201eso\u201c heißt es." in text
    assert 'f"ur stays.' in text
    assert "Entitled Ëndorsements" in text
    english = document('A "quote".', "\\usepackage[ngerman,english]{babel}")
    assert 'A "quote".' in reference_text(english)


def test_package_verbatim_environments_are_verbatim() -> None:
    # the TeX Live guides' sverbatim (tex-live.sty) and xlop's SideBySideExample
    # (fancyvrb-ex): pylatexenc read their shell lines and TeX code as LaTeX, `$MANPATH`
    # opened math and the rest of texlive-cz came out as markup
    body = (
        "Add lines such as\n\\begin{sverbatim}\nMANPATH=/usr/local/man:$MANPATH; export MANPATH\n"
        "\\end{sverbatim}\nto the file.\n"
        "\\begin{SideBySideExample}\n  \\opadd*{2}{2}{a/b_{^c}!&$}\n\\end{SideBySideExample}\n"
        "\\begin{LTXexample}[pos=t]\n\\psline(0,0)(1,1) $x\n\\end{LTXexample}\nThe end."
    )
    text = reference_text(document(body))
    assert "MANPATH=/usr/local/man:$MANPATH; export MANPATH" in text
    # (brace groups side by side get a blank between them, verbatim or not: no word changes)
    assert "\\opadd*{2} {2} {a/b_{^c}!&$}" in text
    assert "\\psline(0,0)(1,1) $x" in text and "pos=t" not in text
    assert "to the file." in text and "The end." in text
