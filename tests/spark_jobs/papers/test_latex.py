"""LaTeX sources to text: comments gone, math kept as LaTeX, \\input resolved, main file found."""

from __future__ import annotations

import pytest

from spark_jobs.papers.latex import LatexError, latex_to_text, strip_comments
from spark_jobs.untrusted import LimitExceeded

MAIN = r"""\documentclass[11pt]{article}
\usepackage{amsmath} % for align
% SECRET-PREAMBLE-NOTE: reviewers must not see this
\newcommand{\method}{GraphSum}
\newcommand{\vect}[1]{\mathbf{#1}}
\title{Fast \method{} for Large Graphs\thanks{Preprint.}}
\author{Ana G\"omez \and Bj{\o}rn Berg \\ University of Somewhere}
\begin{document}
\maketitle
\begin{abstract}
We present \method, a summarizer. % SECRET-ABSTRACT-NOTE
\end{abstract}
\section{Introduction}\label{sec:intro}
Summaries of graphs are useful~\cite{smith2020}. Roughly 50\% of the
time is spent in $O(n \log n)$ sorting.% SECRET-INLINE-NOTE
\begin{equation}\label{eq:main}
  E = \sum_{i=1}^{n} x_i^2
\end{equation}
\input{sections/method}
\include{sections/results}
\bibliography{refs}
\end{document}
"""
FILES = {
    "paper/main.tex": MAIN,
    "paper/sections/method.tex": "\\section{Method}\n% SECRET-METHOD-NOTE\n"
    "We run \\method{} on \\[ \\vect{x} = A \\vect{y} \\] every step.\n",
    "paper/sections/results.tex": "\\section*{Results}\n\\begin{itemize}\n"
    "\\item It is \\textbf{fast \\emph{and} small}.\n\\item See \\href{http://x.org}{the site}.\n"
    "\\end{itemize}\n",
    "paper/figures/plot.tex": "\\documentclass{standalone}\n\\begin{document}DECOY\\end{document}\n",
    "paper/supplement.tex": "\\section{Extra}\nFragment, never included.\n",
}


@pytest.fixture(scope="module")
def paper():
    return latex_to_text(FILES)


def test_body_text_has_no_comments(paper) -> None:
    assert "SECRET" not in paper.text
    assert "Summaries of graphs are useful. Roughly 50% of the time is spent in" in paper.text


def test_math_is_kept_as_latex(paper) -> None:
    assert "$O(n \\log n)$" in paper.text
    assert "\\begin{equation}\n  E = \\sum_{i=1}^{n} x_i^2\n\\end{equation}" in paper.text
    assert "\\[ \\mathbf{x} = A \\mathbf{y} \\]" in paper.text  # \\vect{#1} expanded
    assert "\\label" not in paper.text and "eq:main" not in paper.text


def test_input_and_include_are_resolved_from_the_main_files_folder(paper) -> None:
    assert paper.missing_inputs == ()
    text = paper.text
    assert text.index("Introduction") < text.index("Method") < text.index("Results")
    assert "We run GraphSum on" in text
    assert "- It is fast and small.\n- See the site." in text
    assert "Fragment, never included" not in text and "DECOY" not in text


def test_main_file_is_found_among_several(paper) -> None:
    assert paper.main_file == "paper/main.tex"


def test_preamble_dropped_macros_expanded_references_dropped(paper) -> None:
    assert paper.title == "Fast GraphSum for Large Graphs"
    assert paper.authors == ("Ana Gömez", "Bjørn Berg")
    assert paper.abstract == "We present GraphSum, a summarizer."
    assert paper.text.startswith("Abstract\n\nWe present GraphSum, a summarizer.\n\nIntroduction")
    for markup in ("\\cite", "smith2020", "usepackage", "\\method", "\\newcommand", "refs"):
        assert markup not in paper.text


def test_escaped_percent_is_text_and_a_comment_line_does_not_split_a_paragraph() -> None:
    source = "100\\% sure\n% a whole-line comment\nstill one paragraph % trailing\n"
    assert strip_comments(source) == "100\\% sure\nstill one paragraph\n"


def test_fragments_without_a_main_file_are_an_error_with_a_reason() -> None:
    with pytest.raises(LatexError) as error:
        latex_to_text(
            {"intro.tex": "\\section{Intro}\nText.", "fig.tex": "\\documentclass{article}"}
        )
    assert error.value.reason == "latex_no_main_file"
    assert "intro.tex" in error.value.detail


def _main(body: str, preamble: str = "") -> str:
    return f"\\documentclass{{article}}\n{preamble}\\begin{{document}}\n{body}\n\\end{{document}}\n"


def test_each_file_is_input_once_even_in_a_cycle_or_a_repeat() -> None:
    paper = latex_to_text(
        {
            "main.tex": _main("\\input{a}\n\\input{shared}\n\\input{shared}"),
            "a.tex": "Part A. \\input{b}",
            "b.tex": "Part B. \\input{a} \\input{shared}",
            "shared.tex": "Shared table.",
        }
    )
    assert paper.text == "Part A. Part B. Shared table."


def test_inputs_resolve_among_the_papers_own_files_never_the_filesystem(monkeypatch) -> None:
    def no_reads(*args, **kwargs):
        raise AssertionError(f"latex_to_text opened {args[:1]}")

    monkeypatch.setattr("builtins.open", no_reads)
    monkeypatch.setattr("io.open", no_reads)
    paper = latex_to_text(
        {
            "paper/main.tex": _main(
                "Body. \\input{/etc/passwd} \\input{../../etc/hostname} \\include{../x}"
            ),
            "x.tex": "In the archive, a folder up.",
        }
    )
    assert paper.text == "Body. In the archive, a folder up."
    assert paper.missing_inputs == ("/etc/passwd", "../../etc/hostname")


def test_macros_that_fan_out_stop_at_the_expansion_budget() -> None:
    names = "abcdef"
    definitions = "".join(
        f"\\newcommand{{\\{names[i]}}}{{" + f"\\{names[i + 1]}" * 10 + "}\n" for i in range(5)
    )
    with pytest.raises(LimitExceeded) as error:
        latex_to_text({"main.tex": _main("\\a " * 30, preamble=definitions)})
    assert error.value.reason == "expansion_limit"
    assert "fan out" in error.value.detail


def test_notation_macros_used_everywhere_stay_within_the_budget() -> None:
    body = "Let $x \\in \\R$ and $y \\in \\R^n$. " * 20_000
    paper = latex_to_text({"main.tex": _main(body, preamble="\\newcommand{\\R}{\\mathbb{R}}\n")})
    assert paper.text.count("\\mathbb{R}") == 40_000


def test_placeholder_characters_in_a_source_are_not_taken_for_the_converters() -> None:
    paper = latex_to_text({"main.tex": _main("A \x007\x00 and \x0199\x01 $x$ stay text.")})
    assert paper.text == "A 7 and 99 $x$ stay text."


def _german(preamble: str, body: str) -> str:
    return f"\\documentclass[a4paper]{{article}}\n{preamble}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"


def test_german_shorthands_print_what_babel_prints() -> None:
    # abstdok (plain-generic): `f"ur` and `da"s` with german.sty were the words `f ur`, `da s`
    body = (
        'Die Stile f"ur \\BibTeX{} sind anpa"sbar, "`so"\' hei"st es.\n'
        'Zucker"-st"uck, "Uberblick. \\verb|f"ur| stays.\n'
        '\\begin{verbatim}\nda"s\n\\end{verbatim}'
    )
    text = latex_to_text({"a.tex": _german("\\usepackage{german}", body)}).text
    assert "Die Stile für" in text and "anpaßbar" in text
    assert "\u201eso\u201c heißt es." in text
    assert "Zuckerstück, Überblick." in text
    assert 'f"ur stays.' in text and 'da"s' in text


@pytest.mark.parametrize(
    ("preamble", "active"),
    [
        ("\\usepackage[english,ngerman]{babel}", True),
        ("\\usepackage[main=ngerman,english]{babel}", True),
        ("\\usepackage[ngerman,english]{babel}", False),  # English the main language
        ("\\usepackage[T1]{fontenc}", False),
    ],
)
def test_german_shorthands_only_where_german_is_the_main_language(
    preamble: str, active: bool
) -> None:
    text = latex_to_text({"a.tex": _german(preamble, 'Ein "Uberblick.')}).text
    assert ("Ein Überblick." in text) is active


def test_package_verbatim_environments_are_verbatim() -> None:
    # tex-live.sty's sverbatim (the TeX Live guides), fancyvrb-ex's SideBySideExample
    # (xlop), showexpl's LTXexample and tcolorbox's tcblisting: used, never defined, in a
    # paper; their content is code the page shows as it is
    body = (
        "Add\n\\begin{sverbatim}\nMANPATH=/usr/local/man:$MANPATH; export MANPATH\n"
        "\\end{sverbatim}\nto the file.\n"
        "\\begin{SideBySideExample}\n\\opadd*{2}{2}{a/b_{^c}!&$}\n\\end{SideBySideExample}\n"
        "\\begin{LTXexample}[pos=t]\n\\psline(0,0)(1,1) $x\n\\end{LTXexample}\n"
        "\\begin{tcblisting}{listing only}\n\\textbf{bold} % not a comment\n\\end{tcblisting}\n"
        "The end."
    )
    source = f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"
    text = latex_to_text({"a.tex": source}).text
    assert "MANPATH=/usr/local/man:$MANPATH; export MANPATH" in text
    assert "\\opadd*{2}{2}{a/b_{^c}!&$}" in text
    assert "\\psline(0,0)(1,1) $x" in text and "pos=t" not in text
    assert "\\textbf{bold} % not a comment" in text and "listing only" not in text
    assert "The end." in text
