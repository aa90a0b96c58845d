"""An index on S3 (a real SeaweedFS server) answers count and trace like the same index on
local disk, reading byte ranges of its files instead of whole files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spark_jobs.indexes.query import NgramIndex, RangeArray, locate_mixture_index
from spark_jobs.storage import LOCAL, ObjectStore

from .conftest import PLANTED_ONE, PLANTED_SHARED


def test_range_array_reads_like_numpy(tmp_path: Path) -> None:
    values = np.arange(100_003, dtype="<u4") * 7
    path = tmp_path / "a.bin"
    path.write_bytes(values.tobytes())
    ranged = RangeArray(str(path), np.dtype("<u4"), LOCAL, block_bytes=4096, cache_bytes=8192)
    assert len(ranged) == len(values)
    for i in (0, 1, 1023, 1024, 1025, 50_000, len(values) - 1, -1):
        assert ranged[i] == int(values[i])
    for a, b in ((0, 10), (1020, 1030), (4000, 9000), (100_000, 100_010), (5, 5)):
        assert np.array_equal(ranged[a:b], values[a:b])
    with pytest.raises(IndexError):
        ranged[len(values)]


@pytest.mark.s3
def test_an_index_on_s3_answers_like_the_local_one(indexed, s3, monkeypatch) -> None:
    # The test index's shards are a few KB: small blocks show that only ranges are read.
    monkeypatch.setattr("spark_jobs.indexes.query.RANGE_BLOCK_BYTES", 512)
    local_manifest = locate_mixture_index(indexed.lake, "index-mix").manifest_uri
    directory = Path(local_manifest).parent
    s3.create_bucket("indexes")
    store = ObjectStore(endpoint_url=s3.endpoint_url)
    fs, _ = store.filesystem("s3://indexes/x")
    total = 0
    for file in directory.iterdir():
        with fs.open_output_stream(f"indexes/index-mix/{file.name}") as out:
            out.write(file.read_bytes())
        total += file.stat().st_size

    local = NgramIndex.open(local_manifest)
    remote = NgramIndex.open("s3://indexes/index-mix/manifest.json", store)
    assert all(isinstance(shard.sa, RangeArray) for shard in remote.shards)
    for text in (PLANTED_ONE, PLANTED_SHARED, " the", " context manager"):
        assert remote.count(text) == local.count(text)
        here, there = (
            local.trace(f"He said: {text} and left."),
            remote.trace(f"He said: {text} and left."),
        )
        assert [(s.text, s.count, [d.id for d in s.documents]) for s in there.spans] == [
            (s.text, s.count, [d.id for d in s.documents]) for s in here.spans
        ]
    read = sum(s.tokens.bytes_read + s.sa.bytes_read for s in remote.shards)
    arrays = sum(f.stat().st_size for f in directory.iterdir() if f.suffix in (".tokens", ".sa"))
    assert 0 < read < arrays, (read, arrays, total)
