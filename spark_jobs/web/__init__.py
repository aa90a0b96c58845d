"""Web crawl ingestion: a streaming WARC reader, HTML-to-text extraction, and the Spark job
that turns landed WARC files into raw.web rows (with skipped and quarantined records kept)."""
