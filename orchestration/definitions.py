"""The Dagster code location: every asset, check, job, sensor and resource of Pilehouse."""

from __future__ import annotations

import dagster as dg

from assets import (
    classifiers,
    code,
    dedup,
    indexes,
    licensed,
    mixtures,
    ops,
    papers,
    reports,
    synthetic,
    training,
    web,
)
from assets.checks import corpus_checks
from assets.corpus import corpus_keys
from orchestration.jobs import curate_job, ingest_jobs
from orchestration.resources import LakehouseResource
from orchestration.schedules import scheduled_jobs, schedules
from orchestration.sensors import (
    automation_sensor,
    landing_sensor,
    run_failure_sensor,
    source_registry_sensor,
)
from spark_jobs.lake import CORPORA

defs = dg.Definitions(
    assets=[
        *web.web_assets,
        *code.code_assets,
        *papers.papers_assets,
        *licensed.licensed_assets,
        dedup.benchmark_items,
        dedup.curated_corpora,
        training.curated_corpora_run,
        *mixtures.mixture_assets,
        *training.proxy_training_assets,
        *indexes.index_assets,
        reports.corpus_report,
        ops.source_registry,
        *classifiers.classifier_model_assets,
        *classifiers.classified_assets,
        *synthetic.synthetic_assets,
    ],
    asset_checks=[
        check
        for corpus in CORPORA
        for check in corpus_checks(corpus, corpus_keys(corpus)[0], corpus_keys(corpus)[2])
    ]
    + classifiers.classified_checks,
    jobs=[*ingest_jobs.values(), curate_job, *scheduled_jobs],
    schedules=schedules,
    sensors=[source_registry_sensor, landing_sensor, run_failure_sensor, automation_sensor],
    resources={"lakehouse": LakehouseResource()},
    # One process per run so a run shares one Spark session (a JVM start costs ~10 s).
    executor=dg.in_process_executor,
)
