"""The papers family: LaTeX, PDF and JSONL sources, annotated, gated, ingested one source at a time."""

from assets import papers
from orchestration.defs.families import family_definitions

defs = family_definitions("papers", papers.papers_assets)
