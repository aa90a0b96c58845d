"""Operations assets: the source registry as Dagster sees it, cheap to materialize from the UI."""

import dagster as dg

from assets.resources import LakehouseResource
from spark_jobs.lake import CORPORA
from spark_jobs.landing import list_page, skip_reason

SOURCE_REGISTRY = dg.AssetKey(["ops", "source_registry"])
# Count at most this many landing objects per source (a listing, not an ingest).
COUNT_LIMIT = 10_000


@dg.asset(key=SOURCE_REGISTRY, group_name="ops", kinds={"yaml"})
def source_registry(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    """Registered sources: corpus, landing location, license, and landing files ready to ingest."""
    settings = lakehouse.settings
    lines = ["| source | corpus | location | license | ready files |", "|---|---|---|---|---|"]
    total = 0
    for corpus in CORPORA:
        for source in lakehouse.sources(corpus):
            try:
                page = list_page(
                    source.location, settings.store, after="", limit=COUNT_LIMIT, page_size=1000
                )
                ready = sum(
                    1 for o in page.objects if not skip_reason(o, now=o.modified, settle_seconds=0)
                )
                shown = f"{ready}+" if page.resume_after else str(ready)
            except Exception as error:  # an unreachable location is reported, not fatal
                shown = f"unreadable: {type(error).__name__}"
            total += 1
            lines.append(
                f"| {source.name} | {corpus} | `{source.location}` | {source.license} | {shown} |"
            )
    return dg.MaterializeResult(
        metadata={
            "sources": dg.MetadataValue.int(total),
            "registry": dg.MetadataValue.path(str(settings.sources_file)),
            "landing": dg.MetadataValue.md("\n".join(lines)),
        }
    )
