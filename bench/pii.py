"""W6 PII detection + redaction: per-type precision/recall on planted entities, throughput per
core, and residual PII after redaction; side by side with datatrove's PIIFormatter (email, IP)
and Presidio's pattern recognizers (no NLP engine), on the same documents.

    python -m bench.pii            # 2,000 documents
    python -m bench.pii --quick    # 200 documents

Documents come from bench.pii_planted: Faker entities in several locales at
known spans, between paragraphs of Python's documentation and technical text that must not
match (versions, dates, hashes, hex, big integers, checksum-invalid cards/IBANs/SSNs, code
naming credentials). A planted entity is found when a predicted span of its type overlaps
it; a predicted span is correct when it overlaps a planted entity of its type (spans over an
entity of a type the tool does not cover are left out of its precision). Throughput is
UTF-8 megabytes per CPU-second of this process (MB/s per core), so a busy machine slows the
wall clock but not the figure much; all tools are timed the same way on the same texts.
"""

from __future__ import annotations

import argparse
import logging
import os
import pydoc_data.topics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bench.pii_planted import PHONE_LOCALES, PlantedDocument, planted_documents
from spark_jobs.annotators.pii import PII_TYPES, PiiSpan, pii_spans, redact

FULL_DOCS = 2000
QUICK_DOCS = 200
RECALL_TARGET = 0.98
PRECISION_TARGET = 0.95
SPEED_TARGET = 20.0  # MB/s per core (issue #10, W6)
# Phone regions Presidio's PhoneRecognizer is given: the planted locales' countries.
PRESIDIO_REGIONS = ("US", "GB", "DE", "FR", "NL", "ES", "BR", "JP", "IT")
assert len(PRESIDIO_REGIONS) == len(PHONE_LOCALES)


@dataclass
class Scores:
    """Matches of one tool against the planted entities, per Pilehouse type."""

    found: Counter[str] = field(default_factory=Counter)  # planted entities found
    planted: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)  # predicted spans that are right
    predicted: Counter[str] = field(default_factory=Counter)

    def add(self, truth: Sequence[PiiSpan], predicted: Iterable[PiiSpan]) -> None:
        predicted = list(predicted)
        for t in truth:
            self.planted[t.type] += 1
            self.found[t.type] += any(_same(t, p) for p in predicted)
        for p in predicted:
            self.predicted[p.type] += 1
            self.correct[p.type] += any(_same(t, p) for t in truth)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.planted[kind] if self.planted[kind] else float("nan")

    def precision(self, kind: str) -> float:
        return self.correct[kind] / self.predicted[kind] if self.predicted[kind] else float("nan")

    def f1(self, kind: str) -> float:
        p, r = self.precision(kind), self.recall(kind)
        return 2 * p * r / (p + r) if p + r else 0.0


def _same(a: PiiSpan, b: PiiSpan) -> bool:
    return a.type == b.type and a.start < b.end and b.start < a.end


@dataclass
class Tool:
    name: str
    covers: tuple[str, ...]  # Pilehouse types the tool detects
    detect: Callable[[str], list[PiiSpan]]
    # What the tool does to a document in a pipeline (detect + redact), for throughput.
    process: Callable[[str], object]
    scores: Scores = field(default_factory=Scores)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


def pilehouse_tool() -> Tool:
    return Tool("pilehouse", PII_TYPES, pii_spans, redact)


def datatrove_tool() -> Tool | None:
    try:
        from datatrove.pipeline.formatters import PIIFormatter
    except ImportError:
        return None
    # Every IP, not only public ones: the planted addresses include private ranges.
    formatter = PIIFormatter(only_remove_public_ips=False)
    emails, ips = formatter.emails_replacer, formatter.ip_replacer

    def detect(text: str) -> list[PiiSpan]:
        spans = [PiiSpan("email", *m.span()) for m in emails.regex.finditer(text)]
        spans += [
            PiiSpan("ipv4", *m.span())
            for m in ips.regex.finditer(text)
            if ips.validator is None or ips.validator(m.group())
        ]
        return spans

    return Tool("datatrove PIIFormatter", ("email", "ipv4"), detect, formatter.format)


# Presidio entity -> Pilehouse type (IP_ADDRESS is split by its form).
_PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "US_SSN": "us_ssn",
    "UK_NINO": "uk_nino",
    "ES_NIF": "es_dni",
    "ES_NIE": "es_dni",
}


def presidio_tool() -> Tool | None:
    try:
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            EsNieRecognizer,
            EsNifRecognizer,
            IbanRecognizer,
            IpRecognizer,
            PhoneRecognizer,
            UkNinoRecognizer,
            UsSsnRecognizer,
        )
    except ImportError:
        return None
    # Presidio's email validation asks tldextract, which tries to download the public suffix
    # list first and falls back to its bundled copy; keep that noise out of the table.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    recognizers = [
        EmailRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        PhoneRecognizer(supported_regions=PRESIDIO_REGIONS),
        IpRecognizer(),
        UsSsnRecognizer(),
        UkNinoRecognizer(),
        EsNifRecognizer(),
        EsNieRecognizer(),
    ]

    def detect(text: str) -> list[PiiSpan]:
        spans = []
        for recognizer in recognizers:
            # No NLP engine: pattern recognizers run their regexes and validators only, and
            # every result counts (the AnalyzerEngine's default score threshold is 0).
            for r in recognizer.analyze(text, recognizer.supported_entities, None):
                if r.entity_type == "IP_ADDRESS":
                    kind = "ipv6" if ":" in text[r.start : r.end] else "ipv4"
                else:
                    kind = _PRESIDIO_TYPES.get(r.entity_type)
                if kind is not None:
                    spans.append(PiiSpan(kind, r.start, r.end))
        return spans

    covers = ("email", "phone", "ipv4", "ipv6", "card", "iban", "us_ssn", "uk_nino", "es_dni")
    return Tool("presidio recognizers", covers, detect, detect)


def _measure(tool: Tool, docs: Sequence[PlantedDocument]) -> None:
    for doc in docs:
        truth = [t for t in doc.spans if t.type in tool.covers]
        # A span over an entity of a type the tool does not cover (an email-like token in
        # https://ghp_...@github.com) is neither right nor wrong for it: left out.
        uncovered = [t for t in doc.spans if t.type not in tool.covers]
        predicted = [
            p
            for p in tool.detect(doc.text)
            if p.type in tool.covers
            and not any(p.start < u.end and u.start < p.end for u in uncovered)
        ]
        tool.scores.add(truth, predicted)
    texts = [doc.text for doc in docs]
    tool.process(texts[0])  # warm-up: lazy imports, compiled patterns
    cpu, wall = time.process_time(), time.perf_counter()
    for text in texts:
        tool.process(text)
    tool.cpu_seconds = time.process_time() - cpu
    tool.wall_seconds = time.perf_counter() - wall


# Faker locales the detector was not tuned on (the planted documents use PHONE_LOCALES).
HELD_OUT_LOCALES = (
    "en_AU", "en_CA", "en_IE", "en_IN", "de_AT", "pl_PL", "sv_SE", "da_DK", "fi_FI", "pt_PT",
    "cs_CZ", "ro_RO", "hu_HU", "el_GR", "ru_RU", "uk_UA", "tr_TR", "he_IL", "ko_KR", "zh_CN",
)  # fmt: skip


def held_out_phone_recall(per_locale: int, seed: int) -> tuple[float, float, int]:
    """Phone recall on Faker numbers of held-out locales, bare digits included: (after a
    keyword, "Call ... today."; without one, "See ... today."; numbers tried)."""
    from faker import Faker

    with_keyword = without = total = 0
    for i, locale in enumerate(HELD_OUT_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed * 100 + i)
        for _ in range(per_locale):
            number = fake.phone_number()
            total += 1
            with_keyword += any(s.type == "phone" for s in pii_spans(f"Call {number} today."))
            without += any(s.type == "phone" for s in pii_spans(f"See {number} today."))
    return with_keyword / total, without / total, total


def clean_text_spans(tool: Tool, texts: Sequence[str]) -> Counter[str]:
    """Spans a tool reports in real text that holds no PII (Python's documentation)."""
    found: Counter[str] = Counter()
    for text in texts:
        found.update(p.type for p in tool.detect(text) if p.type in tool.covers)
    return found


def residual_after_redaction(docs: Sequence[PlantedDocument]) -> tuple[int, int]:
    """(spans the detector still finds in redacted text, planted values still present)."""
    spans = values = 0
    for doc in docs:
        redacted, _ = redact(doc.text)
        spans += len(pii_spans(redacted))
        values += sum(doc.text[t.start : t.end] in redacted for t in doc.spans)
    return spans, values


def _fmt(x: float) -> str:
    return "  -  " if x != x else f"{x:.3f}"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help=f"documents (default {FULL_DOCS})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-peers", action="store_true", help="Pilehouse only")
    args = parser.parse_args(argv)
    count = args.docs or (QUICK_DOCS if args.quick else FULL_DOCS)

    load_before = os.getloadavg()
    docs = planted_documents(count, seed=args.seed)
    mb = sum(len(d.text.encode()) for d in docs) / 1e6
    planted = Counter(t.type for d in docs for t in d.spans)
    skipped_phones = sum(d.excluded_phones for d in docs)
    print(
        f"W6 PII: {count} documents, {mb:.2f} MB, {sum(planted.values())} planted entities "
        f"({len(planted)} types); Faker phone numbers of bare digits not planted: {skipped_phones}"
    )

    tools = [pilehouse_tool()]
    if not args.no_peers:
        tools += [t for t in (datatrove_tool(), presidio_tool()) if t is not None]
    for tool in tools:
        _measure(tool, docs)
    pilehouse = tools[0]
    detect_cpu = time.process_time()
    for doc in docs:
        pii_spans(doc.text)
    detect_cpu = time.process_time() - detect_cpu
    residual_spans, residual_values = residual_after_redaction(docs)
    held_keyword, held_bare, held_total = held_out_phone_recall(
        20 if args.quick else 100, args.seed
    )
    clean = list(pydoc_data.topics.topics.values())
    clean_mb = sum(len(t.encode()) for t in clean) / 1e6
    false_alarms = {tool.name: clean_text_spans(tool, clean) for tool in tools}
    clean_speed = {}
    for tool in tools:
        cpu = time.process_time()
        for text in clean:
            tool.process(text)
        clean_speed[tool.name] = clean_mb / (time.process_time() - cpu)

    names = [t.name for t in tools]
    print()
    print(f"{'type':<13} {'planted':>7}  " + "  ".join(f"{n:>26}" for n in names))
    print(f"{'':<13} {'':>7}  " + "  ".join(f"{'recall  precision  F1':>26}" for _ in names))
    for kind in PII_TYPES:
        cells = []
        for tool in tools:
            s = tool.scores
            cells.append(
                f"{_fmt(s.recall(kind)):>8} {_fmt(s.precision(kind)):>9} {_fmt(s.f1(kind)):>7}"
                if kind in tool.covers
                else f"{'not covered':>26}"
            )
        print(f"{kind:<13} {planted[kind]:>7}  " + "  ".join(f"{c:>26}" for c in cells))
    print()
    print(f"{'tool':<26} {'MB/s/core':>10} {'wall MB/s':>10} {'vs pilehouse':>13}  what is timed")
    for tool in tools:
        speed = mb / tool.cpu_seconds
        what = "detect + redact" if tool is pilehouse else "its own pass"
        if tool.name.startswith("datatrove"):
            what = "format(): find + replace email, IPv4"
        elif tool.name.startswith("presidio"):
            what = "analyze() of 9 recognizers (no redaction)"
        ratio = speed / (mb / pilehouse.cpu_seconds)
        print(
            f"{tool.name:<26} {speed:>10.1f} {mb / tool.wall_seconds:>10.1f} {ratio:>12.2f}x  {what}"
        )
    print(f"{'pilehouse (detect only)':<26} {mb / detect_cpu:>10.1f}")
    print()
    print(
        f"Python's documentation ({len(clean)} topics, {clean_mb:.2f} MB, no PII in it): "
        "spans reported, and MB/s/core on it"
    )
    for name, found in false_alarms.items():
        detail = ", ".join(f"{k} {n}" for k, n in found.most_common()) or "none"
        print(f"  {name:<26} {sum(found.values()):>5} {clean_speed[name]:>8.1f} MB/s  {detail}")
    print()
    print(
        f"pilehouse phone recall on {held_total} Faker numbers of {len(HELD_OUT_LOCALES)} "
        f"locales not used for tuning (bare digits included): {held_keyword:.3f} after a phone "
        f"keyword, {held_bare:.3f} without one"
    )
    recalls = [pilehouse.scores.recall(k) for k in PII_TYPES]
    precisions = [pilehouse.scores.precision(k) for k in PII_TYPES]
    print()
    print(
        f"pilehouse: min recall {min(recalls):.3f} (target {RECALL_TARGET}), min precision "
        f"{min(precisions):.3f} (target {PRECISION_TARGET}), "
        f"{mb / pilehouse.cpu_seconds:.1f} MB/s/core (target {SPEED_TARGET})"
    )
    print(
        f"residual after redaction: {residual_spans} spans found again, "
        f"{residual_values} planted values still in the text (must be 0)"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    figures: dict[str, float] = {
        "pii documents": count,
        "pii MB": round(mb, 3),
        "pilehouse detect+redact MB/s/core": round(mb / pilehouse.cpu_seconds, 2),
        "pilehouse detect MB/s/core": round(mb / detect_cpu, 2),
        "pilehouse min recall": round(min(recalls), 4),
        "pilehouse min precision": round(min(precisions), 4),
        "residual spans after redaction": residual_spans,
        "residual planted values after redaction": residual_values,
        "pilehouse held-out phone recall with keyword": round(held_keyword, 4),
        "pilehouse held-out phone recall without keyword": round(held_bare, 4),
    }
    for kind in PII_TYPES:
        figures[f"pilehouse recall {kind}"] = round(pilehouse.scores.recall(kind), 4)
        figures[f"pilehouse precision {kind}"] = round(pilehouse.scores.precision(kind), 4)
    for tool in tools:
        key = tool.name.split()[0]
        figures[f"{key} spans in clean docs"] = sum(false_alarms[tool.name].values())
        figures[f"{key} clean docs MB/s/core"] = round(clean_speed[tool.name], 2)
    for tool in tools[1:]:
        key = tool.name.split()[0]
        figures[f"{key} MB/s/core"] = round(mb / tool.cpu_seconds, 2)
        for kind in tool.covers:
            figures[f"{key} recall {kind}"] = round(tool.scores.recall(kind), 4)
            figures[f"{key} precision {kind}"] = round(tool.scores.precision(kind), 4)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
