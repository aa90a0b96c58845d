"""Spark side of MinHash-LSH: band-key signatures of a DataFrame, and candidate pairs from buckets."""

from __future__ import annotations

from functools import partial

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.dedup.config import ConfigMismatchError, DedupConfig
from spark_jobs.dedup.minhash import arrow_band_keys

SIGNATURE_COLUMNS = ("band_keys", "num_shingles", "config_fingerprint")
DEFAULT_PASSTHROUGH = ("corpus", "source")


def minhash_signatures(
    df: DataFrame,
    config: DedupConfig | None = None,
    *,
    id_col: str = "id",
    text_col: str = "text",
    passthrough: tuple[str, ...] | list[str] | None = None,
) -> DataFrame:
    """Band keys of every document: id, passthrough columns, band_keys array<bigint> (one key
    per band; null when the text has no words), num_shingles int, config_fingerprint string,
    and, when the config verifies pairs, minhash_sketch array<smallint> (16 bits per hash).

    `passthrough` defaults to the corpus and source columns that exist in `df`. The keys depend
    only on the text and the config, so keys computed at different times (partition by
    partition) are comparable as long as config_fingerprint is the same.
    """
    config = config or DedupConfig()
    if passthrough is None:
        passthrough = [c for c in DEFAULT_PASSTHROUGH if c in df.columns]
    keep = [id_col, *[c for c in passthrough if c != id_col]]
    source = df.select(*keep, text_col)
    fields = [source.schema[name] for name in keep]
    schema = T.StructType(
        [
            *fields,
            T.StructField("band_keys", T.ArrayType(T.LongType(), containsNull=False), True),
            T.StructField("num_shingles", T.IntegerType(), False),
            T.StructField("config_fingerprint", T.StringType(), False),
        ]
        + (
            [T.StructField("minhash_sketch", T.ArrayType(T.ShortType(), False), True)]
            if config.verify_threshold is not None
            else []
        )
    )
    body = partial(arrow_band_keys, config=config, text_column=text_col, keep_columns=keep)
    return source.mapInArrow(body, schema)


def check_fingerprint(signatures: DataFrame, config: DedupConfig | None) -> str:
    """The one config fingerprint of `signatures`; refuses mixed or mismatching fingerprints."""
    found = sorted(
        row[0] for row in signatures.select("config_fingerprint").distinct().limit(3).collect()
    )
    expected = config.fingerprint if config is not None else None
    if len(found) > 1:
        raise ConfigMismatchError(
            f"signatures were computed under several dedup configs {found}; recompute them "
            "under one config"
        )
    if expected is not None and found and found[0] != expected:
        raise ConfigMismatchError(
            f"signatures were computed under dedup config {found[0]}, not the current "
            f"{expected}; recompute them"
        )
    return found[0] if found else (expected or "")


def near_duplicate_pairs(
    signatures: DataFrame,
    config: DedupConfig | None = None,
    *,
    id_col: str = "id",
    check: bool = True,
) -> DataFrame:
    """Near-duplicate pairs (id_a < id_b, similarity) of documents sharing an LSH bucket.

    Each (band, key) bucket becomes a star: every member is paired with the bucket's smallest
    id, so a bucket of k documents gives k-1 pairs, not k(k-1)/2; connected components over
    these pairs equal those over all in-bucket pairs. A hot bucket (say 100k documents with
    one boilerplate text) is never gathered in one task (see `_star_pairs`). With the config's verify_threshold, a pair
    is kept only when its estimated Jaccard similarity (fraction of equal sketch entries)
    reaches it; `similarity` is that estimate (null without verification).

    `signatures` may be the union of signatures computed at different times; with `check`
    their config fingerprints must all be equal (and equal to `config`'s when given), otherwise
    ConfigMismatchError.
    """
    config = config or DedupConfig()
    if check:
        check_fingerprint(signatures, config)
    exploded = signatures.where(F.col("band_keys").isNotNull()).select(
        F.col(id_col).alias("id"), F.posexplode("band_keys").alias("band", "key")
    )
    pairs = _star_pairs(exploded)
    if config.verify_threshold is None:
        return pairs.withColumn("similarity", F.lit(None).cast("double"))
    if "minhash_sketch" not in signatures.columns:
        raise ConfigMismatchError(
            "the config verifies pairs (verify_threshold) but the signatures have no "
            "minhash_sketch column; recompute them with this config"
        )
    sketches = signatures.select(F.col(id_col).alias("id"), "minhash_sketch")
    both = pairs.join(
        sketches.withColumnRenamed("id", "id_a").withColumnRenamed("minhash_sketch", "sa"), "id_a"
    ).join(
        sketches.withColumnRenamed("id", "id_b").withColumnRenamed("minhash_sketch", "sb"), "id_b"
    )
    equal = F.aggregate(
        F.zip_with("sa", "sb", lambda x, y: F.when(x == y, 1).otherwise(0)),
        F.lit(0),
        lambda a, b: a + b,
    )
    similarity = equal / F.size("sa")
    return both.select("id_a", "id_b", similarity.alias("similarity")).where(
        F.col("similarity") >= F.lit(config.verify_threshold)
    )


def _star_pairs(exploded: DataFrame) -> DataFrame:
    """(id_a = the bucket's smallest id, id_b = another member) for every shared bucket.

    The smallest id per (band, key) is an aggregation, combined on the map side, so a bucket's
    size does not land on one task; only buckets of two or more documents are kept, and
    joining the members back to them lets Spark broadcast those (few) buckets or, when they
    are many, split a skewed bucket across tasks (adaptive skew join). A window over
    (band, key) would sort every member of a hot bucket in one task instead.
    """
    roots = (
        exploded.groupBy("band", "key")
        .agg(F.min("id").alias("root"), F.count(F.lit(1)).alias("members"))
        .where(F.col("members") > 1)
        .drop("members")
    )
    return (
        exploded.join(roots, ["band", "key"])
        .where(F.col("id") != F.col("root"))
        .select(F.col("root").alias("id_a"), F.col("id").alias("id_b"))
        .distinct()
    )
