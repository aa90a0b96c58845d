r"""LaTeX sources to plain text: find the main file among a paper's .tex files, resolve
\input/\include, strip comments and the preamble, expand argument-free macros, and keep math
(inline and display) as LaTeX source, since models learn the notation itself."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# Stems that name the main file when more than one file could be it.
MAIN_STEMS = ("main", "ms", "paper", "article", "manuscript")
MAX_INPUT_DEPTH = 16
MAX_MACRO_PASSES = 5

_DOCUMENTCLASS = re.compile(r"\\document(?:class|style)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
# A % that starts a comment: preceded by an even number (zero included) of backslashes.
_COMMENT = re.compile(r"(?<!\\)(?:\\\\)*%")
_COMMENT_BLOCKS = re.compile(
    r"\\begin\{comment\}.*?\\end\{comment\}|\\iffalse\b.*?\\fi\b", re.DOTALL
)
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*\{\s*([^}]+?)\s*\}|\\input\s+([^\s{}\\%]+)")
_DEFINITION = re.compile(
    r"\\(?P<kind>(?:re)?newcommand|providecommand|def|DeclareMathOperator)\*?\s*"
    r"(?:\{\s*\\(?P<braced>[A-Za-z@]+)\s*\}|\\(?P<bare>[A-Za-z@]+))"
    r"\s*(?:\[\s*(?P<arity>\d)\s*\])?\s*(?:\[[^\]]*\])?\s*(?P<params>(?:#\d)*)\s*"
)
_MATH_ENVS = r"equation|align|gather|multline|eqnarray|displaymath|flalign|alignat|math"
_MATH = re.compile(
    r"(?P<display>\$\$.+?\$\$"
    r"|(?<!\\)\\\[.+?\\\]"
    r"|\\begin\{(?P<env>(?:" + _MATH_ENVS + r")\*?)\}.*?\\end\{(?P=env)\})"
    r"|(?P<inline>(?<!\\)\\\(.+?\\\)|(?<!\\)\$(?:\\.|[^$\\])+?\$)",
    re.DOTALL,
)
_VERBATIM = re.compile(
    r"\\begin\{(?P<env>verbatim\*?|lstlisting|minted)\}(?:\[[^\]]*\])?(?:\{[^}]*\})?"
    r"(?P<code>.*?)\\end\{(?P=env)\}",
    re.DOTALL,
)
_DROPPED_ENVS = re.compile(
    r"\\begin\{(?P<env>thebibliography|tabular[x*]?|tikzpicture|picture|filecontents\*?)\}"
    r".*?\\end\{(?P=env)\}",
    re.DOTALL,
)
_FLOATS = re.compile(
    r"\\begin\{(?P<env>(?:figure|table|wrapfigure)\*?)\}.*?\\end\{(?P=env)\}", re.DOTALL
)
_ABSTRACT = re.compile(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", re.DOTALL)
_SECTION = re.compile(
    r"\\(?:part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\*?\s*"
    r"(?:\[[^\]]*\])?\s*(?=\{)"
)
# Commands dropped with their arguments: references, layout, front matter already read.
_DROPPED = re.compile(
    r"[ \t]*~?\\(?:cite[a-zA-Z]*|nocite|ref|eqref|autoref|[cC]ref|pageref|label|bibliography"
    r"|bibliographystyle|includegraphics|thanks|vspace|hspace|addcontentsline|setcounter"
    r"|addtocounter|setlength|title|author|date|affiliation|affil|institute|inst|email|address"
    r"|keywords|orcid|footnotemark"
    r"|maketitle|tableofcontents|newpage|clearpage|usepackage)\*?(?![A-Za-z@])"
)
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
}
_ACCENT = re.compile(
    r"\\([\'`^\"~=.])\s*(?:\{\s*([A-Za-z])\s*\}|([A-Za-z]))|\\([cvuH])\s*\{([A-Za-z])\}"
)
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ"}
_LETTERS |= {"oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "i": "\u0131"}
_LETTER = re.compile(
    r"\\(" + "|".join(sorted(_LETTERS, key=len, reverse=True)) + r")(?![A-Za-z])\s?"
)
_ESCAPES = {"%": "%", "&": "&", "#": "#", "_": "_", "$": "$", "{": "{", "}": "}"}
_ESCAPE = re.compile(r"\\([%&#_${}])")
_UNWRAP = re.compile(r"\\[A-Za-z@]+\*?(?:\[[^\[\]{}]*\])?\{([^{}]*)\}")
_ENV_MARKER = re.compile(r"\\(?:begin|end)\s*\{[^}]*\}(?:\[[^\]]*\])?")
_CONTROL_WORD = re.compile(r"\\[A-Za-z@]+\*?(?:\[[^\[\]]*\])?")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


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
    \\begin{document}.
    """
    stripped = {name: strip_comments(source) for name, source in files.items()}
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
    end = _END_DOCUMENT.search(source, begin.end())
    preamble, macros = _take_definitions(source[: begin.start()])
    body, body_macros = _take_definitions(source[begin.end() : end.start() if end else None])
    macros |= body_macros
    front = preamble + "\n" + body
    title = _first_argument(front, "title")
    authors = _authors(front, macros)
    abstract_match = _ABSTRACT.search(front)
    if abstract_match:
        body = body.replace(abstract_match.group(0), "\n\n")
    abstract = _to_text(_expand(abstract_match.group(1), macros)) if abstract_match else ""
    text = _to_text(_expand(body, macros))
    if abstract:
        text = f"Abstract\n\n{abstract}\n\n{text}".strip()
    return LatexResult(
        main_file=main,
        title=_one_line(_to_text(_expand(title, macros))) if title else None,
        authors=authors,
        abstract=abstract or None,
        text=text,
        missing_inputs=tuple(missing),
    )


def strip_comments(source: str) -> str:
    """Source without % comments, comment environments and \\iffalse blocks.

    A line that held only a comment disappears with its newline, as in TeX, so it cannot
    split a paragraph in two.
    """
    lines = []
    for line in source.replace("\r\n", "\n").split("\n"):
        match = _COMMENT.search(line)
        if match is None:
            lines.append(line)
        elif line[: match.end() - 1].strip():
            lines.append(line[: match.end() - 1].rstrip())
    return _COMMENT_BLOCKS.sub("", "\n".join(lines))


def find_main_file(files: dict[str, str]) -> str | None:
    """The file to compile: it has \\documentclass and \\begin{document}; among several,
    prefer a real document class over `standalone` figures, then a conventional name
    (main.tex, ms.tex...), then the shallowest path, then the longest source."""
    candidates = [
        name
        for name, source in files.items()
        if _DOCUMENTCLASS.search(source) and _BEGIN_DOCUMENT.search(source)
    ]
    if not candidates:
        return None

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


def _resolve_inputs(
    name: str, files: dict[str, str], root: str, seen: set[str], missing: list[str], depth: int
) -> str:
    def include(match: re.Match) -> str:
        target = (match.group(1) or match.group(2)).strip()
        found = _find_file(target, posixpath.dirname(name), root, files)
        if found is None:
            missing.append(target)
            return ""
        if found in seen or depth >= MAX_INPUT_DEPTH:  # a cycle: TeX would loop forever
            return ""
        inner = _resolve_inputs(found, files, root, seen | {found}, missing, depth + 1)
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


def _take_definitions(source: str) -> tuple[str, dict[str, str]]:
    """The source without macro definitions, and the argument-free macros it defines."""
    macros: dict[str, str] = {}
    kept: list[str] = []
    position = 0
    while match := _DEFINITION.search(source, position):
        group = _read_group(source, match.end())
        if group is None:  # a form we do not parse (\def\a\b...): leave it as it is
            kept.append(source[position : match.end()])
            position = match.end()
            continue
        body, end = group
        kept.append(source[position : match.start()])
        arity = int(match.group("arity") or 0) + len(match.group("params")) // 2
        name = match.group("braced") or match.group("bare")
        if match.group("kind") == "DeclareMathOperator":
            macros[name] = f"\\operatorname{{{body}}}"
        elif arity == 0:
            macros[name] = body
        position = end
    kept.append(source[position:])
    return "".join(kept), macros


def _expand(source: str, macros: dict[str, str]) -> str:
    if not macros or not source:
        return source
    names = "|".join(re.escape(name) for name in sorted(macros, key=len, reverse=True))
    pattern = re.compile(rf"\\({names})(?![A-Za-z@])")
    for _ in range(MAX_MACRO_PASSES):  # macros that use macros
        expanded = pattern.sub(lambda m: macros[m.group(1)], source)
        if expanded == source:
            break
        source = expanded
    return source


def _read_group(source: str, start: int) -> tuple[str, int] | None:
    """The content of the brace group at `start` (whitespace skipped) and the index after it."""
    i = start
    while i < len(source) and source[i] in " \t\n":
        i += 1
    if i >= len(source) or source[i] != "{":
        return None
    depth = 0
    j = i
    while j < len(source):
        char = source[j]
        if char == "\\":
            j += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return source[i + 1 : j], j + 1
        j += 1
    return None  # unbalanced to the end of the file


def _first_argument(source: str, command: str) -> str | None:
    for match in re.finditer(rf"\\{command}\*?\s*(?:\[[^\]]*\])?", source):
        group = _read_group(source, match.end())
        if group is not None:
            return group[0]
    return None


def _authors(source: str, macros: dict[str, str]) -> tuple[str, ...]:
    names: list[str] = []
    for match in re.finditer(r"\\author\*?\s*(?:\[[^\]]*\])?", source):
        group = _read_group(source, match.end())
        if group is None:
            continue
        for part in re.split(r"\\and\b|\\AND\b|,\s*(?=[A-Z])", group[0]):
            first_line = re.split(r"\\\\", part, maxsplit=1)[0]  # affiliations follow \\
            name = _one_line(_to_text(_expand(first_line, macros)))
            if name:
                names.append(name)
    return tuple(names)


def _replace_commands(
    source: str, pattern: re.Pattern, replace: Callable[[list[str]], str], groups: int
) -> str:
    """Replace each match of `pattern` followed by `groups` brace groups with replace(groups)."""
    out: list[str] = []
    position = 0
    while match := pattern.search(source, position):
        end = match.end()
        arguments = []
        for _ in range(groups):
            group = _read_group(source, end) if source[end : end + 1] in "{ \t" else None
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
    """Remove each _DROPPED command with its [optional] and {required} arguments."""
    out: list[str] = []
    position = 0
    while match := _DROPPED.search(source, position):
        end = match.end()
        while end < len(source) and source[end] in "[{":
            if source[end] == "[":
                close = source.find("]", end)
                if close < 0:
                    break
                end = close + 1
            else:
                group = _read_group(source, end)
                if group is None:
                    break
                end = group[1]
        out.append(source[position : match.start()])
        position = end
    out.append(source[position:])
    return "".join(out)


def _to_text(source: str) -> str:
    """LaTeX body markup to paragraphs of text; math and verbatim blocks come back verbatim."""
    kept: list[str] = []

    def keep(text: str, display: bool) -> str:
        kept.append(text)
        token = f"\x00{len(kept) - 1}\x00"
        return f"\n\n{token}\n\n" if display else token

    source = _VERBATIM.sub(lambda m: keep(m.group("code").strip("\n"), True), source)
    source = _DROPPED_ENVS.sub("\n\n", source)
    source = _FLOATS.sub(lambda m: "\n\n" + "\n\n".join(_captions(m.group(0))) + "\n\n", source)
    source = _ESCAPE.sub(lambda m: f"\x01{ord(m.group(1))}\x01", source)
    source = _MATH.sub(lambda m: keep(_clean_math(m), m.group("display") is not None), source)
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
    # An item starts a line of its own, without the blank line that would end the list.
    source = re.sub(r"\s*\\item\s*\[([^\]]*)\]", r"\n- \1 ", source)
    source = re.sub(r"\s*\\item(?![A-Za-z])", "\n- ", source)
    source = re.sub(r"\\\\\*?(?:\[[^\]]*\])?|\\newline(?![A-Za-z])", "\n", source)
    source = re.sub(r"\\par(?![A-Za-z])", "\n\n", source)
    source = _ENV_MARKER.sub("\n", source)
    while (unwrapped := _UNWRAP.sub(r"\1", source)) != source:
        source = unwrapped
    source = _CONTROL_WORD.sub("", source)
    source = re.sub(r"\\[,;:! ]", " ", source).replace("\\", "")
    source = source.replace("{", "").replace("}", "").replace("~", " ")
    source = source.replace("``", "\u201c").replace("''", "\u201d")
    source = source.replace("---", "\u2014").replace("--", "\u2013")
    source = re.sub("\x01(\\d+)\x01", lambda m: _ESCAPES[chr(int(m.group(1)))], source)
    text = _reflow(source)
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], text)


def _clean_math(match: re.Match) -> str:
    math = re.sub(r"\\label\s*\{[^}]*\}", "", match.group(0))
    math = re.sub("\x01(\\d+)\x01", lambda m: "\\" + chr(int(m.group(1))), math)
    if match.group("inline") is not None:
        return " ".join(math.split())
    return "\n".join(line.rstrip() for line in math.strip().split("\n") if line.strip())


def _captions(float_source: str) -> list[str]:
    captions = []
    for match in re.finditer(r"\\caption\*?\s*(?:\[[^\]]*\])?", float_source):
        group = _read_group(float_source, match.end())
        if group is not None:
            captions.append(group[0])
    return captions


def _accented(match: re.Match) -> str:
    accent = match.group(1) or match.group(4)
    letter = match.group(2) or match.group(3) or match.group(5)
    return unicodedata.normalize("NFC", letter + _ACCENT_MARKS[accent])


def _reflow(source: str) -> str:
    """Join hard-wrapped source lines into paragraphs; list items keep their own lines."""
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", source):
        lines: list[str] = []
        for line in block.split("\n"):
            line = " ".join(line.split())
            if not line:
                continue
            if lines and not line.startswith("- ") and not lines[-1].startswith("\x00"):
                lines[-1] = f"{lines[-1]} {line}"
            else:
                lines.append(line)
        paragraph = re.sub(r" +([,.;:?!)])", r"\1", "\n".join(lines)).strip()
        if paragraph and paragraph != "-":
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _one_line(text: str) -> str:
    return " ".join(text.split())
