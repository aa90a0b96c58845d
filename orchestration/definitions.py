"""The Dagster code location: every domain's definitions (orchestration/defs/) merged, with the
resource they share and the executor."""

from __future__ import annotations

import dagster as dg

from orchestration.defs import (
    classifiers,
    code,
    curation,
    licensed,
    mixtures,
    ops,
    papers,
    synthetic,
    training,
    web,
)
from orchestration.resources import LakehouseResource

# One module per domain, each with its `defs` (as dagster-open-platform lays out defs/).
DOMAINS = {
    "web": web.defs,
    "code": code.defs,
    "papers": papers.defs,
    "licensed": licensed.defs,
    "curation": curation.defs,
    "mixtures": mixtures.defs,
    "training": training.defs,
    "classifiers": classifiers.defs,
    "synthetic": synthetic.defs,
    "ops": ops.defs,
}

defs = dg.Definitions.merge(
    *DOMAINS.values(),
    dg.Definitions(
        resources={"lakehouse": LakehouseResource()},
        # One process per run so a run shares one Spark session (a JVM start costs ~10 s).
        executor=dg.in_process_executor,
    ),
)
