"""dedup.clusters: exact and fuzzy duplicate clusters across corpora, one keeper per cluster."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.dedup.checkpoint import FrameCheckpoints
from spark_jobs.dedup.components import connected_components, truncate
from spark_jobs.dedup.config import DedupConfig
from spark_jobs.dedup.keep import rank_within
from spark_jobs.dedup.lsh import minhash_signatures, near_duplicate_pairs

CLUSTER_COLUMNS = [
    "id",
    "corpus",
    "source",
    "cluster_id",
    "kind",
    "keeper_id",
    "is_keeper",
    "cluster_size",
]


def _with_keepers(
    members: DataFrame, kind: str, config: DedupConfig, group_col: str = "cluster_id"
) -> DataFrame:
    """members: document rows with cluster_id; adds kind, keeper_id, is_keeper, cluster_size.

    `group_col` is the column the rows are grouped by: cluster_id, or a column that determines
    it (the exact key), so the windows share one shuffle with the clustering.
    """
    ranked = rank_within(members, group_col, config)
    size = F.count(F.lit(1)).over(Window.partitionBy(group_col))
    return ranked.select(
        "id",
        "corpus",
        "source",
        "cluster_id",
        F.lit(kind).alias("kind"),
        "keeper_id",
        "is_keeper",
        size.cast("int").alias("cluster_size"),
    )


def exact_clusters(
    docs: DataFrame, config: DedupConfig | None = None, *, exact_key_col: str = "text_hash"
) -> DataFrame:
    """Documents sharing an exact-dedup key (across all corpora); cluster_id = smallest id.

    All windows are partitioned by the key: one shuffle of the documents (without their text).
    """
    config = config or DedupConfig()
    by_key = Window.partitionBy(exact_key_col)
    members = (
        docs.drop("text")
        .where(F.col(exact_key_col).isNotNull())
        .withColumn("cluster_id", F.min("id").over(by_key))
        .withColumn("_n", F.count(F.lit(1)).over(by_key))
        .where(F.col("_n") > 1)
        .drop("_n")
    )
    return _with_keepers(members, "exact", config, group_col=exact_key_col)


def fuzzy_clusters(
    docs: DataFrame,
    config: DedupConfig | None = None,
    *,
    signatures: DataFrame | None = None,
    checkpoints: FrameCheckpoints | None = None,
) -> DataFrame:
    """MinHash-LSH near-duplicate clusters (across all corpora); cluster_id = smallest id.

    `signatures` (minhash_signatures output, e.g. read from a stored dedup.signatures table)
    are computed from `docs` when not given; they must carry `config`'s fingerprint.
    `checkpoints`: where connected components checkpoint (spark_jobs/dedup/components.py);
    the result reads from there, so clear it only after the result has been consumed.
    """
    config = config or DedupConfig()
    check = signatures is not None
    if signatures is None:
        # Computed once: the pairs read them twice (buckets, and sketches for verification).
        signatures = truncate(minhash_signatures(docs, config), checkpoints)
    pairs = near_duplicate_pairs(signatures, config, check=check)
    components = connected_components(pairs, checkpoints=checkpoints)
    members = docs.drop("text").join(components, "id")
    return _with_keepers(members, "fuzzy", config)


def cluster_duplicates(
    docs: DataFrame,
    config: DedupConfig | None = None,
    *,
    exact_key_col: str = "text_hash",
    signatures: DataFrame | None = None,
    checkpoints: FrameCheckpoints | None = None,
    fuzzy: bool = True,
    exact: bool = True,
) -> DataFrame:
    """The dedup.clusters rows: id, corpus, source, cluster_id, kind ('exact' | 'fuzzy'),
    keeper_id, is_keeper, cluster_size.

    `docs` is the union of the corpora's documents (id, corpus, source, text, text_hash and
    optional keep-policy columns: license, license_class, quality_score, fetch_date, ...).
    A document appears once per kind of cluster it is in, and not at all when it has no
    duplicate. Keepers follow one total order (the keep policy, then id), so a document is kept
    exactly when it is the keeper of every cluster it is in.
    """
    config = config or DedupConfig()
    parts = []
    if exact and exact_key_col in docs.columns:
        parts.append(exact_clusters(docs, config, exact_key_col=exact_key_col))
    if fuzzy:
        parts.append(fuzzy_clusters(docs, config, signatures=signatures, checkpoints=checkpoints))
    if not parts:
        raise ValueError("cluster_duplicates needs exact or fuzzy clustering")
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.select(*CLUSTER_COLUMNS)


def duplicates_to_drop(clusters: DataFrame) -> DataFrame:
    """(id, keeper_id, kind) of every document that is not the keeper of one of its clusters."""
    return (
        clusters.where(~F.col("is_keeper"))
        .groupBy("id")
        .agg(F.min_by(F.struct("keeper_id", "kind"), F.col("kind")).alias("_k"))
        .select("id", "_k.keeper_id", "_k.kind")
    )
