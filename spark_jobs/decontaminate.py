"""Benchmark decontamination: flag documents that share a word n-gram with a benchmark item.

As in GPT-3 and Llama's decontamination: text is lower-cased and split into words, and a
document is contaminated by a benchmark item when they share any n-gram of `n` words
(13 by default). The items' n-gram hashes are built on the driver and broadcast; Spark
tasks hash every n-gram of every document (a rolling hash over per-word hashes, in
NumPy) and look them up in the sorted broadcast array.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

# The benchmark sample shipped with Pilehouse (three small benchmarks written for it).
BUNDLED_BENCHMARKS = Path(__file__).parent / "benchmarks"
DEFAULT_NGRAM = 13
BENCHMARK_COLUMNS = ("benchmark", "item_id", "split", "question", "answer")
BENCHMARK_SCHEMA = pa.schema([(name, pa.string()) for name in BENCHMARK_COLUMNS])
FLAG_SCHEMA = StructType(
    [
        StructField("id", StringType(), False),
        StructField("corpus", StringType(), False),
        StructField("source", StringType(), False),
        StructField("benchmark", StringType(), False),
        StructField("item_id", StringType(), False),
        # The first shared n-gram, as the document's words (lower-cased).
        StructField("ngram", StringType(), False),
        StructField("ngram_size", IntegerType(), False),
        # How many of the document's n-gram positions match this item.
        StructField("matches", IntegerType(), False),
    ]
)
_WORD = re.compile(r"\w+")
# Rolling-hash base (odd, so multiplication mod 2**64 is a bijection).
_BASE = np.uint64(0x100000001B3)


def words(text: str) -> list[str]:
    """Lower-cased words: the tokens n-grams are made of."""
    return _WORD.findall(text.lower())


def ngram_hashes(tokens: Sequence[str], n: int) -> np.ndarray:
    """64-bit hashes of every n-gram of `tokens` (empty when there are fewer than n)."""
    count = len(tokens) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    token_hashes = np.fromiter(
        (xxhash.xxh64_intdigest(t.encode()) for t in tokens), dtype=np.uint64, count=len(tokens)
    )
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic mod 2**64 is the point
        for j in range(n):
            hashes = hashes * _BASE + token_hashes[j : j + count]
    return hashes


# ---------------------------------------------------------------------------------------
# Benchmark items
# ---------------------------------------------------------------------------------------


def benchmark_files(locations: Iterable[str | Path]) -> list[Path]:
    """The JSONL files named by `locations`: files as given, directories' *.jsonl sorted."""
    files: list[Path] = []
    for location in locations:
        path = Path(location)
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(
                f"benchmark location {path} does not exist; give JSONL files or directories "
                "holding them"
            )
    return files


def load_benchmark_items(locations: Iterable[str | Path]) -> pa.Table:
    """Read benchmark items from JSONL files (one item per line) into one Arrow table.

    Each line is an object with `question` and `answer` (strings), and optionally
    `item_id` (default: the line number), `split` (default: test) and `benchmark`
    (default: the file name without .jsonl).

    Raises:
        ValueError: a line that is not a JSON object with a question, or an item id used
            twice in one benchmark; the message names the file and line.
    """
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for path in benchmark_files(locations):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: not a JSON line ({error}); fix or remove it") from None
            if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                raise ValueError(f'{where}: a benchmark item needs a "question" string')
            row = {
                "benchmark": str(item.get("benchmark") or path.name.removesuffix(".jsonl")),
                "item_id": str(item.get("item_id", number)),
                "split": str(item.get("split", "test")),
                "question": item["question"],
                "answer": str(item.get("answer") or ""),
            }
            key = (row["benchmark"], row["item_id"])
            if key in seen:
                raise ValueError(f"{where}: item {key[1]!r} appears twice in benchmark {key[0]!r}")
            seen.add(key)
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=BENCHMARK_SCHEMA)


@dataclass(frozen=True)
class BenchmarkIndex:
    """Sorted n-gram hashes of benchmark items and which item each hash came from."""

    n: int
    hashes: np.ndarray  # uint64, sorted
    owners: np.ndarray  # int32 index into `items`, aligned with `hashes`
    items: tuple[tuple[str, str], ...]  # (benchmark, item_id)
    # Items with fewer than n words cannot share an n-gram with anything.
    too_short: tuple[tuple[str, str], ...] = field(default=())

    @property
    def benchmarks(self) -> list[str]:
        return sorted({b for b, _ in self.items})

    def matches(self, hashes: np.ndarray) -> dict[int, list[int]]:
        """For n-gram hashes of one document: item index -> positions that match it."""
        found: dict[int, list[int]] = {}
        if not len(hashes) or not len(self.hashes):
            return found
        left = np.searchsorted(self.hashes, hashes, side="left")
        right = np.searchsorted(self.hashes, hashes, side="right")
        for position in np.nonzero(right > left)[0]:
            for owner in self.owners[left[position] : right[position]]:
                found.setdefault(int(owner), []).append(int(position))
        return found


def build_index(
    items: pa.Table, n: int = DEFAULT_NGRAM, benchmarks: str | Sequence[str] = "all"
) -> BenchmarkIndex:
    """Hash every n-gram of every item's question + answer (of the chosen benchmarks)."""
    if n < 1:
        raise ValueError(f"n-gram size must be at least 1, got {n}")
    present = set(items.column("benchmark").to_pylist())
    if benchmarks != "all":
        unknown = sorted(set(benchmarks) - present)
        if unknown:
            raise ValueError(
                f"benchmarks {unknown} are not registered; registered: {sorted(present)} "
                "(add their JSONL files to the benchmark directory)"
            )
    chosen = present if benchmarks == "all" else set(benchmarks)
    keys: list[tuple[str, str]] = []
    short: list[tuple[str, str]] = []
    parts: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for row in items.to_pylist():
        if row["benchmark"] not in chosen:
            continue
        key = (row["benchmark"], row["item_id"])
        hashes = np.unique(ngram_hashes(words(f"{row['question']} {row['answer']}"), n))
        if not len(hashes):
            short.append(key)
            continue
        parts.append(hashes)
        owners.append(np.full(len(hashes), len(keys), dtype=np.int32))
        keys.append(key)
    all_hashes = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    all_owners = np.concatenate(owners) if owners else np.empty(0, dtype=np.int32)
    order = np.argsort(all_hashes, kind="stable")
    return BenchmarkIndex(n, all_hashes[order], all_owners[order], tuple(keys), tuple(short))


# ---------------------------------------------------------------------------------------
# Scanning documents
# ---------------------------------------------------------------------------------------


def flag_batch(batch: pa.RecordBatch, index: BenchmarkIndex) -> pa.RecordBatch:
    """Flag rows for one batch of documents (id, corpus, source, text): one per (doc, item)."""
    out: dict[str, list] = {f.name: [] for f in FLAG_SCHEMA.fields}
    ids, corpora, sources = (batch.column(c).to_pylist() for c in ("id", "corpus", "source"))
    for row, text in enumerate(batch.column("text").to_pylist()):
        tokens = words(text or "")
        for owner, positions in index.matches(ngram_hashes(tokens, index.n)).items():
            benchmark, item_id = index.items[owner]
            first = positions[0]
            for name, value in (
                ("id", ids[row]),
                ("corpus", corpora[row]),
                ("source", sources[row]),
                ("benchmark", benchmark),
                ("item_id", item_id),
                ("ngram", " ".join(tokens[first : first + index.n])),
                ("ngram_size", index.n),
                ("matches", len(positions)),
            ):
                out[name].append(value)
    return pa.RecordBatch.from_pydict(out, schema=_flag_arrow_schema())


@functools.cache
def _flag_arrow_schema() -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(FLAG_SCHEMA)


def flag_documents(documents: DataFrame, index: BenchmarkIndex) -> DataFrame:
    """Flags for documents (needs id, corpus, source, text): the index is broadcast once."""
    shared = documents.sparkSession.sparkContext.broadcast(index)

    def scan(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        local = shared.value
        for batch in batches:
            flags = flag_batch(batch, local)
            if flags.num_rows:
                yield flags

    return documents.select("id", "corpus", "source", "text").mapInArrow(scan, FLAG_SCHEMA)


def contamination_verdicts(flags: DataFrame) -> DataFrame:
    """One row per flagged document: `contaminated_by` (benchmark names) and a readable detail."""
    first = flags.groupBy("id").agg(
        F.sort_array(F.collect_set("benchmark")).alias("contaminated_by"),
        F.min(F.struct("benchmark", "item_id", "ngram_size", "ngram")).alias("_first"),
        F.count("*").alias("_items"),
    )
    detail = F.format_string(
        'shares a %d-word n-gram with %s item %s ("%s")%s',
        F.col("_first.ngram_size"),
        F.col("_first.benchmark"),
        F.col("_first.item_id"),
        F.col("_first.ngram"),
        F.when(
            F.col("_items") > 1,
            F.format_string(
                " and %d more items of %s",
                F.col("_items") - 1,
                F.array_join("contaminated_by", ", "),
            ),
        ).otherwise(F.lit("")),
    )
    return first.select("id", "contaminated_by", detail.alias("contamination_detail"))
