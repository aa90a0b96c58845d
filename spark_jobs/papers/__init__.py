"""Papers ingestion: LaTeX source tarballs to text (math kept as LaTeX), PDF text layers, and
JSONL/Parquet metadata dumps, each paper becoming one raw.papers row with its license."""
