"""One object's reader runs under a time and memory budget: a reader that hangs, balloons or
dies costs that object (quarantined with the reason), never the source; a source that is
mostly unreadable fails with one clear line."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pyarrow as pa
import pytest

from spark_jobs.ingest import UnreadableSource, check_unreadable_fraction, ingest_files
from spark_jobs.isolation import ObjectStopped, run_isolated
from spark_jobs.sources import Source
from spark_jobs.web.ingest import ingest_warc

SCHEMA = pa.schema([("x", pa.int64())])


def _batch(value: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"x": [value]}, schema=SCHEMA)


def test_batches_of_a_well_behaved_reader_all_arrive() -> None:
    out = list(
        run_isolated(lambda: (_batch(i) for i in range(5)), SCHEMA, seconds=30, memory_bytes=2**30)
    )
    assert [b.column(0)[0].as_py() for b in out] == [0, 1, 2, 3, 4]


def test_a_hanging_reader_is_stopped_after_its_budget_keeping_what_arrived() -> None:
    def hang():
        yield _batch(1)
        while True:
            pass

    got = []
    started = time.monotonic()
    with pytest.raises(ObjectStopped) as stopped:
        got.extend(run_isolated(hang, SCHEMA, seconds=1, memory_bytes=2**30))
    assert stopped.value.reason == "timeout" and stopped.value.batches == 1
    assert len(got) == 1
    assert time.monotonic() - started < 20


def test_the_memory_budget_counts_what_the_reader_adds_not_what_its_parent_holds() -> None:
    """A Dagster or pytest process can hold more than one object's budget; a child forked
    from it that allocates nothing must be stopped for its time, not its inherited memory."""
    held = bytearray(384 * 2**20)
    for i in range(0, len(held), 4096):
        held[i] = 1

    def hang():
        yield _batch(1)
        while True:
            pass

    with pytest.raises(ObjectStopped) as stopped:
        list(run_isolated(hang, SCHEMA, seconds=1, memory_bytes=256 * 2**20))
    assert stopped.value.reason == "timeout", stopped.value.detail
    del held


def test_a_balloon_is_stopped_even_when_the_parent_holds_more_than_the_child_inherits(
    tmp_path: Path,
) -> None:
    """File pages resident in the parent (a memory-mapped index, shared libraries) are not
    resident in a forked child until it reads them: the budget must count the child's own
    memory, not its resident size minus the parent's."""
    import mmap

    path = tmp_path / "mapped.bin"
    with path.open("wb") as out:
        out.truncate(384 * 2**20)
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        touched = sum(mapped[i] for i in range(0, len(mapped), 4096))  # resident in the parent

        def balloon():
            hog = bytearray(512 * 2**20)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            time.sleep(30)
            yield _batch(len(hog))

        with pytest.raises(ObjectStopped) as stopped:
            list(run_isolated(balloon, SCHEMA, seconds=60, memory_bytes=256 * 2**20))
    assert touched == 0
    assert stopped.value.reason == "memory_limit", stopped.value.detail


def test_a_ballooning_reader_is_stopped_at_its_memory_budget() -> None:
    def balloon():
        hog = bytearray(512 * 2**20)
        for i in range(0, len(hog), 4096):
            hog[i] = 1
        time.sleep(30)
        yield _batch(len(hog))

    with pytest.raises(ObjectStopped) as stopped:
        list(run_isolated(balloon, SCHEMA, seconds=60, memory_bytes=256 * 2**20))
    assert stopped.value.reason == "memory_limit"
    assert "options.limits.object_memory_bytes" in stopped.value.detail


def test_a_reader_that_dies_is_reported_not_silent() -> None:
    def die():
        yield _batch(1)
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(ObjectStopped) as stopped:
        list(run_isolated(die, SCHEMA, seconds=30, memory_bytes=2**30))
    assert stopped.value.reason == "reader_crashed" and "SIGKILL" in stopped.value.detail


def test_mostly_unreadable_source_fails_with_a_clear_message() -> None:
    source = Source("s3-crawl", "web", "s3://bucket/crawl", "warc", "unknown")
    check_unreadable_fraction(source, 10, {"unreadable_file": 5})  # half: allowed
    check_unreadable_fraction(source, 2, {"unreadable_file": 2})  # too few units to judge
    with pytest.raises(UnreadableSource, match=r"8 of 10 landing units could not be read"):
        check_unreadable_fraction(source, 10, {"unreadable_file": 8}, "AccessDenied")
    strict = Source(
        "strict",
        "web",
        "/x",
        "warc",
        "unknown",
        options={"limits": {"max_unreadable_fraction": 0.1}},
    )
    with pytest.raises(UnreadableSource, match=r"max_unreadable_fraction 0\.1"):
        check_unreadable_fraction(strict, 10, {"timeout": 2})
    with pytest.raises(ValueError, match="unknown read limit"):
        check_unreadable_fraction(
            Source("x", "web", "/x", "warc", "u", options={"limits": {"max_secs": 1}}), 10, {}
        )


class _SlowOnPurpose:
    """A licensed-family reader with a bug: it never finishes files named `hang*`."""

    corpus = "licensed"
    suffixes = (".txt",)
    extra_fields = ()

    def read(self, fs, path, relative, source):
        if os.path.basename(relative).startswith("hang"):
            while True:
                pass
        with fs.open_input_stream(path) as stream:
            yield {"locator": relative, "text": stream.read().decode()}


@pytest.mark.spark
def test_one_hanging_object_does_not_hold_the_source(spark, tmp_path: Path) -> None:
    for n in range(3):
        (tmp_path / f"book{n}.txt").write_text(f"book {n}")
    (tmp_path / "hang.txt").write_text("never read to its end")
    source = Source(
        "books",
        "licensed",
        str(tmp_path),
        "text",
        "CC0-1.0",
        options={"limits": {"object_seconds": 2}},
    )
    started = time.monotonic()
    rows = ingest_files(spark, _SlowOnPurpose(), source, run_id="r").collect()
    assert time.monotonic() - started < 120
    by_locator = {row.locator: row for row in rows}
    assert {by_locator[f"book{n}.txt"].disposition for n in range(3)} == {"kept"}
    assert (by_locator["hang.txt"].disposition, by_locator["hang.txt"].reason) == (
        "quarantined",
        "timeout",
    )


@pytest.mark.spark
def test_a_non_utf8_file_name_does_not_fail_the_web_source(spark, tmp_path: Path) -> None:
    from spark_jobs.samples.web import generate_web_sample

    manifest = generate_web_sample(tmp_path, pages=40, files=1, seed=5)
    with open(os.path.join(os.fsencode(tmp_path), b"bad-\xff.warc.gz"), "wb") as out:
        out.write(b"not read")
    rows = ingest_warc(
        spark, str(tmp_path), source="crawl", license="unknown", license_evidence="t", run_id="r"
    ).collect()
    refused = [row for row in rows if row.reason == "undecodable_name"]
    assert len(refused) == 1 and refused[0].locator == "bad-\\xff.warc.gz"
    assert refused[0].excerpt is None
    assert len(rows) == manifest.response_records + manifest.corrupt_records + 1
