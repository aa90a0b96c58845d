"""Connected components on the executors (large-star / small-star), checkpoints, hot buckets."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from types import SimpleNamespace

import pyarrow.fs as pafs
import pytest

from spark_jobs.dedup import DedupConfig, cluster_duplicates, minhash_signatures
from spark_jobs.dedup.checkpoint import (
    SCRATCH_FOLDER,
    FrameCheckpoints,
    NoCheckpointLocation,
    default_checkpoints,
)
from spark_jobs.dedup.components import connected_components, run_components
from spark_jobs.dedup.lsh import near_duplicate_pairs
from spark_jobs.storage import ObjectStore

pytestmark = pytest.mark.spark


def union_find(pairs):
    """The reference: {id: smallest id of its component} for every id of a non-loop pair."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        if a == b:
            continue
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {v: find(v) for v in list(parent)}


def labels(df) -> dict:
    rows = df.collect()
    got = {r.id: r.cluster_id for r in rows}
    assert len(got) == len(rows), "an id got two labels"
    return got


# The large-star / small-star rounds themselves: small test graphs would otherwise be
# labelled in one task (see test_small_graphs_in_one_task_match_union_find).
ROUNDS = {"in_one_task_below": 0}


def frame(spark, pairs, dtype="string"):
    return spark.createDataFrame(pairs, f"id_a {dtype}, id_b {dtype}")


def test_a_random_graph_matches_union_find(spark):
    # test_small_graphs_in_one_task_match_union_find takes two more random graphs (string and
    # bigint ids) through the rounds.
    rng = random.Random(1)
    # Sparse enough for many components of many sizes; self loops, repeats and reversed
    # duplicates included.
    pairs = [(f"d{rng.randrange(3000):05d}", f"d{rng.randrange(3000):05d}") for _ in range(2200)]
    pairs += [(b, a) for a, b in pairs[:50]] + [("d00007", "d00007")]
    run = run_components(frame(spark, pairs), **ROUNDS)
    assert labels(run.labels) == union_find(pairs)
    assert run.iterations >= 2 and run.checkpoints_written == run.iterations + 1


def test_long_chain_in_random_id_order(spark):
    # Diameter 2999: label propagation would need ~3000 rounds; large/small-star needs few.
    rng = random.Random(7)
    ids = list(range(3000))
    rng.shuffle(ids)
    pairs = list(itertools.pairwise(ids))
    run = run_components(frame(spark, pairs, "bigint"), max_iterations=20, **ROUNDS)
    assert labels(run.labels) == dict.fromkeys(range(3000), 0)


def test_sorted_chain_and_too_few_rounds(spark):
    ids = [f"n{i:04d}" for i in range(500)]
    pairs = frame(spark, list(zip(ids[1:], ids[:-1], strict=True)))
    assert labels(connected_components(pairs, **ROUNDS)) == dict.fromkeys(ids, "n0000")
    with pytest.raises(RuntimeError, match="did not converge in 2 rounds"):
        run_components(pairs, max_iterations=2, **ROUNDS)


@pytest.mark.parametrize("centre", [0, 20_001], ids=["centre-smallest", "centre-largest"])
def test_star_graph(spark, centre):
    leaves = [i for i in range(1, 20_001) if i != centre]
    pairs = [(centre, leaf) for leaf in leaves] + [(30_000, 30_001)]
    run = run_components(frame(spark, pairs, "bigint"), **ROUNDS)
    smallest = min(centre, 1)
    assert labels(run.labels) == {
        **dict.fromkeys([centre, *leaves], smallest),
        30_000: 30_000,
        30_001: 30_000,
    }
    assert run.iterations <= 2


def test_checkpoints_in_the_lake_are_kept_to_the_last_round_and_cleared(spark, tmp_path: Path):
    checkpoints = FrameCheckpoints.under_lake(str(tmp_path / "lake"), name="components")
    assert checkpoints.uri.startswith(f"{tmp_path}/lake/{SCRATCH_FOLDER}/components-")
    pairs = [("a", "b"), ("b", "c"), ("x", "y")]
    run = run_components(frame(spark, pairs), checkpoints=checkpoints, **ROUNDS)
    # Each round deleted the one before it: only the last round's files are left.
    left = [p.name for p in Path(checkpoints.uri).iterdir()]
    assert len(left) == 1 and list(Path(checkpoints.uri, left[0]).glob("*.parquet"))
    assert labels(run.labels) == {"a": "a", "b": "a", "c": "a", "x": "x", "y": "x"}
    checkpoints.clear()
    assert not Path(checkpoints.uri).exists()


def test_checkpoint_every_two_rounds_gives_the_same_components(spark, tmp_path: Path):
    rng = random.Random(3)
    pairs = [(rng.randrange(800), rng.randrange(800)) for _ in range(700)]
    checkpoints = FrameCheckpoints(str(tmp_path / "ck"))
    run = run_components(
        frame(spark, pairs, "bigint"), checkpoints=checkpoints, checkpoint_every=2, **ROUNDS
    )
    assert labels(run.labels) == union_find(pairs)
    assert run.checkpoints_written == 1 + run.iterations // 2


@pytest.mark.parametrize("dtype", ["string", "bigint"])
def test_small_graphs_in_one_task_match_union_find(spark, tmp_path: Path, dtype):
    rng = random.Random(11)
    ids = [f"d{i:05d}" for i in range(3000)] if dtype == "string" else list(range(3000))
    pairs = [(rng.choice(ids), rng.choice(ids)) for _ in range(2200)]
    pairs += [(b, a) for a, b in pairs[:50]] + [(ids[7], ids[7])]
    rng.shuffle(ids)
    pairs += list(itertools.pairwise(ids[:400]))  # a long chain in random id order
    checkpoints = FrameCheckpoints(str(tmp_path / "ck"))
    run = run_components(frame(spark, pairs, dtype), checkpoints=checkpoints)
    assert run.in_one_task and run.iterations == 0 and run.checkpoints_written == 1
    assert labels(run.labels) == union_find(pairs)
    # The same graph above the threshold takes the rounds, with the same labels.
    rounds = run_components(
        frame(spark, pairs, dtype), checkpoints=checkpoints, in_one_task_below=100
    )
    assert not rounds.in_one_task and rounds.iterations >= 2
    assert labels(rounds.labels) == labels(run.labels)


def test_an_empty_graph_has_no_labels(spark):
    run = run_components(frame(spark, [("a", "a")]))  # a self loop is no edge
    assert run.in_one_task and run.labels.count() == 0


def test_a_cluster_without_a_shared_checkpoint_location_is_refused():
    context = SimpleNamespace(getCheckpointDir=lambda: None, master="spark://10.0.0.2:7077")
    with pytest.raises(NoCheckpointLocation, match=r"FrameCheckpoints\.under_lake"):
        default_checkpoints(SimpleNamespace(sparkContext=context))
    context.getCheckpointDir = lambda: "hdfs://nn/checkpoints"
    assert default_checkpoints(SimpleNamespace(sparkContext=context)) is None


def test_hot_bucket_makes_a_star_not_all_pairs(spark):
    # 3000 documents with one text share every band: 2999 pairs, not 3000 * 2999 / 2.
    text = " ".join(f"word{i}" for i in range(200))
    other = " ".join(f"other{i}" for i in range(200))
    rows = [(f"h{i:05d}", "web", "s", text, "k") for i in range(3000)]
    rows += [("z0", "web", "s", other, "z"), ("z1", "web", "s", other, "z")]
    docs = spark.createDataFrame(
        rows, "id string, corpus string, source string, text string, text_hash string"
    ).repartition(4)
    config = DedupConfig()
    pairs = near_duplicate_pairs(minhash_signatures(docs, config), config)
    assert pairs.count() == 3000
    assert pairs.where("id_a = 'h00000'").count() == 2999
    clusters = cluster_duplicates(docs, config, exact=False).collect()
    sizes = {(r.cluster_id, r.cluster_size) for r in clusters}
    assert sizes == {("h00000", 3000), ("z0", 2)}
    assert {r.id for r in clusters if r.is_keeper} == {"h00000", "z0"}


@pytest.mark.s3
def test_checkpoints_on_s3(spark, s3):
    s3.create_bucket("ckpt")
    store = ObjectStore(endpoint_url=s3.endpoint_url)
    checkpoints = FrameCheckpoints.under_lake("s3://ckpt/lake", store, name="cc")
    rng = random.Random(5)
    pairs = [(f"s{rng.randrange(400):04d}", f"s{rng.randrange(400):04d}") for _ in range(300)]
    run = run_components(frame(spark, pairs), checkpoints=checkpoints)
    assert labels(run.labels) == union_find(pairs)
    fs, root = store.filesystem(checkpoints.uri)
    written = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    assert any(info.path.endswith(".parquet") for info in written)
    checkpoints.clear()
    assert not fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
