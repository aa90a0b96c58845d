r"""LaTeX sources to plain text: find the main file among a paper's .tex files, resolve
\input/\include, strip comments and the preamble, expand argument-free macros, and keep math
(inline and display) as LaTeX source, since models learn the notation itself.

Sources are untrusted, so each pass is linear (or n log n) in its input: brace groups are
matched once per pass with a stack, an environment or math opener that never closes costs a
lookup instead of a scan to the end, [optional] arguments are bounded, each file is input
once, and macro expansion has a budget (LimitExceeded "expansion_limit").
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from spark_jobs.untrusted import LimitExceeded

# Bumped whenever the text this module makes of the same source changes.
LATEX_PARSER_VERSION = "5"
# Stems that name the main file when more than one file could be it.
MAIN_STEMS = ("main", "ms", "paper", "article", "manuscript")
MAX_INPUT_DEPTH = 16
MAX_MACRO_PASSES = 5
# Macros may grow a paper to this many times its size plus the allowance; more is a fan-out
# (\def\a{\b\b}\def\b{\c\c}...), not notation.
MAX_EXPANSION_FACTOR = 4
EXPANSION_ALLOWANCE = 2**20
# Verbatim (and comment) environments a paper may define for itself and have protected.
MAX_OWN_VERBATIM_ENVIRONMENTS = 100
MAX_OPENING_CODE = 2000  # characters of a \newenvironment's opening code looked at
# Author names read from \author; collaborations list a few thousand.
MAX_AUTHORS = 10_000

# An [optional] argument, bounded (and without brackets inside) so that a [ that never
# closes costs at most a short look ahead, not a scan to the end of the paper.
_OPT = r"(?:\[[^\[\]]{0,1000}\])?"
_DOCUMENTCLASS = re.compile(r"\\document(?:class|style)\s*+" + _OPT + r"\s*+\{([^{}]{0,1000})\}")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
# A % that starts a comment: preceded by an even number (zero included) of backslashes.
_COMMENT = re.compile(r"(?<!\\)(?:\\\\)*%")
# \iffalse...\fi comments a block out when it starts a line (\let\ifx\iffalse is no comment).
_COMMENT_BLOCK = re.compile(r"(?m)^[ \t]*\\iffalse\b")
# shortvrb / fancyvrb: \MakeShortVerb{\|} makes |...| inline verbatim.
_SHORT_VERB = re.compile(
    r"\\(?:MakeShortVerb|DefineShortVerb)\*?\s*(?:\[[^\]]{0,200}\])?\s*\{\\(\W)\}"
)
_VERBATIM_ENVS = (
    r"verbatim\*?|Verbatim\*?|BVerbatim|LVerbatim|lstlisting|minted|comment|boxedverbatim"
    r"|spverbatim|verbatimtab|verbatimwrite"
    # since round 7, environments that packages define to read their content verbatim (a
    # paper uses them without defining them): showexpl's LTXexample and tcolorbox's
    # tcblisting (code beside its result), fancyvrb-ex's examples, tex-live.sty's sverbatim
    # (the TeX Live guides' shell commands, whose $ opened math)
    r"|LTXexample|tcblisting|P?SideBySideExample|P?CenterExample|sverbatim"
)


def _protected_pattern(environments: str) -> str:
    r"""One scan finds, in reading order, a comment, a verbatim environment (with its [options]
    and minted's {language}) or an inline \verb / \lstinline with its delimiter."""
    return (
        r"(?<!\\)(?:\\\\)*(?P<comment>%)"
        r"|\\begin\s*\{(?P<env>" + environments + r")\}"
        r"(?:(?<=\{minted\})" + _OPT + r"\{[^{}\n]{0,100}\}"
        r"|(?<=\{tcblisting\})[ \t]*\{[^{}\n]{0,200}\}|[ \t]*" + _OPT + r")"
        r"|\\(?:verb\*?|lstinline" + _OPT + r")(?P<delim>[^A-Za-z\s{*\[])"
    )


_PROTECTED = re.compile(_protected_pattern(_VERBATIM_ENVS))
# A paper's own verbatim environments: fancyvrb's \DefineVerbatimEnvironment{name}, listings'
# \lstnewenvironment{name}, minted's \newminted[name]{language} (name, else "languagecode"),
# and a \newenvironment{name} whose opening code starts a verbatim reader (\verbatim,
# \VerbatimEnvironment, \begin{Verbatim}...): TeX reads their content up to \end{name}. The
# comment package's \excludecomment{name} makes a comment environment.
_ENV_NAME = r"\{\s*([A-Za-z@*]{1,100})\s*\}"
_VERBATIM_DEFINITION = re.compile(
    r"\\(?:DefineVerbatimEnvironment|lstnewenvironment)\s*"
    + _ENV_NAME
    + r"|\\newminted\s*(?:\[\s*([A-Za-z@*]{1,100})\s*\])?\s*"
    + _ENV_NAME
    + r"|\\(?:re)?newenvironment\s*(?:<>\s*)?"
    + _ENV_NAME
    + r"\s*(?:\[\d\]\s*)?"
    + _OPT
    + r"\s*(?=\{)"
    + r"|\\excludecomment\s*"
    + _ENV_NAME
)
_STARTS_VERBATIM = re.compile(
    r"\\(?:verbatim|Verbatim|BVerbatim|LVerbatim|VerbatimEnvironment|lstlisting|minted"
    r"|comment|spverbatim|boxedverbatim)(?![A-Za-z@])"
    r"|\\begin\s*\{(?:verbatim|Verbatim|BVerbatim|LVerbatim|lstlisting|minted)\}"
)
_PROTECTED_TOKEN = re.compile("\x03(\\d+)\x03")
_INPUT = re.compile(
    r"\\(?:input|include|subfile)\s*\{([^{}]{1,1000})\}|\\input\s+([^\s{}\\%]{1,1000})"
)
_DEFINITION = re.compile(
    # beamer's overlay-aware forms (\newcommand<>{\x}) define the same macro
    r"\\(?P<kind>(?:re)?newcommand|providecommand|def|DeclareMathOperator)\*?\s*(?:<>\s*)?"
    r"(?:\{\s*\\(?P<braced>[A-Za-z@]+)\s*\}|\\(?P<bare>[A-Za-z@]+))"
    r"\s*(?:\[\s*(?P<arity>\d)\s*\])?\s*(?:\[(?P<default>[^\[\]]{0,1000})\])?"
    r"\s*(?P<params>(?:#\d)*)\s*"
)
_MACRO_USE = re.compile(r"\\([A-Za-z@]+)")
_ENDS_IN_CONTROL_WORD = re.compile(r"\\[A-Za-z@]+\*?$")
# Put after an expanded macro body that ends in a control word: the blank after it stays.
_KEEP_BLANK = "\x02"
_PARAMETER = re.compile(r"#([1-9])")
# One undelimited argument that is not a {group}: a control sequence or one character.
_TOKEN = re.compile(r"\\[A-Za-z@]+|\\.|[^\s{}]")
# Never redefined by a paper's macros: the structure this module reads.
_PROTECTED_NAMES = frozenset(("begin", "end", "input", "include", "section", "item"))
_MATH_ENVS = r"equation|align|gather|multline|eqnarray|displaymath|flalign|alignat|math"
# Openers in the order a match is tried at one position; _math_end gives each its closer.
_MATH = re.compile(
    r"(?P<dollars>\$\$)|(?<!\\)(?P<bracket>\\\[)"
    r"|\\begin\{(?P<env>(?:" + _MATH_ENVS + r")\*?)\}"
    r"|(?<!\\)(?P<paren>\\\()|(?<!\\)(?P<dollar>\$)"
)
_VERBATIM = re.compile(
    r"\\begin\{(?P<env>verbatim\*?|lstlisting|minted)\}" + _OPT + r"(?:\{[^{}]{0,1000}\})?"
)
_DROPPED_ENVS = re.compile(r"\\begin\{(?P<env>thebibliography|picture|filecontents\*?)\}")
# A TikZ picture prints its nodes' labels, not its drawing code: `node`/`\node`, then its
# [options], (name), `at (coordinates)` and `key=value` words, then the {label}. Bounded
# pieces tried possessively, so a node with no label costs a short look ahead.
_TIKZPICTURE = re.compile(r"\\begin\{(?P<env>tikzpicture)\}")
# \tikz[options]{code} or \tikz[options] \path-command ...; (a picture in a line of text, or
# in a node); a \tikz followed by neither is left alone (a manual naming the command)
_INLINE_TIKZ = re.compile(
    r"\\tikz(?![A-Za-z@])\s*+" + _OPT + r"\s*+"
    r"(?=\{|\\(?:draw|fill|filldraw|path|node|shade|shadedraw|clip|coordinate|pic|matrix)"
    r"(?![A-Za-z@]))"
)
MAX_INLINE_TIKZ = 2000  # characters looked at for the ; that ends \tikz code
_TIKZ_NODE = re.compile(
    r"(?<![A-Za-z@])node(?![A-Za-z@])"
    r"(?:\s++|\[[^\[\]]{0,1000}\]|\([^()]{0,1000}\)|at(?![A-Za-z])|[A-Za-z]{1,100}\s*+=\s*+)*+"
    r"(?=\{)"
)
# A table's opener with its column spec (and tabularx's width): the cells are kept as text.
_TABULAR = re.compile(
    r"\\begin\{(?:tabular[x*]?|longtable\*?|supertabular)\}\s*(?:\[[^\[\]]{0,100}\])?"
    r"(?:\s*\{[^{}]{0,100}\})??\s*\{(?:[^{}]|\{[^{}]{0,100}\}){0,1000}\}"
)
_CAPTION = re.compile(r"\\caption\*?\s*+" + _OPT)
_FLOATS = re.compile(r"\\begin\{(?P<env>(?:figure|table|wrapfigure)\*?)\}" + _OPT)
_ABSTRACT = re.compile(r"\\begin\{(?P<env>abstract)\}")
_SECTION = re.compile(
    r"\\(?:part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\*?\s*+"
    + _OPT
    + r"\s*+(?=\{)"
)
# Commands dropped with their arguments: references, layout, front matter already read.
_DROPPED = re.compile(
    r"\\(?:cite[a-zA-Z]*|nocite|ref|eqref|autoref|[cC]ref|pageref|label|bibliography"
    r"|bibliographystyle|includegraphics|thanks|vspace|hspace|addcontentsline|setcounter"
    r"|addtocounter|setlength|title|author|date|affiliation|affil|institute|inst|email|address"
    r"|keywords|orcid|footnotemark"
    # colours and beamer's theme settings: names and keys, never printed
    r"|color|definecolor|colorlet|pagecolor|hypersetup|(?:use|set)beamer(?:color|template|font)"
    r"|maketitle|tableofcontents|newpage|clearpage|usepackage)\*?(?![A-Za-z@])"
)
_BRACKET_ARGUMENT = re.compile(r"\[[^\[\]]{0,1000}\]")
# Index and glossary entries: TeX writes them to a file and prints nothing here. Taken out
# before math is looked for, since their sort keys hold lone $ (\index{$@\texttt{\$}}).
_INDEX_ENTRY = re.compile(r"\\(?:index|glossary)\*?(?![A-Za-z@])\s*+" + _OPT)
# hyperref's \texorpdfstring{TeX string}{PDF string}: the page shows the first.
_TEX_OR_PDF = re.compile(r"\\texorpdfstring(?![A-Za-z@])")
# A paragraph break: TeX ends inline math there ("Missing $ inserted"), so a $ whose next $
# lies beyond one opens no math (a shell prompt's `server]$ ping` in an unknown verbatim).
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Two brace groups in a row outside math: the arguments of a macro the paper does not
# define (\name{Role}{Julien Salomon}{INRIA}), which the page never runs together.
_ADJACENT_GROUPS = re.compile(r"\}\{(?!\})")
# alltt: LaTeX with only \, { and } special, so its $ is a printed dollar, not math.
_ALLTT = re.compile(r"\\begin\{(?P<env>alltt)\}")
_ACCENT_MARKS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
# An accent on a letter or on a dotless \i / \j (pol\'{\i}tica), braced or not; the letter
# accents (\c, \v, \k...) also unbraced after a blank (\c c, \k e).
_ACCENTED_LETTER = r"(\\[ij](?![A-Za-z])\s*|[A-Za-z])"
_ACCENT = re.compile(
    r"\\([\'`^\"~=.])\s*(?:\{\s*" + _ACCENTED_LETTER + r"\s*\}|" + _ACCENTED_LETTER + r")"
    r"|\\([cvuHkrdb])(?:\s*\{\s*" + _ACCENTED_LETTER + r"\s*\}|\s+" + _ACCENTED_LETTER + r")"
)
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ"}
_LETTERS |= {"oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "i": "\u0131"}
_LETTER = re.compile(
    r"\\(" + "|".join(sorted(_LETTERS, key=len, reverse=True)) + r")(?![A-Za-z])\s?"
)
_ESCAPES = {"%": "%", "&": "&", "#": "#", "_": "_", "$": "$", "{": "{", "}": "}"}
_ESCAPE = re.compile(r"\\([%&#_${}])")
_ESCAPED = re.compile("\x01(\\d+)\x01")
_ITEM = re.compile(r"\\item(?![A-Za-z])(?:\s*+\[(?P<label>[^\[\]]{0,1000})\])?")
_LINE_BREAK = re.compile(r"\\\\\*?" + _OPT + r"|\\newline(?![A-Za-z])")
_ENV_MARKER = re.compile(r"\\(?:begin|end)\s*\{[^{}]{0,1000}\}" + _OPT)
# A control word left after the passes above, with its [option], or else with the blanks
# after it, which TeX skips (a line end too, but not a blank line): `เป็น\wbr แผนงาน` is one
# word in the PDF, as `Stra\-\ss e` is.
_CONTROL_WORD = re.compile(
    r"\\(?P<name>[A-Za-z@]+)\*?(?:\[[^\[\]]{0,1000}\]|(?P<blank>[ \t]*(?:\n(?![ \t]*\n))?[ \t]*))"
)
# Control words that print words or symbols: they are the paper's text.
_PRINTED = {
    "TeX": "TeX",
    "LaTeX": "LaTeX",
    "LaTeXe": "LaTeX2\u03b5",
    "XeTeX": "XeTeX",
    "XeLaTeX": "XeLaTeX",
    "LuaTeX": "LuaTeX",
    "LuaLaTeX": "LuaLaTeX",
    "pdfTeX": "pdfTeX",
    "pdfLaTeX": "pdfLaTeX",
    "BibTeX": "BibTeX",
    "ConTeXt": "ConTeXt",
    "AmS": "AmS",
    "AmSTeX": "AmSTeX",
    "eTeX": "\u03b5-TeX",
    "ldots": "\u2026",
    "dots": "\u2026",
    "textellipsis": "\u2026",
    "S": "\u00a7",
    "P": "\u00b6",
    "copyright": "\u00a9",
    "textcopyright": "\u00a9",
    "textregistered": "\u00ae",
    "texttrademark": "\u2122",
    "dag": "\u2020",
    "ddag": "\u2021",
    "pounds": "\u00a3",
    "euro": "\u20ac",
    "texteuro": "\u20ac",
    "textendash": "\u2013",
    "textemdash": "\u2014",
    "textbullet": "\u2022",
    "textperiodcentered": "\u00b7",
    "textdegree": "\u00b0",
    "guillemotleft": "\u00ab",
    "guillemotright": "\u00bb",
    "guillemetleft": "\u00ab",
    "guillemetright": "\u00bb",
    "quotedblbase": "\u201e",
    "glqq": "\u201e",
    "grqq": "\u201c",
    "glq": "\u201a",
    "grq": "\u2018",
    "textquoteleft": "\u2018",
    "textquoteright": "\u2019",
    "textquotedblleft": "\u201c",
    "textquotedblright": "\u201d",
    "textless": "<",
    "textlangle": "\u27e8",
    "textrangle": "\u27e9",
    "textgreater": ">",
    "textbar": "|",
    "slash": "/",
}
# Commands the reader reads itself that LaTeX's kernel, hyperref or xcolor define: a
# \providecommand of one (a fallback for a build without hyperref) does not take effect
# where they are defined, so the reader keeps its own reading.
_READ_NATIVELY = frozenset(
    [
        "href",
        "url",
        "textcolor",
        "colorbox",
        "footnote",
        "texorpdfstring",
        "index",
        "glossary",
        "TeX",
        "LaTeX",
        "LaTeXe",
    ]
)
# Control words that make horizontal or vertical space: a word boundary, not nothing.
_SPACING = frozenset(
    [
        "quad",
        "qquad",
        "enspace",
        "enskip",
        "thinspace",
        "space",
        "nobreakspace",
        "hfill",
        "hfil",
        "hss",
        "hspace",
        "hskip",
        "smallskip",
        "medskip",
        "bigskip",
        "vfill",
        "vfil",
        "vskip",
        "break",
        "linebreak",
        "newline",
        "par",
        "cr",
        "crcr",
        "and",
        "AND",
        "tab",
        "kill",
        "hline",
        "midrule",
        "toprule",
        "bottomrule",
        "cline",
        "noindent",
        "indent",
        "centerline",
        "xspace",
    ]
)
_LABEL = re.compile(r"\\label\s*\{[^{}]{0,1000}\}")
_AUTHOR_SEPARATOR = re.compile(r"\\and\b|\\AND\b|,\s*(?=[A-Z])")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
# A brace, or a pair a brace count skips: \{, \} and \\ (so that \\{ opens a group).
_BRACE_TOKEN = re.compile(r"\\[\\{}]|[{}]")
_BLANKS = re.compile(r"[ \t\n]*")


class LatexError(ValueError):
    """A paper's sources cannot be turned into text; `reason` is the quarantine reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class LatexResult:
    main_file: str
    title: str | None
    authors: tuple[str, ...]
    abstract: str | None
    text: str  # the abstract (under an "Abstract" line), then the body
    missing_inputs: tuple[str, ...] = ()  # \input targets not among the files


def latex_to_text(files: dict[str, str]) -> LatexResult:
    """The text of a paper given its .tex files (path inside the archive -> source).

    Raises LatexError("latex_no_main_file") when no file has both \\documentclass and
    \\begin{document}, and LimitExceeded("expansion_limit") when its macros expand past
    MAX_EXPANSION_FACTOR times its size (plus EXPANSION_ALLOWANCE characters).
    """
    # NUL, \x01 and \x03 mark placeholders below; a source's own would be taken for ours.
    protected = _Protected(*verbatim_environments(files.values()))
    stripped = {
        name: strip_comments(
            source.replace("\x00", "").replace("\x01", "").replace("\x02", "").replace("\x03", ""),
            protected,
        )
        for name, source in files.items()
    }
    main = find_main_file(stripped)
    if main is None:
        names = ", ".join(sorted(files)) or "none"
        raise LatexError(
            "latex_no_main_file",
            f"no .tex file has both \\documentclass and \\begin{{document}} (files: {names}); "
            "the archive holds fragments of a paper, not a compilable source",
        )
    missing: list[str] = []
    source = _resolve_inputs(main, stripped, posixpath.dirname(main), {main}, missing, 0)
    begin = _BEGIN_DOCUMENT.search(source)
    assert begin is not None  # find_main_file checked it
    # The last \end{document}: verbatim ones are placeholders by now, and what a paper shows
    # after an earlier one (an example inside a macro argument) is still the paper.
    end = None
    for end in _END_DOCUMENT.finditer(source, begin.end()):  # noqa: B007 - the last one
        pass
    body = source[begin.end() : end.start() if end else None]
    if _german_is_main_language(source[: begin.start()]):
        body = _german_shorthands(body)
    preamble, macros = _take_definitions(source[: begin.start()])
    body, body_macros = _take_definitions(body)
    macros |= body_macros
    if "oftwo" in source:
        macros = _KERNEL_MACROS | macros
    expand = _Expander(macros, MAX_EXPANSION_FACTOR * len(source) + EXPANSION_ALLOWANCE)
    front = _Groups(preamble + "\n" + body)
    title = _first_argument(front, "title")
    authors = _authors(front, expand)
    abstract = ""
    found = next(_pairs(front.source, _ABSTRACT, _end_of_env), None)
    if found is not None:
        _, inner, whole = found
        body = body.replace(whole, "\n\n")
        abstract = _to_text(expand(inner))
    else:
        command = _abstract_command(front)
        if command is not None:
            inner, whole = command
            body = body.replace(whole, "\n\n")
            abstract = _to_text(expand(inner))
    text = _to_text(expand(body))
    if abstract:
        text = f"Abstract\n\n{abstract}\n\n{text}".strip()
    title_text = _one_line(_to_text(expand(title))) if title else None
    return LatexResult(
        main_file=main,
        title=protected.restore(title_text) if title_text else None,
        authors=tuple(protected.restore(author) for author in authors),
        abstract=protected.restore(abstract) or None,
        text=protected.restore(text),
        missing_inputs=tuple(dict.fromkeys(missing)),
    )


# German shorthands (german.sty, ngerman.sty, babel's German): with German the main
# language, "a prints ä, "s ß, "` and "' German quotes, "- and "| nothing. Since round 7:
# abstdok's `f"ur` and `da"s` were read as `f ur` and `da s`.
_GERMAN_LANGUAGES = frozenset(
    {"german", "ngerman", "austrian", "naustrian", "swissgerman", "nswissgerman"}
    | {"germanb", "ngermanb"}
)
# babel's language options, so that the last one (babel's main language) is found among
# other options; German shorthands are active only while German is the language
_BABEL_LANGUAGES = _GERMAN_LANGUAGES | frozenset(
    re.findall(
        r"\w+",
        """english american USenglish british UKenglish canadian australian newzealand french
        francais acadian canadien spanish italian portuguese portuges brazil brazilian dutch
        afrikaans danish swedish norsk nynorsk norwegian finnish icelandic polish czech slovak
        slovene croatian serbian russian ukrainian bulgarian belarusian greek polutonikogreek
        latin hungarian magyar romanian turkish catalan galician basque estonian latvian
        lithuanian irish welsh scottish breton esperanto hebrew albanian interlingua sorbian
        lowersorbian uppersorbian bahasa indonesian malay vietnamese friulan romansh
        northernsami kurmanji georgian thai japanese""",
    )
)
_OPTIONS_AND_NAMES = re.compile(
    r"\\(?P<command>documentclass|documentstyle|usepackage)\s*(?:\[(?P<options>[^\[\]]{0,2000})\])?"
    r"\s*\{(?P<names>[^{}]{0,200})\}"
)
_GERMAN_SHORTHAND = re.compile(r'(?<!\\)"(ck|ff|ll|mm|nn|pp|rr|tt|[aouAOUeiEIszSZ]|[-|"~=`\'<>])')
_GERMAN_SHORTHAND_TEXT = {
    **dict(zip("aouAOUeiEI", "äöüÄÖÜëïËÏ", strict=True)),
    **{"s": "ß", "z": "ß", "S": "SS", "Z": "SZ", "-": "", "|": "", '"': "", "~": "-", "=": "-"},
    **{"`": "\u201e", "'": "\u201c", "<": "\u00ab", ">": "\u00bb"},
}


def _german_is_main_language(preamble: str) -> bool:
    languages: list[str] = []
    for match in _OPTIONS_AND_NAMES.finditer(preamble):
        command, names = (
            match.group("command"),
            {name.strip() for name in match.group("names").split(",")},
        )
        options = [option.strip() for option in (match.group("options") or "").split(",")]
        if command == "usepackage" and names & {"german", "ngerman"}:
            return True
        if command == "usepackage" and "babel" not in names:
            continue
        for option in options:
            if option.startswith("main="):
                return option.removeprefix("main=").strip() in _GERMAN_LANGUAGES
            if option in _BABEL_LANGUAGES:
                languages.append(option)
        if command == "documentstyle" and _GERMAN_LANGUAGES.intersection(options):
            return True
    return bool(languages) and languages[-1] in _GERMAN_LANGUAGES


def _german_shorthands(body: str) -> str:
    """The body's German shorthands as what they print (verbatim is a placeholder by now)."""
    if '"' not in body:
        return body
    return _GERMAN_SHORTHAND.sub(lambda m: _GERMAN_SHORTHAND_TEXT.get(m.group(1), m.group(1)), body)


def verbatim_environments(sources) -> tuple[frozenset[str], frozenset[str]]:
    """The verbatim environments a paper defines itself, and the comment environments it
    excludes (see _VERBATIM_DEFINITION)."""
    verbatim: set[str] = set()
    comments: set[str] = set()
    for source in sources:
        for match in _VERBATIM_DEFINITION.finditer(source):
            named, minted_name, minted_language, environment, excluded = match.groups()
            if named:
                verbatim.add(named)
            elif minted_language:
                verbatim.add(minted_name or f"{minted_language}code")
            elif excluded:
                comments.add(excluded)
            elif environment:
                # the opening code starts a verbatim reader within its first characters; a
                # bounded look ahead, not a brace match of the whole file per definition
                opening = source[match.end() : match.end() + MAX_OPENING_CODE]
                if _STARTS_VERBATIM.search(opening[: _group_end(opening)]):
                    verbatim.add(environment)
    # a paper names a few; thousands would only make the one-pass pattern slow to build
    verbatim = set(sorted(verbatim - {"document"})[:MAX_OWN_VERBATIM_ENVIRONMENTS])
    comments = set(sorted(comments - {"document"})[:MAX_OWN_VERBATIM_ENVIRONMENTS])
    return frozenset(verbatim), frozenset(comments)


def _group_end(text: str) -> int:
    """The index just after the brace group that `text` opens with (or len(text))."""
    depth = 0
    for token in _BRACE_TOKEN.finditer(text):
        if token[0] == "{":
            depth += 1
        elif token[0] == "}":
            depth -= 1
            if depth == 0:
                return token.end()
    return len(text)


def strip_comments(source: str, protected: _Protected | None = None) -> str:
    """Source without % comments, comment environments and \\iffalse blocks; verbatim
    content (see protect_verbatim) is kept as it is.

    A line that held only a comment disappears with its newline, as in TeX, so it cannot
    split a paragraph in two. Given `protected`, verbatim spans stay as its placeholders.
    """
    store = protected if protected is not None else _Protected()
    source = protect_verbatim(source, store)
    source = _substitute_pairs(source, _COMMENT_BLOCK, _end_of_comment, lambda *_: "")
    return source if protected is not None else store.restore(source)


def protect_verbatim(source: str, store: _Protected) -> str:
    r"""Source with each verbatim span (verbatim, Verbatim, lstlisting, minted environments,
    inline \verb|...| and \lstinline|...|) replaced by a placeholder of `store`, and % comments
    and comment environments removed: one left-to-right pass, as TeX reads, so a % inside
    \verb is text and a \begin{verbatim} inside a comment is a comment."""
    out: list[str] = []
    position = 0
    source = source.replace("\r\n", "\n")
    pattern = _PROTECTED
    if store.environments:
        names = sorted(store.environments, key=len, reverse=True)
        pattern = re.compile(
            _protected_pattern("|".join(map(re.escape, names)) + "|" + _VERBATIM_ENVS)
        )
    short = sorted({m.group(1) for m in _SHORT_VERB.finditer(source)} - {"%", "\\", "{", "}"})
    if short:
        # A declaration's own \MakeShortVerb{\|} is not a span; spans open after it.
        chars = re.escape("".join(short))
        pattern = re.compile(pattern.pattern + r"|(?<![\\{])(?P<shortverb>[" + chars + r"])(?!\})")
    while match := pattern.search(source, position):
        if match.group("comment") is not None:
            start = match.start("comment")
            line_start = source.rfind("\n", 0, start) + 1
            end = source.find("\n", start)
            end = len(source) if end < 0 else end
            kept = source[position:start]
            if not source[line_start:start].strip():  # a comment-only line goes with its newline
                kept = kept[: len(kept) - (start - line_start)]
                end = min(end + 1, len(source))
            else:
                kept = kept.rstrip(" \t")
            out.append(kept)
            position = end
            continue
        out.append(source[position : match.start()])
        env = match.group("env")
        if env is not None:
            closer = f"\\end{{{env}}}"
            end = source.find(closer, match.end())
            content_end = len(source) if end < 0 else end  # TeX reads an unclosed one to the end
            if env != "comment" and env not in store.comments:
                content = source[match.end() : content_end]
                out.append(store.keep(content.strip("\n"), display=True))
            position = len(source) if end < 0 else end + len(closer)
            continue
        delimiter = match.groupdict().get("shortverb") or match.group("delim")
        end = source.find(delimiter, match.end())
        newline = source.find("\n", match.end())
        if end < 0 or (0 <= newline < end):  # not closed on its line: not a \verb TeX reads
            out.append(match.group())
            position = match.end()
            continue
        out.append(store.keep(source[match.end() : end], display=False))
        position = end + 1
    out.append(source[position:])
    return "".join(out)


class _Protected:
    """Verbatim spans taken out of a paper's sources, put back as literal text at the end."""

    def __init__(
        self, environments: frozenset[str] = frozenset(), comments: frozenset[str] = frozenset()
    ) -> None:
        self.spans: list[str] = []
        self.environments = environments | comments  # the paper's own verbatim environments
        self.comments = comments  # ... of which these are dropped (\excludecomment)

    def keep(self, text: str, *, display: bool) -> str:
        self.spans.append(text)
        token = f"\x03{len(self.spans) - 1}\x03"
        return f"\n\n{token}\n\n" if display else token

    def restore(self, text: str) -> str:
        if not self.spans:
            return text
        return _PROTECTED_TOKEN.sub(lambda m: self.spans[int(m.group(1))], text)


def find_main_file(files: dict[str, str]) -> str | None:
    """The file to compile: it has \\documentclass and \\begin{document} (outside verbatim:
    give it sources with verbatim protected) and no other file inputs it; among several,
    prefer a real document class over `standalone` figures, then a conventional name
    (main.tex, ms.tex...), then the shallowest path, then the longest source."""
    candidates = [
        name
        for name, source in files.items()
        if _DOCUMENTCLASS.search(source) and _BEGIN_DOCUMENT.search(source)
    ]
    if not candidates:
        return None
    inputted = _inputted_files(files)
    candidates = [name for name in candidates if name not in inputted] or candidates

    def rank(name: str) -> tuple:
        document_class = _DOCUMENTCLASS.search(files[name]).group(1).strip()
        stem = posixpath.splitext(posixpath.basename(name))[0].lower()
        return (
            document_class != "standalone",
            stem in MAIN_STEMS,
            -name.count("/"),
            len(files[name]),
        )

    return max(sorted(candidates), key=rank)


def _inputted_files(files: dict[str, str]) -> set[str]:
    """The files some other file \\inputs or \\includes."""
    inputted: set[str] = set()
    for name, source in files.items():
        here = posixpath.dirname(name)
        for match in _INPUT.finditer(source):
            target = (match.group(1) or match.group(2)).strip()
            found = _find_file(target, here, here, files)
            if found is not None and found != name:
                inputted.add(found)
    return inputted


def _resolve_inputs(
    name: str, files: dict[str, str], root: str, included: set[str], missing: list[str], depth: int
) -> str:
    """The file with its \\input/\\include targets in place, each file at most once per
    paper: TeX would loop on a cycle, and a file input twice by each of sixteen nested files
    would otherwise be copied 2^16 times. Targets are looked up among the paper's own files
    only; nothing here reads the filesystem."""

    def include(match: re.Match) -> str:
        target = (match.group(1) or match.group(2)).strip()
        found = _find_file(target, posixpath.dirname(name), root, files)
        if found is None:
            missing.append(target)
            return ""
        if found in included or depth >= MAX_INPUT_DEPTH:
            return ""
        included.add(found)
        inner = _resolve_inputs(found, files, root, included, missing, depth + 1)
        return f"\n{inner}\n"

    return _INPUT.sub(include, files[name])


def _find_file(target: str, here: str, root: str, files: dict[str, str]) -> str | None:
    # TeX resolves paths against the directory it runs in (the main file's), not the
    # including file's; arXiv sources rely on both, so try both.
    for base in (root, here):
        path = posixpath.normpath(posixpath.join(base, target))
        for candidate in (path, f"{path}.tex"):
            if candidate in files:
                return candidate
    return None


class _Groups:
    """The brace groups of one source, matched in one pass with a stack the first time one
    is read, so reading the group after each of any number of commands costs O(log n), also
    when braces never close (where a scan to the end per command would be quadratic)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._opens: array | None = None  # index of each {, in order
        self._closes = array("q")  # index of the } that closes it, or -1

    def _match(self) -> array:
        opens, closes, stack = array("q"), self._closes, array("q")
        for token in _BRACE_TOKEN.finditer(self.source):
            brace = token[0]
            if brace == "{":
                stack.append(len(opens))
                opens.append(token.start())
                closes.append(-1)
            elif brace == "}" and stack:
                closes[stack.pop()] = token.start()
        self._opens = opens
        return opens

    def read(self, start: int) -> tuple[str, int] | None:
        """The content of the brace group at `start` (blanks skipped) and the index after it."""
        i = _BLANKS.match(self.source, start).end()
        if self.source[i : i + 1] != "{":
            return None
        opens = self._opens if self._opens is not None else self._match()
        k = bisect_left(opens, i)
        if k == len(opens) or opens[k] != i or self._closes[k] < 0:
            return None  # escaped, or unbalanced to the end of the file
        return self.source[i + 1 : self._closes[k]], self._closes[k] + 1


class _Closers:
    """Where each closing literal (\\end{figure}, $$, \\]) occurs in one source, found once,
    so pairing openers with closers stays O(n log n) however many openers never close."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._starts: dict[str, array] = {}

    def first(self, literal: str, begin: int) -> int:
        """The first index >= begin where `literal` starts, else -1."""
        starts = self._starts.get(literal)
        if starts is None:
            starts = self._starts[literal] = self._find_all(literal)
        k = bisect_left(starts, begin)
        return starts[k] if k < len(starts) else -1

    def _find_all(self, literal: str) -> array:
        starts = array("q")
        whole_word = literal[-1].isalpha()  # \fi, not the start of \finally
        i = self.source.find(literal)
        while i >= 0:
            after = self.source[i + len(literal) : i + len(literal) + 1]
            if not (whole_word and (after.isalnum() or after == "_")):
                starts.append(i)
            i = self.source.find(literal, i + 1)  # overlapping: $$ in $$$ starts twice
        return starts


def _pairs(
    source: str,
    opener: re.Pattern,
    closing: Callable[[re.Match], tuple[str, int]],
    unbroken: Callable[[re.Match], bool] | None = None,
) -> Iterator[tuple[re.Match, str, str]]:
    """(opener match, content, whole span) for each opener and the first closer after it,
    left to right and not overlapping, as a lazy `opener.*?closer` regex pairs them.

    `closing(match)` gives the closing literal and how many characters must come between
    (1 for `.+?`). An opener that never closes is passed over after one lookup, and so is
    one for which `unbroken(match)` holds whose closer lies beyond a paragraph break.
    """
    closers = _Closers(source)
    breaks: array | None = None
    position = 0
    while start := opener.search(source, position):
        literal, gap = closing(start)
        end = closers.first(literal, start.end() + gap)
        if end >= 0 and unbroken is not None and unbroken(start):
            if breaks is None:
                breaks = array("q", (m.start() for m in _PARAGRAPH_BREAK.finditer(source)))
            k = bisect_left(breaks, start.end())
            if k < len(breaks) and breaks[k] < end:
                end = -1
        if end < 0:
            position = start.start() + 1
            continue
        yield start, source[start.end() : end], source[start.start() : end + len(literal)]
        position = end + len(literal)


def _substitute_pairs(
    source: str,
    opener: re.Pattern,
    closing: Callable[[re.Match], tuple[str, int]],
    replace: Callable[[re.Match, str, str], str],
    unbroken: Callable[[re.Match], bool] | None = None,
) -> str:
    """`source` with each opener...closer span (see _pairs) replaced."""
    out: list[str] = []
    position = 0
    for start, inner, whole in _pairs(source, opener, closing, unbroken):
        out.append(source[position : start.start()])
        out.append(replace(start, inner, whole))
        position = start.start() + len(whole)
    out.append(source[position:])
    return "".join(out)


def _end_of_env(match: re.Match) -> tuple[str, int]:
    return f"\\end{{{match.group('env')}}}", 0


def _end_of_comment(match: re.Match) -> tuple[str, int]:
    return ("\\end{comment}" if match.group().startswith("\\begin") else "\\fi"), 0


def _math_end(match: re.Match) -> tuple[str, int]:
    kind = match.lastgroup
    if kind == "env":
        return f"\\end{{{match.group('env')}}}", 0
    return {"dollars": "$$", "bracket": "\\]", "paren": "\\)", "dollar": "$"}[kind], 1


@dataclass(frozen=True)
class _Macro:
    body: str
    arity: int = 0
    default: str | None = None  # \newcommand{\a}[2][default]: the first argument is optional


# LaTeX's kernel: \@firstoftwo{a}{b} is a, \@secondoftwo{a}{b} is b (textalpha-doc's
# `\providecommand*{\href}{\@secondoftwo}`, for a build without hyperref)
_KERNEL_MACROS = {"@firstoftwo": _Macro("#1", 2), "@secondoftwo": _Macro("#2", 2)}


def _take_definitions(source: str) -> tuple[str, dict[str, _Macro]]:
    """The source without macro definitions, and the macros it defines (with their arity)."""
    macros: dict[str, _Macro] = {}
    kept: list[str] = []
    groups = _Groups(source)
    position = 0
    while match := _DEFINITION.search(source, position):
        group = groups.read(match.end())
        if group is None:  # a form we do not parse (\def\a\b...): leave it as it is
            kept.append(source[position : match.end()])
            position = match.end()
            continue
        body, end = group
        kept.append(source[position : match.start()])
        arity = int(match.group("arity") or 0) + len(match.group("params")) // 2
        name = match.group("braced") or match.group("bare")
        default = match.group("default")
        if match.group("kind") == "DeclareMathOperator":
            macros[name] = _Macro(f"\\operatorname{{{body}}}")
        elif match.group("kind") == "providecommand" and name in _READ_NATIVELY:
            pass  # defined already where the paper is typeset; the reader reads it itself
        elif name not in _PROTECTED_NAMES:
            macros[name] = _Macro(body, min(arity, 9), default)
        position = end
    kept.append(source[position:])
    return "".join(kept), macros


class _Expander:
    """Expands user macros, with their arguments, within one budget of added characters for
    the paper."""

    def __init__(self, macros: dict[str, _Macro], budget: int) -> None:
        self.macros = macros
        self.limit = budget
        self.budget = budget

    def __call__(self, source: str) -> str:
        if not self.macros or not source:
            return source
        for _ in range(MAX_MACRO_PASSES):  # macros that use macros
            parts: list[str] = []
            position = growth = 0
            groups = _Groups(source)
            for use in _MACRO_USE.finditer(source):
                if use.start() < position:  # inside an argument already taken
                    continue
                macro = self.macros.get(use.group(1))
                if macro is None:
                    continue
                body, end = macro.body, use.end()
                if macro.arity:
                    arguments, end = _arguments(source, end, macro, groups)
                    body = _substitute_parameters(body, arguments)
                if source[end : end + 1].isspace() and _ENDS_IN_CONTROL_WORD.search(body):
                    # TeX read the body on its own: the blank after the use is a space, not
                    # one that the body's last control word swallows (\meta{x} every)
                    body += _KEEP_BLANK
                parts += (source[position : use.start()], body)
                growth += len(body) - (end - use.start())
                position = end
                if growth > self.budget:
                    raise LimitExceeded(
                        "expansion_limit",
                        f"the paper's macros would add over {self.limit} characters "
                        f"({MAX_EXPANSION_FACTOR} times its source plus {EXPANSION_ALLOWANCE}): "
                        "definitions that fan out (\\def\\a{\\b\\b}\\def\\b{\\c\\c}...), "
                        "not notation",
                    )
            if not parts:
                break
            parts.append(source[position:])
            expanded = "".join(parts)
            if expanded == source:  # \def\a{\a}
                break
            self.budget -= max(growth, 0)
            source = expanded
        return source


def _substitute_parameters(body: str, arguments: list[str]) -> str:
    """The body with #1...#9 replaced. TeX substitutes tokens, so \\bs#1 with the argument
    `chaptermark` is \\bs then the letters, never the control word \\bschaptermark: an empty
    group keeps a control word apart from letters on either side."""

    def argument(match: re.Match) -> str:
        index = int(match.group(1))
        if index > len(arguments):
            return ""
        value = arguments[index - 1]
        if not value:
            return value
        if value[0].isalpha() and _ENDS_IN_CONTROL_WORD.search(body, 0, match.start()):
            value = "{}" + value
        after = body[match.end() : match.end() + 1]
        if after.isalpha() and _ENDS_IN_CONTROL_WORD.search(value):
            value += "{}"
        return value

    return _PARAMETER.sub(argument, body)


def _arguments(source: str, end: int, macro: _Macro, groups: _Groups) -> tuple[list[str], int]:
    """The arguments of one macro use starting at `end`: an [optional] one first when the
    macro has a default, then {groups} or single tokens, as TeX reads undelimited ones."""
    arguments: list[str] = []
    for index in range(macro.arity):
        i = _BLANKS.match(source, end).end()
        if index == 0 and macro.default is not None:
            bracket = _BRACKET_ARGUMENT.match(source, i)
            if bracket is not None:
                arguments.append(bracket.group()[1:-1])
                end = bracket.end()
            else:
                arguments.append(macro.default)
            continue
        group = groups.read(i)
        if group is not None:
            arguments.append(group[0])
            end = group[1]
            continue
        token = _TOKEN.match(source, i)
        if token is None:
            break
        arguments.append(token.group())
        end = token.end()
    return arguments, end


def _abstract_command(groups: _Groups) -> tuple[str, str] | None:
    """The \\abstract{...} command form (APA, some journal classes): its content and span."""
    for match in re.finditer(r"\\abstract\s*+(?=\{)", groups.source):
        group = groups.read(match.end())
        if group is not None:
            return group[0], groups.source[match.start() : group[1]]
    return None


def _first_argument(groups: _Groups, command: str) -> str | None:
    for match in re.finditer(rf"\\{command}\*?\s*+" + _OPT, groups.source):
        group = groups.read(match.end())
        if group is not None:
            return group[0]
    return None


def _authors(groups: _Groups, expand: _Expander) -> tuple[str, ...]:
    names: list[str] = []
    pattern = re.compile(r"\\author\*?\s*+" + _OPT)
    position = 0
    while (match := pattern.search(groups.source, position)) and len(names) < MAX_AUTHORS:
        group = groups.read(match.end())
        if group is None:
            position = match.end()
            continue
        position = group[1]  # an \author inside this one's argument is part of it
        for part in _AUTHOR_SEPARATOR.split(group[0])[: MAX_AUTHORS - len(names)]:
            first_line = part.split("\\\\", 1)[0]  # affiliations follow \\
            name = _one_line(_to_text(expand(first_line)))
            if name:
                names.append(name)
    return tuple(names)


def _replace_commands(
    source: str, pattern: re.Pattern, replace: Callable[[list[str]], str], groups: int
) -> str:
    """Replace each match of `pattern` followed by `groups` brace groups with replace(groups)."""
    braces = _Groups(source)
    out: list[str] = []
    position = 0
    while match := pattern.search(source, position):
        end = match.end()
        arguments = []
        for _ in range(groups):
            group = braces.read(end) if source[end : end + 1] in "{ \t" else None
            if group is None:
                break
            arguments.append(group[0])
            end = group[1]
        out.append(source[position : match.start()])
        out.append(replace(arguments))
        position = end
    out.append(source[position:])
    return "".join(out)


def _drop_arguments(source: str) -> str:
    """Remove each _DROPPED command with its [optional] and {required} arguments, and the
    blanks (and ~) before it."""
    braces = _Groups(source)
    out: list[str] = []
    position = 0
    while match := _DROPPED.search(source, position):
        end = match.end()
        while end < len(source) and source[end] in "[{":
            if source[end] == "[":
                bracket = _BRACKET_ARGUMENT.match(source, end)
                if bracket is None:
                    break
                end = bracket.end()
            else:
                group = braces.read(end)
                if group is None:
                    break
                end = group[1]
        before = source[position : match.start()]
        out.append(before.removesuffix("~").rstrip(" \t"))
        position = end
    out.append(source[position:])
    return "".join(out)


def _items(source: str) -> str:
    """Each \\item starts a line of its own ("- "), without the blank line that would end
    the list."""
    out: list[str] = []
    position = 0
    for item in _ITEM.finditer(source):
        out.append(source[position : item.start()].rstrip())
        label = item.group("label")
        out.append("\n- " if label is None else f"\n- {label} ")
        position = item.end()
    out.append(source[position:])
    return "".join(out)


def _to_text(source: str) -> str:
    """LaTeX body markup to paragraphs of text; math and verbatim blocks come back verbatim."""
    kept: list[str] = []

    def keep(text: str, display: bool) -> str:
        kept.append(text)
        token = f"\x00{len(kept) - 1}\x00"
        return f"\n\n{token}\n\n" if display else token

    source = _substitute_pairs(
        source, _VERBATIM, _end_of_env, lambda _, code, __: keep(code.strip("\n"), True)
    )
    source = _substitute_pairs(
        source, _TIKZPICTURE, _end_of_env, lambda _, code, __: _tikz_labels(code)
    )
    source = _substitute_pairs(source, _DROPPED_ENVS, _end_of_env, lambda *_: "\n\n")
    source = _substitute_pairs(
        source,
        _FLOATS,
        _end_of_env,
        # A float keeps its caption (a paragraph of its own) and a table's cells; graphics go.
        lambda _, inner, __: "\n\n" + _caption_paragraphs(inner) + "\n\n",
    )
    source = _TABULAR.sub("\n", source)
    source = _ESCAPE.sub(lambda m: f"\x01{ord(m.group(1))}\x01", source)
    source = _substitute_pairs(
        source,
        _ALLTT,
        _end_of_env,
        lambda _, inner, __: "\n\n" + inner.replace("$", f"\x01{ord('$')}\x01") + "\n\n",
    )
    source = _replace_commands(source, _INDEX_ENTRY, lambda _: "", 1)
    source = _replace_commands(source, _TEX_OR_PDF, lambda a: a[0] if a else "", 2)
    source = _substitute_pairs(
        source,
        _MATH,
        _math_end,
        lambda opener, _, whole: keep(
            _clean_math(whole, inline=opener.lastgroup in ("paren", "dollar")),
            opener.lastgroup not in ("paren", "dollar"),
        ),
        unbroken=lambda opener: opener.lastgroup in ("paren", "dollar"),
    )
    # after math, which is kept as its source, \tikz in a matrix's \CodeAfter included
    source = _inline_tikz(source)
    source = _replace_commands(source, _SECTION, lambda a: f"\n\n{a[0] if a else ''}\n\n", 1)
    source = _replace_commands(
        source,
        re.compile(r"\\(?:href|textcolor|colorbox)(?![A-Za-z])"),
        lambda a: a[1] if len(a) > 1 else "",
        2,
    )
    source = _replace_commands(
        source, re.compile(r"\\footnote(?![A-Za-z])"), lambda a: f" ({a[0]})" if a else "", 1
    )
    source = _drop_arguments(source)
    source = _ACCENT.sub(_accented, source)
    source = _LETTER.sub(lambda m: _LETTERS[m.group(1)], source)
    source = _items(source)
    source = _LINE_BREAK.sub("\n", source)
    source = re.sub(r"\\par(?![A-Za-z])", "\n\n", source)
    source = _ENV_MARKER.sub("\n", source)
    # Dropping every control word (with an [option]) and then every brace unwraps
    # \textbf{\emph{x}} in one pass, however deep it nests.
    source = _CONTROL_WORD.sub(_control_word, source)
    source = re.sub(r"\\[,;:! ]", " ", source).replace("\\", "")
    source = _ADJACENT_GROUPS.sub("} {", source)
    source = source.replace("{", "").replace("}", "").replace("~", " ").replace("&", " ")
    source = source.replace("``", "\u201c").replace("''", "\u201d")
    source = source.replace("---", "\u2014").replace("--", "\u2013")
    source = _ESCAPED.sub(lambda m: _ESCAPES[chr(int(m.group(1)))], source)
    text = _reflow(source.replace(_KEEP_BLANK, ""))
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], text)


def _tikz_labels(code: str) -> str:
    """What a TikZ picture prints: each node's label, a paragraph of its own (the drawing
    code, styles and coordinates are not text)."""
    groups = _Groups(code)
    labels = []
    position = 0
    while node := _TIKZ_NODE.search(code, position):
        position = node.end()
        group = groups.read(node.end())
        if group is not None:  # a node inside a label (\tikz\node...) is the label's own
            labels.append(group[0])
            position = group[1]
    return "\n\n" + "\n\n".join(labels) + "\n\n"


def _inline_tikz(source: str) -> str:
    """Each \\tikz picture as its node labels: `\\tikz\\fill (0,0) circle (12pt);` prints
    nothing, `\\tikz\\node[warning] {1};` prints 1."""
    groups = _Groups(source)
    out: list[str] = []
    position = 0
    while match := _INLINE_TIKZ.search(source, position):
        group = groups.read(match.end())
        if group is not None:
            code, end = group
        else:
            end = source.find(";", match.end(), match.end() + MAX_INLINE_TIKZ)
            if end < 0 or _PARAGRAPH_BREAK.search(source, match.end(), end):
                # not TikZ code as we know it: left to the passes after this one
                out.append(source[position : match.end()])
                position = match.end()
                continue
            code, end = source[match.end() : end], end + 1
        out.append(source[position : match.start()])
        out.append(" ".join(_tikz_labels(code).split("\n\n")).strip())
        position = end
    out.append(source[position:])
    return "".join(out)


def _control_word(match: re.Match) -> str:
    name = match.group("name")
    printed = _PRINTED.get(name)
    if printed is not None:
        # TeX would skip the blank after \LaTeX too ("\LaTeX is" prints "LaTeXis"); what the
        # author meant is a space, as \LaTeX{} or \LaTeX\ give.
        return printed + (" " if match.group("blank") else "")
    if name in _SPACING:
        return " "
    return ""


def _clean_math(math: str, *, inline: bool) -> str:
    math = _LABEL.sub("", math).replace(_KEEP_BLANK, "")
    math = _ESCAPED.sub(lambda m: "\\" + chr(int(m.group(1))), math)
    if inline:
        return " ".join(math.split())
    return "\n".join(line.rstrip() for line in math.strip().split("\n") if line.strip())


def _caption_paragraphs(float_source: str) -> str:
    return _replace_commands(float_source, _CAPTION, lambda a: f"\n\n{a[0]}\n\n" if a else "", 1)


def _accented(match: re.Match) -> str:
    accent = match.group(1) or match.group(4)
    letter = next(group for group in match.group(2, 3, 5, 6) if group is not None).strip()
    letter = letter.removeprefix("\\")  # \i and \j take the accent in place of their dot
    return unicodedata.normalize("NFC", letter + _ACCENT_MARKS[accent])


def _reflow(source: str) -> str:
    """Join hard-wrapped source lines into paragraphs; list items keep their own lines."""
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", source):
        lines: list[list[str]] = []  # each output line as its source lines, joined once
        for line in block.split("\n"):
            line = " ".join(line.split())
            if not line:
                continue
            if lines and not line.startswith("- ") and not lines[-1][0].startswith("\x00"):
                lines[-1].append(line)
            else:
                lines.append([line])
        joined = "\n".join(" ".join(parts) for parts in lines)
        paragraph = re.sub(r" +([,.;:?!)])", r"\1", joined).strip()
        if paragraph and paragraph != "-":
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _one_line(text: str) -> str:
    return " ".join(text.split())
