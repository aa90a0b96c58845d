"""The length-bucketed batcher and device selection (no Spark, no model)."""

import random

import pytest

from spark_jobs.classifiers.gpu import (
    GPU,
    GpuRequest,
    classifier_profile,
    length_buckets,
    select_device,
)


def test_every_item_lands_in_exactly_one_batch_within_the_token_budget():
    rng = random.Random(0)
    lengths = [rng.randint(1, 128) for _ in range(500)]
    batches = length_buckets(lengths, max_tokens=1024, max_batch=64)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(500))
    for batch in batches:
        assert len(batch) <= 64
        assert len(batch) * max(lengths[i] for i in batch) <= 1024


def test_batches_group_similar_lengths_so_padding_is_small():
    rng = random.Random(1)
    lengths = [rng.choice([8, 120]) for _ in range(200)]
    batches = length_buckets(lengths, max_tokens=2048)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    # Unsorted fixed-size batches would pad nearly every short item to 120.
    assert padded <= sum(lengths) * 1.1


def test_an_item_longer_than_the_budget_gets_a_batch_of_its_own():
    assert length_buckets([5, 5000, 5], max_tokens=100) == [[0, 2], [1]]


def test_fake_gpu_address_falls_back_to_cpu_without_cuda():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: address 0 is real here")
    assert select_device(["0"]) == "cpu"
    assert select_device([]) == "cpu"


def test_profile_requests_gpus_for_tasks_only_unless_asked():
    task_only = classifier_profile()
    assert task_only.taskResources[GPU].amount == 1.0
    assert GPU not in task_only.executorResources
    with_executors = classifier_profile(GpuRequest(executor_gpus=2, with_executor_resources=True))
    assert with_executors.executorResources[GPU].amount == 2


def test_rebatch_joins_arrow_batches_up_to_the_gpu_chunk_and_keeps_every_row_in_order():
    import pyarrow as pa

    from spark_jobs.classifiers.gpu import rebatch

    sizes = [3, 5, 1, 7, 2, 4]
    start, batches = 0, []
    for size in sizes:
        batches.append(pa.record_batch({"id": list(range(start, start + size))}))
        start += size
    out = list(rebatch(iter(batches), 8))
    assert [b.num_rows for b in out] == [8, 8, 6]
    assert [i for b in out for i in b.column("id").to_pylist()] == list(range(sum(sizes)))
    assert [b.num_rows for b in rebatch(iter(batches), 1)] == sizes
    assert list(rebatch(iter([]), 8)) == []
