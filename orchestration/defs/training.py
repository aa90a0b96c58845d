"""Training lineage: the MLflow run of the validated curated tables, and proxy LMs per mixture."""

import dagster as dg

from assets import training

defs = dg.Definitions(
    assets=[training.curated_corpora_run, *training.proxy_training_assets],
)
