"""Operations: the source registry asset, and the sensors that turn new sources and landing
files into ingest runs, follow automation conditions and record failed runs."""

import dagster as dg

from assets import ops
from orchestration.sensors import (
    automation_sensor,
    landing_sensor,
    run_failure_sensor,
    source_registry_sensor,
)

defs = dg.Definitions(
    assets=[ops.source_registry],
    sensors=[source_registry_sensor, landing_sensor, run_failure_sensor, automation_sensor],
)
