"""Rule sets as data (rulesets.yaml): thresholds over stored quality signals.

A rule set is an ordered list of rules; a document's verdict under a rule set is the reason
of the first rule it fails, or None. The same rule data drives the Spark expressions of
spark_jobs.select and the Python `verdict` used by tests and the agreement bench.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULESETS_FILE = Path(__file__).with_name("rulesets.yaml")
OPERATORS = ("<", ">", "flag")


@dataclass(frozen=True)
class Rule:
    reason: str
    signal: str
    fails_if: str
    # A threshold name (looked up in the rule set's thresholds) or a fixed value.
    threshold: str | float | bool


@dataclass(frozen=True)
class RuleSet:
    name: str
    reference: str
    thresholds: Mapping[str, Any]
    rules: tuple[Rule, ...]

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> list[tuple[Rule, Any]]:
        """The enabled rules with their threshold values (defaults updated by `overrides`)."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(self.thresholds)
        if unknown:
            raise ValueError(
                f"rule set {self.name}: unknown thresholds {sorted(unknown)}; "
                f"known: {', '.join(self.thresholds)}"
            )
        values = {**self.thresholds, **overrides}
        resolved = []
        for rule in self.rules:
            value = values[rule.threshold] if isinstance(rule.threshold, str) else rule.threshold
            if value is None or (rule.fails_if == "flag" and not value):
                continue
            resolved.append((rule, value))
        return resolved


def _parse(name: str, raw: Mapping[str, Any]) -> RuleSet:
    thresholds = dict(raw.get("thresholds") or {})
    rules = []
    for entry in raw["rules"]:
        reason, signal, op, threshold = entry
        if op not in OPERATORS:
            raise ValueError(f"rule set {name}: rule {reason} has unknown operator {op!r}")
        if isinstance(threshold, str) and threshold not in thresholds:
            raise ValueError(f"rule set {name}: rule {reason} names unknown {threshold!r}")
        rules.append(Rule(reason, signal, op, threshold))
    return RuleSet(name, raw.get("reference", ""), thresholds, tuple(rules))


@cache
def load_rulesets(path: Path = RULESETS_FILE) -> dict[str, RuleSet]:
    raw = yaml.safe_load(Path(path).read_text())
    return {name: _parse(name, body) for name, body in raw.items()}


def ruleset(name: str) -> RuleSet:
    sets = load_rulesets()
    if name not in sets:
        raise ValueError(f"unknown rule set {name!r}; known: {', '.join(sets)}")
    return sets[name]


def fails(value: Any, op: str, threshold: Any) -> bool:
    if op == "flag":
        return bool(value)
    return value < threshold if op == "<" else value > threshold


def verdict_from_signals(
    signals: Mapping[str, Any], name: str, thresholds: Mapping[str, Any] | None = None
) -> str | None:
    """The reason of the first rule of rule set `name` the signals fail, or None."""
    for rule, value in ruleset(name).resolve(thresholds):
        if fails(signals[rule.signal], rule.fails_if, value):
            return rule.reason
    return None


def verdict(text: str, name: str, thresholds: Mapping[str, Any] | None = None) -> str | None:
    """Annotate `text` and apply rule set `name`: the first failing rule's reason, or None."""
    from spark_jobs.annotators.quality import quality_signals

    return verdict_from_signals(quality_signals(text), name, thresholds)
