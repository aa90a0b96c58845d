"""The in-memory measures (quality.measures' `*_rows`, what a small table's suite validates)
give the rows Spark's measures give, on the cases where they could part: null sources and
licenses, blank and null reasons, ties, documents in no outcome or two, and quantiles at
ranks where q * n is not exact in floating point."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyspark.sql import functions as F

from quality import measures
from quality.suites import license_shares, with_license_class, with_license_class_rows

pytestmark = pytest.mark.spark

REMOVED = "id string, corpus string, source string, stage string, reason string"


def _frame(spark, table: pa.Table):
    return spark.createDataFrame(table)


def _by_id(table: pa.Table) -> dict:
    return {row["id"]: row for row in table.to_pylist()}


def test_balance_and_ledger_match_spark(spark):
    raw = pa.table(
        {
            "id": ["a", "b", "c", "d", "e", "f", None],
            "source": ["s1", "s1", "s2", None, "s2", "s3", "s1"],
        }
    )
    kept = pa.table({"id": ["a", "c", "c", "x", None], "source": ["s1", "s2", "s2", None, "s2"]})
    rejects = pa.table(
        {
            "id": ["b", "d", "e", "g", "h", "a"],
            "corpus": ["web"] * 6,
            "source": ["s1", None, "s2", "s3", "s1", "s1"],
            "stage": ["curate", "curate", "ingest", None, "curate", "curate"],
            "reason": ["dup", "  ", None, "lang", "\tx", "dup"],
        }
    )
    quarantine = pa.table(
        {
            "id": ["q1", "q2"],
            "corpus": ["web", "web"],
            "source": ["s3", "s4"],
            "stage": ["ingest", "ingest"],
            "reason": ["bad", "bad"],
        }
    )
    frames = [_frame(spark, t) for t in (raw, kept, rejects, quarantine)]

    balance = measures.source_balance(*frames).orderBy("source").toArrow()
    assert measures.source_balance_rows(raw, kept, rejects, quarantine).to_pylist() == (
        balance.to_pylist()
    )

    curate = rejects.filter(pc.equal(rejects["stage"], "curate"))
    ledger = measures.outcome_ledger(
        frames[0], frames[1], frames[2].where(F.col("stage") == "curate")
    ).toArrow()
    mine = measures.outcome_ledger_rows(raw, kept, curate)
    assert mine.schema.names == ledger.schema.names
    # Null ids join nothing: the null input and the null outcome stay two rows.
    assert sorted((r["inputs"], r["outcomes"]) for r in mine.to_pylist() if r["id"] is None) == [
        (0, 1),
        (1, 0),
    ]
    assert sorted(map(repr, mine.filter(pc.is_null(mine["id"])).to_pylist())) == sorted(
        map(repr, ledger.filter(pc.is_null(ledger["id"])).to_pylist())
    )
    theirs = _by_id(ledger.filter(pc.is_valid(ledger["id"])))
    ours = _by_id(mine.filter(pc.is_valid(mine["id"])))
    assert ours.keys() == theirs.keys()
    for id_, row in theirs.items():
        # The order collect_list gathers outcomes in is Spark's to choose.
        assert {**ours[id_], "ended_in": sorted(ours[id_]["ended_in"].split(", "))} == {
            **row,
            "ended_in": sorted(row["ended_in"].split(", ")),
        }, id_


def test_license_classes_and_shares_match_spark(spark):
    licenses = ["MIT", "GPL-3.0-only", None, "MIT OR GPL-2.0", "NOASSERTION", None, "CC0-1.0"]
    licenses += ["GPL-3.0-only", "CC0-1.0", "MIT"]
    table = pa.table({"id": [str(i) for i in range(len(licenses))], "license": licenses})
    frame = _frame(spark, table)
    assert with_license_class_rows(table).to_pylist() == (
        with_license_class(frame).toArrow().to_pylist()
    )
    allowed = ("permissive", "public_domain")
    ours = measures.license_shares_rows(table["license"], allowed).to_pylist()
    assert ours == license_shares(frame, allowed).toArrow().to_pylist()
    # Most documents first, ties by license with null first.
    order = [None, "CC0-1.0", "GPL-3.0-only", "MIT", "MIT OR GPL-2.0", "NOASSERTION"]
    assert [r["license"] for r in ours] == order
    assert [r["allowed"] for r in ours] == [None, True, False, True, True, False]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 30, 70, 101, 997, 4999])
def test_quantiles_are_spark_percentile_approx(spark, n):
    rng = random.Random(n)
    values = [rng.randint(1, 50) if n % 2 else rng.randint(1, 10**6) for _ in range(n)]
    qs = [0.00005, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 0.99, 0.99995]
    frame = spark.createDataFrame([(v,) for v in values], "byte_length long").repartition(3)
    theirs = frame.agg(F.percentile_approx("byte_length", qs, 10000).alias("v")).first()["v"]
    assert [measures.spark_quantile(sorted(values), q) for q in qs] == theirs


def test_source_profile_matches_spark(spark):
    rng = random.Random(7)
    sources = ["s1", "s2", "s3"]
    kept = pa.table(
        {
            "source": [rng.choice(sources) for _ in range(300)],
            "language": [rng.choice(["en", "de", None, "fr"]) for _ in range(300)],
            "byte_length": [rng.choice([None, *range(1, 400)]) for _ in range(300)],
        }
    )
    raw = pa.table({"source": [rng.choice([*sources, "s4"]) for _ in range(500)]})
    removals = pa.table(
        {
            "source": [rng.choice([*sources, "s5"]) for _ in range(120)],
            "stage": [rng.choice(["ingest", "curate"]) for _ in range(120)],
            "reason": [rng.choice(["dup", "lang", None]) for _ in range(120)],
        }
    )
    qs = [0.1, 0.5, 0.9]
    theirs = measures.source_profile(
        _frame(spark, kept), _frame(spark, raw), _frame(spark, removals), qs
    )
    assert measures.source_profile_rows(kept, raw, removals, qs) == theirs


def test_a_source_past_spark_exact_quantiles_is_measured_on_spark():
    """From EXACT_QUANTILE_ROWS values on, Spark's percentile_approx may compress: the
    in-memory profile declines (None) and the suite measures on Spark."""
    n = measures.EXACT_QUANTILE_ROWS
    kept = pa.table({"source": ["s"] * n, "language": ["en"] * n, "byte_length": list(range(n))})
    raw = pa.table({"source": ["s"] * n})
    removals = pa.table(
        {
            "source": pa.array([], pa.string()),
            "stage": pa.array([], pa.string()),
            "reason": pa.array([], pa.string()),
        }
    )
    assert measures.source_profile_rows(kept, raw, removals, [0.5]) is None
    assert measures.source_profile_rows(kept.slice(1), raw, removals, [0.5]) is not None
