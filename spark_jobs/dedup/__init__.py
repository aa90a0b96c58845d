"""Exact and fuzzy (MinHash-LSH) dedup across corpora, keep policy, paragraph-level dedup.

config = DedupConfig.from_yaml()                         # orchestration/recipes/dedup.yaml
sigs = minhash_signatures(docs, config)                   # id, corpus, source, band_keys, ...
pairs = near_duplicate_pairs(sigs, config)                # id_a < id_b, from LSH buckets
components = connected_components(pairs)                  # id, cluster_id (= min id)
clusters = cluster_duplicates(docs, config)               # the dedup.clusters rows
fractions = paragraph_duplicate_fractions(docs)           # Dolma-style paragraph dedup
"""

from spark_jobs.dedup.clusters import (
    CLUSTER_COLUMNS,
    cluster_duplicates,
    duplicates_to_drop,
    exact_clusters,
    fuzzy_clusters,
)
from spark_jobs.dedup.components import connected_components
from spark_jobs.dedup.config import (
    DEFAULT_CONFIG_PATH,
    ConfigMismatchError,
    DedupConfig,
    KeepRule,
    Normalization,
)
from spark_jobs.dedup.keep import applied_rules, keep_order
from spark_jobs.dedup.lsh import check_fingerprint, minhash_signatures, near_duplicate_pairs
from spark_jobs.dedup.minhash import (
    band_keys_of,
    batch_minhashes,
    estimate_jaccard,
    jaccard,
    shingle_set,
    shingle_sets,
    signature,
)
from spark_jobs.dedup.paragraphs import paragraph_duplicate_fractions, paragraph_hashes

__all__ = [
    "CLUSTER_COLUMNS",
    "DEFAULT_CONFIG_PATH",
    "ConfigMismatchError",
    "DedupConfig",
    "KeepRule",
    "Normalization",
    "applied_rules",
    "band_keys_of",
    "batch_minhashes",
    "check_fingerprint",
    "cluster_duplicates",
    "connected_components",
    "duplicates_to_drop",
    "estimate_jaccard",
    "exact_clusters",
    "fuzzy_clusters",
    "jaccard",
    "keep_order",
    "minhash_signatures",
    "near_duplicate_pairs",
    "paragraph_duplicate_fractions",
    "paragraph_hashes",
    "shingle_set",
    "shingle_sets",
    "signature",
]
