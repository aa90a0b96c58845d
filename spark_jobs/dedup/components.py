"""Connected components of a pair graph in Spark: min-label propagation with pointer jumping.

Every vertex starts labelled with the smallest id among itself and its neighbours. Each round
(1) lowers a vertex's label to the smallest label among its neighbours and (2) jumps pointers:
a vertex takes its label's label. Labels only decrease and always name a vertex of the same
component, so at the fixed point every vertex is labelled with its component's smallest id.
Pointer jumping makes long chains converge in O(log length) rounds instead of O(length).
The labels are checkpointed each round so the lineage (and the query plan) stays short.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def truncate(df: DataFrame) -> DataFrame:
    """Cut the lineage: a reliable checkpoint when a checkpoint dir is set, else a local one."""
    context = df.sparkSession.sparkContext
    if context.getCheckpointDir():
        return df.checkpoint(eager=True)
    return df.localCheckpoint(eager=True)


def connected_components(
    pairs: DataFrame,
    *,
    a_col: str = "id_a",
    b_col: str = "id_b",
    max_iterations: int = 64,
    driver_max_edges: int = 0,
) -> DataFrame:
    """(id, cluster_id) for every id in `pairs`; cluster_id is the smallest id of its component.

    Stops when no label changes; raises RuntimeError if that takes more than max_iterations
    rounds (pointer jumping needs about log2 of the longest chain). With driver_max_edges > 0,
    a graph of at most that many distinct edges is solved on the driver instead (union-find over
    numpy arrays: one Spark job instead of several per round; the same result).
    """
    edges = pairs.select(F.col(a_col).alias("src"), F.col(b_col).alias("dst")).where(
        F.col("src") != F.col("dst")
    )
    if driver_max_edges > 0:
        edges = truncate(edges.distinct())
        if edges.count() <= driver_max_edges:
            return _on_driver(edges)
    edges = truncate(edges.union(edges.select("dst", "src")).distinct())
    labels = truncate(
        edges.groupBy(F.col("src").alias("id")).agg(
            F.least(F.min("dst"), F.first("src")).alias("label")
        )
    )
    for _ in range(max_iterations):
        # (1) the smallest label among the neighbours.
        offered = (
            edges.join(labels.withColumnRenamed("id", "src"), "src")
            .groupBy(F.col("dst").alias("id"))
            .agg(F.min("label").alias("offered"))
        )
        lowered = labels.join(offered, "id").select(
            "id", F.least("label", "offered").alias("label")
        )
        # (2) pointer jumping: take the label of the label.
        jumped = lowered.join(
            lowered.select(F.col("id").alias("label"), F.col("label").alias("label_of_label")),
            "label",
        ).select("id", F.least("label", "label_of_label").alias("label"))
        jumped = truncate(jumped)
        changed = (
            jumped.join(labels.withColumnRenamed("label", "old"), "id")
            .where(F.col("label") != F.col("old"))
            .limit(1)
            .count()
        )
        labels = jumped
        if changed == 0:
            return labels.select("id", F.col("label").alias("cluster_id"))
    raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")


def _on_driver(edges: DataFrame) -> DataFrame:
    """Connected components of a small edge list, on the driver (scipy's csgraph)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as components

    table = edges.toArrow()
    spark = edges.sparkSession
    id_type = edges.schema["src"].dataType
    if table.num_rows == 0:
        return spark.createDataFrame(
            [], f"id {id_type.simpleString()}, cluster_id {id_type.simpleString()}"
        )
    src = np.asarray(table.column("src").to_pylist(), dtype=object)
    dst = np.asarray(table.column("dst").to_pylist(), dtype=object)
    ids, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n = len(ids)
    a, b = inverse[: len(src)], inverse[len(src) :]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, label = components(graph, directed=False)
    # ids are sorted, so the first index of each label is the component's smallest id.
    first = np.full(label.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n))
    cluster = ids[first[label]]
    import pyarrow as pa

    out = pa.table({"id": pa.array(ids.tolist()), "cluster_id": pa.array(cluster.tolist())})
    return spark.createDataFrame(
        out.to_pandas(), f"id {id_type.simpleString()}, cluster_id {id_type.simpleString()}"
    )
