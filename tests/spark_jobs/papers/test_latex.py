"""LaTeX sources to text: comments gone, math kept as LaTeX, \\input resolved, main file found."""

from __future__ import annotations

import pytest

from spark_jobs.papers.latex import LatexError, latex_to_text, strip_comments

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
    assert "\\[ \\vect{x} = A \\vect{y} \\]" in paper.text
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
