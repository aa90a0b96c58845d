"""W4 fuzzy dedup end to end: Pilehouse (Spark: MinHash band keys -> LSH pairs -> connected
components -> keepers) against datatrove's four MinHash stages and datasketch's MinHashLSH, on a
generated corpus with near-duplicates planted at known Jaccard similarities.

    python -m bench.fuzzy_dedup            # 10,000 documents
    python -m bench.fuzzy_dedup --quick    # 3,000 documents

Corpus: base documents are disjoint windows (120-400 words) of real offline English text
(pydoc_data.topics, the descriptions of the installed distributions, docstrings of the
installed Python modules), lines deduplicated. 30% of the documents are planted variants: a
copy of a base document edited word by word (substitutions, insertions, deletions) until the
Jaccard similarity of its word 5-gram set to the base hits a target drawn uniformly from
0.50..1.00; some bases get two variants, so clusters of three occur too.

Ground truth: every pair of documents (planted or not) whose true Jaccard similarity of word
5-gram shingle sets (Pilehouse's normalization: lowercase, numbers to 0, punctuation removed,
diacritics stripped) is >= 0.5, found exactly by a prefix-filter similarity join and verified
on the sets. A method's predicted pairs are all pairs of documents it puts in one cluster;
precision, recall and F1 are reported against the truth at 0.7, 0.75 and 0.8 (Pilehouse's own
verification threshold is 0.8, so 0.8 alone would favour it), and recall per true-Jaccard
bucket. Pilehouse's wall time includes the Spark session start. The script first prints the
analytic probability that a pair is linked, from the bands/rows/verify_threshold of the shipped
orchestration/recipes/dedup.yaml, and its 50% point (the effective threshold). All methods use 5-grams, 112 hashes as 14 bands x 8 rows and the same
two Parquet files; datatrove and Spark each get 2 workers. "pilehouse" is the default config
(candidate pairs verified by the signatures' estimated Jaccard >= 0.8); "pilehouse-lsh" turns
verification off, which is exactly datatrove's method (every bucket collision is a duplicate).
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from spark_jobs.dedup import DedupConfig, jaccard, shingle_sets

FULL_DOCS = 10_000
QUICK_DOCS = 3_000
SEED = 0
CACHE = Path(tempfile.gettempdir()) / "pilehouse-bench"
_WORD = re.compile(r"\S+")


# --- corpus -------------------------------------------------------------------------------


POOL_WORDS = 1_000_000  # the text pool's size: fixed, so corpora do not depend on the cache


def _module_docstrings(root: Path) -> Iterable[str]:
    for path in sorted(root.rglob("*.py")):
        if "test" in path.name:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc.split()) >= 12:
                    yield doc


def text_pool() -> list[str]:
    """Real offline English lines, deduplicated, POOL_WORDS words in all (cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"text_pool-{POOL_WORDS}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    import pydoc_data.topics

    def sources() -> Iterable[str]:
        yield from pydoc_data.topics.topics.values()
        dists = sorted(
            importlib.metadata.distributions(), key=lambda d: (d.metadata["Name"] or "").lower()
        )
        for dist in dists:
            yield dist.metadata.get_payload() or dist.metadata.get("Description") or ""
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        yield from _module_docstrings(Path(sys.base_prefix) / "lib" / version)
        for site in sorted({Path(p) for p in sys.path if p.endswith("site-packages")}):
            yield from _module_docstrings(site)

    seen: set[str] = set()
    lines: list[str] = []
    words = 0
    for text in sources():
        for line in text.splitlines():
            key = " ".join(line.lower().split())
            if len(key.split()) < 4 or key in seen:
                continue
            seen.add(key)
            lines.append(line.strip())
            words += len(key.split())
        if words >= POOL_WORDS:
            break
    cached.write_text(json.dumps(lines))
    return lines


@dataclass
class Doc:
    id: str
    text: str
    base: str  # id of the base document it was made from (itself for a base)
    target: float  # target Jaccard to the base (1.0 for a base)


def _edit_ops(words: list[str], vocabulary: list[str], rng: random.Random) -> list[tuple]:
    ops = []
    for _ in range(len(words)):
        kind = rng.random()
        position = rng.random()
        word = rng.choice(vocabulary)
        ops.append(("sub" if kind < 0.6 else "del" if kind < 0.8 else "ins", position, word))
    return ops


def _apply(words: list[str], ops: list[tuple]) -> list[str]:
    out = list(words)
    for kind, position, word in ops:
        if not out:
            break
        i = min(int(position * len(out)), len(out) - 1)
        if kind == "sub":
            out[i] = word
        elif kind == "del":
            del out[i]
        else:
            out.insert(i, word)
    return out


def plant_variants(
    texts: list[str],
    targets: list[float],
    vocabulary: list[str],
    rng: random.Random,
    config: DedupConfig,
) -> list[tuple[str, float]]:
    """For each text, a word-edited copy whose 5-gram Jaccard to it is as close to its target
    as edits allow, with that exact Jaccard. Binary search over the number of edits, all texts
    in step (one batch of shingle sets per step)."""
    words = [t.split(" ") for t in texts]
    bases = shingle_sets(texts, config)
    ops = [_edit_ops(w, vocabulary, rng) for w in words]
    lo = [0] * len(texts)
    hi = [len(o) for o in ops]
    best = [(t, 1.0) for t in texts]
    while True:
        active = [i for i in range(len(texts)) if lo[i] <= hi[i]]
        if not active:
            return best
        ks = {i: (lo[i] + hi[i]) // 2 for i in active}
        candidates = [" ".join(_apply(words[i], ops[i][: ks[i]])) for i in active]
        for i, text, other in zip(
            active, candidates, shingle_sets(candidates, config), strict=True
        ):
            j = jaccard(bases[i], other)
            if abs(j - targets[i]) < abs(best[i][1] - targets[i]):
                best[i] = (text, j)
            if j > targets[i]:
                lo[i] = ks[i] + 1
            else:
                hi[i] = ks[i] - 1


def make_corpus(n_docs: int, seed: int, config: DedupConfig) -> list[Doc]:
    rng = random.Random(seed)
    n_variants = round(0.3 * n_docs)
    n_bases = n_docs - n_variants
    lines = text_pool()
    stream = [w for line in lines for w in (*_WORD.findall(line), "\n")]
    vocabulary = sorted({w for w in stream[:200_000] if w != "\n"})
    docs: list[Doc] = []
    position = 0
    for i in range(n_bases):
        length = rng.randint(120, 400)
        if position + length > len(stream):
            position = 0  # the pool is exhausted: windows restart at another offset
            rng.shuffle(lines)
            stream = [w for line in lines for w in (*_WORD.findall(line), "\n")]
        window = stream[position : position + length]
        position += length
        text = " ".join(window).replace(" \n ", "\n").strip()
        docs.append(Doc(f"d{i:07d}", text, f"d{i:07d}", 1.0))
    # Variant i is made from base i, except that every fourth one is a second variant of the
    # previous variant's base (clusters of three).
    chosen = [docs[i - 1] if i % 4 == 3 else docs[i] for i in range(n_variants)]
    targets = [rng.uniform(0.5, 1.0) for _ in range(n_variants)]
    variants = plant_variants([b.text for b in chosen], targets, vocabulary, rng, config)
    for i, (base, target, (text, _)) in enumerate(zip(chosen, targets, variants, strict=True)):
        docs.append(Doc(f"v{i:07d}", text, base.id, target))
    rng.shuffle(docs)
    return docs


def write_parquet(docs: list[Doc], folder: Path, files: int = 2) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for f in range(files):
        part = docs[f::files]
        table = pa.table({"id": [d.id for d in part], "text": [d.text for d in part]})
        pq.write_table(table, folder / f"part-{f:05d}.parquet")
    return folder


# --- ground truth -------------------------------------------------------------------------


def true_pairs(shingles: dict[str, set[int]], threshold: float) -> dict[tuple[str, str], float]:
    """Every pair with Jaccard >= threshold, exactly: prefix-filter join (shingles ordered by
    rarity; two sets with Jaccard >= t share a token among the first |x| - ceil(t|x|) + 1 of
    each), then exact verification."""
    frequency: dict[int, int] = defaultdict(int)
    for s in shingles.values():
        for h in s:
            frequency[h] += 1
    index: dict[int, list[str]] = defaultdict(list)
    candidates: set[tuple[str, str]] = set()
    for doc_id, s in shingles.items():
        if not s:
            continue
        ordered = sorted(s, key=lambda h: (frequency[h], h))
        prefix = len(s) - math.ceil(threshold * len(s)) + 1
        for h in ordered[:prefix]:
            for other in index[h]:
                candidates.add((min(doc_id, other), max(doc_id, other)))
            index[h].append(doc_id)
    out = {}
    for a, b in candidates:
        sa, sb = shingles[a], shingles[b]
        j = len(sa & sb) / len(sa | sb)
        if j >= threshold:
            out[(a, b)] = j
    return out


def cluster_pairs(clusters: dict[str, object]) -> set[tuple[str, str]]:
    """All pairs of documents that share a cluster label."""
    members: dict[object, list[str]] = defaultdict(list)
    for doc_id, label in clusters.items():
        members[label].append(doc_id)
    pairs = set()
    for ids in members.values():
        for a, b in combinations(sorted(ids), 2):
            pairs.add((a, b))
    return pairs


def score(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": len(predicted)}


def keep_probability(config: DedupConfig, s: float, verify: float | None) -> float:
    """Probability that Pilehouse links two documents of true Jaccard s directly: some band has
    all its rows equal (the LSH) and, when verification is on, at least ceil(verify * hashes)
    of the hashes are equal (the estimate). Each of the independent hashes' minima is equal
    with probability s; the 16-bit sketch's chance collisions (1/65536 per unequal hash) are
    ignored. Dynamic programme over the bands: (equal hashes so far, some band full)."""
    from math import comb

    rows, bands = config.rows, config.bands
    per_band = [comb(rows, k) * s**k * (1 - s) ** (rows - k) for k in range(rows + 1)]
    state = {(0, False): 1.0}
    for _ in range(bands):
        nxt: dict[tuple[int, bool], float] = defaultdict(float)
        for (equal, full), p in state.items():
            for k, q in enumerate(per_band):
                nxt[(equal + k, full or k == rows)] += p * q
        state = nxt
    need = 0 if verify is None else math.ceil(verify * config.num_hashes - 1e-9)
    return sum(p for (equal, full), p in state.items() if full and equal >= need)


def half_point(config: DedupConfig, verify: float | None) -> float:
    """The true Jaccard at which keep_probability is 0.5 (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if keep_probability(config, mid, verify) < 0.5:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def print_curves(config: DedupConfig) -> dict[str, float]:
    """The S-curve of the LSH alone and of LSH + verification, at the recipe's bands/rows."""
    points = [0.5, 0.6, 0.65, 0.7, 0.72, 0.75, 0.78, 0.8, 0.82, 0.85, 0.9, 0.95]
    verify = config.verify_threshold
    print(
        f"P(pair linked) at {config.bands} bands x {config.rows} rows, verify_threshold "
        f"{verify} (needs >= {math.ceil((verify or 0) * config.num_hashes - 1e-9)}"
        f"/{config.num_hashes} equal hashes):"
    )
    print(f"{'true Jaccard':<22}" + "".join(f"{x:>7.2f}" for x in points))
    print(
        f"{'LSH only':<22}" + "".join(f"{keep_probability(config, x, None):>7.3f}" for x in points)
    )
    if verify is not None:
        print(
            f"{'LSH + verification':<22}"
            + "".join(f"{keep_probability(config, x, verify):>7.3f}" for x in points)
        )
    lsh_half = half_point(config, None)
    out = {"lsh 50% point": round(lsh_half, 4)}
    line = f"50% point: LSH only {lsh_half:.3f}"
    if verify is not None:
        both_half = half_point(config, verify)
        out["lsh+verify 50% point"] = round(both_half, 4)
        line += f", LSH + verification {both_half:.3f}"
    print(line + f"; (1/b)^(1/r) = {config.threshold:.3f}")
    return out


def xxhash64_str(data: str | bytes) -> int:
    """datatrove 0.10.1 passes str to xxhash, which xxhash 4 refuses; the same hash, encoded."""
    return xxhash.xxh64_intdigest(data.encode() if isinstance(data, str) else data)


# --- the three methods --------------------------------------------------------------------


def run_pilehouse(
    folder: Path, out: Path, config: DedupConfig
) -> tuple[dict[str, str], float, float]:
    """(id -> cluster_id, seconds end to end, seconds to start the Spark session)."""
    started = time.perf_counter()
    from spark_jobs.session import get_spark

    spark = get_spark("local[2]", app_name="bench-fuzzy-dedup")
    session_s = time.perf_counter() - started
    from pyspark.sql import functions as F

    from spark_jobs.dedup import fuzzy_clusters

    started = time.perf_counter()
    docs = (
        spark.read.parquet(str(folder))
        .withColumn("corpus", F.lit("web"))
        .withColumn("source", F.lit("bench"))
    )
    clusters = fuzzy_clusters(docs, config)
    clusters.write.mode("overwrite").parquet(str(out / "clusters"))
    written = spark.read.parquet(str(out / "clusters"))
    drop = written.where(~F.col("is_keeper")).select("id")
    docs.join(drop, "id", "left_anti").write.mode("overwrite").parquet(str(out / "kept"))
    elapsed = time.perf_counter() - started
    result = {r.id: r.cluster_id for r in written.select("id", "cluster_id").collect()}
    return result, elapsed, session_s


def run_datatrove(folder: Path, work: Path, config: DedupConfig, workers: int = 2):
    """(id -> cluster id, seconds for the four stages) with LocalPipelineExecutor."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.hashing import HashConfig

    if work.exists():
        shutil.rmtree(work)
    mh = MinhashConfig(
        n_grams=config.shingle_size,
        num_buckets=config.bands,
        hashes_per_bucket=config.rows,
        seed=config.seed,
        hash_config=HashConfig(precision=64),
    )
    files = len(list(folder.glob("*.parquet")))
    signature_step = MinhashDedupSignature(output_folder=str(work / "sigs"), config=mh)
    signature_step._hash_func = xxhash64_str

    def reader():
        return ParquetReader(str(folder), glob_pattern="*.parquet")

    started = time.perf_counter()
    stage1 = LocalPipelineExecutor(
        [reader(), signature_step],
        tasks=files,
        workers=workers,
        logging_dir=str(work / "logs1"),
    )
    stage2 = LocalPipelineExecutor(
        [
            MinhashDedupBuckets(
                input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=mh
            )
        ],
        tasks=mh.num_buckets,
        workers=workers,
        logging_dir=str(work / "logs2"),
        depends=stage1,
    )
    stage3 = LocalPipelineExecutor(
        [
            MinhashDedupCluster(
                input_folder=str(work / "buckets"),
                output_folder=str(work / "remove"),
                config=mh,
                save_cluster_id=True,
            )
        ],
        tasks=1,
        logging_dir=str(work / "logs3"),
        depends=stage2,
    )
    stage4 = LocalPipelineExecutor(
        [
            reader(),
            MinhashDedupFilter(
                input_folder=str(work / "remove"),
                exclusion_writer=ParquetWriter(str(work / "removed"), expand_metadata=True),
                load_cluster_ids=True,
            ),
            ParquetWriter(str(work / "kept"), expand_metadata=True),
        ],
        tasks=files,
        workers=workers,
        logging_dir=str(work / "logs4"),
        depends=stage3,
    )
    stage4.run()
    elapsed = time.perf_counter() - started
    clusters = {}
    for path in [*(work / "kept").rglob("*.parquet"), *(work / "removed").rglob("*.parquet")]:
        table = pq.read_table(path, columns=["id", "minhash_cluster_id"])
        for doc_id, label in zip(
            table.column("id").to_pylist(),
            table.column("minhash_cluster_id").to_pylist(),
            strict=True,
        ):
            if label != -1:
                clusters[doc_id] = label
    return clusters, elapsed


def run_datasketch(docs: list[Doc], config: DedupConfig) -> tuple[dict[str, str], float]:
    """datasketch MinHash + MinHashLSH(params=(bands, rows)); union-find over query results."""
    from datasketch import MinHash, MinHashLSH
    from datatrove.utils.text import simplify_text

    started = time.perf_counter()
    lsh = MinHashLSH(num_perm=config.num_hashes, params=(config.bands, config.rows))
    sketches = {}
    n = config.shingle_size
    for doc in docs:
        words = simplify_text(doc.text).split()
        grams = [" ".join(words[i : i + n]).encode() for i in range(max(len(words) - n + 1, 1))]
        m = MinHash(num_perm=config.num_hashes, seed=config.seed)
        m.update_batch(grams)
        sketches[doc.id] = m
        lsh.insert(doc.id, m)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for doc_id, m in sketches.items():
        for other in lsh.query(m):
            if other != doc_id:
                ra, rb = find(doc_id), find(other)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    elapsed = time.perf_counter() - started
    clusters = {d: find(d) for d in sketches if find(d) != d or d in parent.values()}
    return clusters, elapsed


# --- main ---------------------------------------------------------------------------------


TRUTH_THRESHOLDS = (0.7, 0.75, 0.8)
BUCKETS = [
    (0.5, 0.7),
    (0.7, 0.75),
    (0.75, 0.8),
    (0.8, 0.85),
    (0.85, 0.9),
    (0.9, 0.95),
    (0.95, 1.01),
]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzzy_dedup", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} documents")
    parser.add_argument("--docs", type=int, help=f"corpus size (default {FULL_DOCS})")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--curve", action="store_true", help="print the S-curves of the shipped recipe and stop"
    )
    parser.add_argument(
        "--skip", default="", help="comma list: pilehouse,pilehouse-lsh,datatrove,datasketch"
    )
    args = parser.parse_args(argv)
    n_docs = args.docs or (QUICK_DOCS if args.quick else FULL_DOCS)
    skip = set(filter(None, args.skip.split(",")))
    from spark_jobs.settings import SHIPPED_DEDUP_CONFIG

    config = DedupConfig.from_yaml(SHIPPED_DEDUP_CONFIG)
    figures: dict[str, float] = dict(print_curves(config))
    if args.curve:
        return figures
    print(f"load before: {load()}", flush=True)
    # Per process: two runs at once (the bench runner and a user) must not share files.
    work = CACHE / f"fuzzy-{n_docs}-{args.seed}-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    docs = make_corpus(n_docs, args.seed, config)
    folder = write_parquet(docs, work / "input")
    shingles = dict(
        zip([d.id for d in docs], shingle_sets([d.text for d in docs], config), strict=True)
    )
    truth_j = true_pairs(shingles, BUCKETS[0][0])
    planted = sum(1 for d in docs if d.id != d.base)
    print(
        f"corpus: {len(docs)} documents ({planted} planted variants), "
        f"{sum(len(d.text.split()) for d in docs) / len(docs):.0f} words/doc, built in "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(
        "ground truth: "
        + ", ".join(
            f"{sum(1 for j in truth_j.values() if j >= t)} pairs >= {t}"
            for t in (BUCKETS[0][0], *TRUTH_THRESHOLDS)
        )
        + f" (5-gram Jaccard, exact); {config.bands} bands x {config.rows} rows",
        flush=True,
    )

    results: dict[str, tuple[dict, float]] = {}
    session_s = 0.0
    if "pilehouse" not in skip:
        clusters, elapsed, session_s = run_pilehouse(folder, work / "pilehouse", config)
        results["pilehouse"] = (clusters, session_s + elapsed)
        print(f"pilehouse done in {elapsed:.1f} s (+{session_s:.1f} s Spark start)", flush=True)
    if "pilehouse-lsh" not in skip:
        # Exactly datatrove's method: every bucket collision is a duplicate, no verification.
        clusters, elapsed, warm_s = run_pilehouse(
            folder, work / "pilehouse-lsh", config.with_(verify_threshold=None)
        )
        # It ran in the session the first run started: charge it the cold start measured there
        # (or its own when it ran alone), so that both rows include a Spark start.
        start = session_s if "pilehouse" in results else warm_s
        session_s = session_s or warm_s
        results["pilehouse-lsh"] = (clusters, start + elapsed)
        print(f"pilehouse-lsh (no verification) done in {elapsed:.1f} s", flush=True)
    if "datatrove" not in skip:
        results["datatrove"] = run_datatrove(folder, work / "datatrove", config)
        print(f"datatrove done in {results['datatrove'][1]:.1f} s", flush=True)
    if "datasketch" not in skip:
        results["datasketch"] = run_datasketch(docs, config)
        print(f"datasketch done in {results['datasketch'][1]:.1f} s", flush=True)
    print(f"load after: {load()}")

    figures.update({"documents": len(docs)})
    print()
    print(
        "wall s: whole method; Pilehouse's includes the Spark session start "
        f"({session_s:.1f} s, cold, measured once)"
    )
    print(
        f"{'method':<14} {'pairs':>7} {'wall s':>7}"
        + "".join(f"{f'P@{t}':>8}{f'R@{t}':>8}{f'F1@{t}':>9}" for t in TRUTH_THRESHOLDS)
    )
    for name, (clusters, elapsed) in results.items():
        predicted = cluster_pairs(clusters)
        cells = []
        for t in TRUTH_THRESHOLDS:
            s = score(predicted, {p for p, j in truth_j.items() if j >= t})
            cells.append(f"{s['precision']:>8.4f}{s['recall']:>8.4f}{s['f1']:>9.4f}")
            figures[f"{name} F1@{t}"] = round(s["f1"], 4)
            if t == 0.8:  # the name bench.run_all's W4 target reads
                figures[f"{name} F1"] = round(s["f1"], 4)
        print(f"{name:<14} {len(predicted):>7} {elapsed:>7.1f}" + "".join(cells))
        figures[f"{name} wall s"] = round(elapsed, 2)
    figures["pilehouse spark start s"] = round(session_s, 2)
    # Recall by true-Jaccard bucket, over every true pair (planted or not).
    print()
    header = "found / true pairs by true Jaccard"
    print(f"{header:<36}" + "".join(f"{f'{lo:.2f}-{min(hi, 1):.2f}':>11}" for lo, hi in BUCKETS))
    for name, (clusters, _) in results.items():
        cells = []
        for lo, hi in BUCKETS:
            members = [p for p, j in truth_j.items() if lo <= j < hi]
            found = sum(
                1
                for a, b in members
                if a in clusters and b in clusters and clusters[a] == clusters[b]
            )
            cells.append(f"{found}/{len(members)}")
        print(f"{name:<36}" + "".join(f"{c:>11}" for c in cells))
    if "pilehouse" in results and "datatrove" in results:
        figures["pilehouse/datatrove wall"] = round(
            results["pilehouse"][1] / results["datatrove"][1], 3
        )
    shutil.rmtree(work, ignore_errors=True)
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
