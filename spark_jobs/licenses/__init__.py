"""License knowledge shared by every corpus family: SPDX ids, license texts, license classes."""

from spark_jobs.licenses.spdx import (
    NOASSERTION,
    LicenseDecision,
    canonical_expression,
    decide_license,
    detect_license_files,
    detect_license_text,
    is_license_file_name,
    license_allowed,
    license_class,
    license_ids,
    license_policies,
    normalize_license,
    spdx_header,
)

__all__ = [
    "NOASSERTION",
    "LicenseDecision",
    "canonical_expression",
    "decide_license",
    "detect_license_files",
    "detect_license_text",
    "is_license_file_name",
    "license_allowed",
    "license_class",
    "license_ids",
    "license_policies",
    "normalize_license",
    "spdx_header",
]
