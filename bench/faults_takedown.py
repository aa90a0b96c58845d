"""Fault case: after `takedown` + `purge`, no file anywhere still holds a taken-down text.

    python -m bench.faults_takedown             # in a temporary directory
    python -m bench.faults_takedown --keep DIR  # keep the lake, MLflow store and shards there

The scenario, on the small sample lake of `spark_jobs.mixtures.sample` (delta-rs, no Spark):
plant a unique marker string in one web document (raw, annotated and curated tables), build
and export a mixture with token shards and jsonl.zst text shards (tokenizer logged to MLflow),
register a training run on it (manifest logged to MLflow), take the document down, then:

1. scan right after the takedown: the marker must still be found (old Delta versions, shards);
   otherwise the scan could not see a failure;
2. purge with the default retention (7 days): shards and text shards are rewritten, table files
   stay (time travel still works);
3. purge with retention 0: "files still holding the text: 0".

The scan (`files_holding`) reads every file under the given roots: raw bytes, every string
value of every Parquet file (pages decompressed by pyarrow), .zst and .gz decompressed, and
token shards decoded with the tokenizer.json of their export.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pathlib
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

GROUP = "takedown"
DOCUMENT = "web-0002"
RECIPE = {
    "name": "small-mix",
    "seed": 3,
    "token_budget": 20000,
    "license_policy": "permissive-only",
    "languages": ["en"],
    "sequence_length": 32,
    "sequences_per_shard": 128,
    "text_export": True,
    "tokenizer": {"vocab_size": 300, "sample_docs": 100},
    "components": [
        {"name": "web", "corpus": "web", "weight": 2},
        {"name": "code", "corpus": "code", "languages": None, "weight": 1},
    ],
}


def new_marker() -> str:
    return f"PILEHOUSE-TAKEDOWN-MARKER-{uuid.uuid4().hex}"


def plant(tables: dict[str, pa.Table], doc_id: str, marker: str) -> dict[str, pa.Table]:
    """The sample tables with `marker` inserted in the middle of one document's text."""
    planted = {}
    for name, table in tables.items():
        if "text" in table.column_names:
            texts = table["text"].to_pylist()
            for i, row_id in enumerate(table["id"].to_pylist()):
                if row_id == doc_id:
                    middle = len(texts[i]) // 2
                    texts[i] = f"{texts[i][:middle]} {marker} {texts[i][middle:]}"
            index = table.column_names.index("text")
            table = table.set_column(index, "text", pa.array(texts, pa.string()))
        planted[name] = table
    return planted


def planted_sample_documents(doc_id: str, marker: str) -> Callable[..., dict[str, pa.Table]]:
    """A stand-in for `sample.sample_documents` that plants the marker (for monkeypatching)."""
    from spark_jobs.mixtures import sample

    original = sample.sample_documents

    def documents(web_docs: int = 60, code_docs: int = 24) -> dict[str, pa.Table]:
        return plant(original(web_docs, code_docs), doc_id, marker)

    return documents


def _strings(array: pa.Array | pa.ChunkedArray) -> Iterable[pa.Array]:
    """Every string-typed array inside `array` (struct fields, list values, dictionaries)."""
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    for chunk in chunks:
        kind = chunk.type
        if pa.types.is_dictionary(kind):
            yield from _strings(chunk.dictionary)
        elif pa.types.is_struct(kind):
            for i in range(kind.num_fields):
                yield from _strings(chunk.field(i))
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind):
            yield from _strings(chunk.flatten())
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            yield chunk
        elif pa.types.is_string_view(kind):
            yield chunk.cast(pa.string())
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            yield chunk.cast(pa.large_string(), safe=False)


def _parquet_holds(path: pathlib.Path, marker: str) -> bool:
    table = pq.read_table(path)
    return any(
        pc.any(pc.match_substring(strings, marker)).as_py()
        for column in table.columns
        for strings in _strings(column)
        if len(strings)
    )


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def _shard_holds(path: pathlib.Path, marker: str) -> bool | None:
    """Whether a token shard decodes to text holding the marker; None: no tokenizer to say."""
    from tokenizers import Tokenizer

    from spark_jobs.mixtures.shards import read_shard

    tokenizer_file = path.parent / "tokenizer.json"
    if not tokenizer_file.exists():
        return None
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    shard = read_shard(str(path))
    texts = [tokenizer.decode(shard.tokens.tolist())]
    for segment in shard.segments:
        start = int(segment["start"])
        texts.append(
            tokenizer.decode(shard.tokens[start : start + int(segment["length"])].tolist())
        )
    return any(marker in text for text in texts)


def files_holding(marker: str, roots: Iterable[pathlib.Path]) -> list[str]:
    """Every file under `roots` holding `marker`, as "path (where it was seen)".

    Raw bytes of every file; string values of Parquet files; decompressed .zst and .gz;
    decoded token shards. A shard with no tokenizer.json beside it counts as holding it.
    """
    needle = marker.encode()
    found = []
    for root in roots:
        for path in sorted(p for p in pathlib.Path(root).rglob("*") if p.is_file()):
            data = path.read_bytes()
            ways = []
            if needle in data:
                ways.append("raw bytes")
            name = path.name
            if name.endswith(".parquet") and _parquet_holds(path, marker):
                ways.append("parquet values")
            if name.endswith(".zst") and needle in _zstd(data):
                ways.append("zstd content")
            if name.endswith(".gz") and needle in gzip.decompress(data):
                ways.append("gzip content")
            if data.startswith(b"PHSHARD1"):
                holds = _shard_holds(path, marker)
                if holds is None:
                    ways.append("token shard without tokenizer.json: cannot check")
                elif holds:
                    ways.append("decoded tokens")
            if ways:
                found.append(f"{path} ({', '.join(ways)})")
    return found


def run_scenario(workdir: pathlib.Path) -> dict:
    """Build the scenario in `workdir`; return what each scan found and the reports."""
    from spark_jobs.delta import read_arrow
    from spark_jobs.lake import Lake
    from spark_jobs.lineage import start_training_run
    from spark_jobs.mixtures import sample
    from spark_jobs.mixtures.build import materialize_mixture
    from spark_jobs.mixtures.recipe import MixtureRecipe
    from spark_jobs.takedown import TakedownRequest, purge, takedown

    marker = new_marker()
    workdir.mkdir(parents=True, exist_ok=True)
    lake = Lake(str(workdir / "lake"))
    tracking = f"sqlite:///{workdir}/mlflow.db"
    artifacts = str(workdir / "mlflow-artifacts")
    original = sample.sample_documents
    sample.sample_documents = planted_sample_documents(DOCUMENT, marker)
    try:
        sample.write_sample_lake(lake)
    finally:
        sample.sample_documents = original
    recipe = MixtureRecipe.from_dict(RECIPE)
    exported = materialize_mixture(lake, recipe, tracking_uri=tracking, artifact_location=artifacts)
    in_mixture = DOCUMENT in exported.build.rows["id"].to_pylist()
    start_training_run(lake, recipe.name, tracking_uri=tracking, artifact_location=artifacts)
    roots = [workdir]
    result = {"marker": marker, "in_mixture": in_mixture, "before": files_holding(marker, roots)}
    started = time.perf_counter()
    report = takedown(lake, TakedownRequest(ids=(DOCUMENT,)), tracking_uri=tracking)
    result["takedown_seconds"] = time.perf_counter() - started
    result["takedown"] = report.render()
    result["after_takedown"] = files_holding(marker, roots)
    result["time_travel_after_takedown"] = (
        DOCUMENT in read_arrow(lake.uri("curated.web"), version=0)["id"].to_pylist()
    )
    started = time.perf_counter()
    default = purge(lake)
    result["purge_default_seconds"] = time.perf_counter() - started
    result["purge_default"] = default.render()
    result["after_default_purge"] = files_holding(marker, roots)
    started = time.perf_counter()
    zero = purge(lake, retention_hours=0)
    result["purge_zero_seconds"] = time.perf_counter() - started
    result["purge_zero"] = zero.render()
    result["purge_zero_files_removed"] = zero.files_removed
    result["after_purge"] = files_holding(marker, roots)
    try:
        read_arrow(lake.uri("curated.web"), version=0)
        result["time_travel_after_purge"] = True
    except (FileNotFoundError, OSError, ValueError):
        result["time_travel_after_purge"] = False
    return result


def cases(workdir: pathlib.Path) -> list[dict]:
    """The takedown fault cases, each {group, attack, expected, observed, ok, seconds}."""
    result = run_scenario(pathlib.Path(workdir) / "takedown")
    exports = str(pathlib.Path(workdir) / "takedown" / "lake" / "_exports")

    def under_exports(hits: list[str]) -> list[str]:
        return [h for h in hits if h.startswith(exports)]

    before = len(result["after_takedown"])
    default_tables = [h for h in result["after_default_purge"] if not h.startswith(exports)]
    return [
        {
            "group": GROUP,
            "attack": "take a document down without purging; scan every file for its text",
            "expected": "the text is still found (old Delta versions, exported shards)",
            "observed": f"files still holding the text: {before}; time travel to v0 holds it: "
            f"{result['time_travel_after_takedown']}; in the mixture: {result['in_mixture']}",
            "ok": bool(before and result["time_travel_after_takedown"] and result["in_mixture"]),
            "seconds": round(result["takedown_seconds"], 2),
        },
        {
            "group": GROUP,
            "attack": "purge with the default retention (7 days) right after the takedown",
            "expected": "exported shards rewritten (0 export files hold it), table files kept "
            "for time travel",
            "observed": f"export files holding the text: "
            f"{len(under_exports(result['after_default_purge']))}; table files: "
            f"{len(default_tables)}",
            "ok": not under_exports(result["after_default_purge"]) and bool(default_tables),
            "seconds": round(result["purge_default_seconds"], 2),
        },
        {
            "group": GROUP,
            "attack": "purge with retention 0; scan the lake, shards, MLflow store and artifacts",
            "expected": "files still holding the text: 0",
            "observed": f"files still holding the text: {len(result['after_purge'])} "
            f"({result['purge_zero_files_removed']} file(s) removed; time travel to v0: "
            f"{result['time_travel_after_purge']})"
            + "".join(f"\n  {h}" for h in result["after_purge"]),
            "ok": not result["after_purge"] and not result["time_travel_after_purge"],
            "seconds": round(result["purge_zero_seconds"], 2),
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=pathlib.Path, help="work here and keep the files")
    args = parser.parse_args(argv)
    if args.keep:
        results = cases(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="faults-takedown-") as scratch:
            results = cases(pathlib.Path(scratch))
    for case in results:
        mark = "ok  " if case["ok"] else "FAIL"
        print(f"{mark} [{case['group']}] {case['attack']} ({case['seconds']} s)")
        print(f"     expected: {case['expected']}")
        print(f"     observed: {case['observed']}")
    print(json.dumps({"cases": len(results), "failed": sum(not c["ok"] for c in results)}))
    return 0 if all(c["ok"] for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
