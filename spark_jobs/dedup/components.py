"""Connected components of a pair graph on the executors: alternating large-star / small-star.

The algorithm of Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014),
as Spark DataFrame operations. The graph is kept as directed edges (hi, lo) with lo < hi:

- large-star: every vertex u links each larger neighbour v to m(u), the smallest of u and its
  neighbours: edge (v, u) becomes (v, m(u)).
- small-star: every vertex u links itself and each smaller neighbour to s(u), the smallest of
  its smaller neighbours: edge (u, v) becomes (v, s(u)) (dropped when v = s(u)), plus (u, s(u)).

Both keep every component connected and its smallest id in it, and each round moves edges
towards smaller ids; the graph stops changing exactly when it is a forest of stars, each star
centred on its component's smallest id (no vertex is the `hi` of two edges and no `lo` is
the `hi` of any edge). That condition is the convergence test (one aggregation per round,
exact, read by the driver as one number). The paper bounds the rounds by O(log^2 n); the tests
run a 3,000-vertex chain in random id order (diameter 2,999) within 20 rounds.

Per-vertex minima are aggregations (partial aggregation on the map side, so a vertex with a
million neighbours costs no single task a million rows there); the joins put the edges on the
streamed side and one row per vertex on the other, and adaptive execution splits skewed
partitions. The driver holds no edge or vertex: each round it reads one count.

A small graph (at most `in_one_task_below` edges after the first checkpoint, which counts
them) skips the rounds: one executor task reads its edges and labels them with union-find,
the same labels in one Spark job instead of a few per round (a curate of a small lake has
two such graphs). The driver holds nothing in either case.

The edges are checkpointed every `checkpoint_every` rounds to reliable storage (see
spark_jobs/dedup/checkpoint.py: the lake's scratch folder, or Spark's checkpoint dir); rounds
in between are persisted (memory and disk), so a lost executor recomputes at most
`checkpoint_every` rounds from files every node can read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.dedup.checkpoint import FrameCheckpoints, default_checkpoints

DEFAULT_MAX_ITERATIONS = 64
# Graphs of at most this many edges are labelled in one executor task (union-find): about
# 30 MB of ids in that task's Python worker, well under a second; above it, the rounds.
SMALL_GRAPH_EDGES = 200_000


@dataclass
class ComponentsRun:
    """What a connected-components run did: the labels and how it got there."""

    labels: DataFrame  # id, cluster_id
    iterations: int = 0
    checkpoints_written: int = 0
    edges: list[int] = field(default_factory=list)  # edges after each round (when counted)
    in_one_task: bool = False  # a small graph, labelled by union-find in one task
    round_seconds: list[float] = field(default_factory=list)  # wall time of each round


class _Saver:
    """Cuts lineage: FrameCheckpoints when given (or needed), else Spark's reliable checkpoint.

    With `drop_previous`, each save deletes this saver's previous checkpoint (the caller no
    longer reads it once the new one is written).
    """

    def __init__(self, spark, checkpoints: FrameCheckpoints | None, drop_previous: bool) -> None:
        self.checkpoints = checkpoints if checkpoints is not None else default_checkpoints(spark)
        self.drop_previous = drop_previous
        self.written = 0
        self._previous: str | None = None

    def save(self, df: DataFrame) -> DataFrame:
        self.written += 1
        if self.checkpoints is None:
            return df.checkpoint(eager=True)
        saved, folder = self.checkpoints.save_with_folder(df)
        if self.drop_previous and self._previous is not None:
            self.checkpoints.delete(self._previous)
        self._previous = folder
        return saved

    def rows(self, saved: DataFrame) -> int:
        """Rows of the last saved frame: counted by the tasks that wrote a FrameCheckpoints
        folder, else by one job over Spark's checkpoint."""
        if self.checkpoints is None or self._previous is None:
            return saved.count()
        return self.checkpoints.rows(self._previous)


def truncate(df: DataFrame, checkpoints: FrameCheckpoints | None = None) -> DataFrame:
    """Cut `df`'s lineage with a reliable checkpoint (never a local one): to `checkpoints`,
    else Spark's checkpoint dir, else (local master only) a temporary folder."""
    return _Saver(df.sparkSession, checkpoints, drop_previous=False).save(df)


def _large_star(edges: DataFrame) -> DataFrame:
    # m(u) = min(u, smaller neighbours of u); vertices that are no edge's hi keep m(u) = u.
    # Its repeated edges (at most one per input edge) are removed by small-star's distinct.
    smallest = edges.groupBy("hi").agg(F.min("lo").alias("m")).withColumnRenamed("hi", "lo")
    return edges.join(smallest, "lo", "left").select("hi", F.coalesce("m", "lo").alias("lo"))


def _small_star(edges: DataFrame) -> DataFrame:
    # s(u) = the smallest of u's smaller neighbours; every hi has one. Partitioned by hi once:
    # the aggregation and the join then share that shuffle.
    edges = edges.repartition("hi")
    smallest = edges.groupBy("hi").agg(F.min("lo").alias("s"))
    neighbours = (
        edges.join(smallest, "hi")
        .where(F.col("lo") != F.col("s"))
        .select(F.col("lo").alias("hi"), F.col("s").alias("lo"))
    )
    return neighbours.unionByName(smallest.select("hi", F.col("s").alias("lo"))).distinct()


def _not_stars(edges: DataFrame) -> int:
    """Vertices that break the star-forest condition (0: converged); at most 1 is counted."""
    as_hi = edges.select(F.col("hi").alias("v"), F.lit(1).alias("h"), F.lit(0).alias("l"))
    as_lo = edges.select(F.col("lo").alias("v"), F.lit(0).alias("h"), F.lit(1).alias("l"))
    per_vertex = (
        as_hi.unionByName(as_lo).groupBy("v").agg(F.sum("h").alias("h"), F.max("l").alias("l"))
    )
    broken = per_vertex.where((F.col("h") > 1) | ((F.col("h") >= 1) & (F.col("l") >= 1)))
    return broken.limit(1).count()


def _union_find_task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body over ALL the (hi, lo) edges of a graph (one task): (id, cluster_id)
    for every vertex, cluster_id the smallest id of its component."""
    parent: dict = {}
    id_type = None

    def find(x):
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for batch in batches:
        id_type = batch.schema.field(0).type
        for hi, lo in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
            parent.setdefault(hi, hi)
            parent.setdefault(lo, lo)
            a, b = find(hi), find(lo)
            if a != b:  # the smaller id stays the root: cluster_id is the component's minimum
                parent[max(a, b)] = min(a, b)
    if id_type is None or not parent:
        return
    ids = list(parent)
    roots = [find(v) for v in ids]
    yield pa.RecordBatch.from_arrays(
        [pa.array(ids, type=id_type), pa.array(roots, type=id_type)], names=["id", "cluster_id"]
    )


def _labels_in_one_task(edges: DataFrame) -> DataFrame:
    from pyspark.sql.types import StructField, StructType

    id_type = edges.schema["hi"].dataType
    schema = StructType([StructField("id", id_type), StructField("cluster_id", id_type)])
    return edges.select("hi", "lo").coalesce(1).mapInArrow(_union_find_task, schema)


def run_components(
    pairs: DataFrame,
    *,
    a_col: str = "id_a",
    b_col: str = "id_b",
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    checkpoints: FrameCheckpoints | None = None,
    checkpoint_every: int = 1,
    count_edges: bool = False,
    in_one_task_below: int = SMALL_GRAPH_EDGES,
) -> ComponentsRun:
    """Connected components of `pairs` with the run's statistics (see `connected_components`).

    `count_edges` also counts the edges after each round (one more job per round; benches).
    A graph of at most `in_one_task_below` edges is labelled in one executor task (0: always
    the rounds).
    """
    if checkpoint_every < 1:
        raise ValueError("checkpoint_every must be >= 1")
    saver = _Saver(pairs.sparkSession, checkpoints, drop_previous=True)
    a, b = F.col(a_col), F.col(b_col)
    edges = (
        pairs.where(a.isNotNull() & b.isNotNull() & (a != b))
        .select(F.greatest(a, b).alias("hi"), F.least(a, b).alias("lo"))
        .distinct()
    )
    edges = saver.save(edges)
    run = ComponentsRun(labels=edges)
    if in_one_task_below > 0 and saver.rows(edges) <= in_one_task_below:
        run.labels, run.in_one_task, run.checkpoints_written = _labels_in_one_task(edges), True, 1
        return run
    persisted: DataFrame | None = None
    for round_ in range(1, max_iterations + 1):
        started = time.perf_counter()
        edges = _small_star(_large_star(edges))
        previous = persisted
        if round_ % checkpoint_every == 0:
            edges, persisted = saver.save(edges), None
        else:
            edges = persisted = edges.persist(StorageLevel.MEMORY_AND_DISK)
        run.iterations = round_
        if count_edges:
            run.edges.append(edges.count())
        converged = _not_stars(edges) == 0
        # Only now is this round's edges computed: the previous round's may be let go.
        if previous is not None:
            previous.unpersist()
        run.round_seconds.append(time.perf_counter() - started)
        if converged:
            run.checkpoints_written = saver.written
            # Every vertex is a star's leaf (hi) or centre (lo); the centre is the smallest id.
            leaves = edges.select(F.col("hi").alias("id"), F.col("lo").alias("cluster_id"))
            centres = edges.select(F.col("lo").alias("id"), F.col("lo").alias("cluster_id"))
            run.labels = leaves.unionByName(centres.distinct())
            return run
    raise RuntimeError(
        f"connected components did not converge in {max_iterations} rounds; raise "
        "max_iterations (the rounds grow with the square of the log of the vertices)"
    )


def connected_components(
    pairs: DataFrame,
    *,
    a_col: str = "id_a",
    b_col: str = "id_b",
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    checkpoints: FrameCheckpoints | None = None,
    checkpoint_every: int = 1,
    in_one_task_below: int = SMALL_GRAPH_EDGES,
) -> DataFrame:
    """(id, cluster_id) for every id in `pairs`; cluster_id is the smallest id of its component.

    Runs on the executors whatever the graph's size (large-star / small-star, module doc; a
    graph of at most `in_one_task_below` edges by union-find in one task);
    raises RuntimeError when it takes more than `max_iterations` rounds. `checkpoints`: where
    the edges are written every `checkpoint_every` rounds (default: Spark's checkpoint dir,
    else a temporary folder for a local master; a cluster needs one of the two). The result
    reads the last checkpoint, so keep `checkpoints` until the result has been consumed.
    """
    return run_components(
        pairs,
        a_col=a_col,
        b_col=b_col,
        max_iterations=max_iterations,
        checkpoints=checkpoints,
        checkpoint_every=checkpoint_every,
        in_one_task_below=in_one_task_below,
    ).labels
