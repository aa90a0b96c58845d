"""Dagster code location for Pilehouse: definitions, resources, jobs, settings and the CLI."""
