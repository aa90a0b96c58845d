"""Written data files are capped by bytes as well as rows (spark_jobs.delta.files): no Spark."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from spark_jobs import delta
from spark_jobs.delta.files import _PartitionedFileWriter
from spark_jobs.storage import LOCAL

KB = 1 << 10


def documents(rows: int, seed: int = 1) -> pa.Table:
    rng = random.Random(seed)
    words = [f"w{n}" for n in range(5000)]
    return pa.table(
        {
            "id": [f"doc-{n:06d}" for n in range(rows)],
            "source": [f"s{n % 2}" for n in range(rows)],
            # 20 to 2,000 words: rows of very different sizes, so an average-row
            # estimate alone would overshoot the cap.
            "text": [" ".join(rng.choices(words, k=rng.randint(20, 2000))) for _ in range(rows)],
            "score": [rng.random() for _ in range(rows)],
        }
    )


def test_a_big_write_becomes_several_files_under_the_cap_and_reads_back_the_same(tmp_path):
    table = documents(1500)
    cap = 512 * KB
    assert table.nbytes > 8 * cap
    uri = str(tmp_path / "docs")
    result = delta.write_arrow(
        table, uri, mode="append", partition_by=["source"], max_bytes_per_file=cap
    )
    files = pa.table(delta.open_table(uri).get_add_actions(flatten=True)).to_pylist()
    assert result.num_files == len(files) >= 8
    assert all(f["size_bytes"] <= cap for f in files)
    assert {f["partition.source"] for f in files} == {"s0", "s1"}
    back = delta.read_arrow(uri).select(table.column_names).sort_by("id")
    assert back.equals(table.sort_by("id"))


def test_the_writer_never_puts_more_than_the_cap_in_a_file_but_one_row(tmp_path):
    table = documents(400, seed=2)
    text = random.Random(4).randbytes(300 * KB).hex()  # does not compress below the cap
    big_row = {"id": "huge", "source": "s0", "text": text, "score": 0.5}
    table = pa.concat_tables([table, pa.Table.from_pylist([big_row], schema=table.schema)])
    cap = 64 * KB
    writer = _PartitionedFileWriter(LOCAL, str(tmp_path / "t"), table.schema, [], None, cap)
    for batch in table.to_batches(max_chunksize=97):
        writer.write(batch)
    files = writer.close()
    assert sum(f["num_records"] for f in files) == table.num_rows
    fs = pafs.LocalFileSystem()
    sizes = [(f["num_records"], fs.get_file_info(f"{tmp_path}/t/{f['path']}").size) for f in files]
    # Every file is under the cap, except the one holding only the row that alone is over it.
    assert [rows for rows, size in sizes if size > cap] == [1]
    assert len(files) > 4


@pytest.mark.parametrize("rows_cap", [50, None])
def test_rows_and_bytes_caps_together(tmp_path, rows_cap):
    table = documents(300, seed=3)
    writer = _PartitionedFileWriter(
        LOCAL, str(tmp_path / "t"), table.schema, ["source"], rows_cap, 256 * KB
    )
    for batch in table.to_batches(max_chunksize=128):
        writer.write(batch)
    files = writer.close()
    assert sum(f["num_records"] for f in files) == 300
    if rows_cap:
        assert max(f["num_records"] for f in files) <= rows_cap
    assert len(files) > 2
