"""Dagster assets, thin: each declares a lake table and calls one spark_jobs entry point."""
