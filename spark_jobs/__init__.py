"""The curation engine: plain PySpark + Arrow code, testable without Dagster."""
