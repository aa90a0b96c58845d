"""The bundled sample corpus: one generated landing folder per family, from offline material."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spark_jobs.samples.code import generate_code_sample
from spark_jobs.samples.licensed import generate_licensed_sample
from spark_jobs.samples.papers import generate_papers_sample
from spark_jobs.samples.web import generate_web_sample


@dataclass(frozen=True)
class Sample:
    folder: str  # under the landing directory; the registry's sample sources point here
    what: str
    generate: Callable[[Path, int, int], object]  # (out_dir, web pages, seed) -> manifest


SAMPLES = [
    Sample(
        "web/sample-crawl",
        "web pages (WARC)",
        lambda out, pages, seed: generate_web_sample(out, pages=pages, seed=seed),
    ),
    Sample(
        "code/sample-repos",
        "code repositories (directories and tarballs of real packages)",
        lambda out, pages, seed: generate_code_sample(out, repos=max(12, pages // 150), seed=seed),
    ),
    Sample(
        "papers/sample-papers",
        "papers (LaTeX, PDF, JSONL)",
        lambda out, pages, seed: generate_papers_sample(
            out, papers=max(12, pages // 50), seed=seed
        ),
    ),
    Sample(
        "licensed/sample",
        "licensed documents (text, JSONL, Parquet)",
        lambda out, pages, seed: generate_licensed_sample(
            out, documents=max(20, pages // 25), seed=seed
        ),
    ),
]


def ensure_samples(landing: Path, *, pages: int, seed: int, regenerate: bool) -> None:
    """Generate each family's sample into the landing zone unless it is already there."""
    for sample in SAMPLES:
        target = landing / sample.folder
        if (target / "_manifest.json").exists() and not regenerate:
            print(f"sample {sample.what}: using {target} (pass --regenerate to rebuild it)")
            continue
        if target.exists():
            shutil.rmtree(target)
        started = time.monotonic()
        manifest = sample.generate(target, pages, seed)
        counts = getattr(manifest, "expected_dispositions", {})
        print(
            f"sample {sample.what}: wrote {target} in {time.monotonic() - started:.1f} s "
            f"(expected: {counts}; see _manifest.json)"
        )
