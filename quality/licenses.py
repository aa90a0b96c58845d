"""Which license policy a table's gate enforces (licenses.yaml), and the license-class column.

Classes and policies come from spark_jobs/licenses/classes.yaml, the same knowledge the
recipes select with, so the gate and the selection cannot disagree about a license.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from spark_jobs.licenses.spdx import license_class, license_policies

LICENSES_FILE = Path(__file__).with_name("licenses.yaml")


@dataclass(frozen=True)
class LicensePolicy:
    name: str
    classes: tuple[str, ...]


def license_policy(name: str) -> LicensePolicy:
    """A named policy, e.g. 'platform' or 'permissive-only'."""
    policies = license_policies()
    if name not in policies:
        raise KeyError(f"unknown license policy {name!r}; classes.yaml defines {sorted(policies)}")
    return LicensePolicy(name, tuple(sorted(policies[name])))


def policy_for_table(table: str) -> LicensePolicy:
    config = yaml.safe_load(LICENSES_FILE.read_text()) or {}
    return license_policy((config.get("tables") or {}).get(table, config["default"]))


def license_class_of(license: Column | str) -> Column:
    """The class of each row's SPDX id or expression (MIT OR GPL-2.0 -> permissive)."""
    return F.udf(license_class, StringType())(license)
