"""The Dagster resource assets use, defined in assets/resources.py (one-way layers:
docs/architecture.md); the code location and the tests import it from here."""

from assets.resources import CODE_VERSION, LakehouseResource, registered_sources

__all__ = ["CODE_VERSION", "LakehouseResource", "registered_sources"]
