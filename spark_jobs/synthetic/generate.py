"""The generation stage: selected source documents x the recipe's variants -> requests to an
OpenAI-compatible endpoint from Spark tasks -> synthetic.<recipe>, one row per sample with its
provenance, failed requests included.

Resumable and idempotent: a sample's id is a hash of what decides its content, samples hash
into the recipe's `requests.chunks` partitions, and each chunk is committed once its requests
finish (overwriting that partition in one Delta commit). A re-run requests only the ids that
are missing or failed; a killed run loses at most the chunk in flight, never duplicates one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from pyspark.errors import AnalysisException, ParseException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.storagelevel import StorageLevel

from spark_jobs.delta import (
    CommitResult,
    StagedWrite,
    open_table,
    read_spark,
    snapshot_dataset,
    table_exists,
    write_table,
)
from spark_jobs.lake import Lake, synthetic_table
from spark_jobs.synthetic.client import (
    OK,
    RESULT_SCHEMA,
    EndpointSettings,
    GenerationRequest,
    Sampling,
    run_generation,
    run_generation_groups,
)
from spark_jobs.synthetic.recipe import SyntheticRecipe
from spark_jobs.takedown import taken_down_ids

log = logging.getLogger(__name__)

# The planned sample a task turns into a request (built in Spark, never collected).
PLAN_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("chunk", pa.int32()),
        ("source_doc_id", pa.string()),
        ("origin_source", pa.string()),
        ("license", pa.string()),
        ("variant", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
    ]
)
# Provenance fixed for the whole run, then the per-request result columns.
SAMPLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("recipe", pa.string()),
        ("recipe_fingerprint", pa.string()),
        ("source", pa.string()),
        ("source_table", pa.string()),
        ("source_version", pa.int64()),
        ("source_doc_id", pa.string()),
        ("origin_source", pa.string()),
        ("license", pa.string()),
        ("transformation", pa.string()),
        ("variant", pa.string()),
        ("template_name", pa.string()),
        ("template_hash", pa.string()),
        ("prompt", pa.string()),
        ("endpoint", pa.string()),
        ("model_requested", pa.string()),
        ("sampling", pa.string()),
        ("request_seed", pa.int64()),
        *[f for f in RESULT_SCHEMA if f.name != "id"],
        ("run_id", pa.string()),
        ("chunk", pa.int32()),
    ]
)


@dataclass
class GenerationReport:
    """What one generation run did."""

    table: str
    source_version: int
    planned: int = 0
    requested: int = 0
    ok: int = 0
    failed: int = 0
    completion_tokens: int = 0
    chunks_committed: list[int] = field(default_factory=list)
    budget_reached: bool = False
    commits: dict[int, CommitResult] = field(default_factory=dict)
    # Model names as the endpoint reported them in this run's answers.
    models: set[str] = field(default_factory=set)
    # Seconds spent selecting the sources and planning (and counting) the samples, before the
    # first request could be sent.
    plan_seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "planned samples": self.planned,
            "requested": self.requested,
            "ok": self.ok,
            "failed": self.failed,
            "completion tokens": self.completion_tokens,
        }


def endpoint_settings(recipe: SyntheticRecipe, tasks: int, api_key: str | None) -> EndpointSettings:
    """One task's share of the recipe's concurrency and rate limit."""
    spec, requests = recipe.spec, recipe.spec.requests
    return EndpointSettings(
        base_url=spec.generator.base_url,
        model=spec.generator.model,
        api=spec.generator.api,
        api_key=api_key,
        system=spec.system,
        concurrency=max(1, math.ceil(requests.concurrency / tasks)),
        retries=requests.retries,
        backoff_s=requests.backoff_s,
        max_backoff_s=requests.max_backoff_s,
        rate_limit=requests.rate_limit / tasks if requests.rate_limit else None,
        timeout_s=requests.timeout_s,
    )


def generation_profile(recipe: SyntheticRecipe, *, local: bool):
    """The stage-level resource profile of the generation tasks: the classifier stage's GPU
    profile when the recipe's endpoint runs on the executors' GPUs (generator.gpu), None
    otherwise or in local mode (stage-level scheduling needs a cluster manager)."""
    if not recipe.spec.generator.gpu or local:
        return None
    from spark_jobs.classifiers.gpu import classifier_profile

    return classifier_profile()


def task_slots(spark: SparkSession) -> int:
    """Tasks the session runs at once. Generation tasks wait on HTTP: a task beyond the slots
    would wait for one, and its share of the concurrency with it (the default parallelism is
    a multiple of the cores, so it is not the number to split over)."""
    from spark_jobs.session import SessionLayout, expected_cores

    context = spark.sparkContext
    conf = dict(context.getConf().getAll())
    cores = expected_cores(context.master, conf, SessionLayout()) or context.defaultParallelism
    return max(1, cores // int(conf.get("spark.task.cpus", "1")))


def sampling_of(recipe: SyntheticRecipe) -> Sampling:
    s = recipe.spec.sampling
    return Sampling(s.temperature, s.top_p, s.max_tokens, tuple(s.stop) if s.stop else None)


def select_sources(
    spark: SparkSession, lake: Lake, recipe: SyntheticRecipe
) -> tuple[DataFrame, int]:
    """The recipe's source documents (after its `where`, takedowns and `limit`) and the
    source table version they were read at."""
    source = recipe.spec.source
    uri = lake.uri(source.table)
    if not table_exists(uri, lake.store):
        raise FileNotFoundError(
            f"synthetic recipe {recipe.name} reads {source.table} ({uri}), which does not exist "
            "yet; run curation first (pilehouse run)"
        )
    version = (
        source.version
        if source.version is not None
        else open_table(uri, store=lake.store).version()
    )
    docs = read_spark(spark, uri, version=version, store=lake.store)
    if source.scores:
        scores_uri = lake.uri(source.scores)
        if not table_exists(scores_uri, lake.store):
            raise FileNotFoundError(
                f"synthetic recipe {recipe.name} joins {source.scores} (source.scores), which "
                "does not exist yet; materialize the classifiers first"
            )
        scores = read_spark(spark, scores_uri, store=lake.store)
        extra = [c for c in scores.columns if c == "id" or c not in docs.columns]
        docs = docs.join(scores.select(*extra), "id", "left")
    if source.where:
        try:
            docs = docs.where(F.expr(source.where))
            docs.schema  # noqa: B018 - analyse now, so a bad column is a one-line error here
        except (AnalysisException, ParseException) as error:
            first = str(error).strip().splitlines()[0]
            raise ValueError(
                f"synthetic recipe {recipe.name}: source.where {source.where!r} cannot be "
                f"evaluated on {source.table}: {first}; columns: {', '.join(docs.columns)}"
            ) from None
    gone = sorted(taken_down_ids(lake))
    if gone:  # time travel to a pinned version must not resurrect a taken-down document
        docs = docs.where(~F.col("id").isin(gone))
    if source.limit:
        docs = docs.orderBy(F.xxhash64(F.lit(recipe.spec.seed), "id"), "id").limit(source.limit)
    return docs, version


def plan_samples(docs: DataFrame, recipe: SyntheticRecipe) -> DataFrame:
    """One row per (document, variant): the sample id (as recipe.sample_id computes it) and
    its chunk."""
    variants = F.array(*[F.lit(v.name) for v in recipe.variants()])
    title = F.col("title") if "title" in docs.columns else F.lit(None).cast("string")
    sample_id = F.substring(
        F.sha2(
            F.concat_ws(
                "\x1f",
                F.lit(recipe.fingerprint),
                F.col("source_doc_id"),
                F.lit(recipe.template_hash),
                F.col("variant"),
            ),
            256,
        ),
        1,
        32,
    )
    chunks = recipe.spec.requests.chunks
    return (
        docs.select(
            F.col("id").alias("source_doc_id"),
            F.col("source").alias("origin_source"),
            F.col("license").cast("string").alias("license"),
            title.cast("string").alias("title"),
            F.substring(
                F.coalesce(F.col("text"), F.lit("")), 1, recipe.spec.source.max_chars
            ).alias("text"),
            F.explode(variants).alias("variant"),
        )
        .withColumn("id", sample_id)
        .withColumn(
            "chunk",
            F.pmod(F.conv(F.substring("id", 1, 8), 16, 10).cast("long"), F.lit(chunks)).cast("int"),
        )
        .dropDuplicates(["id"])
        .select(*PLAN_SCHEMA.names)
    )


def _planned(batches: list[pa.RecordBatch]) -> list[dict]:
    """A task's planned rows (Spark's nullability of a column can differ from PLAN_SCHEMA's;
    the names agree)."""
    if not batches:
        return []
    return pa.Table.from_batches(batches).select(PLAN_SCHEMA.names).to_pylist()


def _requests(recipe: SyntheticRecipe, planned: list[dict]) -> list[GenerationRequest]:
    variants = {v.name: v for v in recipe.variants()}
    return [
        GenerationRequest(
            p["id"],
            recipe.prompt(variants[p["variant"]], p["text"], p["title"]),
            recipe.request_seed(p["id"]),
        )
        for p in planned
    ]


def _samples(
    fixed: Mapping[str, object],
    planned: list[dict],
    requests: list[GenerationRequest],
    results: pa.Table,
) -> pa.Table:
    """The table's rows: run-wide provenance, the plan, the request sent and its result."""
    rows = [
        {**fixed, **p, **result, "prompt": request.prompt, "request_seed": request.seed}
        for p, request, result in zip(planned, requests, results.to_pylist(), strict=True)
    ]
    return pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA)


def _generate_task(
    recipe: SyntheticRecipe,
    settings: EndpointSettings,
    sampling: Sampling,
    fixed: Mapping[str, object],
):
    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        planned = _planned(list(batches))
        if not planned:
            return
        requests = _requests(recipe, planned)
        results = run_generation(requests, settings, sampling)
        yield from _samples(fixed, planned, requests, results).to_batches()

    return task


def _existing(spark: SparkSession, lake: Lake, uri: str) -> DataFrame | None:
    if not table_exists(uri, lake.store):
        return None
    return read_spark(spark, uri, store=lake.store)


def generate_synthetic(
    spark: SparkSession,
    lake: Lake,
    recipe: SyntheticRecipe,
    *,
    run_id: str,
    metadata: Mapping[str, object] | None = None,
    profile=None,
    tasks: int | None = None,
) -> GenerationReport:
    """Request every missing or failed sample of the recipe and commit synthetic.<recipe>,
    one commit per chunk.

    Args:
        spark, lake: where to run and where the tables are.
        recipe: the synthetic recipe.
        run_id: recorded in every row written (the Dagster run id).
        metadata: extra commit metadata.
        profile: a stage-level resource profile (spark_jobs.classifiers.gpu.classifier_profile)
            when the endpoint runs on the executors' GPUs (generator.gpu).
        tasks: Spark tasks per chunk (default: the tasks the session runs at once); the
            recipe's concurrency and rate limit are split evenly over them.
    """
    started = time.perf_counter()
    api_key = recipe.api_key()
    table = synthetic_table(recipe.name)
    uri = lake.uri(table)
    docs, version = select_sources(spark, lake, recipe)
    report = GenerationReport(table, version)
    tasks = tasks or task_slots(spark)
    n_tasks = max(1, min(tasks, recipe.spec.requests.concurrency))
    plan = plan_samples(docs, recipe)
    existing = _existing(spark, lake, uri)
    stored_chunks = _stored_chunks(uri, lake) if existing is not None else set()
    done_tokens = 0
    flagged = plan.withColumn("_done", F.lit(False))
    if existing is not None:
        ok = existing.where(F.col("status") == OK)
        flagged = plan.join(ok.select("id", F.lit(True).alias("_ok")), "id", "left").select(
            *PLAN_SCHEMA.names, F.coalesce(F.col("_ok"), F.lit(False)).alias("_done")
        )
        done_tokens = ok.agg(F.sum("completion_tokens")).first()[0] or 0
    # The plan is computed once, by the job that counts it, and kept (memory, then disk) in
    # partitions, one per generation task: the generation jobs read their share where it
    # lies, without selecting, hashing or shuffling the sources again.
    # (A sample already made keeps only its id, chunk and flag there: a resumed run of a large
    # recipe does not hold every source text again.)
    flagged = flagged.withColumn(
        "text", F.when(F.col("_done"), F.lit(None)).otherwise(F.col("text"))
    )
    # Round-robin: every task gets the same number of samples (+-1), so none is left alone
    # with its share of the concurrency at the end (hashing ids leaves a few % imbalance).
    flagged = flagged.repartition(n_tasks).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = flagged.groupBy("chunk", "_done").count().collect()
        per_chunk = {row["chunk"]: row["count"] for row in counts if not row["_done"]}
        report.planned = sum(row["count"] for row in counts)
        report.plan_seconds = time.perf_counter() - started
        log.info(
            "synthetic %s: %d samples planned, %d to request in %d chunks (%.1f s)",
            recipe.name, report.planned, sum(per_chunk.values()), len(per_chunk),
            time.perf_counter() - started,
        )  # fmt: skip
        pending = flagged.where(~F.col("_done")).select(*PLAN_SCHEMA.names)
        _generate_chunks(
            spark, lake, recipe, report, pending, per_chunk,
            uri=uri, existing=existing, stored_chunks=stored_chunks, done_tokens=done_tokens,
            n_tasks=n_tasks, api_key=api_key, run_id=run_id, version=version,
            metadata=metadata, profile=profile,
        )  # fmt: skip
    finally:
        flagged.unpersist()
    return report


def _stored_chunks(uri: str, lake: Lake) -> set[int]:
    """The chunk partitions of the table that hold rows (from the Delta log's file list)."""
    chunks = snapshot_dataset(uri, store=lake.store).to_table(columns=["chunk"])["chunk"]
    return set(pc.unique(chunks).to_pylist())


def _generate_chunks(
    spark: SparkSession,
    lake: Lake,
    recipe: SyntheticRecipe,
    report: GenerationReport,
    pending: DataFrame,
    per_chunk: dict[int, int],
    *,
    uri: str,
    existing: DataFrame | None,
    stored_chunks: set[int],
    done_tokens: int,
    n_tasks: int,
    api_key: str | None,
    run_id: str,
    version: int,
    metadata: Mapping[str, object] | None,
    profile,
) -> None:
    """Request and commit each chunk of the pending plan in turn (see generate_synthetic)."""
    budget = recipe.spec.token_budget
    max_tokens = recipe.spec.sampling.max_tokens
    spark_schema = from_arrow_schema(SAMPLE_SCHEMA)
    fixed = {
        "recipe": recipe.name,
        "recipe_fingerprint": recipe.fingerprint,
        "source": recipe.name,
        "source_table": recipe.spec.source.table,
        "source_version": version,
        "transformation": recipe.spec.transformation.kind,
        "template_name": recipe.spec.transformation.template,
        "template_hash": recipe.template_hash,
        "endpoint": recipe.endpoint(),
        "model_requested": recipe.spec.generator.model,
        "sampling": sampling_of(recipe).as_json(),
        "run_id": run_id,
    }
    commit_metadata = {
        **(metadata or {}),
        f"lineage.input.{recipe.spec.source.table}": version,
        "lineage.recipe": recipe.name,
        "lineage.recipe_hash": recipe.fingerprint,
        "lineage.template_hash": recipe.template_hash,
        "lineage.model": recipe.spec.generator.model,
    }
    produced = done_tokens
    # Chunks with nothing stored yet, when no token budget decides how much of each to
    # request: one job requests them all and each is committed as soon as its last answer is
    # in (no gap between chunks). The others (a budget, or a chunk whose stored rows must be
    # kept) one job per chunk, in turn.
    streamed = [c for c in sorted(per_chunk) if c not in stored_chunks] if budget is None else []
    if streamed:
        _stream_chunks(
            spark, lake, recipe, report, pending, streamed,
            uri=uri, n_tasks=n_tasks, api_key=api_key, fixed=fixed,
            commit_metadata=commit_metadata, run_id=run_id, profile=profile,
        )  # fmt: skip
        stored_chunks.update(streamed)
        if existing is None:
            existing = _existing(spark, lake, uri)
    for chunk in sorted(set(per_chunk) - set(streamed)):
        wanted = per_chunk[chunk]
        if budget is not None:
            remaining = budget - produced
            if remaining <= 0:
                report.budget_reached = True
                break
            # Each sample is at most max_tokens: this many never overshoot the budget.
            wanted = min(wanted, math.ceil(remaining / max_tokens))
        todo = pending.where(F.col("chunk") == chunk)
        chunk_tasks = n_tasks
        if wanted < per_chunk[chunk]:  # the budget takes part of the chunk: the first ids
            chunk_tasks = max(1, min(n_tasks, wanted))
            todo = todo.orderBy("id").limit(wanted).repartition(chunk_tasks)
        task = _generate_task(
            recipe, endpoint_settings(recipe, chunk_tasks, api_key), sampling_of(recipe), fixed
        )
        # Even shares (the plan's partitions, or the budget's round-robin repartition): no task
        # is left alone with half the concurrency at the end.
        results = todo.mapInArrow(task, spark_schema, profile=profile)
        out = results
        if existing is not None and chunk in stored_chunks:
            # Rows of the chunk not requested again (ok ones, failures the budget left for
            # later) stay; the requested ones are replaced by their new result.
            kept = read_spark(spark, uri, store=lake.store, partitions={"chunk": str(chunk)})
            out = kept.join(todo.select("id"), "id", "left_anti").unionByName(results)
        chunk_started = time.perf_counter()
        commit = write_table(
            out,
            uri,
            mode="overwrite",
            partition_by=["chunk"],
            replace_where={"chunk": str(chunk)},
            metadata={**commit_metadata, "lineage.chunk": chunk},
            store=lake.store,
        )
        if existing is None:
            existing = _existing(spark, lake, uri)
        stored_chunks.add(chunk)
        produced += _record(lake, uri, recipe, report, chunk, commit, run_id, chunk_started)


def _record(
    lake: Lake,
    uri: str,
    recipe: SyntheticRecipe,
    report: GenerationReport,
    chunk: int,
    commit: CommitResult,
    run_id: str,
    started: float,
) -> int:
    """Count a committed chunk into the report; the completion tokens it added."""
    report.commits[chunk] = commit
    report.chunks_committed.append(chunk)
    # Counted from what was committed: recounting the results would call the endpoint again.
    written = snapshot_dataset(uri, version=commit.version, store=lake.store).to_table(
        columns=["status", "completion_tokens", "model"],
        filter=(ds.field("chunk") == chunk) & (ds.field("run_id") == run_id),
    )
    statuses = written["status"].to_pylist()
    tokens = pc.sum(written.filter(pc.equal(written["status"], OK))["completion_tokens"]).as_py()
    report.requested += len(statuses)
    report.ok += statuses.count(OK)
    report.failed += len(statuses) - statuses.count(OK)
    report.completion_tokens += tokens or 0
    report.models.update(m for m in written["model"].to_pylist() if m)
    log.info(
        "synthetic %s: chunk %d: %d requested, %d ok, committed v%d (%.1f s)",
        recipe.name, chunk, len(statuses), statuses.count(OK), commit.version,
        time.perf_counter() - started,
    )  # fmt: skip
    return tokens or 0


def _stream_task(
    recipe: SyntheticRecipe,
    settings: EndpointSettings,
    sampling: Sampling,
    fixed: Mapping[str, object],
    chunks: list[int],
    staged: StagedWrite,
    staging: str,
):
    """The task of the streamed chunks: its share of every chunk's requests, sent chunk after
    chunk through one concurrency limit; as each chunk's answers are all in, their rows are
    written as Parquet files of the table (not yet committed) and the task's marker for that
    chunk (`<staging>/chunk=<c>/part-<task>.json`: the files) tells the driver."""

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        partition = TaskContext.get().partitionId()
        planned = _planned(list(batches))
        groups: dict[int, list[dict]] = {chunk: [] for chunk in chunks}
        for p in planned:
            groups[p["chunk"]].append(p)
        requests = [_requests(recipe, groups[chunk]) for chunk in chunks]
        fs, root = staged.store.filesystem(staging)

        def finish(index: int, results: pa.Table) -> None:
            chunk = chunks[index]
            samples = _samples(fixed, groups[chunk], requests[index], results)
            files = staged.write_files(samples)
            marker = f"{root}/chunk={chunk}/part-{partition:05d}.json"
            fs.create_dir(f"{root}/chunk={chunk}", recursive=True)
            with fs.open_output_stream(marker + ".tmp") as out:
                out.write(json.dumps(files).encode())
            fs.move(marker + ".tmp", marker)  # the driver never reads half a marker

        run_generation_groups(requests, settings, sampling, finish)
        return iter(())

    return task


def _chunk_files(fs, root: str, chunk: int, tasks: int) -> list[dict] | None:
    """The files every task wrote for `chunk`, or None while a task's marker is missing."""
    selector = pafs.FileSelector(f"{root}/chunk={chunk}", allow_not_found=True)
    markers = [info.path for info in fs.get_file_info(selector) if info.path.endswith(".json")]
    if len(markers) < tasks:
        return None
    files: list[dict] = []
    for marker in sorted(markers):
        with fs.open_input_stream(marker) as stream:
            files.extend(json.loads(stream.read()))
    return files


def _stream_chunks(
    spark: SparkSession,
    lake: Lake,
    recipe: SyntheticRecipe,
    report: GenerationReport,
    pending: DataFrame,
    chunks: list[int],
    *,
    uri: str,
    n_tasks: int,
    api_key: str | None,
    fixed: Mapping[str, object],
    commit_metadata: Mapping[str, object],
    run_id: str,
    profile,
) -> None:
    """Request `chunks` in one Spark job and commit each, in order, once every task has
    written its part (see _stream_task). A killed run keeps the chunks committed; files of
    the others are never committed (vacuum_orphans removes them)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(from_arrow_schema(SAMPLE_SCHEMA), timezone="UTC")
    staged = StagedWrite.prepare(uri, schema, partition_by=["chunk"], store=lake.store)
    staging = f"{uri.rstrip('/')}/_staging/{uuid.uuid4().hex}"
    fs, root = lake.store.filesystem(staging)
    todo = pending.where(F.col("chunk").isin(chunks))
    tasks = todo.rdd.getNumPartitions()
    task = _stream_task(
        recipe, endpoint_settings(recipe, tasks, api_key), sampling_of(recipe), fixed, chunks,
        staged, staging,
    )  # fmt: skip
    job = todo.mapInArrow(task, "chunk int", profile=profile)
    context, group = spark.sparkContext, f"pilehouse-synthetic-{uuid.uuid4().hex[:12]}"
    failure: list[BaseException] = []

    def run() -> None:
        context.setJobGroup(group, f"synthetic {recipe.name}: {len(chunks)} chunks", True)
        try:
            job.collect()
        except BaseException as error:  # re-raised by the driver loop below
            failure.append(error)

    runner = threading.Thread(target=run, name=f"synthetic-{recipe.name}", daemon=True)
    started = time.perf_counter()
    runner.start()
    try:
        for chunk in chunks:
            while (files := _chunk_files(fs, root, chunk, tasks)) is None:
                if not runner.is_alive():
                    if (files := _chunk_files(fs, root, chunk, tasks)) is not None:
                        break
                    if failure:
                        raise failure[0]
                    raise RuntimeError(
                        f"synthetic {recipe.name}: the generation job ended without every "
                        f"task's part of chunk {chunk} ({staging}); re-run to request it"
                    )
                runner.join(0.2)
            commit = staged.commit(
                files,
                mode="overwrite",
                replace_where={"chunk": str(chunk)},
                metadata={**commit_metadata, "lineage.chunk": chunk},
            )
            _record(lake, uri, recipe, report, chunk, commit, run_id, started)
            started = time.perf_counter()
    except BaseException:
        context.cancelJobGroup(group)
        raise
    finally:
        runner.join()
        with contextlib.suppress(OSError):
            fs.delete_dir(root)


def main(argv: list[str] | None = None) -> int:
    """Run one recipe's generation stage outside Dagster (a local lake directory)."""
    import argparse
    import json

    from spark_jobs.session import get_spark

    # Under `python -m` this module is __main__; the stage's task functions must come from
    # the importable module so Spark's workers unpickle them by reference.
    from spark_jobs.synthetic.generate import generate_synthetic as generate

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--lake", required=True, help="the lake's root directory")
    parser.add_argument("--recipe", required=True, help="a synthetic recipe YAML file")
    parser.add_argument("--run-id", required=True, help="recorded in every row written")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--tasks", type=int, default=None, help="Spark tasks per chunk")
    args = parser.parse_args(argv)
    spark = get_spark(args.master, app_name="pilehouse-synthetic")
    report = generate(
        spark,
        Lake(args.lake),
        SyntheticRecipe.from_yaml(args.recipe),
        run_id=args.run_id,
        tasks=args.tasks,
    )
    print(json.dumps({**report.counts, "chunks committed": report.chunks_committed}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
