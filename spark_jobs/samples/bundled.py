"""The bundled sample corpus: one generated landing folder per family, from offline material."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs

from spark_jobs.samples.code import generate_code_sample
from spark_jobs.samples.licensed import generate_licensed_sample
from spark_jobs.samples.papers import generate_papers_sample
from spark_jobs.samples.web import generate_web_sample
from spark_jobs.storage import ObjectStore, is_s3


@dataclass(frozen=True)
class Sample:
    folder: str  # under the landing directory; the registry's sample sources point here
    what: str
    generate: Callable[[Path, int, int], object]  # (out_dir, web pages, seed) -> manifest


# One WARC file per this many pages, so that each landing object stays far inside the read
# limits (object_seconds, object_memory_bytes) however large the sample is.
PAGES_PER_WARC = 5000
# `pilehouse run/sample --pages`: the generator's minimum, and the largest size checked.
MIN_PAGES = 40
MAX_PAGES = 200_000


def code_repos(pages: int) -> int:
    """Repositories in a sample of `pages` web pages: one per 150 pages, at least 12, at most
    what the shipped snapshot of real distributions can supply."""
    from spark_jobs.samples.code import max_repos

    return min(max(12, pages // 150), max_repos())


def web_files(pages: int) -> int:
    return max(4, -(-pages // PAGES_PER_WARC))


SAMPLES = [
    Sample(
        "web/sample-crawl",
        "web pages (WARC)",
        lambda out, pages, seed: generate_web_sample(
            out, pages=pages, files=web_files(pages), seed=seed
        ),
    ),
    Sample(
        "code/sample-repos",
        "code repositories (directories and tarballs of real packages)",
        lambda out, pages, seed: generate_code_sample(out, repos=code_repos(pages), seed=seed),
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


def ensure_samples(
    landing: Path | str,
    *,
    pages: int,
    seed: int,
    regenerate: bool,
    store: ObjectStore | None = None,
) -> None:
    """Generate each family's sample into the landing zone unless it is already there.

    The landing zone is a local directory or an s3:// prefix; on S3 each sample is generated
    in a temporary directory and uploaded through the object store (`store`).
    """
    store = store or ObjectStore()
    for sample in SAMPLES:
        target = f"{str(landing).rstrip('/')}/{sample.folder}"
        fs, path = store.filesystem(target)
        manifest_info = fs.get_file_info(f"{path}/_manifest.json")
        if manifest_info.type == pafs.FileType.File and not regenerate:
            print(f"sample {sample.what}: using {target} (pass --regenerate to rebuild it)")
            continue
        if fs.get_file_info(path).type == pafs.FileType.Directory:
            fs.delete_dir(path)
        started = time.monotonic()
        if is_s3(target):
            with tempfile.TemporaryDirectory(prefix="pilehouse-sample-") as scratch:
                manifest = sample.generate(Path(scratch), pages, seed)
                fs.create_dir(path)
                pafs.copy_files(scratch, path, destination_filesystem=fs)
        else:
            manifest = sample.generate(Path(path), pages, seed)
        counts = getattr(manifest, "expected_dispositions", {})
        print(
            f"sample {sample.what}: wrote {target} in {time.monotonic() - started:.1f} s "
            f"(expected: {counts}; see _manifest.json)"
        )
