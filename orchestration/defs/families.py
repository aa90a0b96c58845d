"""What every corpus family domain holds: its raw and annotated assets, their gates, its ingest job."""

import dagster as dg

from assets.checks import corpus_checks
from assets.corpus import corpus_keys
from orchestration.jobs import ingest_jobs


def family_definitions(corpus: str, assets: list[dg.AssetsDefinition]) -> dg.Definitions:
    """raw/<corpus> and annotated/<corpus>, the gates on raw.<corpus> and curated.<corpus>,
    and ingest_<corpus> (curated/<corpus> itself is written by the curation domain)."""
    raw, _, curated = corpus_keys(corpus)
    return dg.Definitions(
        assets=assets,
        asset_checks=corpus_checks(corpus, raw, curated),
        jobs=[ingest_jobs[corpus]],
    )
