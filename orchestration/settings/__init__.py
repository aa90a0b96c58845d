"""The settings object, defined in spark_jobs/settings.py so assets can read it too (one-way
layers: docs/architecture.md); the CLI, the code location and the tests import it from here."""

from spark_jobs.settings import (
    CONFIG_DIR,
    ENVIRONMENT,
    PROFILES_FILE,
    SHIPPED_DEDUP_CONFIG,
    Profile,
    ProfilesFile,
    ProfileSource,
    Settings,
    load_settings,
    read_profiles,
)

__all__ = [
    "CONFIG_DIR",
    "ENVIRONMENT",
    "PROFILES_FILE",
    "SHIPPED_DEDUP_CONFIG",
    "Profile",
    "ProfileSource",
    "ProfilesFile",
    "Settings",
    "load_settings",
    "read_profiles",
]
