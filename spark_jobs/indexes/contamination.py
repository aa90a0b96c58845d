"""Contamination at any length: every benchmark item traced against a mixture's index.

The 13-word flags of spark_jobs/decontaminate.py say whether a curated document shares one
n-gram of a fixed length with an item. This report asks the index of what a model actually
trains on (the mixture's exported tokens, up-sampling included) for each item's longest
verbatim overlap, at any length:

- `longest_tokens`, `longest_text`, `occurrences`: the item's longest span found in the
  training tokens, and how often it occurs there;
- `covered_tokens`: the item's tokens inside some span of at least `min_tokens` tokens;
- `documents`: up to `max_documents` training documents holding the longest span;
- `contaminated`: the longest span covers at least `share` of the item's tokens, or is at
  least `long_tokens` tokens long (a long verbatim passage is a leak even in a long item).

The item's text is its question and answer joined by a space, tokenized with the index's
tokenizer. Rows go to ops.index_contamination, one per item and index build.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from spark_jobs.indexes.query import NgramIndex, locate_mixture_index, open_index
from spark_jobs.lake import Lake

REPORT_TABLE = "ops.index_contamination"
DEFAULT_MIN_TOKENS = 8
DEFAULT_SHARE = 0.5
DEFAULT_LONG_TOKENS = 32
REPORT_SCHEMA = pa.schema(
    [
        ("mixture", pa.string()),
        ("mixture_version", pa.int64()),
        ("index", pa.string()),
        ("benchmark", pa.string()),
        ("item_id", pa.string()),
        ("split", pa.string()),
        ("item_tokens", pa.int64()),
        ("longest_tokens", pa.int64()),
        ("longest_text", pa.string()),
        ("occurrences", pa.int64()),
        ("covered_tokens", pa.int64()),
        ("documents", pa.list_(pa.string())),
        ("contaminated", pa.bool_()),
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class Thresholds:
    min_tokens: int = DEFAULT_MIN_TOKENS
    share: float = DEFAULT_SHARE
    long_tokens: int = DEFAULT_LONG_TOKENS


def item_text(question: str, answer: str) -> str:
    return f"{question} {answer}".strip()


def check_items(
    index: NgramIndex,
    items: pa.Table,
    thresholds: Thresholds = Thresholds(),
    *,
    max_documents: int = 3,
) -> list[dict]:
    """One row per benchmark item (see the module docstring), without the mixture columns."""
    rows = []
    now = datetime.now(UTC)
    for item in items.to_pylist():
        text = item_text(item["question"], item["answer"])
        q, _ = index.encode(text)
        lengths = np.zeros(len(q), dtype=np.int64)
        for shard in index.shards:
            lengths = np.maximum(lengths, shard.longest_matches(q))
        covered = np.zeros(len(q), dtype=bool)
        for start in np.flatnonzero(lengths >= thresholds.min_tokens):
            covered[start : start + lengths[start]] = True
        # The longest span, its count and documents (trace sorts spans longest first).
        trace = index.trace(
            text, max_documents=max_documents, min_tokens=1, max_spans=1, context_tokens=0
        )
        longest = trace.spans[0] if trace.spans else None
        longest_tokens = longest.tokens if longest else 0
        rows.append(
            {
                "benchmark": item["benchmark"],
                "item_id": item["item_id"],
                "split": item["split"],
                "item_tokens": trace.tokens,
                "longest_tokens": longest_tokens,
                "longest_text": longest.text if longest else "",
                "occurrences": longest.count if longest else 0,
                "covered_tokens": int(covered.sum()),
                "documents": [d.id for d in longest.documents] if longest else [],
                "contaminated": bool(
                    longest_tokens >= thresholds.min_tokens
                    and (
                        longest_tokens >= thresholds.share * max(1, trace.tokens)
                        or longest_tokens >= thresholds.long_tokens
                    )
                ),
                "checked_at": now,
            }
        )
    return rows


def contamination_report(
    lake: Lake,
    mixture: str,
    benchmarks: Iterable[str | Path],
    thresholds: Thresholds = Thresholds(),
    *,
    record: bool = True,
) -> pa.Table:
    """Check every benchmark item against the newest index of `mixture`; append the rows
    to ops.index_contamination (unless `record` is false) and return them."""
    from spark_jobs.decontaminate import load_benchmark_items  # pyspark only when used

    location = locate_mixture_index(lake, mixture)
    index = open_index(lake, location)
    items = load_benchmark_items(benchmarks)
    version = index.manifest["mixture"]["version"]
    rows = [
        {"mixture": mixture, "mixture_version": version, "index": index.manifest_uri, **row}
        for row in check_items(index, items, thresholds)
    ]
    table = pa.Table.from_pylist(rows, schema=REPORT_SCHEMA)
    if record and table.num_rows:
        from spark_jobs.delta import write_arrow

        write_arrow(
            table,
            lake.uri(REPORT_TABLE),
            mode="append",
            metadata={f"lineage.input.mixtures.{mixture}": version},
            store=lake.store,
        )
    return table


def summary(report: pa.Table) -> dict[str, dict[str, object]]:
    """Per benchmark: items, contaminated items, and the longest overlap."""
    out: dict[str, dict[str, object]] = {}
    for row in report.to_pylist():
        entry = out.setdefault(
            row["benchmark"], {"items": 0, "contaminated": 0, "longest_tokens": 0}
        )
        entry["items"] += 1
        entry["contaminated"] += int(row["contaminated"])
        entry["longest_tokens"] = max(entry["longest_tokens"], row["longest_tokens"])
    return out


def render(report: pa.Table, limit: int = 10) -> str:
    lines = []
    if report.num_rows:
        first = report.slice(0, 1).to_pylist()[0]
        lines.append(
            f"benchmark items checked against mixtures.{first['mixture']} "
            f"v{first['mixture_version']} (index {first['index']})"
        )
    for benchmark, entry in sorted(summary(report).items()):
        lines.append(
            f"  {benchmark}: {entry['contaminated']}/{entry['items']} contaminated; "
            f"longest overlap {entry['longest_tokens']} tokens"
        )
    worst = sorted(report.to_pylist(), key=lambda r: -r["longest_tokens"])[:limit]
    for row in worst:
        if not row["longest_tokens"]:
            break
        mark = "CONTAMINATED" if row["contaminated"] else "ok"
        lines.append(
            f"  {mark:12} {row['benchmark']}/{row['item_id']}: {row['longest_tokens']} of "
            f"{row['item_tokens']} tokens x{row['occurrences']} in {', '.join(row['documents'])}: "
            f"{row['longest_text'][:80]!r}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spark_jobs.indexes.contamination",
        description="Check benchmark items against a mixture's n-gram index at any length.",
    )
    parser.add_argument("mixture")
    parser.add_argument("--lake", required=True, help="the lake's URI (settings.lake_uri)")
    parser.add_argument(
        "--benchmarks", nargs="+", required=True, help="benchmark .jsonl files or folders"
    )
    parser.add_argument("--min-tokens", type=int, default=DEFAULT_MIN_TOKENS)
    parser.add_argument("--share", type=float, default=DEFAULT_SHARE)
    parser.add_argument("--long-tokens", type=int, default=DEFAULT_LONG_TOKENS)
    parser.add_argument("--json", action="store_true", help="one JSON object per item")
    parser.add_argument("--no-record", action="store_true", help="do not write the table")
    args = parser.parse_args(argv)
    report = contamination_report(
        Lake(args.lake),
        args.mixture,
        args.benchmarks,
        Thresholds(args.min_tokens, args.share, args.long_tokens),
        record=not args.no_record,
    )
    if args.json:
        for row in report.to_pylist():
            row["checked_at"] = row["checked_at"].isoformat()
            print(json.dumps(row, ensure_ascii=False))
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
