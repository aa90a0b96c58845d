"""Training shards: packed token sequences in a small documented binary format.

`shard-NNNNN.bin` (all integers little-endian):

    offset  size  field
    0       8     magic b"PHSHARD1"
    8       4     uint32 format version (1)
    12      4     uint32 bytes per token (2 = uint16, 4 = uint32)
    16      4     uint32 sequence length (tokens per packed sequence)
    20      4     uint32 reserved (0)
    24      8     uint64 number of tokens in the shard
    32      8     uint64 number of sequences (the last one of the last shard may be short)
    40      24    zero padding
    64      ...   the tokens

Documents are concatenated in mixture order, each followed by the end-of-text token, and the
stream is cut into sequences of `sequence length` tokens, `sequences_per_shard` per shard
(so a document may continue in the next sequence or shard).

`shard-NNNNN.idx` says which document every token came from:

    0       8     magic b"PHINDEX1"
    8       8     uint64 number of segments
    16      ...   segments, 24 bytes each: uint64 mixture position, uint64 first token
                  (offset in this shard), uint32 length, uint16 component index, uint16
                  source index (indexes into the manifest's `components` / `sources` lists)

Read a shard with `read_shard` (numpy, memory-mapped for local files).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from spark_jobs.storage import LOCAL, ObjectStore

SHARD_MAGIC = b"PHSHARD1"
INDEX_MAGIC = b"PHINDEX1"
FORMAT_VERSION = 1
HEADER_BYTES = 64
_HEADER = struct.Struct("<8sIIII QQ 24x")
_INDEX_HEADER = struct.Struct("<8sQ")
SEGMENT_DTYPE = np.dtype(
    [
        ("position", "<u8"),
        ("start", "<u8"),
        ("length", "<u4"),
        ("component", "<u2"),
        ("source", "<u2"),
    ]
)


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")


@dataclass(frozen=True)
class ShardFile:
    """What one written shard holds, for the manifest."""

    name: str
    index_name: str
    sha256: str
    index_sha256: str
    tokens: int
    sequences: int
    first_position: int
    last_position: int
    bytes: int


@dataclass(frozen=True)
class Shard:
    tokens: np.ndarray
    segments: np.ndarray
    sequence_length: int

    def sequences(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self.tokens), self.sequence_length):
            yield self.tokens[start : start + self.sequence_length]

    def token_labels(self, field: str = "source") -> np.ndarray:
        """Per token, the component or source index of the document it came from."""
        labels = np.empty(len(self.tokens), dtype=np.int32)
        for segment in self.segments:
            start = int(segment["start"])
            labels[start : start + int(segment["length"])] = segment[field]
        return labels


def encode_shard(tokens: np.ndarray, sequence_length: int) -> bytes:
    sequences = -(-len(tokens) // sequence_length)
    header = _HEADER.pack(
        SHARD_MAGIC,
        FORMAT_VERSION,
        tokens.dtype.itemsize,
        sequence_length,
        0,
        len(tokens),
        sequences,
    )
    return header + tokens.astype(tokens.dtype.newbyteorder("<"), copy=False).tobytes()


def encode_index(segments: np.ndarray) -> bytes:
    return _INDEX_HEADER.pack(INDEX_MAGIC, len(segments)) + segments.astype(SEGMENT_DTYPE).tobytes()


def decode_shard(data: bytes | memoryview, index: bytes | memoryview) -> Shard:
    magic, version, width, sequence_length, _, num_tokens, _ = _HEADER.unpack_from(data, 0)
    if magic != SHARD_MAGIC or version != FORMAT_VERSION:
        raise ValueError(f"not a pilehouse shard (magic {magic!r}, format version {version})")
    dtype = np.dtype("<u2") if width == 2 else np.dtype("<u4")
    tokens = np.frombuffer(data, dtype=dtype, count=num_tokens, offset=HEADER_BYTES)
    magic, count = _INDEX_HEADER.unpack_from(index, 0)
    if magic != INDEX_MAGIC:
        raise ValueError(f"not a pilehouse shard index (magic {magic!r})")
    segments = np.frombuffer(index, dtype=SEGMENT_DTYPE, count=count, offset=_INDEX_HEADER.size)
    return Shard(tokens, segments, sequence_length)


def read_shard(uri: str, store: ObjectStore = LOCAL) -> Shard:
    """Read `shard-NNNNN.bin` and its `.idx` from a local path or s3:// URI."""
    return decode_shard(_read_bytes(uri, store), _read_bytes(_index_uri(uri), store))


def _index_uri(uri: str) -> str:
    return uri[: -len(".bin")] + ".idx"


def _read_bytes(uri: str, store: ObjectStore) -> bytes:
    fs, path = store.filesystem(uri)
    with fs.open_input_stream(path, compression=None) as stream:
        return stream.read()


def write_bytes(uri: str, data: bytes, store: ObjectStore = LOCAL) -> str:
    """Write a whole object (local or s3://); returns its sha256."""
    fs, path = store.filesystem(uri)
    if "/" in path:
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    # compression=None: Arrow would otherwise zstd-compress a ".zst" name a second time.
    with fs.open_output_stream(path, compression=None) as sink:
        sink.write(data)
    return hashlib.sha256(data).hexdigest()


class ShardWriter:
    """Packs document token arrays into fixed-length sequences and writes numbered shards."""

    def __init__(
        self,
        directory: str,
        *,
        sequence_length: int,
        sequences_per_shard: int,
        dtype: np.dtype,
        store: ObjectStore = LOCAL,
    ) -> None:
        self.directory = directory.rstrip("/")
        self.sequence_length = sequence_length
        self.capacity = sequence_length * sequences_per_shard
        self.dtype = dtype
        self.store = store
        self.files: list[ShardFile] = []
        self._buffer = np.empty(self.capacity, dtype=dtype)
        self._filled = 0
        self._segments: list[tuple[int, int, int, int, int]] = []

    def add(self, position: int, tokens: np.ndarray, component: int, source: int) -> None:
        offset = 0
        while offset < len(tokens):
            take = min(len(tokens) - offset, self.capacity - self._filled)
            self._buffer[self._filled : self._filled + take] = tokens[offset : offset + take]
            self._segments.append((position, self._filled, take, component, source))
            self._filled += take
            offset += take
            if self._filled == self.capacity:
                self._flush()

    def close(self) -> list[ShardFile]:
        if self._filled:
            self._flush()
        return self.files

    def _flush(self) -> None:
        name = f"shard-{len(self.files):05d}.bin"
        tokens = self._buffer[: self._filled]
        segments = np.array(self._segments, dtype=SEGMENT_DTYPE)
        data = encode_shard(tokens, self.sequence_length)
        index = encode_index(segments)
        digest = write_bytes(f"{self.directory}/{name}", data, self.store)
        index_digest = write_bytes(f"{self.directory}/{_index_uri(name)}", index, self.store)
        self.files.append(
            ShardFile(
                name=name,
                index_name=_index_uri(name),
                sha256=digest,
                index_sha256=index_digest,
                tokens=int(self._filled),
                sequences=-(-self._filled // self.sequence_length),
                first_position=int(segments["position"].min()),
                last_position=int(segments["position"].max()),
                bytes=len(data),
            )
        )
        self._filled = 0
        self._segments = []


class TextShardWriter:
    """Optional jsonl.zst text shards: one {"id", "source", "text"} line per mixture row."""

    def __init__(self, directory: str, *, rows_per_shard: int, store: ObjectStore = LOCAL):
        self.directory = directory.rstrip("/")
        self.rows_per_shard = rows_per_shard
        self.store = store
        self.files: list[dict] = []
        self._lines: list[bytes] = []

    def add(self, line: bytes) -> None:
        self._lines.append(line)
        if len(self._lines) >= self.rows_per_shard:
            self._flush()

    def close(self) -> list[dict]:
        if self._lines:
            self._flush()
        return self.files

    def _flush(self) -> None:
        # One zstd frame through Arrow's codec: no extra dependency, readable by `zstd -d`.
        data = pa.compress(b"".join(self._lines), codec="zstd", asbytes=True)
        name = f"text-{len(self.files):05d}.jsonl.zst"
        digest = write_bytes(f"{self.directory}/{name}", data, self.store)
        self.files.append({"name": name, "sha256": digest, "rows": len(self._lines)})
        self._lines = []
