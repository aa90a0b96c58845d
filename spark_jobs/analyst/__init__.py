"""Analyst tools over the lake: read-only SQL (DuckDB, and a Spark Connect server), the shell,
the catalog, snapshot diffs and the corpus report. No Dagster; the CLI and the report asset
call them."""
