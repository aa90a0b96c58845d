"""Configuration files a user edits: YAML read with the line of every key, checked against a
pydantic model, each mistake reported as one line naming the file, the line, the key and what
is allowed (`sources.yaml:12: sources.arxiv.corpus: 'paperz' is not a corpus family; allowed: …`).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, WrapValidator
from pydantic.fields import FieldInfo

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration mistake; its message is the one line a user reads."""

    def __init__(self, file: str, problem: str, *, line: int | None = None, key: str = "") -> None:
        self.file, self.line, self.key, self.problem = file, line, key, problem
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class KeyProblem(ValueError):
    """Raised in a model's validator to place its message at a key below the one validated
    (`KeyProblem("…", "limits", "max_bytes")` from the `options` validator)."""

    def __init__(self, message: str, *at: str | int) -> None:
        super().__init__(message)
        self.at: Loc = at


class ConfigModel(BaseModel):
    """A section of a configuration file: unknown keys are mistakes. A field's `description`
    says what is allowed; fields marked `json_schema_extra=LEGACY` are still read but not
    offered in the list of allowed keys."""

    model_config = ConfigDict(extra="forbid")


LEGACY = {"legacy": True}


def _as_written(value: Any, handler: Any) -> Any:
    checked = handler(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else checked


# A number kept as written (1 stays 1, not 1.0): recipes are hashed as written, and a fingerprint
# must not change because a file was validated.
Number = Annotated[float, WrapValidator(_as_written)]


@dataclass(frozen=True)
class ConfigFile:
    """A parsed configuration file: its data and the line of every key and list item."""

    name: str  # as shown in messages: a path relative to the working directory, or a label
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    @classmethod
    def of(cls, data: Any, origin: str) -> ConfigFile:
        """Data that did not come from a file (built in code); `origin` names it in messages."""
        return cls(origin, data)

    def validate(self, model: type[M]) -> M:
        """The data as `model`, or ConfigError for the mistake found first in the file."""
        try:
            return model.model_validate({} if self.data is None else self.data)
        except ValidationError as error:
            loc, problem = first_problem(model, error, self.lines)
            raise self.error(loc, problem) from None

    def error(self, loc: Loc, problem: str) -> ConfigError:
        return ConfigError(self.name, problem, line=self.line_of(loc), key=dotted(loc))

    def line_of(self, loc: Loc) -> int | None:
        """The line of the key at `loc`, else of its nearest enclosing key that is in the file."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it (as a user typed it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_config(path: str | Path) -> ConfigFile:
    """Parse a YAML file keeping each key's line. Malformed YAML and duplicate keys raise
    ConfigError; a missing file raises FileNotFoundError naming it."""
    path = Path(path)
    name = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: no such file") from None
    except UnicodeDecodeError as error:
        raise ConfigError(name, f"not valid YAML: not UTF-8 text (byte {error.start})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        if node is not None:
            # Before construction, which folds `<<` merge keys into their mappings.
            _record_lines(loader, node, (), lines, name, set())
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "cannot be parsed"
        if "<block" in problem:
            problem += " (check the indentation)"
        line = mark.line + 1 if mark else None
        raise ConfigError(name, f"not valid YAML: {problem}", line=line) from None
    except yaml.YAMLError as error:
        raise ConfigError(name, f"not valid YAML: {error}") from None
    finally:
        loader.dispose()
    return ConfigFile(name, data, lines)


def _record_lines(loader, node, loc: Loc, lines: dict[Loc, int], name: str, path: set) -> None:
    if id(node) in path:  # an alias of an enclosing node: a recursive structure
        return
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue
            line = key_node.start_mark.line + 1
            child = (*loc, key)
            if key in seen:
                raise ConfigError(
                    name, f"duplicate key (first at line {seen[key]})", line=line, key=dotted(child)
                )
            seen[key] = line
            lines[child] = line
            _record_lines(loader, value_node, child, lines, name, path | {id(node)})
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(loader, item, (*loc, index), lines, name, path | {id(node)})


def dotted(loc: Loc) -> str:
    """A key path as written in messages: `sources.arxiv.corpus`, `components[1].weight`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else f".{part}"
    return text.lstrip(".")


def describe(value: Any) -> str:
    """A value as YAML shows it, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def suggestion(word: Any, choices: Sequence[str]) -> str:
    """` (did you mean X?)` for a near miss, else ``."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return [
        name
        for name, info in model.model_fields.items()
        if not (isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("legacy"))
    ]


# What a value failing pydantic's type check should have been.
_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
    "path_type": "a path",
}
_BOUNDS = {
    "greater_than": ("too small", "gt", "greater than"),
    "greater_than_equal": ("too small", "ge", "at least"),
    "less_than": ("too large", "lt", "less than"),
    "less_than_equal": ("too large", "le", "at most"),
}


def first_problem(
    model: type[BaseModel], error: ValidationError, lines: Mapping[Loc, int] | None = None
) -> tuple[Loc, str]:
    """The key and one-line problem of the error that comes first in the file."""
    lines = lines or {}
    details = error.errors()
    # A misspelt key also makes the key it was meant to be missing: report the misspelling.
    misspelt = {tuple(d["loc"][:-1]) for d in details if d["type"] == "extra_forbidden"}
    found = [
        (d["type"] == "missing", problem(model, d))
        for d in details
        if not (d["type"] == "missing" and tuple(d["loc"][:-1]) in misspelt)
    ]

    def position(item: tuple[int, tuple[bool, tuple[Loc, str]]]) -> tuple[bool, int, int]:
        # What is written wrong before what is not written at all, then in file order.
        index, (missing, (loc, _)) = item
        line = next((lines[loc[:end]] for end in range(len(loc), -1, -1) if loc[:end] in lines), 0)
        return missing, line, index

    return min(enumerate(found), key=position)[1][1]


def problem(model: type[BaseModel], detail: Mapping[str, Any]) -> tuple[Loc, str]:
    """One pydantic error as (key path, `what is wrong; allowed: …`)."""
    loc: Loc = tuple(detail["loc"])
    kind, value = detail["type"], detail.get("input")
    if kind in ("value_error", "assertion_error"):
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, KeyProblem):
            return (*loc, *cause.at), str(cause)
        return loc, str(cause) if cause is not None else detail["msg"]
    if "[key]" in loc:
        at = loc.index("[key]")
        return loc[:at], f"the key {describe(loc[at - 1])} is not text; keys are names"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        keys = allowed_keys(owner) if owner else []
        return loc, f"unknown key{suggestion(loc[-1], keys)}; allowed: {', '.join(keys)}"
    info = _field_at(model, loc)
    allowed = info.description if info is not None else None
    if kind == "missing":
        return loc, "required key missing" + (f"; allowed: {allowed}" if allowed else "")
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
        owner = _model_at(model, loc)
        if expected == "a mapping" and owner is not None and not allowed:
            allowed = f"a mapping with keys {', '.join(allowed_keys(owner))}"
        return loc, f"{describe(value)} is not {expected}" + (
            f"; allowed: {allowed}" if allowed else ""
        )
    if kind in _BOUNDS:
        what, bound, words = _BOUNDS[kind]
        limit = (detail.get("ctx") or {}).get(bound)
        return loc, f"{describe(value)} is {what}; allowed: {allowed or f'{words} {limit}'}"
    if kind == "literal_error":
        expected = (detail.get("ctx") or {}).get("expected", "")
        noun = info.title if info is not None and info.title else "allowed"
        return loc, f"{describe(value)} is not {noun}; allowed: {allowed or expected}"
    if kind == "too_short":
        return loc, "must not be empty" + (f"; allowed: {allowed}" if allowed else "")
    return loc, detail["msg"] + (f"; allowed: {allowed}" if allowed else "")


def _unwrap(annotation: Any) -> Any:
    """The type inside Annotated[...] and Optional[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _walk(model: type[BaseModel], loc: Loc) -> tuple[FieldInfo | None, Any]:
    """The field a key path ends on (None for a mapping value or list item) and its type."""
    annotation: Any = model
    info: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(part) if isinstance(part, str) else None
            if info is None:
                return None, None
            annotation = info.annotation
            continue
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin in (dict, Mapping) and len(args) == 2:
            annotation = args[1]
        elif origin in (list, tuple, Sequence) and args:
            annotation = args[0]
        else:
            return None, None
        info = None
    return info, _unwrap(annotation)


def _field_at(model: type[BaseModel], loc: Loc) -> FieldInfo | None:
    return _walk(model, loc)[0]


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    annotation = _walk(model, loc)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
