"""The code family: repositories and tarballs, annotated, gated, ingested one source at a time."""

from assets import code
from orchestration.defs.families import family_definitions

defs = family_definitions("code", code.code_assets)
