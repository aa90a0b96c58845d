"""Cross-corpus curation steps: decontamination, paragraph and document dedup across every
family, and the incremental MinHash signatures table they read.

Order, per document: the family's recipe filters (license, language, rule sets, PII), then
benchmark decontamination, then the duplicate-paragraph filter, then exact and near-duplicate
clusters across all families. Dedup sees only documents that passed every filter, so a kept
document is never "a duplicate" of one that was itself removed. spark_jobs.stages commits the
results; this module only builds DataFrames and decides what to recompute.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.decontaminate import BenchmarkIndex, flag_documents
from spark_jobs.dedup import DedupConfig, duplicates_to_drop, exact_clusters, fuzzy_clusters
from spark_jobs.dedup.checkpoint import FrameCheckpoints
from spark_jobs.dedup.clusters import CLUSTER_COLUMNS
from spark_jobs.dedup.paragraphs import paragraph_duplicate_fractions
from spark_jobs.delta import open_table
from spark_jobs.recipe import CurationRecipe
from spark_jobs.select import reject_rows
from spark_jobs.storage import ObjectStore

# Columns the keep policy may look at (spark_jobs/dedup/keep.py), with the type every family
# is cast to so the families' documents union into one frame.
KEEP_POLICY_COLUMNS = {
    "license": "string",
    "license_class": "string",
    "quality_score": "double",
    "classifier_score": "double",
    "published_date": "timestamp",
    "fetch_date": "timestamp",
}
DUPLICATE_REASONS = {"exact": "exact_duplicate", "fuzzy": "near_duplicate"}


# ---------------------------------------------------------------------------------------
# Rejects
# ---------------------------------------------------------------------------------------


def drop_contaminated(
    kept: DataFrame, verdicts: DataFrame, recipe: CurationRecipe, run_id: str
) -> tuple[DataFrame, DataFrame]:
    """Split `kept` into (clean, rejects) by the contamination verdicts of its documents."""
    flagged = kept.join(verdicts, "id")
    rejects = reject_rows(
        flagged,
        F.lit("benchmark_contamination"),
        F.concat(
            F.col("contamination_detail"),
            F.lit(f"; recipe {recipe.name} drops benchmark-contaminated documents"),
        ),
        run_id,
    )
    return kept.join(verdicts.select("id"), "id", "left_anti"), rejects


def contamination_flags(
    annotated: Mapping[str, DataFrame], recipes: Mapping[str, CurationRecipe], items_index
) -> DataFrame | None:
    """decontamination.flags rows for every family whose recipe decontaminates.

    `items_index(n, benchmarks)` returns the BenchmarkIndex for a policy; families with the
    same policy share one index and one scan.
    """
    groups: dict[tuple, list[str]] = {}
    for corpus, recipe in recipes.items():
        policy = recipe.decontamination
        if corpus not in annotated or policy is None or policy.benchmarks is None:
            continue
        benchmarks = policy.benchmarks if policy.benchmarks == "all" else tuple(policy.benchmarks)
        groups.setdefault((policy.ngram, benchmarks), []).append(corpus)
    flags = None
    for (n, benchmarks), corpora in groups.items():
        index: BenchmarkIndex = items_index(n, benchmarks)
        docs = _union([annotated[c].select("id", "corpus", "source", "text") for c in corpora])
        scanned = flag_documents(docs, index)
        flags = scanned if flags is None else flags.unionByName(scanned)
    return flags


def drop_duplicate_paragraphs(
    kept: Mapping[str, DataFrame],
    recipes: Mapping[str, CurationRecipe],
    config: DedupConfig,
    run_id: str,
) -> tuple[dict[str, DataFrame], dict[str, DataFrame]]:
    """Reject documents whose share of paragraphs found in other documents exceeds their
    recipe's `max_duplicate_paragraph_fraction` (reason duplicate_paragraphs).

    Paragraphs are counted across every family's documents. A paragraph shared only by exact
    copies of one text does not count (the copies are keyed by text hash), so two copies of a
    page are not both dropped here: exact dedup keeps one of them.
    """
    limits = {
        c: r.dedup.max_duplicate_paragraph_fraction
        for c, r in recipes.items()
        if c in kept and r.dedup.max_duplicate_paragraph_fraction is not None
    }
    if not limits:
        return dict(kept), {}
    texts = _union([df.select("text_hash", "text") for df in kept.values()]).dropDuplicates(
        ["text_hash"]
    )
    fractions = paragraph_duplicate_fractions(
        texts,
        config.paragraph_min_count,
        min_chars=config.paragraph_min_chars,
        id_col="text_hash",
    ).withColumnRenamed("id", "text_hash")
    remaining, rejects = dict(kept), {}
    for corpus, limit in limits.items():
        scored = kept[corpus].join(fractions, "text_hash", "left")
        over = F.coalesce(F.col("duplicate_paragraph_fraction"), F.lit(0.0)) > F.lit(limit)
        rejects[corpus] = reject_rows(
            scored.where(over),
            F.lit("duplicate_paragraphs"),
            F.format_string(
                "%.0f%% of the text is paragraphs found in other documents; recipe %s allows %s",
                F.col("duplicate_paragraph_fraction") * 100,
                F.lit(recipes[corpus].name),
                F.lit(f"{limit:.0%}"),
            ),
            run_id,
        )
        remaining[corpus] = scored.where(~over).drop(
            "duplicate_paragraph_fraction", "duplicate_paragraph_chars"
        )
    return remaining, rejects


# ---------------------------------------------------------------------------------------
# Cross-corpus dedup
# ---------------------------------------------------------------------------------------


def dedup_frame(docs: DataFrame) -> DataFrame:
    """The columns dedup needs from one family's documents, typed alike across families."""
    columns = [F.col(c) for c in ("id", "corpus", "source", "text_hash")]
    for name, dtype in KEEP_POLICY_COLUMNS.items():
        if name in docs.columns:
            columns.append(F.col(name).cast(dtype).alias(name))
    return docs.select(*columns)


def cluster_across_corpora(
    kept: Mapping[str, DataFrame],
    recipes: Mapping[str, CurationRecipe],
    config: DedupConfig,
    signatures: DataFrame | None,
    checkpoints: FrameCheckpoints | None = None,
) -> DataFrame | None:
    """dedup.clusters rows over the families' kept documents (None when no recipe dedups).

    Exact clusters over the families whose recipe has dedup.exact, near-duplicate clusters
    over those with dedup.fuzzy, each across families; `signatures` are the stored band keys.
    `checkpoints`: where connected components checkpoint (the lake's scratch folder).
    """
    exact = [c for c in kept if recipes[c].dedup.exact]
    fuzzy = [c for c in kept if recipes[c].dedup.fuzzy]
    parts = []
    if exact:
        parts.append(exact_clusters(_union([dedup_frame(kept[c]) for c in exact]), config))
    if fuzzy:
        docs = _union([dedup_frame(kept[c]) for c in fuzzy])
        if signatures is None:
            raise ValueError("near-duplicate dedup needs the dedup.signatures table")
        # Only the kept documents' keys: a removed document must not link two kept ones.
        signatures = signatures.join(docs.select("id"), "id", "left_semi")
        parts.append(fuzzy_clusters(docs, config, signatures=signatures, checkpoints=checkpoints))
    if not parts:
        return None
    return _union(parts).select(*CLUSTER_COLUMNS)


def drop_duplicates(
    kept: Mapping[str, DataFrame], clusters: DataFrame, run_id: str
) -> tuple[dict[str, DataFrame], dict[str, DataFrame]]:
    """Remove every cluster member that is not its keeper; reject it with the keeper's id."""
    drops = duplicates_to_drop(clusters)
    keepers = (
        clusters.where(F.col("is_keeper"))
        .select(F.col("id").alias("keeper_id"), F.col("corpus").alias("keeper_corpus"))
        .distinct()
    )
    drops = drops.join(keepers, "keeper_id", "left")
    remaining, rejects = {}, {}
    for corpus, docs in kept.items():
        mine = docs.join(drops, "id")
        reason = F.when(F.col("kind") == "exact", F.lit(DUPLICATE_REASONS["exact"])).otherwise(
            F.lit(DUPLICATE_REASONS["fuzzy"])
        )
        detail = F.format_string(
            "%s kept document %s (curated.%s)",
            F.when(F.col("kind") == "exact", F.lit("same normalized text as")).otherwise(
                F.lit("near duplicate (MinHash-LSH) of")
            ),
            F.col("keeper_id"),
            F.col("keeper_corpus"),
        )
        rejects[corpus] = reject_rows(mine, reason, detail, run_id)
        remaining[corpus] = docs.join(drops.select("id"), "id", "left_anti")
    return remaining, rejects


# ---------------------------------------------------------------------------------------
# Incremental signatures
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotatedPartition:
    """One source partition of an annotated table, as of the version curation reads."""

    corpus: str
    source: str
    version: int
    fingerprint: str


def annotated_partitions(
    uri: str, corpus: str, version: int, store: ObjectStore
) -> list[AnnotatedPartition]:
    """Every source partition of annotated.<corpus> at `version`, fingerprinted by its data
    files (paths and sizes): re-materializing a source writes new files, so the fingerprint
    changes exactly when the partition's data may have."""
    table = open_table(uri, version=version, store=store)
    adds = pa.table(table.get_add_actions(flatten=True)).to_pydict()
    files: dict[str, list[str]] = {}
    for path, size, source in zip(
        adds["path"], adds["size_bytes"], adds["partition.source"], strict=True
    ):
        files.setdefault(source, []).append(f"{path}:{size}")
    return [
        AnnotatedPartition(
            corpus,
            source,
            version,
            hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:32],
        )
        for source, paths in sorted(files.items())
    ]


@dataclass(frozen=True)
class SignaturePlan:
    """Which signature partitions a curate run recomputes, keeps, and removes."""

    recompute: tuple[AnnotatedPartition, ...]
    reuse: tuple[AnnotatedPartition, ...]
    # (corpus, source) partitions whose annotated partition no longer exists.
    remove: tuple[tuple[str, str], ...]


def plan_signatures(
    partitions: Sequence[AnnotatedPartition],
    stored: Mapping[tuple[str, str], set[tuple[str, str]]],
    config: DedupConfig,
) -> SignaturePlan:
    """Recompute a partition when its stored (annotated fingerprint, config fingerprint) is not
    exactly the current one; drop stored partitions whose source is gone."""
    recompute, reuse = [], []
    for p in partitions:
        states = stored.get((p.corpus, p.source), set())
        (reuse if states == {(p.fingerprint, config.fingerprint)} else recompute).append(p)
    present = {(p.corpus, p.source) for p in partitions}
    remove = tuple(sorted(k for k in stored if k not in present))
    return SignaturePlan(tuple(recompute), tuple(reuse), remove)


def with_signature_state(
    signatures: DataFrame, partitions: Sequence[AnnotatedPartition]
) -> DataFrame:
    """Add the annotated version and fingerprint each signature was computed from."""
    version = F.lit(None).cast("long")
    fingerprint = F.lit(None).cast("string")
    for p in partitions:
        match = (F.col("corpus") == p.corpus) & (F.col("source") == p.source)
        version = F.when(match, F.lit(p.version).cast("long")).otherwise(version)
        fingerprint = F.when(match, F.lit(p.fingerprint)).otherwise(fingerprint)
    return signatures.withColumn("annotated_version", version).withColumn(
        "annotated_fingerprint", fingerprint
    )


def _union(frames: Sequence[DataFrame]) -> DataFrame:
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame, allowMissingColumns=True)
    return out
