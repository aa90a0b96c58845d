"""Jobs: ingest one source partition of a family; curate, validate and log every family."""

import dagster as dg

from assets.corpus import corpus_keys
from assets.dedup import CURATION_KEYS
from assets.reports import CORPUS_REPORT
from assets.training import CURATED_RUN
from spark_jobs.lake import CORPORA

CURATE_JOB = "curate_corpora"


def ingest_job_name(corpus: str) -> str:
    return f"ingest_{corpus}"


ingest_jobs = {
    corpus: dg.define_asset_job(
        ingest_job_name(corpus),
        selection=dg.AssetSelection.assets(*corpus_keys(corpus)[:2]),
        description=f"Ingest and annotate one {corpus} source (one partition per source).",
    )
    for corpus in CORPORA
}

curate_job = dg.define_asset_job(
    CURATE_JOB,
    selection=dg.AssetSelection.assets(*CURATION_KEYS, CURATED_RUN, CORPUS_REPORT),
    description="Register the benchmarks, select every family's curated table with its recipe "
    "(decontaminated and deduplicated across families), run the quality gates, log the "
    "validated versions to MLflow, and write the corpus report.",
)
