"""The bounds of the quality suites (bounds.yaml), and the distribution bounds each source
learns from its own history.

Distribution bounds are not fixed numbers: a source's removal rates, language shares and
length quantiles are held to the range its own accepted versions showed (quality.profiles),
widened by a tolerance and by the sampling noise of a statistic over `n` documents. A source
with no history yet is held only to the first-version ceilings.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

BOUNDS_FILE = Path(__file__).with_name("bounds.yaml")

# Kinds of measure (quality.measures.source_profile): rates and shares live in [0, 1].
REMOVAL = "removal"
LANGUAGE_SHARE = "language_share"
BYTE_LENGTH = "byte_length"
RATE_KINDS = (REMOVAL, LANGUAGE_SHARE)
# The upper bound of a measure that is not bounded (a finite number: it is stored and shown).
UNBOUNDED = 1e18


def load_bounds(table: str, path: str | Path = BOUNDS_FILE) -> dict[str, Any]:
    """The bounds for one table: defaults with the table's own overrides applied.

    Read on every call, so a tuned bound applies to the next check without a restart.
    """
    raw = yaml.safe_load(Path(path).read_text())
    distribution = raw["distribution"]
    pii = raw["pii"]
    return {
        "documents": raw["documents"],
        "distribution": {**distribution["default"], **distribution.get(table, {})},
        "pii": pii.get(table, pii["default"]),
    }


def pandas_max_bytes(path: str | Path = BOUNDS_FILE) -> int:
    """The biggest table (bytes of its Delta files) whose checks run on GX's pandas engine."""
    return int(yaml.safe_load(Path(path).read_text())["engine"]["pandas_max_bytes"])


@dataclass(frozen=True)
class Measure:
    """One statistic of one source in one table version: e.g. (web-crawl, removal,
    'curate: language_not_allowed', 0.21, n=1800) - the share of the curate stage's 1,800
    input documents that the language rule removed."""

    source: str
    kind: str
    key: str
    value: float
    n: int  # documents the statistic is over (its sample size)
    version: int = -1  # the table version it was measured on (history rows)

    @property
    def name(self) -> str:
        return f"{self.source}: {self.kind} {self.key}"


@dataclass(frozen=True)
class Judged:
    """A measure with the bounds it is held to and where they come from."""

    measure: Measure
    low: float
    high: float
    basis: str

    @property
    def within(self) -> bool:
        return self.low <= self.measure.value <= self.high


def _noise(p: float, n: int) -> float:
    """The standard error of a share over n documents, p smoothed (Laplace) so that a rate the
    history never saw (p = 0) still allows the odd document at small n."""
    smoothed = (p * n + 1) / (n + 2)
    return math.sqrt(smoothed * (1 - smoothed) / max(n, 1))


def _fill_missing(
    measures: Sequence[Measure], history: Sequence[Measure]
) -> tuple[list[Measure], dict[str, list[int]]]:
    """Every rate or share that the history saw but this version lacks, as value 0 (a language
    that vanished, a rule that stopped firing), with the n of its kind; and per source the
    history versions seen."""
    versions: dict[str, set[int]] = defaultdict(set)
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for old in history:
        versions[old.source].add(old.version)
        if old.kind in RATE_KINDS:
            seen[old.source].add((old.kind, old.key))
    present = {(m.source, m.kind, m.key) for m in measures}
    sizes: dict[tuple[str, str, str], int] = {}
    for m in measures:
        group = m.key.split(":")[0] if m.kind == REMOVAL else ""
        sizes[(m.source, m.kind, group)] = max(sizes.get((m.source, m.kind, group), 0), m.n)
    filled = list(measures)
    for source, keys in seen.items():
        for kind, key in sorted(keys):
            group = key.split(":")[0] if kind == REMOVAL else ""
            n = sizes.get((source, kind, group))
            if n and (source, kind, key) not in present:
                filled.append(Measure(source, kind, key, 0.0, n))
    return filled, {s: sorted(v) for s, v in versions.items()}


def judge_measures(
    measures: Sequence[Measure], history: Iterable[Measure], settings: Mapping[str, Any]
) -> list[Judged]:
    """Each measure with the bounds its source's history sets (bounds.yaml `distribution`).

    - rates and shares: [min(history) - slack, max(history) + slack] within [0, 1], slack =
      `rate_tolerance` + `noise_z` standard errors of a share over this version's n documents;
      a rate or share missing from a version counts as 0 there;
    - byte-length quantiles: [min(history) / length_factor, max(history) * length_factor],
      judged from `min_documents` documents up;
    - a source without accepted history (its first version): removal rates at most the
      `first_version` ceilings, from `min_documents` documents up (a stage's ceiling is raised
      by its `policy_reasons` removals, which keep their own rule ceilings); nothing else is
      bounded.
    """
    history = list(history)
    measures, versions = _fill_missing(measures, history)
    by_measure: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    for old in history:
        by_measure[(old.source, old.kind, old.key)][old.version] = old.value
    tolerance = float(settings["rate_tolerance"])
    z = float(settings["noise_z"])
    factor = float(settings["length_factor"])
    min_documents = int(settings["min_documents"])
    first = settings["first_version"]["max_removal_rate"]
    # Removals a source's owner chose (languages the recipe refuses, licences, opt-outs) do
    # not count against a first version's stage ceiling: a multilingual crawl curated for
    # one language is not broken. Each such reason keeps its own rule ceiling.
    policy = set(settings["first_version"].get("policy_reasons", ()))
    chosen: dict[tuple[str, str], float] = defaultdict(float)
    for m in measures:
        if m.kind == REMOVAL:
            stage, reason = (part.strip() for part in m.key.split(":", 1))
            if reason in policy:
                chosen[(m.source, stage)] += m.value
    judged = []
    for m in measures:
        seen_versions = versions.get(m.source, [])
        if m.kind in RATE_KINDS and seen_versions:
            if m.kind == LANGUAGE_SHARE and not settings["language_shares"]:
                judged.append(Judged(m, 0.0, 1.0, "language shares not judged for this table"))
                continue
            values = [by_measure[(m.source, m.kind, m.key)].get(v, 0.0) for v in seen_versions]
            slack = tolerance + z * _noise(sum(values) / len(values), m.n)
            low, high = max(0.0, min(values) - slack), min(1.0, max(values) + slack)
            basis = f"learned from {len(values)} accepted version(s), slack {slack:.3f}"
            judged.append(Judged(m, round(low, 6), round(high, 6), basis))
        elif m.kind == BYTE_LENGTH and seen_versions:
            values = list(by_measure[(m.source, m.kind, m.key)].values())
            if not values or m.n < min_documents:
                judged.append(
                    Judged(
                        m,
                        0.0,
                        UNBOUNDED,
                        f"not judged: fewer than {min_documents} documents or no history",
                    )
                )
                continue
            basis = f"learned from {len(values)} accepted version(s), factor {factor:g}"
            judged.append(Judged(m, min(values) / factor, max(values) * factor, basis))
        elif m.kind == REMOVAL and m.n >= min_documents:
            stage, reason = (part.strip() for part in m.key.split(":", 1))
            ceiling = (
                first["stages"].get(stage, 1.0)
                if reason == "*"
                else first["rules"].get(reason, first["rules"]["default"])
            )
            basis = "first version: ceiling"
            if reason == "*" and chosen[(m.source, stage)]:
                ceiling = min(1.0, float(ceiling) + chosen[(m.source, stage)])
                basis = "first version: ceiling (policy removals not counted)"
            judged.append(Judged(m, 0.0, round(float(ceiling), 6), basis))
        else:
            few = m.kind == REMOVAL or seen_versions
            why = f"fewer than {min_documents} documents" if few else "first version"
            judged.append(
                Judged(m, 0.0, 1.0 if m.kind in RATE_KINDS else UNBOUNDED, f"not judged: {why}")
            )
    return judged
