"""The annotators the annotate stage runs, in the order of their columns.

An annotator is one small class next to the function it wraps: its name, a version (bump it
when a value it writes changes, so tables say which code made them), the columns it adds with
their Arrow types, and `annotate(texts)` returning one Arrow array per column. The annotate
stage (spark_jobs.annotate) composes the registered ones, as dolma composes its taggers and
datatrove its steps. Adding a signal is one file with its annotator class, listed here.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

# "module:Class", in column order (the annotated tables' schema follows it).
ANNOTATORS = (
    "spark_jobs.annotators.language:LanguageAnnotator",
    "spark_jobs.annotators.script:ScriptAnnotator",
    "spark_jobs.annotators.quality:QualitySignalsAnnotator",
    "spark_jobs.annotators.text_hash:TextHashAnnotator",
    "spark_jobs.annotators.pii_counts:PiiCountsAnnotator",
)


@dataclass(frozen=True)
class Column:
    """One output column: its name, Arrow type (never null) and what it holds."""

    name: str
    type: pa.DataType
    doc: str


class Annotator(ABC):
    """Adds columns computed from each document's text; one value per document, never null."""

    name: str
    version: str
    columns: tuple[Column, ...]

    @abstractmethod
    def annotate(self, texts: list[str]) -> dict[str, pa.Array]:
        """One array per declared column, aligned with `texts` (None texts come as "")."""


def struct_of(fields: dict[str, pa.DataType]) -> pa.StructType:
    """A struct column type whose fields are never null."""
    return pa.struct([pa.field(name, kind, nullable=False) for name, kind in fields.items()])


@cache
def registered() -> tuple[Annotator, ...]:
    """An instance of every annotator of ANNOTATORS, in order."""
    out = []
    for spec in ANNOTATORS:
        module, _, cls = spec.partition(":")
        out.append(getattr(importlib.import_module(module), cls)())
    owners: dict[str, str] = {}
    for annotator in out:
        for column in annotator.columns:
            if column.name in owners:
                raise ValueError(
                    f"annotators {owners[column.name]!r} and {annotator.name!r} declare the same "
                    f"column {column.name!r}; rename one (spark_jobs/annotators/registry.py)"
                )
            owners[column.name] = annotator.name
    return tuple(out)


def columns() -> tuple[Column, ...]:
    """Every column the annotate stage adds, in order."""
    return tuple(c for a in registered() for c in a.columns)


def versions() -> dict[str, str]:
    """annotator name -> version: recorded with every annotated commit."""
    return {a.name: a.version for a in registered()}
