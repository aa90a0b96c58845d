"""Exact and fuzzy (MinHash-LSH) dedup across corpora, keep policy, paragraph-level dedup.

config = DedupConfig.from_yaml(path)                     # e.g. orchestration/recipes/dedup.yaml
sigs = minhash_signatures(docs, config)                   # id, corpus, source, band_keys, ...
pairs = near_duplicate_pairs(sigs, config)                # id_a < id_b, from LSH buckets
components = connected_components(pairs)                  # id, cluster_id (= min id), on executors
clusters = cluster_duplicates(docs, config)               # the dedup.clusters rows
fractions = paragraph_duplicate_fractions(docs)           # Dolma-style paragraph dedup
"""

from importlib import import_module

from spark_jobs.dedup.config import (
    ConfigMismatchError,
    DedupConfig,
    KeepRule,
    Normalization,
)

# The Spark side is imported on first use, so reading and validating the settings
# (`pilehouse validate`) does not start or even import pyspark.
_SPARK_SIDE = {
    "CLUSTER_COLUMNS": "clusters",
    "cluster_duplicates": "clusters",
    "duplicates_to_drop": "clusters",
    "exact_clusters": "clusters",
    "fuzzy_clusters": "clusters",
    "connected_components": "components",
    "run_components": "components",
    "FrameCheckpoints": "checkpoint",
    "applied_rules": "keep",
    "keep_order": "keep",
    "check_fingerprint": "lsh",
    "minhash_signatures": "lsh",
    "near_duplicate_pairs": "lsh",
    "band_keys_of": "minhash",
    "batch_minhashes": "minhash",
    "estimate_jaccard": "minhash",
    "jaccard": "minhash",
    "shingle_set": "minhash",
    "shingle_sets": "minhash",
    "signature": "minhash",
    "paragraph_duplicate_fractions": "paragraphs",
    "paragraph_hashes": "paragraphs",
}


def __getattr__(name: str):
    if name in _SPARK_SIDE:
        return getattr(import_module(f"spark_jobs.dedup.{_SPARK_SIDE[name]}"), name)
    raise AttributeError(f"module 'spark_jobs.dedup' has no attribute {name!r}")


__all__ = [
    "CLUSTER_COLUMNS",
    "ConfigMismatchError",
    "DedupConfig",
    "FrameCheckpoints",
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
    "run_components",
    "shingle_set",
    "shingle_sets",
    "signature",
]
