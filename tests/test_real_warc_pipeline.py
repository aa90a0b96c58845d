"""End to end on real HTML (issue 17): the whole web pipeline over a WARC of real Debian
documentation pages (bench/data/real_world/pages.warc.gz: two pages of each of six HTML
generators, in several languages, from bench/extraction_real.py's test half), registered like
any crawl and curated with the default web recipe, ends SUCCESS with every check passed, an
MLflow run that records the curated table's version, and the corpus report.

The same run over the whole test-half WARC (275 pages) is `pilehouse run --no-samples` with
this registry; docs/BENCHMARKS.md quotes what it printed."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import mlflow
import pyarrow.compute as pc
import pytest

from bench.real_world import QUICK_PAGES
from orchestration.instance import prepare_dagster_home
from orchestration.pipeline import materialize_all
from orchestration.settings import load_settings
from spark_jobs.delta import read_arrow, table_history
from spark_jobs.lake import Lake
from spark_jobs.licenses import license_allowed

pytestmark = [pytest.mark.slow, pytest.mark.spark]

# Each package's license from its DEP-5 copyright file, per host; anything else NOASSERTION.
REGISTRY = """
sources:
  real-docs:
    corpus: web
    format: warc
    location: "{landing}/web/real-docs"
    license: NOASSERTION
    license_overrides:
      - {domain: python-click-doc.docs.example, license: BSD-3-Clause}
      - {domain: python-jinja2-doc.docs.example, license: BSD-3-Clause}
      - {domain: aptitude-doc-en.docs.example, license: GPL-2.0-or-later}
      - {domain: aptitude-doc-cs.docs.example, license: GPL-2.0-or-later}
      - {domain: r-doc-html.docs.example, license: GPL-2.0-only}
      - {domain: nano.docs.example, license: GPL-3.0-or-later}
      - {domain: manpages-fr.docs.example, license: GPL-3.0-or-later}
      - {domain: libjsoncpp-doc.docs.example, license: MIT OR PublicDomain}
      - {domain: lmdb-doc.docs.example, license: OLDAP-2.8}
      - {domain: weechat-doc.docs.example, license: GPL-3.0-or-later}
"""


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("real-home")
    (root / "sources.yaml").write_text(REGISTRY)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PILEHOUSE_HOME", str(root))
        env.setenv("PILEHOUSE_SOURCES_FILE", str(root / "sources.yaml"))
        env.delenv("DAGSTER_HOME", raising=False)
        settings = load_settings()
        prepare_dagster_home(settings)
        landing = Path(settings.landing_uri) / "web" / "real-docs"
        landing.mkdir(parents=True)
        shutil.copy(QUICK_PAGES, landing / QUICK_PAGES.name)
        instance = dg.DagsterInstance.get()
        results = materialize_all(instance, settings)
        yield settings, results


def test_the_default_recipe_on_real_pages_ends_success_with_mlflow_and_a_report(real_run):
    settings, results = real_run
    assert results and all(r.success for r in results), [r.run_id for r in results]
    curation = results[-1]
    checks = curation.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]

    lake = Lake(settings.lake_uri, settings.store)
    raw = read_arrow(lake.uri("raw.web"))
    curated = read_arrow(lake.uri("curated.web"))
    rejects = read_arrow(lake.uri("rejects"))
    assert raw.num_rows == 12
    assert 0 < curated.num_rows < raw.num_rows
    assert set(curated["language"].to_pylist()) == {"en"}
    assert all(license_allowed(x, "platform") for x in curated["license"].to_pylist())
    assert all(e.startswith("declared:override") for e in curated["license_evidence"].to_pylist())
    curate = rejects.filter(pc.equal(rejects["stage"], "curate"))
    assert curated.num_rows + curate.num_rows == raw.num_rows  # every page ends somewhere once

    materialization = curation.asset_materializations_for_node("training__curated_corpora_run")[0]
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    run = mlflow.get_run(materialization.metadata["mlflow run id"].value)
    version = table_history(lake.uri("curated.web"))[0]["version"]
    assert run.data.params["table.curated.web.version"] == str(version)

    reports = Path(settings.lake_uri) / "_reports" / "corpus"
    assert any(reports.rglob("index.html")), sorted(reports.rglob("*"))
