"""What a lake's curated tables hold, as one digest per table: ids and text hashes, order-free.

    python -m bench.lake_digest LAKE                 # prints table, rows, digest
    python -m bench.lake_digest LAKE OTHER_LAKE      # exit 1 when any table differs

For checking that a change moved code without changing behaviour: run the pipeline on the
sample corpus before and after, then compare the two lakes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys

from spark_jobs.delta import read_arrow, table_exists
from spark_jobs.lake import CORPORA, Lake


def lake_digests(lake: Lake) -> dict[str, tuple[int, str]]:
    """curated.<family> -> (rows, sha256 over the sorted `id<TAB>sha256(text)` lines)."""
    digests = {}
    for corpus in CORPORA:
        table = f"curated.{corpus}"
        if not table_exists(lake.uri(table), lake.store):
            continue
        rows = read_arrow(lake.uri(table), columns=["id", "text"], store=lake.store).to_pylist()
        lines = sorted(
            f"{row['id']}\t{hashlib.sha256(row['text'].encode()).hexdigest()}" for row in rows
        )
        digests[table] = (len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest())
    return digests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lake_digest")
    parser.add_argument("lakes", nargs="+", metavar="LAKE", help="a lake root (one or two)")
    args = parser.parse_args(argv)
    digests = [lake_digests(Lake(uri)) for uri in args.lakes[:2]]
    for table in sorted(set().union(*digests)):
        cells = [f"{d[table][0]} rows {d[table][1][:16]}" if table in d else "-" for d in digests]
        same = "" if len(digests) == 1 else ("  same" if len(set(cells)) == 1 else "  DIFFERS")
        print(f"{table:20} " + " | ".join(cells) + same)
    return 1 if len(digests) == 2 and digests[0] != digests[1] else 0


if __name__ == "__main__":
    sys.exit(main())
