"""GPU executors: the classifier stage's resource profile, the device a task was given, and
the length-bucketed batcher that keeps padding (wasted GPU work) small."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

GPU = "gpu"
# Rows per annotator call on a GPU: Spark hands a task Arrow batches of
# spark.sql.execution.arrow.maxRecordsPerBatch rows (2,000 here); a GPU task joins them up to
# this many, which measured 1.2x faster on an H200 than 2,000-row calls (docs/classifiers.md).
GPU_CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class GpuRequest:
    """What the classifier stage asks Spark for; only this stage asks for GPUs.

    `executor_gpus` is requested per executor when `with_executor_resources` (needs dynamic
    allocation, as Spark only starts executors of a new profile then); otherwise the
    profile holds task resources only and runs on the application's default executors,
    whose GPUs come from `spark.executor.resource.gpu.amount` (standalone, YARN and K8s
    support such task-only profiles without dynamic allocation since Spark 3.4).
    """

    task_gpus: float = 1.0
    task_cpus: int = 1
    executor_gpus: int = 1
    executor_cores: int = 1
    with_executor_resources: bool = False


def classifier_profile(request: GpuRequest = GpuRequest()):
    """The stage-level resource profile of the classifier stage."""
    from pyspark.resource import (
        ExecutorResourceRequests,
        ResourceProfileBuilder,
        TaskResourceRequests,
    )

    builder = ResourceProfileBuilder()
    builder.require(TaskResourceRequests().cpus(request.task_cpus).resource(GPU, request.task_gpus))
    if request.with_executor_resources:
        builder.require(
            ExecutorResourceRequests()
            .cores(request.executor_cores)
            .resource(GPU, request.executor_gpus)
        )
    return builder.build


def assigned_gpus() -> list[str]:
    """GPU addresses Spark assigned to the running task (empty outside a task or without one)."""
    from pyspark import TaskContext

    context = TaskContext.get()
    if context is None:
        return []
    resource = context.resources().get(GPU)
    return list(resource.addresses) if resource is not None else []


def select_device(addresses: Sequence[str]) -> str:
    """The torch device for a task: its first assigned GPU, or the CPU.

    Spark's addresses are what the worker's discovery script reported (CUDA ordinals on a
    real GPU machine); a task that got an address on a machine where CUDA is not usable
    (a fake address list in tests) falls back to the CPU.
    """
    if not addresses:
        return "cpu"
    import torch

    if torch.cuda.is_available():
        ordinal = int(addresses[0])
        if ordinal < torch.cuda.device_count():
            return f"cuda:{ordinal}"
    return "cpu"


def length_buckets(
    lengths: Sequence[int], *, max_tokens: int = 16384, max_batch: int = 256
) -> list[list[int]]:
    """Group item indices into batches of similar length.

    Items are sorted by length so a batch pads to nearly its own length; a batch closes when
    it would exceed `max_tokens` padded tokens (batch size x longest item) or `max_batch`
    items. Every index appears in exactly one batch; callers scatter results back by index.
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = max(lengths[index], 1)  # sorted ascending: this item is the longest so far
        if current and ((len(current) + 1) * longest > max_tokens or len(current) >= max_batch):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def rebatch(batches: Iterable, min_rows: int) -> Iterator:
    """Arrow record batches joined until each holds at least `min_rows` rows (the last may
    hold fewer). Every row comes out once, in order."""
    import pyarrow as pa

    pending: list = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= min_rows:
            yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)
            pending, rows = [], 0
    if pending:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)
