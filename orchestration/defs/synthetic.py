"""Synthetic data: generation from each recipe (synthetic/<recipe>), then its annotated and
curated tables (annotated/synthetic, curated/synthetic)."""

import dagster as dg

from assets import synthetic

defs = dg.Definitions(assets=synthetic.synthetic_assets)
