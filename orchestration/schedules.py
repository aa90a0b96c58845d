"""Schedules: a nightly refresh of the training mixtures and a weekly full quality report.

Both start STOPPED in a fresh instance (the embedded default does not run unattended
work by surprise); switch them on in the UI (Automation > Schedules) or with
`dagster schedule start`.
"""

import dagster as dg

from assets.corpus import corpus_keys
from assets.reports import CORPUS_REPORT
from spark_jobs.lake import CORPORA

REFRESH_MIXTURES_JOB = "refresh_mixtures"
QUALITY_REPORT_JOB = "quality_report"

# Mixture assets live in the "mixtures" group under the mixtures/ key prefix; the selection
# stays valid (and the job empty) while no mixture is defined.
MIXTURES = dg.AssetSelection.groups("mixtures") | dg.AssetSelection.key_prefixes("mixtures")

refresh_mixtures_job = dg.define_asset_job(
    REFRESH_MIXTURES_JOB,
    selection=MIXTURES,
    description="Rebuild every training mixture from the current curated tables.",
)

# Every blocking gate of every curated table, re-run on the current versions, and the corpus
# report; the curated tables themselves are not rebuilt.
quality_report_job = dg.define_asset_job(
    QUALITY_REPORT_JOB,
    selection=dg.AssetSelection.assets(CORPUS_REPORT)
    | dg.AssetSelection.checks_for_assets(*[corpus_keys(c)[2] for c in CORPORA]),
    description="Re-validate every curated table (all quality suites) and rewrite the corpus "
    "report.",
)

nightly_mixtures_schedule = dg.ScheduleDefinition(
    name="nightly_mixtures",
    job=refresh_mixtures_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="02:00 UTC every night: rebuild the training mixtures.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

weekly_quality_report_schedule = dg.ScheduleDefinition(
    name="weekly_quality_report",
    job=quality_report_job,
    cron_schedule="0 4 * * 0",
    execution_timezone="UTC",
    description="Sundays 04:00 UTC: every quality suite on every curated table, and the "
    "corpus report.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
