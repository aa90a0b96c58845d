"""Which source partitions an incremental curate recomputes (no Spark session)."""

from __future__ import annotations

from spark_jobs.curate import AnnotatedPartition
from spark_jobs.incremental import input_fingerprint, plan_curation
from spark_jobs.recipe import CurationRecipe


def test_changed_new_removed_and_stale_partitions():
    current = {("web", "a"): "1", ("web", "b"): "2", ("code", "c"): "3"}
    stored = {("web", "a"): "1", ("web", "b"): "old", ("web", "gone"): "4", ("code", "c"): "3"}
    plan = plan_curation(current, stored, stale_families=())
    assert plan.changed == {("web", "b")}
    assert plan.removed == {("web", "gone")}
    assert plan.whole == set()
    # A family whose curated table was written by someone else is recomputed whole.
    plan = plan_curation(current, stored, stale_families={"code"})
    assert plan.changed == {("web", "b"), ("code", "c")} and plan.whole == {"code"}
    # No state: everything, each family whole.
    assert plan_curation(current, {}, ()).whole == {"web", "code"}


def test_the_fingerprint_follows_the_data_files_the_recipe_and_the_benchmarks():
    part = AnnotatedPartition("web", "crawl-1", 3, "files-a")
    recipe = CurationRecipe(name="web-test", rules={}, pii=None)
    base = input_fingerprint(part, recipe, "v1")
    # A new annotated version with the same files (another partition was written) is the same.
    assert (
        input_fingerprint(AnnotatedPartition("web", "crawl-1", 4, "files-a"), recipe, "v1") == base
    )
    assert (
        input_fingerprint(AnnotatedPartition("web", "crawl-1", 4, "files-b"), recipe, "v1") != base
    )
    stricter = CurationRecipe(name="web-test", rules={}, pii=None, min_language_score=0.9)
    assert input_fingerprint(part, stricter, "v1") != base
    assert input_fingerprint(part, recipe, "v2") != base
