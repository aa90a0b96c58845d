"""The openly licensed collections family: books, encyclopedia dumps, Parquet, annotated, gated, ingested one source at a time."""

from assets import licensed
from orchestration.defs.families import family_definitions

defs = family_definitions("licensed", licensed.licensed_assets)
