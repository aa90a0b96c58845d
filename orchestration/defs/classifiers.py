"""Classifier models registered in MLflow and the classified/<family> tables they score."""

import dagster as dg

from assets import classifiers

defs = dg.Definitions(
    assets=[*classifiers.classifier_model_assets, *classifiers.classified_assets],
    asset_checks=classifiers.classified_checks,
)
