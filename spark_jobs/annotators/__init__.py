"""Per-document annotators: pure functions over text, applied in Spark by spark_jobs.annotate."""
