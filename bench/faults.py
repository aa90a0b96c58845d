"""The fault suite: hostile inputs, racing writers, SQL attacks and takedowns against the real
readers, Delta layer, SQL guard and lake, with what was expected and what happened.

Each group lives in its own module with `cases(workdir) -> list[dict]` (keys: group, attack,
expected, observed, ok, and where they apply seconds, peak_rss_mb, records_in, records_out):

    landing   bench.faults_landing   links, hard links, devices, names, depth, reader budgets
    records   bench.faults_records   dumps, books and WARCs: bad records, bombs, long lines
    papers    bench.faults_papers    LaTeX blow-ups, tar members, hostile PDFs
    backfill  bench.faults_backfill  a real ingest of mixed hostile + good landing folders
    commits   bench.faults_delta     racing writers, 2 x 50 S3 commits, an unreachable S3
    sql       bench.faults_sql       100+ write attempts through the analyst SQL guard
    takedown  bench.faults_takedown  taken-down text physically gone after a purge

    .venv/bin/python -m bench.faults                    # every group
    .venv/bin/python -m bench.faults --only landing,sql
    .venv/bin/python -m bench.faults --out var/bench/faults.md

Exit status 1 when any case did not end as expected.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

GROUPS = {
    "landing": "bench.faults_landing",
    "records": "bench.faults_records",
    "papers": "bench.faults_papers",
    "backfill": "bench.faults_backfill",
    "commits": "bench.faults_delta",
    "sql": "bench.faults_sql",
    "takedown": "bench.faults_takedown",
}


def run_group(name: str, module: str, workdir: Path) -> list[dict]:
    started = time.monotonic()
    try:
        cases = importlib.import_module(module).cases(workdir)
    except Exception as exc:  # a broken group is a failed row, not a crashed suite
        traceback.print_exc()
        return [
            {
                "group": name,
                "attack": f"{module} raised",
                "expected": "runs",
                "observed": f"{type(exc).__name__}: {exc}"[:200],
                "ok": False,
                "seconds": time.monotonic() - started,
            }
        ]
    for case in cases:
        case.setdefault("group", name)
    return cases


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(rows: list[dict]) -> str:
    header = ["group", "attack", "expected", "observed", "ok", "in", "out", "s", "peak MB"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [
            r.get("group"),
            r.get("attack"),
            r.get("expected"),
            r.get("observed"),
            "yes" if r.get("ok") else "**NO**",
            r.get("records_in"),
            r.get("records_out"),
            r.get("seconds"),
            r.get("peak_rss_mb"),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def totals(rows: list[dict]) -> list[str]:
    by_group: dict[str, list[dict]] = {}
    for r in rows:
        by_group.setdefault(r["group"], []).append(r)
    out = []
    for group, items in by_group.items():
        ok = sum(1 for r in items if r.get("ok"))
        out.append(f"{group}: {ok}/{len(items)} as expected")
    outside = sum(int(r.get("outside_reads") or 0) for r in rows)
    out.append(f"files read outside sources: {outside}")
    balanced = [r for r in rows if r.get("records_in") is not None]
    if balanced:
        unequal = [r for r in balanced if r.get("records_in") != r.get("records_out")]
        line = f"one row out per record in: {len(balanced) - len(unequal)}/{len(balanced)} cases"
        if unequal:
            # A quarantined row group or damaged container is one row for many records, a
            # zero-byte file one row for none: accounted for, but not one row each.
            line += (
                " (the others, one row for a whole container: "
                + "; ".join(
                    f"{r['attack']} {r['records_in']} -> {r['records_out']}" for r in unequal
                )
                + ")"
            )
        out.append(line)
    lost = [r for r in rows if r.get("commits_expected") is not None]
    if lost:
        expected = sum(r["commits_expected"] for r in lost)
        found = sum(r["commits_found"] for r in lost)
        out.append(f"commits lost: {expected - found}/{expected}")
    peaks = [r["peak_rss_mb"] for r in rows if r.get("peak_rss_mb") is not None]
    if peaks:
        out.append(f"largest peak RSS of one case: {max(peaks):.0f} MB")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated groups: " + ",".join(GROUPS))
    parser.add_argument("--out", help="also write the table and totals to this Markdown file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(GROUPS)
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; groups: {', '.join(GROUPS)}")
    workdir = Path(tempfile.mkdtemp(prefix="pilehouse-faults-"))
    load = os.getloadavg()
    print(f"fault suite in {workdir}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rows: list[dict] = []
    started = time.monotonic()
    try:
        for name in chosen:
            print(f"-- {name}", flush=True)
            group_dir = workdir / name
            group_dir.mkdir()
            group_rows = run_group(name, GROUPS[name], group_dir)
            rows.extend(group_rows)
            ok = sum(1 for r in group_rows if r.get("ok"))
            print(f"   {ok}/{len(group_rows)} as expected", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report = [table(rows), "", *[f"- {line}" for line in totals(rows)]]
    report.append(f"- whole suite: {time.monotonic() - started:.0f} s")
    text = "\n".join(report)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0 if all(r.get("ok") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
