"""Materialization metadata shared by every table asset: versions, row counts, locations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:  # the stages import pyspark: loaded when an asset runs
    from spark_jobs.stages import StageReport


def stage_metadata(report: StageReport) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {}
    for name, commit in report.commits.items():
        metadata[f"{name} version"] = dg.MetadataValue.int(commit.version)
        metadata[f"{name} rows"] = dg.MetadataValue.int(commit.num_rows)
        metadata[f"{name} uri"] = dg.MetadataValue.path(commit.uri)
    for outcome, count in report.counts.items():
        metadata[outcome] = dg.MetadataValue.int(count)
    for name, version in report.inputs.items():
        metadata[f"input {name} version"] = dg.MetadataValue.int(version)
    return metadata
