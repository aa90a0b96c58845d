"""The generation stage in Spark against the real test server: provenance columns, failed
requests kept as rows, re-runs that request only missing or failed ids, the token budget,
takedowns honoured at selection."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from spark_jobs.delta import read_arrow, table_history, write_arrow
from spark_jobs.synthetic.generate import generate_synthetic, task_slots

pytestmark = pytest.mark.spark


def table(lake, recipe):
    return read_arrow(lake.uri(recipe.table)).sort_by("id")


def test_samples_carry_their_provenance(spark, sources, make_recipe, endpoint):
    recipe = make_recipe()
    report = generate_synthetic(spark, sources, recipe, run_id="run-1")
    rows = table(sources, recipe).to_pylist()
    # 4 documents pass `language = 'en' AND edu_score < 2`, two styles each.
    assert report.planned == 8 and report.ok == 8 and report.failed == 0
    assert len(rows) == 8 and len({r["id"] for r in rows}) == 8
    variants = {v.name: v for v in recipe.variants()}
    for row in rows:
        assert row["id"] == recipe.sample_id(row["source_doc_id"], variants[row["variant"]])
        assert row["source_doc_id"] in {"web-000", "web-001", "web-003", "web-004"}
        assert row["source_table"] == "curated.web" and row["source_version"] == 0
        assert row["origin_source"] == "sample-crawl" and row["license"] == "CC-BY-4.0"
        assert row["template_hash"] == recipe.template_hash
        assert row["recipe_fingerprint"] == recipe.fingerprint
        assert row["model"] == "pilehouse-tiny-bytes"
        assert row["model_fingerprint"].startswith("fp_")
        assert '"temperature": 0.8' in row["sampling"]
        assert row["prompt"].startswith("Rewrite as a ") and row["text"] is not None
        assert 0 < row["completion_tokens"] <= 24 and row["prompt_tokens"] > 0
        assert row["finish_reason"] in ("stop", "length") and row["status"] == "ok"
        assert row["requested_at"] is not None and row["run_id"] == "run-1"
    history = table_history(sources.uri(recipe.table))
    assert {h["lineage.recipe_hash"] for h in history} == {recipe.fingerprint}
    assert {h["lineage.input.curated.web"] for h in history} == {"0"}


def test_failures_are_rows_and_a_rerun_requests_only_them(spark, sources, make_recipe, endpoint):
    recipe = make_recipe(requests={"concurrency": 2, "retries": 0, "chunks": 3})
    endpoint.faults(every={"n": 3, "status": 503})
    first = generate_synthetic(spark, sources, recipe, run_id="run-1")
    assert first.failed > 0 and first.ok + first.failed == 8
    before = table(sources, recipe)
    failed = before.filter(pc.equal(before["status"], "failed"))
    assert set(failed["http_status"].to_pylist()) == {503}
    assert all(
        e.startswith("gave up after 1 attempts: HTTP 503") for e in failed["error"].to_pylist()
    )

    endpoint.reset()
    second = generate_synthetic(spark, sources, recipe, run_id="run-2")
    assert second.requested == first.failed == endpoint.stats()["requests"]
    after = table(sources, recipe)
    assert after.num_rows == 8 and len(set(after["id"].to_pylist())) == 8
    assert set(after["status"].to_pylist()) == {"ok"}
    # Samples that were fine the first time are untouched (same text, same run).
    kept = {r["id"]: r for r in before.to_pylist() if r["status"] == "ok"}
    for row in after.to_pylist():
        if row["id"] in kept:
            assert (row["text"], row["run_id"]) == (kept[row["id"]]["text"], "run-1")
        else:
            assert row["run_id"] == "run-2"

    third = generate_synthetic(spark, sources, recipe, run_id="run-3")
    assert third.requested == 0 and third.chunks_committed == []


def test_token_budget_stops_requests(spark, sources, make_recipe, endpoint):
    recipe = make_recipe(token_budget=48)  # two samples of at most 24 tokens
    report = generate_synthetic(spark, sources, recipe, run_id="run-1")
    assert report.requested <= 2 or report.completion_tokens <= 48
    assert report.completion_tokens <= 48
    assert report.requested < report.planned
    bigger = make_recipe(token_budget=10_000)
    assert bigger.fingerprint == recipe.fingerprint  # a budget change keeps the sample ids
    rest = generate_synthetic(spark, sources, bigger, run_id="run-2")
    assert rest.requested == report.planned - report.requested
    assert read_arrow(sources.uri(recipe.table)).num_rows == report.planned


def test_taken_down_sources_are_not_requested(spark, sources, make_recipe, endpoint):
    import pyarrow as pa

    from spark_jobs.takedown import TAKEDOWN_SCHEMA

    row = {
        "request_id": "t-1",
        "requested_at": None,
        "criteria": "{}",
        "document_ids": ["web-000"],
        "tables": [],
        "affected_runs": [],
        "affected_shards": [],
    }
    write_arrow(
        pa.Table.from_pylist([row], schema=TAKEDOWN_SCHEMA),
        sources.uri("ops.takedowns"),
        mode="append",
    )
    recipe = make_recipe()  # version null: curated.web v0 still holds web-000
    report = generate_synthetic(spark, sources, recipe, run_id="run-1")
    assert report.planned == 6
    assert "web-000" not in table(sources, recipe)["source_doc_id"].to_pylist()


def test_a_bad_where_is_one_line(spark, sources, make_recipe):
    recipe = make_recipe(source={"table": "curated.web", "where": "edu_scor < 2"})
    with pytest.raises(ValueError) as error:
        generate_synthetic(spark, sources, recipe, run_id="run-1")
    message = str(error.value)
    assert "source.where 'edu_scor < 2' cannot be evaluated on curated.web" in message
    assert "\n" not in message


def test_concurrency_is_split_over_the_tasks_that_run_at_once(
    spark, sources, make_recipe, endpoint
):
    # local[2] runs two tasks at once although its default parallelism is 4: four tasks of one
    # request each would leave two of them waiting for a slot, and half the concurrency idle.
    assert task_slots(spark) == 2 and spark.sparkContext.defaultParallelism == 4
    endpoint.faults(latency_s=1.0)
    recipe = make_recipe(requests={"concurrency": 4, "retries": 0, "chunks": 1})
    report = generate_synthetic(spark, sources, recipe, run_id="run-1")
    assert report.ok == 8
    assert endpoint.stats()["max_in_flight"] == 4


def test_the_next_chunk_is_in_flight_while_the_last_one_is_committed(
    spark, sources, make_recipe, endpoint
):
    # A fresh table's chunks are requested by one job: as one chunk's last answers come in and
    # it is committed, the next chunk's requests already hold the free slots (a job per chunk
    # left the endpoint idle from each chunk's last answer to the next job's first request).
    endpoint.faults(latency_s=0.3)
    recipe = make_recipe(requests={"concurrency": 2, "retries": 0, "chunks": 2})
    report = generate_synthetic(spark, sources, recipe, run_id="run-1", tasks=1)
    assert report.ok == 8 and report.chunks_committed == [0, 1]
    commits = {
        int(h["lineage.chunk"]): h["timestamp"] for h in table_history(sources.uri(recipe.table))
    }
    rows = table(sources, recipe).to_pylist()
    second = [r["requested_at"].timestamp() * 1000 for r in rows if r["chunk"] == 1]
    assert second and min(second) < commits[0]
    # Nothing of the staging area (the tasks' notes to the driver) is left in the table.
    assert not (Path(sources.uri(recipe.table)) / "_staging").exists() or not any(
        (Path(sources.uri(recipe.table)) / "_staging").iterdir()
    )


@pytest.mark.s3
def test_a_lake_on_s3_gets_every_chunk_committed_and_no_staging_left(spark, s3, make_recipe):
    # The production layout: the tasks' files and their notes to the driver go through S3.
    from spark_jobs.storage import ObjectStore
    from tests.spark_jobs.synthetic.conftest import write_sources

    s3.create_bucket("synthetic-lake")
    store = ObjectStore(endpoint_url=s3.endpoint_url)
    lake = write_sources("s3://synthetic-lake/lake", store=store)
    recipe = make_recipe()
    report = generate_synthetic(spark, lake, recipe, run_id="run-s3")
    assert report.ok == 8 and report.failed == 0
    rows = read_arrow(lake.uri(recipe.table), store=store)
    assert rows.num_rows == 8 and len(set(rows["id"].to_pylist())) == 8
    assert sorted(report.chunks_committed) == sorted(set(rows["chunk"].to_pylist()))
    fs, root = store.filesystem(lake.uri(recipe.table) + "/_staging")
    import pyarrow.fs as pafs

    left = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    assert [info.path for info in left if info.type == pafs.FileType.File] == []
