r"""LaTeX as real papers and manuals write it: each case is a regression test for a way the
reader lost or garbled text on real sources (verbatim, \end{document} shown as an example,
main-file choice, front matter, macros with arguments, bibliographies)."""

from __future__ import annotations

from spark_jobs.papers.latex import latex_to_text


def paper(body: str, preamble: str = "") -> dict[str, str]:
    return {
        "main.tex": f"\\documentclass{{article}}\n{preamble}\n\\begin{{document}}\n{body}\n"
        "\\end{document}\n"
    }


def test_a_verbatim_example_of_a_whole_document_does_not_end_the_paper() -> None:
    body = (
        "A minimal file looks like this:\n\\begin{verbatim}\n\\documentclass{article}\n"
        "\\begin{document}\nHello % not a comment\n\\end{document}\n\\end{verbatim}\n"
        "Everything after the example is still the paper.\n"
    )
    text = latex_to_text(paper(body)).text
    assert "\\begin{document}\nHello % not a comment\n\\end{document}" in text
    assert "Everything after the example is still the paper." in text


def test_inline_verb_keeps_its_content_literally() -> None:
    body = (
        "Write \\verb|\\end{document}| last, \\verb+%+ starts a comment and "
        "\\verb|\\textbf{x}| makes bold text. The line goes on.\n"
    )
    text = latex_to_text(paper(body)).text
    assert "Write \\end{document} last, % starts a comment and \\textbf{x} makes bold" in text
    assert "The line goes on." in text


def test_verbatim_family_environments_are_kept_and_comment_is_dropped() -> None:
    body = (
        "Intro.\n"
        "\\begin{Verbatim}[frame=single]\nfancy % text\n\\end{Verbatim}\n"
        "\\begin{lstlisting}[language=Python]\nprint('%d' % 3)  # \\end{document}\n"
        "\\end{lstlisting}\n"
        "\\begin{minted}{c}\nint x = 1; // {\n\\end{minted}\n"
        "\\begin{comment}\nHIDDEN draft\n\\end{comment}\n"
        "Outro.\n"
    )
    text = latex_to_text(paper(body, "\\usepackage{fancyvrb,listings,minted,comment}")).text
    assert "fancy % text" in text
    assert "print('%d' % 3)  # \\end{document}" in text
    assert "int x = 1; // {" in text
    assert "HIDDEN" not in text
    assert text.rstrip().endswith("Outro.")


def test_short_verb_declared_with_makeshortverb_is_protected() -> None:
    body = "Use |\\iffalse| to hide a block, then |\\fi|. Text after it stays.\n"
    text = latex_to_text(paper(body, "\\usepackage{shortvrb}\\MakeShortVerb{\\|}")).text
    assert "Use \\iffalse to hide a block, then \\fi. Text after it stays." in text


def test_a_verbatim_opener_inside_a_comment_is_a_comment() -> None:
    body = "Before. % \\begin{verbatim}\nAfter the comment.\n"
    text = latex_to_text(paper(body)).text
    assert "Before. After the comment." in text


def test_the_document_ends_at_the_last_end_document() -> None:
    # A manual that shows \end{document} inside a macro argument still goes on afterwards.
    body = "First part.\n\\fbox{\\texttt{\\string\\end{document}}}\nSecond part.\n"
    files = {
        "main.tex": "\\documentclass{article}\n\\begin{document}\nFirst part.\n"
        "\\end{document}\nSecond part.\n\\end{document}\n"
    }
    assert "Second part." in latex_to_text(files).text
    assert "Second part." in latex_to_text(paper(body)).text


def test_main_file_is_never_a_file_another_file_inputs() -> None:
    example = (
        "\\documentclass{article}\n\\begin{document}\nThe example document, much longer "
        + "padding " * 200
        + "\n\\end{document}\n"
    )
    files = {
        "guide.tex": "\\documentclass{article}\n\\begin{document}\nThe guide.\n"
        "\\input{example}\n\\end{document}\n",
        "example.tex": example,
    }
    result = latex_to_text(files)
    assert result.main_file == "guide.tex"
    assert result.text.startswith("The guide.")


def test_main_file_choice_ignores_a_document_shown_inside_verbatim() -> None:
    files = {
        "paper.tex": "\\documentclass{article}\n\\begin{document}\nThe real paper.\n"
        "\\input{appendix}\n\\end{document}\n",
        # longer, and it shows a whole document, but only inside verbatim
        "appendix.tex": "Appendix.\n\\begin{verbatim}\n\\documentclass{article}\n"
        "\\begin{document}\n" + "x " * 500 + "\n\\end{document}\n\\end{verbatim}\n",
        "notes.tex": "\\iffalse\n\\documentclass{book}\\begin{document}\\end{document}\n\\fi\n",
    }
    result = latex_to_text(files)
    assert result.main_file == "paper.tex"
    assert "Appendix." in result.text and "\\documentclass{article}" in result.text


def test_abstract_command_and_front_matter_variants_are_read() -> None:
    preamble = (
        "\\title[Short]{A Study of Things}\n"
        "\\author{Ana Smith}\\affiliation{Univ. A}\\email{ana@a.org}\n"
        "\\author{Bo Li}\\affiliation{Univ. B}\n"
        "\\keywords{things, study}\n"
        "\\abstract{We study things \\emph{carefully}.}\n"
    )
    result = latex_to_text(paper("\\maketitle\n\\section{Intro}\nBody text.", preamble))
    assert result.title == "A Study of Things"
    assert result.authors == ("Ana Smith", "Bo Li")
    assert result.abstract == "We study things carefully."
    assert result.text.startswith("Abstract\n\nWe study things carefully.\n\nIntro\n\nBody text.")
    assert "Univ. A" not in result.text and "ana@a.org" not in result.text


def test_abstract_environment_inside_the_body_is_read() -> None:
    body = "\\begin{abstract}\nShort summary.\n\\end{abstract}\nMain text."
    result = latex_to_text(paper(body))
    assert result.abstract == "Short summary."
    assert result.text == "Abstract\n\nShort summary.\n\nMain text."


def test_macros_with_and_without_arguments_are_expanded() -> None:
    preamble = (
        "\\newcommand{\\method}{GraphSum}\n"
        "\\newcommand{\\pair}[2]{(#1, #2)}\n"
        "\\renewcommand{\\emph}[1]{\\textit{#1}}\n"
        "\\newcommand{\\opt}[2][default]{#1 and #2}\n"
        "\\def\\twice#1{#1#1}\n"
        "\\DeclareMathOperator{\\argmax}{arg\\,max}\n"
    )
    body = (
        "\\method{} makes \\pair{a}{b}, \\emph{fine}, \\opt{x}, \\opt[y]{z}, \\twice{ab}.\n"
        "We take $\\argmax_x f$.\n"
    )
    text = latex_to_text(paper(body, preamble)).text
    assert "GraphSum makes (a, b), fine, default and x, y and z, abab." in text
    assert "$\\operatorname{arg\\,max}_x f$" in text


def test_math_is_kept_as_latex_source() -> None:
    body = "Let $x_i \\in \\mathbb{R}^n$ and\n\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}\n"
    text = latex_to_text(paper(body)).text
    assert "$x_i \\in \\mathbb{R}^n$" in text
    assert "\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}" in text


def test_bibliography_rule_bibitems_and_bbl_are_left_out() -> None:
    # The stated rule (docs/corpora/papers.md): references are metadata, not the paper's
    # prose, so thebibliography (inline or from an \input .bbl) never reaches the text.
    body = (
        "As shown before~\\cite{smith}.\n\\input{main.bbl}\n"
        "\\begin{thebibliography}{9}\n\\bibitem{smith} J. Smith. A REFERENCE TITLE. 2020.\n"
        "\\end{thebibliography}\n"
    )
    files = paper(body) | {
        "main.bbl": "\\begin{thebibliography}{1}\\bibitem{x} BBL ENTRY\\end{thebibliography}"
    }
    result = latex_to_text(files)
    assert result.text == "As shown before."
    assert "REFERENCE TITLE" not in result.text and "BBL ENTRY" not in result.text


def test_table_cells_are_kept_as_text() -> None:
    body = (
        "\\begin{tabular}{|l|p{3cm}|}\\hline\nName & Value \\\\\nalpha & 0.5 \\\\\n\\end{tabular}"
    )
    text = latex_to_text(paper(body)).text
    assert [line for line in text.split("\n") if line] == ["Name Value", "alpha 0.5"]
    assert "3cm" not in text and "|" not in text


def test_a_table_float_keeps_its_caption_and_its_cells_and_a_figure_its_caption() -> None:
    body = (
        "\\begin{table}[t]\n\\centering\n\\caption{Class options}\n"
        "\\begin{tabular}{ll}\nartikel & Dutch article design \\\\\n\\end{tabular}\n\\end{table}\n"
        "\\begin{figure}\\includegraphics[width=3cm]{plot.pdf}\\caption{A plot}\\end{figure}\n"
        "After."
    )
    text = latex_to_text(paper(body)).text
    assert [p for p in text.split("\n\n") if p] == [
        "Class options",
        "artikel Dutch article design",
        "A plot",
        "After.",
    ]


def test_a_papers_own_verbatim_environments_are_protected() -> None:
    # fancyvrb, listings and minted let a paper name its own verbatim environments; TeX reads
    # their content literally up to \end{name}, so a % or a \section inside is text.
    preamble = (
        "\\usepackage{fancyvrb,listings,minted,comment}\n"
        "\\DefineVerbatimEnvironment{code}{Verbatim}{fontsize=\\small}\n"
        "\\lstnewenvironment{py}[1][]{\\lstset{language=Python,#1}}{}\n"
        "\\newminted{latex}{frame=single}\n"
        "\\newenvironment{example}{\\VerbatimEnvironment\\begin{Verbatim}}{\\end{Verbatim}}\n"
        "\\newenvironment{note}{\\begin{quote}}{\\end{quote}}\n"
        "\\excludecomment{draft}\n"
    )
    body = (
        "Setting the margins:\n"
        "\\begin{code}\n\\setlength{\\textwidth}{12cm} % wider\n\\end{code}\n"
        "\\begin{py}[numbers=left]\nprint('%d' % 3)\n\\end{py}\n"
        "\\begin{latexcode}\n\\section{Shown, not a heading}\n\\end{latexcode}\n"
        "\\begin{example}\n\\begin{document} % an example\n\\end{example}\n"
        "\\begin{note}A \\emph{plain} note.\\end{note}\n"
        "\\begin{draft}\nNOT IN THE PDF\n\\end{draft}\n"
        "The text goes on.\n"
    )
    text = latex_to_text(paper(body, preamble)).text
    assert "\\setlength{\\textwidth}{12cm} % wider" in text
    assert "print('%d' % 3)" in text
    assert "\\section{Shown, not a heading}" in text
    assert "\\begin{document} % an example" in text
    assert "A plain note." in text
    assert "NOT IN THE PDF" not in text
    assert text.rstrip().endswith("The text goes on.")


def test_a_control_word_swallows_the_blank_after_it_as_tex_does() -> None:
    # polyglossia's Thai example marks word breaks with \wbr between the words of one run of
    # Thai text; the PDF shows no space there.
    body = (
        "\u0e40\u0e1b\u0e47\u0e19\\wbr \u0e41\u0e1c\u0e19\\wbr \u0e07\u0e32\u0e19 and Stra\\ss e.\n"
    )
    text = latex_to_text(paper(body)).text
    assert "\u0e40\u0e1b\u0e47\u0e19\u0e41\u0e1c\u0e19\u0e07\u0e32\u0e19 and Stra\u00dfe." in text


def test_spacing_commands_and_expanded_macros_keep_word_boundaries() -> None:
    # sepnum's manual: \meta{sbc} every; l2tabu: \Paket{graphics}\xspace o ...
    preamble = (
        "\\newcommand*{\\meta}[1]{\\textlangle\\textsl{#1}\\textrangle}\n"
        "\\newcommand{\\Paket}[1]{\\textsf{#1}\\xspace}\n"
        "\\newcommand{\\sep}{\\quad}\n"
    )
    body = (
        "the separator \\meta{sbc} every three digits; use \\Paket{graphics} o "
        "\\Paket{graphicx}, one\\sep two\\quad three\\hfill four.\n"
    )
    text = latex_to_text(paper(body, preamble)).text
    assert "the separator \u27e8sbc\u27e9 every three digits" in text
    assert "use graphics o graphicx, one two three four." in " ".join(text.split())


def test_tex_logos_and_text_symbols_are_printed() -> None:
    body = "The \\LaTeX\\ system runs on \\TeX{} and \\XeTeX; see \\S 2\\ldots done.\n"
    text = latex_to_text(paper(body)).text
    # TeX would print "\LaTeX is" as "LaTeXis"; the author meant a space, so it stays one
    assert "The LaTeX system runs on TeX and XeTeX; see \u00a7 2\u2026 done." in text


def test_accents_on_dotless_i_and_the_polish_and_czech_accents() -> None:
    # Spanish sources write pol\'{\i}tica, Polish ones si\k{e}, Czech ones \r{u}.
    body = (
        "pol\\'{\\i}tica, pol\\'\\i tica, si\\k{e}, \\k e, k\\r{u}\\v n, gar\\c con, na\\\"\\i ve\n"
    )
    text = latex_to_text(paper(body)).text
    assert (
        "pol\u00edtica, pol\u00edtica, si\u0119, \u0119, k\u016f\u0148, gar\u00e7on, na\u00efve"
        in text
    )


def test_a_macro_argument_is_not_glued_to_the_control_word_before_it() -> None:
    # fancyhdr's manual: \newcommand{\Cmd}[1]{\texttt{\bs#1}} and \Cmd{chaptermark}; TeX
    # substitutes tokens, the text shows the command's name.
    preamble = "\\newcommand{\\bs}{\\symbol{'134}}\n\\newcommand{\\Cmd}[1]{\\texttt{\\bs#1}}\n"
    body = "Redefine \\Cmd{chaptermark} and \\Cmd{sectionmark} to change the headers.\n"
    text = latex_to_text(paper(body, preamble)).text
    assert "chaptermark and" in text
    assert "sectionmark to change the headers." in text


def test_index_entries_are_not_printed_and_their_dollar_opens_no_math() -> None:
    # Apprends LaTeX!: \index{$@...} puts a lone $ in the sort key; it opened math up to the
    # next $ and printed the source in between (and every index entry as text).
    body = (
        "\\index{$@\\texttt{\\$} (caract\u00e8re r\u00e9serv\u00e9)}"
        "\\index{&@\\texttt{\\&} (caract\u00e8re r\u00e9serv\u00e9)}\n"
        "Ceux-ci ne peuvent donc pas \u00eatre imprim\u00e9s tels quels\\index{imprimer}.\n"
        "Un exemple : $x+1$ reste une formule.\n"
    )
    text = latex_to_text(paper(body)).text
    assert "r\u00e9serv\u00e9" not in text and "imprimer" not in text
    assert "Ceux-ci ne peuvent donc pas \u00eatre imprim\u00e9s tels quels." in text
    assert "Un exemple: $x+1$ reste une formule." in text


def test_texorpdfstring_prints_its_tex_string_once() -> None:
    # hepthesis: \texcmd{titlepage} came out as `titlepagetitlepage` (both strings printed).
    preamble = "\\newcommand{\\texenv}[1]{\\texorpdfstring{\\texttt{#1}}{#1}}\n"
    body = "\\subsection{\\texenv{titlepage}}\nThe \\texenv{titlepage} macro makes a page.\n"
    text = latex_to_text(paper(body, preamble)).text
    assert "titlepagetitlepage" not in text
    assert text.count("titlepage") == 2
    assert "The titlepage macro makes a page." in text


def test_a_dollar_whose_partner_lies_past_a_paragraph_break_opens_no_math() -> None:
    # ProfLycee: a shell prompt in an environment the package (not the paper) makes
    # verbatim; its $ paired with the next $ three paragraphs on and the source between
    # came out as math. TeX ends inline math at a paragraph break.
    body = (
        "\\begin{TerminalOSX}[0.5\\linewidth]{Titre=Terminal MacOSX}[flush right]\n"
        "[test@server]$ ping -c 2 ctan.org\n"
        "PING ctan.org (5.35.249.60) 56(84) bytes of data.\n"
        "\\end{TerminalOSX}\n\n"
        "\\section{Cartouche Capytale}\n\n"
        "L'id\u00e9e est d'obtenir des \\textsf{cartouches} avec $x$ dedans.\n"
    )
    text = latex_to_text(paper(body)).text
    assert "\\section" not in text and "\\textsf" not in text
    assert "\n\nCartouche Capytale\n\n" in text
    assert "L'id\u00e9e est d'obtenir des cartouches avec $x$ dedans." in text


def test_the_arguments_of_an_unknown_macro_are_separate_words() -> None:
    # MATAPLI's editorial page: a class macro (not in the sources) with four arguments ran
    # them together (`chefJulien`, `ParisSalomon`).
    body = (
        "\\redacteurMatapli{R\u00e9dacteur en chef}{Julien \\bsc{Salomon}}"
        "{\u00c9quipe ANGE, INRIA Paris}{\\url{salomon@inria.fr}}\n"
    )
    text = " ".join(latex_to_text(paper(body)).text.split())
    assert "R\u00e9dacteur en chef Julien Salomon \u00c9quipe ANGE, INRIA Paris" in text


def test_a_dollar_inside_alltt_is_printed_not_math() -> None:
    # the TeX Live guide (texlive-cz): alltt keeps only \, { and } special, so the shell's
    # $PATH is text; paired with a later $ it turned the source between into math.
    body = (
        "Add to your profile:\n\\begin{alltt}\n"
        "PATH=/usr/local/texlive/2022/bin/x86_64-linux:$PATH; export PATH\n"
        "\\end{alltt}\n"
        "and then \\textbf{log in again}, so that $x$ is math.\n"
    )
    text = latex_to_text(paper(body)).text
    assert "PATH=/usr/local/texlive/2022/bin/x86_64-linux:$PATH; export PATH" in text
    assert "and then log in again, so that $x$ is math." in text


def test_colours_and_beamer_overlay_definitions_are_not_text() -> None:
    # cursolatex (a beamer course): \newcommand<>{...} is beamer's overlay-aware definition,
    # and colour and beamer-colour names printed as words (`alerted LaTeX code`).
    preamble = (
        "\\newcommand<>{\\aalert}[1]{\\begin{alertenv}#2\\usebeamercolor[fg]{aalerted text}"
        "#1\\end{alertenv}}\n"
    )
    body = (
        "Use {\\color{DarkRed} cores} com \\aalert{cuidado} e "
        "{\\usebeamercolor[fg]{alerted LaTeX code}\\texttt{\\textbackslash section}}.\n"
    )
    text = latex_to_text(paper(body, preamble)).text
    assert "DarkRed" not in text and "alerted" not in text and "newcommand" not in text
    assert "Use cores com cuidado e" in text


def test_a_tikz_picture_prints_its_node_labels_not_its_drawing_code() -> None:
    # tex-font-cheatsheet (lang-english): the whole cheat sheet is TikZ nodes, which the
    # reader dropped with the picture (recall 0.05); the page prints the labels, not the
    # styles, names, coordinates or paths.
    body = (
        "\\begin{tikzpicture}\n[auto,\n"
        "decision/.style = {diamond, draw=myDarkBlue, thick, text width=4.5em},\n"
        "line/.style = {draw, thick, -latex',shorten >=2pt}]\n"
        "\\matrix [column sep=5mm,row sep=7mm]\n{\n"
        "\\node [block] (declare_latex) {\\LaTeX};&\n"
        "\\node [decision] (fd_exist) {Font declared?\\textsuperscript{1}}; \\\\\n};\n"
        "\\node (fallback_output) at (-10,7) [crookedoutput] {An output file with a "
        "fallback font (usually \\texttt{cmr}) will be generated.};\n"
        "\\path (fd_exist) -- node [near start] {no} (fallback_output);\n"
        "\\path (fd_exist) -- node [above] {\\tikz\\node [warning_number] (no_fd) {4};} (x);\n"
        "\\draw[->] (0,0) -- (1,1);\n"
        "\\end{tikzpicture}\n"
        # an inline picture (quran-ur's title boxes): its drawing code is not text either
        "After the picture \\tikz\\fill[very thick,white] (0,0) circle (12pt); and "
        "\\tikz[baseline]{\\node[draw] {boxed};}."
    )
    text = latex_to_text(paper(body)).text
    assert [p for p in text.split("\n\n") if p] == [
        "LaTeX",
        "Font declared?1",
        "An output file with a fallback font (usually cmr) will be generated.",
        "no",
        "4",
        "After the picture and boxed.",
    ]


def test_tikz_in_math_or_named_in_prose_is_left_as_it_is() -> None:
    # nicematrix-french: \tikz code in a matrix's \CodeAfter is math, kept as its source; a
    # manual naming the \tikz command (no path command after it) loses no text up to a ;
    body = (
        "La commande \\tikz de TikZ ; la suite.\n\n"
        "$\\begin{pNiceMatrix} 1 & 2 \\CodeAfter \\tikz \\draw (2-2) circle (2mm) ; "
        "\\end{pNiceMatrix}$\n"
    )
    text = latex_to_text(paper(body)).text
    assert "La commande de TikZ; la suite." in text
    assert (
        "$\\begin{pNiceMatrix} 1 & 2 \\CodeAfter \\tikz \\draw (2-2) circle (2mm) ; "
        "\\end{pNiceMatrix}$" in text
    )


def test_a_provided_fallback_does_not_replace_a_command_the_reader_reads() -> None:
    # textalpha-doc: `\providecommand*{\href}{\@secondoftwo}` (for a build without hyperref)
    # replaced the reader's \href with an unknown command, and the URL was printed.
    # \@firstoftwo and \@secondoftwo are the kernel's.
    preamble = (
        "\\makeatletter\n\\providecommand*{\\href}{\\@secondoftwo}\n"
        "\\newcommand{\\pick}{\\@firstoftwo}\n\\makeatother\n"
    )
    body = (
        "Requires \\href{http://www.ctan.org/pkg/greek-inputenc}{greek-inputenc} "
        "and \\pick{this}{not that}."
    )
    text = latex_to_text(paper(body, preamble)).text
    assert text == "Requires greek-inputenc and this."
