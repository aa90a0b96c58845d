"""In Spark: the byte ranges of one big landing file are read by several tasks with the rows
of a whole-file read, and stage writes are capped by bytes per file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from spark_jobs import delta
from spark_jobs.ingest import ingest_files, read_without_spark
from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.ranges import split
from spark_jobs.samples.web import generate_web_sample
from spark_jobs.session import max_bytes_per_file
from spark_jobs.sources import Source
from spark_jobs.web.ingest import WarcReader
from tests.spark_jobs.web.test_warc import warc_record

pytestmark = pytest.mark.spark

COLUMNS = ["id", "locator", "text", "disposition", "reason", "warc_offset", "_repeat_id"]


def test_the_ranges_of_one_big_file_are_read_by_several_tasks(spark, tmp_path: Path):
    generate_web_sample(tmp_path, pages=120, files=1, seed=11)
    (tmp_path / "_manifest.json").unlink()
    [path] = tmp_path.glob("*.warc.gz")
    spans = split(path.stat().st_size, 40_000, "warc")
    source = Source(
        "crawl", "web", str(tmp_path), "warc", "CC-BY-4.0", options={"split_bytes": 40_000}
    )
    frame = ingest_files(spark, WarcReader(), source, run_id="r")
    tasks = frame.rdd.getNumPartitions()
    assert len(spans) > tasks == spark.sparkContext.defaultParallelism > 1
    ranged = sorted(tuple(row[c] for c in COLUMNS) for row in frame.select(*COLUMNS).collect())
    whole = read_without_spark(WarcReader(), source, run_id="r", split_bytes=0)
    assert ranged == sorted(tuple(row[c] for c in COLUMNS) for row in whole)


def test_a_stage_write_is_capped_by_the_session_s_bytes_per_file(spark, tmp_path: Path):
    assert max_bytes_per_file(spark) == 512 << 20  # the local profile's default
    rows = [(f"doc-{n:05d}", f"text {n} " * 200) for n in range(2000)]
    frame = spark.createDataFrame(rows, "id string, text string").repartition(2)
    uri = str(tmp_path / "docs")
    cap = 256 << 10
    result = delta.write_table(frame, uri, mode="overwrite", max_bytes_per_file=cap)
    files = pa.table(delta.open_table(uri).get_add_actions(flatten=True)).to_pylist()
    assert result.num_files == len(files) > 2 * 4  # 2 tasks, each well over 4 files' worth
    assert all(f["size_bytes"] <= cap for f in files)
    back = delta.read_arrow(uri).sort_by("id")
    assert back.column("id").to_pylist() == [r[0] for r in rows]
    assert back.column("text").to_pylist() == [r[1] for r in rows]


def test_a_split_jsonl_dump_keeps_its_line_numbers_in_spark(spark, tmp_path: Path):
    """The newlines before each range are counted by tasks (one number per range back)."""
    lines = [
        f'{{"id": "d{n}", "title": "T{n}", "text": "{"words " * (n % 31 + 1)}"}}'
        for n in range(400)
    ]
    lines[77] = '{"id": "broken", '
    (tmp_path / "dump.jsonl").write_text("\n".join(lines) + "\n")
    source = Source(
        "books", "licensed", str(tmp_path), "jsonl", "CC0-1.0", options={"split_bytes": 5_000}
    )
    frame = ingest_files(spark, LicensedReader(), source, run_id="r")
    assert frame.rdd.getNumPartitions() > 1
    columns = ["id", "locator", "text", "disposition", "reason"]
    ranged = sorted(tuple(row[c] for c in columns) for row in frame.select(*columns).collect())
    whole = read_without_spark(LicensedReader(), source, run_id="r", split_bytes=0)
    assert ranged == sorted(tuple(row[c] for c in columns) for row in whole)
    assert ("dump.jsonl#line=78", "malformed_json") in {(r[1], r[4]) for r in ranged}


class _RangesFail(WarcReader):
    """A reader with a bug that shows in every byte range of a split file."""

    def read(self, fs, path, relative, source, span=None):
        if span is not None:
            raise RuntimeError("reader bug")
        yield from super().read(fs, path, relative, source)


def test_a_file_whose_ranges_all_fail_counts_once_against_the_unreadable_fraction(
    spark, tmp_path: Path
):
    from spark_jobs.stages import _check_readable

    big = b"".join(gzip.compress(warc_record(n)) for n in range(60))
    (tmp_path / "big.warc.gz").write_bytes(big)
    for n in range(3):
        (tmp_path / f"small-{n}.warc.gz").write_bytes(gzip.compress(warc_record(100 + n)))
    source = Source(
        "crawl", "web", str(tmp_path), "warc", "CC-BY-4.0", options={"split_bytes": 2_000}
    )
    frame = ingest_files(spark, _RangesFail(), source, run_id="r")
    failed = frame.where("reason = 'unreadable_file'").select("locator").collect()
    assert len(failed) == len(split(len(big), 2_000, "warc")) > 4
    assert all(row.locator.startswith("big.warc.gz#bytes=") for row in failed)
    _check_readable(frame, source, units=4)  # 1 file of 4 failed: under the 0.5 default
