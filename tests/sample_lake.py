"""One lake built by the whole pipeline from the bundled samples of all four families, shared by
the end-to-end modules instead of each building its own (`sample_home` in tests/conftest.py).

Modules that use it only read it, except tests/test_pipeline.py, which runs after them (pytest
collects test_analyst_sql.py before test_pipeline.py) and may add versions. A module that must
change a table changes a copy (see test_analyst_sql's time-travel test).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REGISTRY = """
opt_out_domains: [opted-out.example.org]
sources:
  sample-crawl:
    corpus: web
    format: warc
    location: "{landing}/web/sample-crawl"
    license: PSF-2.0
    license_evidence: declared
  sample-repos:
    corpus: code
    format: repositories
    location: "{landing}/code/sample-repos"
    license: detect
  sample-papers:
    corpus: papers
    format: latex, pdf, jsonl
    location: "{landing}/papers/sample-papers"
    license: CC-BY-4.0
"""


@dataclass
class SampleHome:
    root: Path
    manifests: dict[str, object]  # per family: what its sample planted
    results: list  # the Dagster runs that built it, in order (ingest runs, then curation)
    # Per curated table (rows, digest of ids and texts) as built, before any module changed it:
    # what the same landing files must give on another engine (tests/infra's cluster run).
    digests: dict[str, tuple[int, str]]


@contextmanager
def use_home(root: Path) -> Iterator[object]:
    """PILEHOUSE_HOME (and its registry and Dagster home) pointed at `root` while inside."""
    from orchestration.instance import prepare_dagster_home
    from orchestration.settings import load_settings

    with pytest.MonkeyPatch.context() as env:
        env.setenv("PILEHOUSE_HOME", str(root))
        env.setenv("PILEHOUSE_SOURCES_FILE", str(root / "sources.yaml"))
        env.delenv("DAGSTER_HOME", raising=False)
        env.delenv("PILEHOUSE_LAKE_URI", raising=False)
        settings = load_settings()
        prepare_dagster_home(settings)
        yield settings


def build_sample_home(root: Path) -> SampleHome:
    """Generate the four samples under `root`'s landing and run the pipeline once over them."""
    import dagster as dg

    from bench.lake_digest import lake_digests
    from orchestration.pipeline import materialize_all
    from spark_jobs.samples.code import generate_code_sample
    from spark_jobs.samples.licensed import generate_licensed_sample
    from spark_jobs.samples.papers import generate_papers_sample
    from spark_jobs.samples.web import generate_web_sample

    (root / "sources.yaml").write_text(REGISTRY)
    with use_home(root) as settings:
        landing = Path(settings.landing_uri)
        manifests: dict[str, object] = {
            "web": generate_web_sample(
                landing / "web" / "sample-crawl", pages=120, files=2, seed=7
            ),
            "code": generate_code_sample(landing / "code" / "sample-repos", repos=9),
            "papers": generate_papers_sample(landing / "papers" / "sample-papers", papers=40),
        }
        licensed = generate_licensed_sample(landing / "licensed" / "sample")
        manifests["licensed"] = licensed
        (root / "sources.yaml").write_text(
            REGISTRY
            + "".join(
                f"  {folder}:\n    corpus: licensed\n    format: text\n"
                f'    location: "{{landing}}/licensed/sample/{folder}"\n    license: {lic}\n'
                for folder, lic in licensed.sources.items()
            )
        )
        results = materialize_all(dg.DagsterInstance.get(), settings)
        from spark_jobs.lake import Lake

        digests = lake_digests(Lake(settings.lake_uri, settings.store))
    return SampleHome(root, manifests, results, digests)
