"""Openly licensed collections (books, encyclopedic dumps, government documents) in plain text,
JSONL or Parquet, each document becoming one raw.licensed row with its declared license."""
