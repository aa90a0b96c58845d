"""Where an n-gram index lives and what its files hold (format `pilehouse-ngram-index/1`).

An index is a directory with `manifest.json`, `tokenizer.json` and, per shard NNNNN:

    index-NNNNN.tokens        the documents' tokens, each document ending with end-of-text,
                              little-endian uint16 or uint32 (the manifest's token_dtype)
    index-NNNNN.sa            the suffix array: little-endian uint32 token offsets into
                              .tokens, in lexicographic order of the suffixes
    index-NNNNN.docs.parquet  one row per document: where it starts in .tokens, its length
                              (end-of-text included), mixture position, id, corpus, source,
                              license, language, component, repetition, table, table version

Shards are cut at document boundaries, so a match never spans two shards. A mixture's index
sits in the export directory (`<export>/index/`); a table's under
`<lake>/_indexes/tables/<table>/v<version>/`.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs

from spark_jobs.lake import Lake
from spark_jobs.storage import LOCAL, ObjectStore

INDEX_FORMAT = "pilehouse-ngram-index/1"
INDEX_DIR = "index"
MANIFEST = "manifest.json"
TOKENIZER = "tokenizer.json"
SA_DTYPE = "<u4"

DOCUMENT_SCHEMA = pa.schema(
    [
        ("start", pa.int64()),
        ("length", pa.int64()),
        ("position", pa.int64()),
        ("id", pa.string()),
        ("corpus", pa.string()),
        ("source", pa.string()),
        ("license", pa.string()),
        ("language", pa.string()),
        ("component", pa.string()),
        ("repetition", pa.int32()),
        ("table", pa.string()),
        ("table_version", pa.int64()),
    ]
)


def shard_files(index: int) -> dict[str, str]:
    stem = f"index-{index:05d}"
    return {"tokens": f"{stem}.tokens", "sa": f"{stem}.sa", "docs": f"{stem}.docs.parquet"}


def export_index_dir(export_manifest_uri: str) -> str:
    """The index directory of a mixture export (next to its shards)."""
    return f"{export_manifest_uri.rsplit('/', 1)[0]}/{INDEX_DIR}"


def table_index_dir(lake: Lake, table: str, version: int) -> str:
    return f"{lake.root_uri.rstrip('/')}/_indexes/tables/{table}/v{version}"


def exists(uri: str, store: ObjectStore = LOCAL) -> bool:
    fs, path = store.filesystem(uri)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def read_bytes(uri: str, store: ObjectStore = LOCAL) -> bytes:
    fs, path = store.filesystem(uri)
    with fs.open_input_stream(path, compression=None) as stream:
        return stream.read()


def read_json(uri: str, store: ObjectStore = LOCAL) -> dict:
    return json.loads(read_bytes(uri, store))


def delete(uri: str, store: ObjectStore = LOCAL) -> None:
    fs, path = store.filesystem(uri)
    fs.delete_file(path)


def table_index_manifests(lake: Lake) -> list[str]:
    """Manifests of every curated-table index under the lake root."""
    root = f"{lake.root_uri.rstrip('/')}/_indexes/tables"
    fs, path = lake.store.filesystem(root)
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        return []
    infos = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    found = [i.path[len(path) :] for i in infos if i.base_name == MANIFEST]
    return sorted(f"{root}{suffix}" for suffix in found)


def suffix_array(tokens: np.ndarray) -> np.ndarray:
    """Token offsets of `tokens` in lexicographic order of the suffixes starting there."""
    if len(tokens) == 0:
        return np.empty(0, dtype=SA_DTYPE)
    from pydivsufsort import divsufsort  # ctypes: releases the GIL, so shards build in threads

    return divsufsort(np.ascontiguousarray(tokens)).astype(SA_DTYPE)


def suffix_array_library() -> str:
    from importlib.metadata import version

    return f"pydivsufsort {version('pydivsufsort')} (libdivsufsort)"
