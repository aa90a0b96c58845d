"""Build suffix-array n-gram indexes: over a mixture export's token shards (the tokens a
model trains on, repetitions included) or over a curated table at a version.

Documents are packed into index shards of about `shard_tokens` tokens, never split, each
ending with the tokenizer's end-of-text; one suffix array per shard (libdivsufsort through
pydivsufsort, which sorts integer tokens as big-endian bytes and keeps the aligned
suffixes). Documents already taken down are left out; `purge_indexes` rebuilds the shards
of an existing index without newly taken-down ones.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from spark_jobs.delta import open_table, snapshot_dataset, table_exists
from spark_jobs.indexes.layout import (
    DOCUMENT_SCHEMA,
    INDEX_FORMAT,
    MANIFEST,
    TOKENIZER,
    delete,
    exists,
    export_index_dir,
    read_bytes,
    read_json,
    shard_files,
    suffix_array,
    suffix_array_library,
    table_index_dir,
    table_index_manifests,
)
from spark_jobs.lake import Lake
from spark_jobs.mixtures.build import EXPORTS_TABLE, latest_export, read_manifest
from spark_jobs.mixtures.shards import read_shard, token_dtype, write_bytes
from spark_jobs.mixtures.tokenizer import MixtureTokenizer
from spark_jobs.storage import LOCAL, ObjectStore
from spark_jobs.takedown import taken_down_ids

log = logging.getLogger(__name__)

# ~32M tokens: building one shard's suffix array peaks near 18 bytes per token (~600 MB).
DEFAULT_SHARD_TOKENS = 1 << 25
# uint32 suffix-array entries; pydivsufsort's 32-bit path also needs 2 * tokens < 2^31.
MAX_SHARD_TOKENS = 1 << 29
_ENCODE_BATCH_ROWS = 512


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_index_shard(
    directory: str,
    index: int,
    tokens: np.ndarray,
    documents: pa.Table,
    store: ObjectStore = LOCAL,
) -> dict:
    """Sort the suffixes of one shard and write its three files; returns its manifest entry."""
    names = shard_files(index)
    sa = suffix_array(tokens)
    sink = io.BytesIO()
    pq.write_table(documents.cast(DOCUMENT_SCHEMA), sink)
    files = {}
    payloads = (
        ("tokens", tokens.astype(tokens.dtype.newbyteorder("<"), copy=False).tobytes()),
        ("sa", sa.tobytes()),
        ("docs", sink.getvalue()),
    )
    for kind, data in payloads:
        files[kind] = {
            "name": names[kind],
            "bytes": len(data),
            "sha256": write_bytes(f"{directory}/{names[kind]}", data, store),
        }
    positions = documents["position"]
    return {
        "name": names["tokens"].rsplit(".", 1)[0],
        "tokens": len(tokens),
        "documents": documents.num_rows,
        "first_position": pc.min(positions).as_py(),
        "last_position": pc.max(positions).as_py(),
        "files": files,
    }


class IndexWriter:
    """Packs documents into index shards and writes each with its suffix array; with
    `workers` > 1, up to that many shards sort at once (threads)."""

    def __init__(
        self,
        directory: str,
        *,
        dtype: np.dtype,
        shard_tokens: int = DEFAULT_SHARD_TOKENS,
        workers: int = 1,
        store: ObjectStore = LOCAL,
    ) -> None:
        if not 0 < shard_tokens <= MAX_SHARD_TOKENS:
            raise ValueError(f"shard_tokens must be in 1..{MAX_SHARD_TOKENS}, not {shard_tokens}")
        self.directory = directory.rstrip("/")
        self.dtype = np.dtype(dtype)
        self.shard_tokens = shard_tokens
        self.store = store
        self.workers = max(1, workers)
        self._executor = ThreadPoolExecutor(self.workers) if self.workers > 1 else None
        self._running: list[Future] = []
        self._entries: list[dict] = []
        self._pieces: list[np.ndarray] = []
        self._rows: list[dict] = []
        self._filled = 0

    def add(self, tokens: np.ndarray, row: Mapping[str, object]) -> None:
        """One document (end-of-text included) and its metadata (DOCUMENT_SCHEMA columns)."""
        if self._filled and self._filled + len(tokens) > self.shard_tokens:
            self._flush()
        self._rows.append({**row, "start": self._filled, "length": len(tokens)})
        self._pieces.append(tokens)
        self._filled += len(tokens)

    def close(self) -> list[dict]:
        """Write what is buffered, wait for every shard; the manifest's shard entries."""
        if self._rows:
            self._flush()
        if self._executor is not None:
            self._entries += [f.result() for f in self._running]
            self._executor.shutdown()
        return sorted(self._entries, key=lambda e: e["name"])

    def _flush(self) -> None:
        tokens = np.concatenate(self._pieces).astype(self.dtype, copy=False)
        documents = pa.Table.from_pylist(self._rows, schema=DOCUMENT_SCHEMA)
        index = len(self._entries) + len(self._running)
        self._pieces, self._rows, self._filled = [], [], 0
        args = (self.directory, index, tokens, documents, self.store)
        if self._executor is None:
            self._entries.append(write_index_shard(*args))
            return
        if len(self._running) >= self.workers:
            done, pending = wait(self._running, return_when=FIRST_COMPLETED)
            self._entries += [f.result() for f in done]
            self._running = list(pending)
        self._running.append(self._executor.submit(write_index_shard, *args))


@dataclass(frozen=True)
class IndexBuild:
    manifest_uri: str
    manifest: dict
    seconds: float


def index_manifest(
    source: dict,
    tokenizer: MixtureTokenizer,
    dtype: np.dtype,
    shards: list[dict],
    *,
    shard_tokens: int,
    skipped: int,
    seconds: float,
) -> dict:
    """The manifest of an index built from `source` ({"kind": ..., <kind>: {...}})."""
    tokens = sum(s["tokens"] for s in shards)
    return {
        "format": INDEX_FORMAT,
        **source,
        "tokenizer": {
            "version": tokenizer.version,
            "file": TOKENIZER,
            "eos_id": tokenizer.eos_id,
            "vocab_size": tokenizer.vocab_size,
        },
        "token_dtype": dtype.name,
        "sa_dtype": "uint32",
        "suffix_array": suffix_array_library(),
        "shard_tokens": shard_tokens,
        "shards": shards,
        "totals": {
            "tokens": tokens,
            "documents": sum(s["documents"] for s in shards),
            "bytes": sum(f["bytes"] for s in shards for f in s["files"].values()),
            # Documents taken down before the build: never indexed.
            "taken_down_skipped": skipped,
        },
        "built_at": datetime.now(UTC).isoformat(),
        "build_seconds": round(seconds, 3),
        "takedowns": [],
    }


def _export_documents(
    directory: str, shards: Iterable[Mapping], store: ObjectStore
) -> Iterator[tuple[int, np.ndarray]]:
    """(mixture position, tokens) per document of an export, in stream order; a document
    cut across two token shards comes out whole."""
    position, pieces = None, []
    for entry in shards:
        shard = read_shard(f"{directory}/{entry['file']}", store)
        for segment in shard.segments:
            start, length = int(segment["start"]), int(segment["length"])
            if int(segment["position"]) != position and pieces:
                yield position, np.concatenate(pieces)
                pieces = []
            position = int(segment["position"])
            pieces.append(shard.tokens[start : start + length])
    if pieces:
        yield position, np.concatenate(pieces)


def build_mixture_index(
    lake: Lake,
    mixture: str | None = None,
    *,
    manifest_uri: str | None = None,
    shard_tokens: int = DEFAULT_SHARD_TOKENS,
    workers: int = 1,
) -> IndexBuild:
    """Index the tokens of a mixture export (default: the mixture's newest) in
    `<export>/index/`, recording the mixture and tokenizer versions it was built from."""
    from spark_jobs.mixtures.tokenizer import tokenizer_from_json

    started = time.perf_counter()
    if manifest_uri is None:
        if mixture is None:
            raise ValueError("name a mixture or give an export's manifest_uri")
        manifest_uri = latest_export(lake, mixture)
    export = read_manifest(manifest_uri, lake.store)
    export_dir = manifest_uri.rsplit("/", 1)[0]
    directory = export_index_dir(manifest_uri)
    mix = export["mixture"]
    columns = ["position", "id", "corpus", "source", "license", "language", "component"]
    rows = snapshot_dataset(mix["uri"], version=mix["version"], store=lake.store).to_table(
        columns=[*columns, "repetition"]
    )
    info = {r["position"]: r for r in rows.to_pylist()}
    versions = {i["table"]: i["version"] for i in export["inputs"]}
    tokenizer_json = read_bytes(f"{export_dir}/{TOKENIZER}", lake.store)
    tokenizer = tokenizer_from_json(tokenizer_json.decode(), origin=f"{export_dir}/{TOKENIZER}")
    if tokenizer.version != export["tokenizer"]["version"]:
        raise ValueError(
            f"{export_dir}/{TOKENIZER} is tokenizer {tokenizer.version}, but the export was "
            f"cut with {export['tokenizer']['version']}; the export is damaged: rebuild it"
        )
    excluded = taken_down_ids(lake)
    dtype = np.dtype(export["token_dtype"])
    writer = IndexWriter(
        directory, dtype=dtype, shard_tokens=shard_tokens, workers=workers, store=lake.store
    )
    skipped = 0
    for position, tokens in _export_documents(export_dir, export["shards"], lake.store):
        row = info[position]
        if row["id"] in excluded:
            skipped += 1
            continue
        table = f"curated.{row['corpus']}"
        writer.add(tokens, {**row, "table": table, "table_version": versions.get(table)})
    shards = writer.close()
    write_bytes(f"{directory}/{TOKENIZER}", tokenizer_json, lake.store)
    source = {
        "kind": "mixture",
        "mixture": {
            "name": mix["name"],
            "table": mix["table"],
            "uri": mix["uri"],
            "version": mix["version"],
            "export_manifest": manifest_uri,
        },
        "inputs": export["inputs"],
    }
    seconds = time.perf_counter() - started
    manifest = index_manifest(
        source,
        tokenizer,
        dtype,
        shards,
        shard_tokens=shard_tokens,
        skipped=skipped,
        seconds=seconds,
    )
    uri = f"{directory}/{MANIFEST}"
    write_bytes(uri, json.dumps(manifest, indent=2, sort_keys=True).encode(), lake.store)
    log.info(
        "index of mixtures.%s v%d: %d tokens in %d shard(s), %.1f s",
        mix["name"],
        mix["version"],
        manifest["totals"]["tokens"],
        len(shards),
        seconds,
    )
    return IndexBuild(uri, manifest, seconds)


def build_table_index(
    lake: Lake,
    table: str,
    tokenizer: MixtureTokenizer,
    *,
    version: int | None = None,
    directory: str | None = None,
    shard_tokens: int = DEFAULT_SHARD_TOKENS,
    workers: int = 1,
) -> IndexBuild:
    """Index every document of a table (curated.web, ...) at a version (default: current),
    tokenized with `tokenizer` (say a mixture's), in `_indexes/tables/<table>/v<version>/`."""
    started = time.perf_counter()
    uri = lake.uri(table)
    if not table_exists(uri, lake.store):
        raise FileNotFoundError(f"{table} ({uri}) does not exist")
    if version is None:
        version = open_table(uri, store=lake.store).version()
    directory = (directory or table_index_dir(lake, table, version)).rstrip("/")
    dataset = snapshot_dataset(uri, version=version, store=lake.store)
    wanted = ["id", "corpus", "source", "license", "language"]
    present = [c for c in wanted if c in dataset.schema.names]
    excluded = taken_down_ids(lake)
    eos = tokenizer.eos_id
    dtype = token_dtype(tokenizer.vocab_size)
    writer = IndexWriter(
        directory, dtype=dtype, shard_tokens=shard_tokens, workers=workers, store=lake.store
    )
    position = skipped = 0
    scanner = dataset.scanner(columns=[*present, "text"], batch_size=_ENCODE_BATCH_ROWS)
    for batch in scanner.to_batches():
        rows = [r for r in batch.to_pylist() if r["text"]]
        skipped += sum(r["id"] in excluded for r in rows)
        rows = [r for r in rows if r["id"] not in excluded]
        for row, encoding in zip(
            rows, tokenizer.tokenizer.encode_batch([r["text"] for r in rows]), strict=True
        ):
            meta = {c: row.get(c) for c in wanted}
            writer.add(
                np.array([*encoding.ids, eos], dtype=dtype),
                {**meta, "position": position, "table": table, "table_version": version},
            )
            position += 1
    shards = writer.close()
    write_bytes(f"{directory}/{TOKENIZER}", tokenizer.to_json().encode(), lake.store)
    source = {"kind": "table", "table": {"name": table, "uri": uri, "version": version}}
    seconds = time.perf_counter() - started
    manifest = index_manifest(
        source,
        tokenizer,
        dtype,
        shards,
        shard_tokens=shard_tokens,
        skipped=skipped,
        seconds=seconds,
    )
    manifest_uri = f"{directory}/{MANIFEST}"
    write_bytes(manifest_uri, json.dumps(manifest, indent=2, sort_keys=True).encode(), lake.store)
    return IndexBuild(manifest_uri, manifest, seconds)


# --- Takedown: physical removal from existing indexes ---------------------------------------


def index_manifests(lake: Lake) -> list[str]:
    """Every index in the lake: those of mixture exports (ops.shard_exports) and of tables."""
    found = []
    uri = lake.uri(EXPORTS_TABLE)
    if table_exists(uri, lake.store):
        exports = snapshot_dataset(uri, store=lake.store).to_table(columns=["manifest_uri"])
        for manifest_uri in sorted(set(exports["manifest_uri"].to_pylist())):
            candidate = f"{export_index_dir(manifest_uri)}/{MANIFEST}"
            if exists(candidate, lake.store):
                found.append(candidate)
    return found + table_index_manifests(lake)


def _purge_index(
    manifest_uri: str, ids: set[str], store: ObjectStore, dry_run: bool, now: datetime
) -> list[str]:
    manifest = read_json(manifest_uri, store)
    directory = manifest_uri.rsplit("/", 1)[0]
    dtype = np.dtype(manifest["token_dtype"])
    lines, kept_shards, marks = [], [], {}
    for entry in manifest["shards"]:
        files = entry["files"]
        docs = pq.read_table(io.BytesIO(read_bytes(f"{directory}/{files['docs']['name']}", store)))
        gone = pc.is_in(docs["id"], pa.array(sorted(ids), pa.string())).to_numpy(
            zero_copy_only=False
        )
        if not gone.any():
            kept_shards.append(entry)
            continue
        found = sorted(set(docs.filter(pa.array(gone))["id"].to_pylist()))
        kept = docs.filter(pa.array(~gone))
        tokens = np.frombuffer(
            read_bytes(f"{directory}/{files['tokens']['name']}", store), dtype=dtype
        )
        removed = int(np.asarray(docs["length"])[gone].sum())
        where = f"{directory}/{entry['name']}"
        action = "rebuilt" if kept.num_rows else "deleted"
        verb = (
            {"rebuilt": "would rebuild", "deleted": "would delete"}[action] if dry_run else action
        )
        lines.append(f"  {where}: {verb} without {len(found)} document(s) ({removed} token(s))")
        marks[entry["name"]] = {"action": action, "document_ids": found, "removed": removed}
        if dry_run:
            kept_shards.append(entry)
            continue
        if not kept.num_rows:
            for f in files.values():
                delete(f"{directory}/{f['name']}", store)
            continue
        starts, lengths = np.asarray(kept["start"]), np.asarray(kept["length"])
        pieces = [tokens[s : s + n] for s, n in zip(starts, lengths, strict=True)]
        kept = kept.set_column(
            0, "start", pa.array(np.concatenate([[0], np.cumsum(lengths)[:-1]]), pa.int64())
        )
        index = int(entry["name"].rsplit("-", 1)[1])
        kept_shards.append(write_index_shard(directory, index, np.concatenate(pieces), kept, store))
    if not marks or dry_run:
        return lines
    manifest["shards"] = kept_shards
    totals = manifest["totals"]
    totals["tokens"] = sum(s["tokens"] for s in kept_shards)
    totals["documents"] = sum(s["documents"] for s in kept_shards)
    totals["bytes"] = sum(f["bytes"] for s in kept_shards for f in s["files"].values())
    manifest.setdefault("takedowns", []).append({"purged_at": now.isoformat(), "shards": marks})
    write_bytes(manifest_uri, json.dumps(manifest, indent=2, sort_keys=True).encode(), store)
    return lines


def purge_indexes(lake: Lake, ids: Iterable[str], *, dry_run: bool = False) -> list[str]:
    """Rebuild every index shard holding one of `ids` without it (a shard left empty is
    deleted) and mark the index manifest; one report line per shard."""
    ids = set(ids)
    if not ids:
        return []
    now = datetime.now(UTC)
    lines = []
    for manifest_uri in index_manifests(lake):
        lines += _purge_index(manifest_uri, ids, lake.store, dry_run, now)
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m spark_jobs.indexes.build MIXTURE --lake URI`: index a mixture's newest export."""
    parser = argparse.ArgumentParser(prog="python -m spark_jobs.indexes.build")
    parser.add_argument("mixture")
    parser.add_argument("--lake", required=True, help="the lake's root: a directory or s3:// URI")
    parser.add_argument("--s3-endpoint-url", help="the S3 endpoint of an s3:// lake (default: AWS)")
    parser.add_argument("--manifest", help="a specific export's manifest.json")
    parser.add_argument("--shard-tokens", type=int, default=DEFAULT_SHARD_TOKENS)
    parser.add_argument("--workers", type=int, default=1, help="shards sorted at once")
    args = parser.parse_args(argv)
    built = build_mixture_index(
        Lake(args.lake, ObjectStore(endpoint_url=args.s3_endpoint_url)),
        args.mixture,
        manifest_uri=args.manifest,
        shard_tokens=args.shard_tokens,
        workers=args.workers,
    )
    totals = built.manifest["totals"]
    print(
        f"index of mixtures.{args.mixture} v{built.manifest['mixture']['version']}: "
        f"{totals['tokens']} tokens, {totals['documents']} documents in "
        f"{len(built.manifest['shards'])} shard(s), {built.seconds:.1f} s"
    )
    print(f"manifest: {built.manifest_uri}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
