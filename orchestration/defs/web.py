"""The web crawl family: WARC sources, annotated, gated, ingested one source at a time."""

from assets import web
from orchestration.defs.families import family_definitions

defs = family_definitions("web", web.web_assets)
