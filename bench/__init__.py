"""Benchmarks of Pilehouse's extractor and pipeline on the generated sample crawl."""
