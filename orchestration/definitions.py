"""The Dagster code location: every asset, check, job and resource of Pilehouse."""

from __future__ import annotations

import dagster as dg

from assets import training, web
from orchestration.resources import LakehouseResource
from quality.checks import table_suite_check
from quality.suites import CURATED_DOCUMENTS

WEB_PIPELINE = "web_pipeline"

web_pipeline = dg.define_asset_job(
    WEB_PIPELINE,
    selection=dg.AssetSelection.all(),
    description="Ingest, annotate and curate the web corpus, validate it, and log it to MLflow.",
)

defs = dg.Definitions(
    assets=[web.raw_web, web.annotated_web, web.curated_web, training.curated_web_run],
    asset_checks=[table_suite_check(web.CURATED_WEB, "curated.web", CURATED_DOCUMENTS)],
    jobs=[web_pipeline],
    resources={"lakehouse": LakehouseResource()},
    # One process per run so a run shares one Spark session (a JVM start costs ~10 s).
    executor=dg.in_process_executor,
)
