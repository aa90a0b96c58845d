"""The distribution gate on lake tables, through Great Expectations on both engines: a first
crawl of ordinary pages passes and teaches the bounds; a broken next version (95% removed, or
its language flipped) fails and names the source and measure; a good next version passes."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from quality.history import PROFILES, profile_history, record_validation
from quality.suites import CURATED_DISTRIBUTION, SUITES, Subject
from quality.validation import validate_suite
from spark_jobs.delta import open_table, read_arrow, write_arrow
from spark_jobs.lake import Lake

pytestmark = pytest.mark.spark

SOURCE = "docs-crawl"
REASONS = ["language_not_allowed", "gopher_quality", "c4", "exact_duplicate"]


def _write_version(
    lake: Lake, *, pages: int, removed: dict[str, float], languages: list[str], seed: int
) -> int:
    """One curation of `pages` pages of SOURCE: raw, curated, rejects and quarantine tables as
    ingest and curation write them (only the columns the gate reads). Returns curated's version."""
    rng = random.Random(seed)
    ids = [f"{SOURCE}-{seed}-{i:05d}" for i in range(pages)]
    quarantined, ids = ids[: pages // 40], ids[pages // 40 :]  # corrupt records
    reasons: list[str | None] = []
    for reason, share in removed.items():
        reasons += [reason] * round(share * len(ids))
    reasons += [None] * (len(ids) - len(reasons))
    rng.shuffle(reasons)
    kept = [i for i, r in zip(ids, reasons, strict=True) if r is None]
    rejected = [(i, r) for i, r in zip(ids, reasons, strict=True) if r is not None]
    removal = {
        "id": pa.string(),
        "corpus": pa.string(),
        "source": pa.string(),
        "stage": pa.string(),
        "reason": pa.string(),
    }
    tables = {
        "raw.web": pa.table({"id": ids, "source": [SOURCE] * len(ids)}),
        "curated.web": pa.table(
            {
                "id": kept,
                "source": [SOURCE] * len(kept),
                "language": [rng.choice(languages) for _ in kept],
                "byte_length": pa.array(
                    [int(rng.lognormvariate(8.5, 0.9)) for _ in kept], pa.int64()
                ),
            }
        ),
        "rejects": pa.table(
            {
                "id": [i for i, _ in rejected],
                "corpus": ["web"] * len(rejected),
                "source": [SOURCE] * len(rejected),
                "stage": ["curate"] * len(rejected),
                "reason": [r for _, r in rejected],
            },
            schema=pa.schema(removal),
        ),
        "quarantine": pa.table(
            {
                "id": quarantined,
                "corpus": ["web"] * len(quarantined),
                "source": [SOURCE] * len(quarantined),
                "stage": ["ingest"] * len(quarantined),
                "reason": ["gzip_corrupt"] * len(quarantined),
            },
            schema=pa.schema(removal),
        ),
    }
    for name, table in tables.items():
        write_arrow(table, lake.uri(name), mode="overwrite")
    return open_table(lake.uri("curated.web")).version()


ORDINARY = {
    "language_not_allowed": 0.15,
    "gopher_quality": 0.35,
    "c4": 0.05,
    "exact_duplicate": 0.07,
}


def _gate(spark, lake: Lake, version: int, engine: str):
    suite = SUITES[CURATED_DISTRIBUTION]
    report = validate_suite(suite, Subject(spark, lake, "curated.web", version), engine=engine)
    record_validation(lake, report, table="curated.web", version=version, run_id=f"run-{version}")
    return report


def _failed_measures(report) -> set[str]:
    return {i for o in report.failures for i in o.sample_ids}


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_first_crawl_passes_and_a_broken_version_blocks(spark, tmp_path, engine):
    lake = Lake(str(tmp_path / "lake"))
    first = _write_version(lake, pages=1200, removed=ORDINARY, languages=["en"], seed=1)
    report = _gate(spark, lake, first, engine)
    assert report.success, report.failures
    assert profile_history(lake, "curated.web", before=first + 1, window=10)

    broken = _write_version(
        lake, pages=1200, removed={"gopher_quality": 0.95}, languages=["en"], seed=2
    )
    report = _gate(spark, lake, broken, engine)
    assert not report.success
    assert {f"{SOURCE}: removal curate: *", f"{SOURCE}: removal curate: gopher_quality"} <= (
        _failed_measures(report)
    )
    shown = report.tables["distribution by source"]
    assert shown[0]["within"] is False and shown[0]["basis"].startswith("learned from 1")

    flipped = _write_version(
        lake, pages=1200, removed={"language_not_allowed": 0.9}, languages=["en"], seed=3
    )
    assert f"{SOURCE}: removal curate: language_not_allowed" in _failed_measures(
        _gate(spark, lake, flipped, engine)
    )

    # The broken versions taught nothing: a good next version is judged by the first one.
    good = _write_version(lake, pages=1400, removed=ORDINARY, languages=["en"], seed=4)
    report = _gate(spark, lake, good, engine)
    assert report.success, report.failures
    profiles = read_arrow(lake.uri(PROFILES)).to_pylist()
    accepted = {r["version"] for r in profiles if r["source_accepted"]}
    assert accepted == {first, good}
