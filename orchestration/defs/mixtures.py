"""Training mixtures, one per recipe in orchestration/mixtures, and the n-gram index of each."""

import dagster as dg

from assets import indexes, mixtures
from orchestration.schedules import nightly_mixtures_schedule, refresh_mixtures_job

defs = dg.Definitions(
    assets=[*mixtures.mixture_assets, *indexes.index_assets],
    jobs=[refresh_mixtures_job],
    schedules=[nightly_mixtures_schedule],
)
