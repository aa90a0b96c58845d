"""Build a mixture: select documents from pinned curated snapshots, count their tokens, write
mixtures.<name>, then cut training shards and a manifest from it.

Every choice is a function of the recipe (seed included) and the input table versions:
candidates are ordered by a seeded hash of their id, never by file or partition order, so
two builds over the same versions give the same rows, the same shards and equal checksums.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import xxhash
import yaml

from spark_jobs.delta import open_table, snapshot_dataset, table_exists, write_arrow
from spark_jobs.indexes.substrings import SpanEdits, cut, repeated_spans
from spark_jobs.lake import CORPORA, Lake
from spark_jobs.licenses import license_allowed
from spark_jobs.mixtures.recipe import Component, MixtureRecipe, register_mixture_table
from spark_jobs.mixtures.shards import ShardWriter, TextShardWriter, token_dtype, write_bytes
from spark_jobs.mixtures.tokenizer import (
    MixtureTokenizer,
    load_tokenizer_file,
    log_tokenizer,
    train_bpe,
)

log = logging.getLogger(__name__)

MANIFEST_FORMAT = "pilehouse-mixture-manifest/1"
SHARD_FORMAT = "pilehouse-shards/1"
EXPORTS_TABLE = "ops.shard_exports"
_ENCODE_BATCH_ROWS = 512
# Documents a weighted component encodes when its walk first needs one; doubles each time.
_FIRST_ENCODE_CHUNK = 256
# How far a weighted component's token share may be from its weight's share (absolute).
SHARE_TOLERANCE = 0.01

MIXTURE_SCHEMA = pa.schema(
    [
        ("position", pa.int64()),
        ("id", pa.string()),
        ("corpus", pa.string()),
        ("source", pa.string()),
        ("license", pa.string()),
        ("language", pa.string()),
        ("component", pa.string()),
        ("repetition", pa.int32()),
        ("token_count", pa.int64()),
    ]
)
SUBSTRING_EDITS_TABLE = "ops.substring_edits"
SUBSTRING_EDITS_SCHEMA = pa.schema(
    [
        ("mixture", pa.string()),
        ("mixture_version", pa.int64()),
        ("id", pa.string()),
        ("action", pa.string()),
        ("start_token", pa.int64()),
        ("end_token", pa.int64()),
        ("tokens", pa.int64()),
        ("min_tokens", pa.int64()),
        ("keep", pa.string()),
        ("text", pa.string()),
    ]
)
EXPORT_SCHEMA = pa.schema(
    [
        ("mixture", pa.string()),
        ("mixture_version", pa.int64()),
        ("manifest_uri", pa.string()),
        ("shard", pa.string()),
        ("sha256", pa.string()),
        ("tokens", pa.int64()),
        ("first_position", pa.int64()),
        ("last_position", pa.int64()),
    ]
)


class TokenCache:
    """Tokens of the documents a build looked at (end-of-text appended), spilled to a local
    file as they are encoded. Weighted components encode lazily, in their seeded walk order,
    so a large corpus sampled down to a small share is not tokenized in full."""

    def __init__(self, path: str, tokenizer: MixtureTokenizer) -> None:
        self.path = path
        self.tokenizer = tokenizer
        self.dtype = np.dtype("<u4")
        self.offsets: dict[str, tuple[int, int]] = {}  # id -> (start, length)
        self.empty: set[str] = set()  # candidates without text: counted, never packed
        self._position = 0
        self._sink = open(path, "wb")  # noqa: SIM115 - closed by open_for_reading
        self._array: np.ndarray | None = None

    def known(self, doc_id: str) -> bool:
        return doc_id in self.offsets or doc_id in self.empty

    def length(self, doc_id: str) -> int:
        """Tokens of an encoded document; 0 for one without text."""
        return self.offsets[doc_id][1] if doc_id in self.offsets else 0

    def encode(self, dataset: ds.Dataset, ids: Iterable[str]) -> None:
        """Encode the documents of `ids` not encoded yet, reading their text from `dataset`."""
        missing = sorted(i for i in set(ids) if not self.known(i))
        if not missing:
            return
        eos = self.tokenizer.eos_id
        scanner = dataset.scanner(
            columns=["id", "text"],
            filter=ds.field("id").isin(pa.array(missing, pa.string())),
            batch_size=_ENCODE_BATCH_ROWS,
        )
        for batch in scanner.to_batches():
            keep = []
            for doc_id, text in zip(
                batch.column("id").to_pylist(), batch.column("text").to_pylist(), strict=True
            ):
                if self.known(doc_id):
                    continue
                if text:
                    keep.append((doc_id, text))
                else:
                    self.empty.add(doc_id)
            encodings = self.tokenizer.tokenizer.encode_batch([t for _, t in keep])
            for (doc_id, _), encoding in zip(keep, encodings, strict=True):
                tokens = np.array([*encoding.ids, eos], dtype=self.dtype)
                self._sink.write(tokens.tobytes())
                self.offsets[doc_id] = (self._position, len(tokens))
                self._position += len(tokens)

    def open_for_reading(self) -> None:
        self._sink.close()
        size = self._position
        self._array = (
            np.memmap(self.path, dtype=self.dtype, mode="r", shape=(size,))
            if size
            else np.empty(0, dtype=self.dtype)
        )

    def tokens(self, doc_id: str) -> np.ndarray:
        start, length = self.offsets[doc_id]
        return self._array[start : start + length]

    def release(self) -> None:
        if not self._sink.closed:
            self._sink.close()
        self._array = None


@dataclass
class MixtureBuild:
    """What building a mixture committed and what the export needs."""

    recipe: MixtureRecipe
    table: str
    uri: str
    version: int
    inputs: dict[str, tuple[str, int]]  # table -> (uri, version)
    rows: pa.Table  # the mixture rows, in position order
    tokenizer: MixtureTokenizer
    cache: TokenCache
    empty_documents: int = 0
    # Tables the tokenizer was trained on (empty for a given or file tokenizer).
    tokenizer_inputs: dict[str, tuple[str, int]] = field(default_factory=dict)

    def token_shares(self, by: str = "component") -> dict[str, float]:
        totals = self.token_totals(by)
        grand = sum(totals.values()) or 1
        return {key: value / grand for key, value in totals.items()}

    def token_totals(self, by: str) -> dict[str, int]:
        grouped = self.rows.group_by(by).aggregate([("token_count", "sum")]).to_pylist()
        return {str(g[by]): int(g["token_count_sum"]) for g in sorted(grouped, key=str)}


def _seeded_hash(seed: int, *parts: object) -> int:
    return xxhash.xxh64_intdigest(":".join(str(p) for p in parts).encode(), seed=seed)


def _read_candidates(
    lake: Lake, table: str, version: int, recipe: MixtureRecipe, component: Component
) -> pa.Table:
    dataset = snapshot_dataset(lake.uri(table), version=version, store=lake.store)
    wanted = ["id", "corpus", "source", "license", "language"]
    columns = [c for c in wanted if c in dataset.schema.names]
    rows = dataset.to_table(columns=columns)
    for column in wanted:
        if column not in rows.column_names:
            rows = rows.append_column(column, pa.nulls(rows.num_rows, pa.string()))
    rows = rows.select(wanted).cast(pa.schema([(c, pa.string()) for c in wanted]))
    if component.sources:
        rows = rows.filter(pc.is_in(rows["source"], pa.array(component.sources)))
    languages = recipe.component_languages(component)
    if languages:
        rows = rows.filter(pc.fill_null(pc.is_in(rows["language"], pa.array(languages)), False))
    licenses = pc.unique(rows["license"]).to_pylist()
    allowed = [lic for lic in licenses if license_allowed(lic, recipe.license_policy)]
    rows = rows.filter(
        pc.fill_null(pc.is_in(rows["license"], pa.array(allowed, pa.string())), False)
    )
    return rows.append_column("component", pa.array([component.name] * rows.num_rows, pa.string()))


def _tokenizer_inputs(
    lake: Lake, recipe: MixtureRecipe, inputs: Mapping[str, int]
) -> dict[str, int]:
    """The tables (pinned versions) the tokenizer's training sample is drawn from."""
    if recipe.tokenizer.sample == "mixture":
        return dict(inputs)
    tables = {}
    for corpus in CORPORA:
        name = f"curated.{corpus}"
        if name in inputs:
            tables[name] = inputs[name]
        elif table_exists(lake.uri(name), lake.store):
            tables[name] = open_table(lake.uri(name), store=lake.store).version()
    return tables


def _tokenizer_sample(
    lake: Lake, tables: Mapping[str, int], candidates: pa.Table, recipe: MixtureRecipe
) -> list[str]:
    spec = recipe.tokenizer
    if spec.sample == "mixture":
        ids, seed = set(candidates["id"].to_pylist()), recipe.seed
    else:
        ids, seed = set(), spec.seed
        for table, version in tables.items():
            dataset = snapshot_dataset(lake.uri(table), version=version, store=lake.store)
            ids |= set(dataset.to_table(columns=["id"])["id"].to_pylist())
    ordered = sorted(ids, key=lambda i: (_seeded_hash(seed, "tokenizer", i), i))
    sample = set(ordered[: spec.sample_docs])
    texts: dict[str, str] = {}
    for table, version in tables.items():
        dataset = snapshot_dataset(lake.uri(table), version=version, store=lake.store)
        found = dataset.to_table(
            columns=["id", "text"], filter=ds.field("id").isin(pa.array(sorted(sample)))
        )
        texts.update(zip(found["id"].to_pylist(), found["text"].to_pylist(), strict=True))
    # Sorted by id so the trainer sees the same sequence whatever the file layout.
    return [texts[i] for i in sorted(texts) if texts[i]]


def _pick(
    ids: list[str],
    cache: TokenCache,
    encode: Callable[[list[str]], None],
    target: float,
    seed: int,
    component: str,
) -> list[tuple[str, int]]:
    """Walk seeded passes over the documents until `target` tokens, stopping at whichever
    document boundary lands closest to it; encode documents in growing chunks as the walk
    reaches them."""
    picked: list[tuple[str, int]] = []
    total = 0
    repetition = 0
    chunk = _FIRST_ENCODE_CHUNK
    while total < target:
        order = sorted(ids, key=lambda i: (_seeded_hash(seed, component, repetition, i), i))
        for index, doc_id in enumerate(order):
            if not cache.known(doc_id):
                encode(order[index : index + chunk])
                chunk *= 2
            count = cache.length(doc_id)
            if count == 0:
                continue
            if total + count > target:
                if total + count - target < target - total:
                    picked.append((doc_id, repetition))
                return picked
            picked.append((doc_id, repetition))
            total += count
        if total == 0:
            raise ValueError(f"component {component}: every candidate document has empty text")
        repetition += 1
    return picked


def _select(
    recipe: MixtureRecipe,
    candidates: pa.Table,
    cache: TokenCache,
    datasets: Mapping[str, ds.Dataset],
) -> list[tuple[Component, str, int]]:
    per_component: dict[str, list[str]] = {c.name: [] for c in recipe.components}
    for component, doc_id in zip(
        candidates["component"].to_pylist(), candidates["id"].to_pylist(), strict=True
    ):
        per_component[component].append(doc_id)
    for component in recipe.components:
        if not per_component[component.name]:
            raise ValueError(
                f"mixture {recipe.name}: component {component.name} matches no document of "
                f"{component.table} (sources {component.sources}, languages "
                f"{recipe.component_languages(component)}, license policy "
                f"{recipe.license_policy}); widen the filter or drop the component"
            )

    def encoder(component: Component) -> Callable[[list[str]], None]:
        return lambda ids: cache.encode(datasets[component.table], ids)

    chosen: list[tuple[Component, str, int]] = []
    epoch_tokens = 0
    for component in recipe.components:
        if component.epochs is None:
            continue
        ids = sorted(set(per_component[component.name]))
        cache.encode(datasets[component.table], ids)  # an epoch needs every document
        target = component.epochs * sum(cache.length(i) for i in ids)
        picks = _pick(ids, cache, encoder(component), target, recipe.seed, component.name)
        epoch_tokens += sum(cache.length(i) for i, _ in picks)
        chosen += [(component, i, r) for i, r in picks]
    weighted = [c for c in recipe.components if c.weight is not None]
    if weighted:
        budget = (recipe.token_budget or 0) - epoch_tokens
        if budget <= 0:
            raise ValueError(
                f"mixture {recipe.name}: epoch components already take {epoch_tokens} tokens "
                f"of the {recipe.token_budget}-token budget; raise token_budget"
            )
        weights = sum(c.weight or 0.0 for c in weighted)
        for component in weighted:
            ids = sorted(set(per_component[component.name]))
            target = budget * (component.weight or 0.0) / weights
            picks = _pick(ids, cache, encoder(component), target, recipe.seed, component.name)
            chosen += [(component, i, r) for i, r in picks]
    return chosen


def build_mixture(
    lake: Lake,
    recipe: MixtureRecipe,
    *,
    tokenizer: MixtureTokenizer | None = None,
    tracking_uri: str | None = None,
    artifact_location: str | None = None,
    metadata: Mapping[str, object] | None = None,
    scratch_dir: str | None = None,
) -> MixtureBuild:
    """Select, tokenize and commit mixtures.<recipe.name> from the current curated snapshots.

    Args:
        lake: where the curated tables are and the mixture table goes.
        recipe: the mixture recipe.
        tokenizer: use this tokenizer; default: the recipe's file, or train one on a sample.
        tracking_uri: MLflow tracking URI to version a trained tokenizer in (skipped if None).
        artifact_location: artifact root for the tokenizer experiment, if it is created.
        metadata: extra commit metadata (Dagster run id, ...).
        scratch_dir: where to spill the token cache (default: a temporary directory).
    """
    table_name = register_mixture_table(recipe.name)
    inputs: dict[str, int] = {}
    for component in recipe.components:
        uri = lake.uri(component.table)
        if component.table not in inputs:
            if not table_exists(uri, lake.store):
                raise FileNotFoundError(
                    f"mixture {recipe.name} needs {component.table} ({uri}), which does not "
                    "exist yet; run curation first (pilehouse run)"
                )
            inputs[component.table] = open_table(uri, store=lake.store).version()
    candidates = pa.concat_tables(
        _read_candidates(lake, c.table, inputs[c.table], recipe, c) for c in recipe.components
    )
    tokenizer_inputs: dict[str, int] = {}
    if tokenizer is None:
        if recipe.tokenizer.path:
            tokenizer = load_tokenizer_file(recipe.tokenizer.path)
        else:
            tokenizer_inputs = _tokenizer_inputs(lake, recipe, inputs)
            sample = _tokenizer_sample(lake, tokenizer_inputs, candidates, recipe)
            tokenizer = train_bpe(sample, recipe.tokenizer.vocab_size)
    if tracking_uri and tokenizer.mlflow_run_id is None:
        tokenizer = log_tokenizer(tokenizer, tracking_uri, artifact_location=artifact_location)
    scratch = scratch_dir or tempfile.mkdtemp(prefix=f"mixture-{recipe.name}-")
    cache = TokenCache(os.path.join(scratch, "tokens.u32"), tokenizer)
    datasets = {
        table: snapshot_dataset(lake.uri(table), version=version, store=lake.store)
        for table, version in inputs.items()
    }
    try:
        chosen = _select(recipe, candidates, cache, datasets)
    finally:
        cache.open_for_reading()
    info = {
        (c, i): row
        for c, i, row in zip(
            candidates["component"].to_pylist(),
            candidates["id"].to_pylist(),
            candidates.select(["corpus", "source", "license", "language"]).to_pylist(),
            strict=True,
        )
    }
    chosen.sort(key=lambda p: (_seeded_hash(recipe.seed, "order", p[0].name, p[2], p[1]), p))
    records = [
        {
            "position": position,
            "id": doc_id,
            **info[(component.name, doc_id)],
            "component": component.name,
            "repetition": repetition,
            "token_count": cache.offsets[doc_id][1],
        }
        for position, (component, doc_id, repetition) in enumerate(chosen)
    ]
    rows = pa.Table.from_pylist(records, schema=MIXTURE_SCHEMA)
    commit = write_arrow(
        rows,
        lake.uri(table_name),
        mode="overwrite",
        overwrite_schema=True,
        metadata={
            **(metadata or {}),
            **{f"lineage.input.{t}": v for t, v in inputs.items()},
            **{f"lineage.tokenizer_input.{t}": v for t, v in tokenizer_inputs.items()},
            "lineage.recipe": recipe.name,
            "lineage.recipe_hash": recipe.fingerprint,
            "lineage.seed": recipe.seed,
            "lineage.tokenizer_version": tokenizer.version,
        },
        store=lake.store,
    )
    log.info(
        "mixture %s v%d: %d rows, %d tokens",
        recipe.name,
        commit.version,
        rows.num_rows,
        pc.sum(rows["token_count"]).as_py() or 0,
    )
    return MixtureBuild(
        recipe=recipe,
        table=table_name,
        uri=lake.uri(table_name),
        version=commit.version,
        inputs={t: (lake.uri(t), v) for t, v in inputs.items()},
        tokenizer_inputs={t: (lake.uri(t), v) for t, v in tokenizer_inputs.items()},
        rows=rows,
        tokenizer=tokenizer,
        cache=cache,
        empty_documents=len(cache.empty),
    )


def _breakdown(rows: pa.Table, by: str) -> dict[str, dict[str, int]]:
    grouped = rows.group_by(by).aggregate(
        [("token_count", "sum"), ("id", "count_distinct"), ("id", "count")]
    )
    return {
        str(g[by]): {
            "tokens": int(g["token_count_sum"]),
            "documents": int(g["id_count_distinct"]),
            "rows": int(g["id_count"]),
        }
        for g in sorted(grouped.to_pylist(), key=lambda g: str(g[by]))
    }


def token_report(rows: pa.Table) -> dict[str, dict[str, dict[str, int]]]:
    """Tokens, documents and rows per component, corpus, source, license and language."""
    return {
        by: _breakdown(rows, by) for by in ("component", "corpus", "source", "license", "language")
    }


def default_export_uri(lake: Lake, name: str, version: int) -> str:
    return f"{lake.root_uri.rstrip('/')}/_exports/mixtures/{name}/v{version}"


@dataclass(frozen=True)
class MixtureExport:
    build: MixtureBuild
    directory: str
    manifest_uri: str
    manifest: dict


def export_shards(lake: Lake, build: MixtureBuild, directory: str | None = None) -> MixtureExport:
    """Write the packed shards, optional jsonl.zst text, tokenizer.json, recipe.yaml and
    manifest.json of a built mixture, and register the shards in ops.shard_exports."""
    recipe = build.recipe
    directory = (directory or default_export_uri(lake, recipe.name, build.version)).rstrip("/")
    store = lake.store
    components = [c.name for c in recipe.components]
    sources = sorted(set(build.rows["source"].to_pylist()))
    component_index = {name: i for i, name in enumerate(components)}
    source_index = {name: i for i, name in enumerate(sources)}
    writer = ShardWriter(
        directory,
        sequence_length=recipe.sequence_length,
        sequences_per_shard=recipe.sequences_per_shard,
        dtype=token_dtype(build.tokenizer.vocab_size),
        store=store,
    )
    texts = (
        TextShardWriter(directory, rows_per_shard=10_000, store=store)
        if recipe.text_export
        else None
    )
    rows = build.rows.select(["position", "id", "component", "source"]).to_pylist()
    substrings = _substring_edits(build, rows)
    for row in rows:
        tokens = build.cache.tokens(row["id"])
        if substrings is not None and substrings.action == "remove":
            tokens = np.concatenate([cut(tokens[:-1], substrings.of(row["id"])), tokens[-1:]])
        writer.add(
            row["position"], tokens, component_index[row["component"]], source_index[row["source"]]
        )
        if texts is not None:
            text = build.tokenizer.tokenizer.decode(tokens[:-1].tolist())
            line = {"id": row["id"], "source": row["source"], "text": text}
            texts.add(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    shards = writer.close()
    text_shards = texts.close() if texts is not None else []
    tokenizer_sha = write_bytes(
        f"{directory}/tokenizer.json", build.tokenizer.to_json().encode(), store
    )
    write_bytes(
        f"{directory}/recipe.yaml",
        yaml.safe_dump(recipe.to_dict(), sort_keys=False).encode(),
        store,
    )
    totals = sum(s.tokens for s in shards)
    manifest = {
        "format": MANIFEST_FORMAT,
        "shard_format": SHARD_FORMAT,
        "mixture": {
            "name": recipe.name,
            "table": build.table,
            "uri": build.uri,
            "version": build.version,
        },
        "recipe": recipe.to_dict(),
        "recipe_hash": recipe.fingerprint,
        "inputs": [
            {"table": table, "uri": uri, "version": version}
            for table, (uri, version) in sorted(build.inputs.items())
        ],
        "tokenizer": {
            "version": build.tokenizer.version,
            "origin": build.tokenizer.origin,
            "sample": recipe.tokenizer.sample if build.tokenizer_inputs else None,
            "sample_inputs": [
                {"table": table, "uri": uri, "version": version}
                for table, (uri, version) in sorted(build.tokenizer_inputs.items())
            ],
            "vocab_size": build.tokenizer.vocab_size,
            "eos_id": build.tokenizer.eos_id,
            "file": "tokenizer.json",
            "sha256": tokenizer_sha,
            "mlflow_run_id": build.tokenizer.mlflow_run_id,
            "artifact_uri": build.tokenizer.artifact_uri,
        },
        "sequence_length": recipe.sequence_length,
        "token_dtype": writer.dtype.name,
        "components": components,
        "sources": sources,
        "shards": [
            {
                "file": s.name,
                "index": s.index_name,
                "sha256": s.sha256,
                "index_sha256": s.index_sha256,
                "tokens": s.tokens,
                "sequences": s.sequences,
                "bytes": s.bytes,
                "first_position": s.first_position,
                "last_position": s.last_position,
            }
            for s in shards
        ],
        "text_shards": text_shards,
        "totals": {
            "tokens": totals,
            "rows": build.rows.num_rows,
            "documents": len(set(build.rows["id"].to_pylist())),
            "sequences": sum(s.sequences for s in shards),
            # Candidates with no text: counted here, never silently dropped.
            "empty_documents_skipped": build.empty_documents,
            **token_report(build.rows),
        },
    }
    if substrings is not None:
        manifest["substring_dedup"] = substrings.summary()
    manifest_uri = f"{directory}/manifest.json"
    write_bytes(manifest_uri, json.dumps(manifest, indent=2, sort_keys=True).encode(), store)
    if substrings is not None:
        substrings.record(lake, build)
    register_export(lake, recipe.name, build.version, manifest_uri, manifest)
    return MixtureExport(build, directory, manifest_uri, manifest)


@dataclass
class _Substrings:
    """What the recipe's exact-substring dedup found among the mixture's distinct documents."""

    action: str
    ids: list[str]
    edits: SpanEdits
    by_id: dict[str, list[tuple[int, int]]]

    def of(self, doc_id: str) -> list[tuple[int, int]]:
        return self.by_id.get(doc_id, [])

    def summary(self) -> dict[str, object]:
        return {
            "min_tokens": self.edits.min_tokens,
            "action": self.action,
            "keep": self.edits.keep,
            "spans": self.edits.spans,
            "tokens": self.edits.tokens_removed,
            "documents": self.edits.documents_touched,
            "edits_table": SUBSTRING_EDITS_TABLE,
        }

    def record(self, lake: Lake, build: MixtureBuild) -> None:
        decode = build.tokenizer.tokenizer.decode
        rows = [
            {
                "mixture": build.recipe.name,
                "mixture_version": build.version,
                "id": doc_id,
                "action": self.action,
                "start_token": start,
                "end_token": end,
                "tokens": end - start,
                "min_tokens": self.edits.min_tokens,
                "keep": self.edits.keep,
                "text": decode(build.cache.tokens(doc_id)[start:end].tolist())[:2000],
            }
            for doc_id in self.ids
            for start, end in self.of(doc_id)
        ]
        write_arrow(
            pa.Table.from_pylist(rows, schema=SUBSTRING_EDITS_SCHEMA),
            lake.uri(SUBSTRING_EDITS_TABLE),
            mode="append",
            metadata={f"lineage.input.mixtures.{build.recipe.name}": build.version},
            store=lake.store,
        )


def _substring_edits(build: MixtureBuild, rows: list[dict]) -> _Substrings | None:
    """Repeated spans across the distinct documents (an up-sampled document's repetitions
    are the recipe's choice, not duplicates), first occurrences in mixture order."""
    spec = build.recipe.substring_dedup
    if spec is None:
        return None
    ids = list(dict.fromkeys(row["id"] for row in rows))
    documents = [build.cache.tokens(doc_id)[:-1] for doc_id in ids]  # without end-of-text
    edits = repeated_spans(
        documents,
        min_tokens=spec.min_tokens,
        keep=spec.keep,  # type: ignore[arg-type]
        separator=build.tokenizer.eos_id,
    )
    by_id = {doc_id: r for doc_id, r in zip(ids, edits.ranges, strict=True) if r}
    log.info(
        "mixture %s: exact-substring dedup (>= %d tokens, keep %s) found %d spans, %d tokens "
        "in %d documents (%s)",
        build.recipe.name,
        spec.min_tokens,
        spec.keep,
        edits.spans,
        edits.tokens_removed,
        edits.documents_touched,
        spec.action,
    )
    return _Substrings(spec.action, ids, edits, by_id)


def register_export(
    lake: Lake, name: str, version: int, manifest_uri: str, manifest: Mapping
) -> None:
    rows = pa.Table.from_pylist(
        [
            {
                "mixture": name,
                "mixture_version": version,
                "manifest_uri": manifest_uri,
                "shard": s["file"],
                "sha256": s["sha256"],
                "tokens": s["tokens"],
                "first_position": s["first_position"],
                "last_position": s["last_position"],
            }
            for s in manifest["shards"]
        ],
        schema=EXPORT_SCHEMA,
    )
    write_arrow(
        rows,
        lake.uri(EXPORTS_TABLE),
        mode="append",
        metadata={f"lineage.input.mixtures.{name}": version},
        store=lake.store,
    )


def latest_export(lake: Lake, name: str) -> str:
    """The manifest URI of the newest export of a mixture."""
    uri = lake.uri(EXPORTS_TABLE)
    if not table_exists(uri, lake.store):
        raise FileNotFoundError(f"no mixture has been exported yet (no {EXPORTS_TABLE})")
    exports = snapshot_dataset(uri, store=lake.store).to_table(
        columns=["mixture", "mixture_version", "manifest_uri"], filter=ds.field("mixture") == name
    )
    if exports.num_rows == 0:
        raise FileNotFoundError(
            f"mixture {name!r} has no export; build it first (pilehouse mixture build {name})"
        )
    newest = max(exports.to_pylist(), key=lambda r: r["mixture_version"])
    return newest["manifest_uri"]


def read_manifest(uri: str, store) -> dict:
    fs, path = store.filesystem(uri)
    with fs.open_input_stream(path, compression=None) as stream:
        return json.loads(stream.read())


def materialize_mixture(
    lake: Lake,
    recipe: MixtureRecipe,
    *,
    export_uri: str | None = None,
    tracking_uri: str | None = None,
    artifact_location: str | None = None,
    metadata: Mapping[str, object] | None = None,
) -> MixtureExport:
    """Build mixtures.<name> and export its shards and manifest (the asset's one call)."""
    with tempfile.TemporaryDirectory(prefix=f"mixture-{recipe.name}-") as scratch:
        build = build_mixture(
            lake,
            recipe,
            tracking_uri=tracking_uri,
            artifact_location=artifact_location,
            metadata=metadata,
            scratch_dir=scratch,
        )
        exported = export_shards(lake, build, export_uri)
        build.cache.release()  # the memory map goes before its directory
        return exported


def recipe_conformance(recipe: MixtureRecipe, manifest: Mapping) -> dict[str, object]:
    """Whether an export holds what its recipe promises: every license allowed by the
    policy, and each weighted component's share of the weighted tokens within 1 point.

    Returns {"passed": bool, "problems": [...], "shares": {component: (target, measured)}}.
    """
    totals = manifest["totals"]
    problems = [
        f"license {lic} is not allowed by policy {recipe.license_policy}"
        for lic in totals["license"]
        if not license_allowed(None if lic == "None" else lic, recipe.license_policy)
    ]
    weighted = [c for c in recipe.components if c.weight is not None]
    tokens = {name: v["tokens"] for name, v in totals["component"].items()}
    weighted_tokens = sum(tokens.get(c.name, 0) for c in weighted) or 1
    weights = sum(c.weight or 0.0 for c in weighted) or 1.0
    shares = {}
    for c in weighted:
        target = (c.weight or 0.0) / weights
        measured = tokens.get(c.name, 0) / weighted_tokens
        shares[c.name] = (round(target, 4), round(measured, 4))
        if abs(measured - target) > SHARE_TOLERANCE:
            problems.append(
                f"component {c.name} has {measured:.2%} of the weighted tokens, "
                f"recipe asks {target:.2%}"
            )
    return {"passed": not problems, "problems": problems, "shares": shares}
