"""Curation across families: benchmark items, every curated table with its dedup clusters and
decontamination flags, the corpus report, and the jobs that run and re-validate them."""

import dagster as dg

from assets import dedup, reports
from orchestration.jobs import curate_job
from orchestration.schedules import quality_report_job, weekly_quality_report_schedule

defs = dg.Definitions(
    assets=[dedup.benchmark_items, dedup.curated_corpora, reports.corpus_report],
    jobs=[curate_job, quality_report_job],
    schedules=[weekly_quality_report_schedule],
)
