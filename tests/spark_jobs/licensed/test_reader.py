"""The licensed-collections reader on a generated sample, called directly the way an ingest
task calls it: one source per collection folder, each with its declared license."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.samples.licensed import LicensedSampleManifest, generate_licensed_sample
from spark_jobs.sources import Source


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LicensedSampleManifest]:
    root = tmp_path_factory.mktemp("licensed")
    return root, generate_licensed_sample(root, documents=14, seed=5)


def read(root: Path, name: str, license: str = "PublicDomain", **options) -> list[dict]:
    folder, _, relative = name.partition("/")
    source = Source(folder, "licensed", str(root / folder), "mixed", license, options=options)
    return list(LicensedReader().read(pafs.LocalFileSystem(), str(root / name), relative, source))


def test_every_sample_document_gets_its_planted_verdict_and_license(sample) -> None:
    root, manifest = sample
    rows = {}
    for name in manifest.files:
        folder = name.split("/")[0]
        for row in read(root, name, manifest.sources[folder]):
            rows[f"{folder}/{row['locator']}"] = row
    assert len(rows) == manifest.documents == sum(map(len, manifest.categories.values()))
    assert (
        Counter(r.get("disposition", "kept") for r in rows.values())
        == manifest.expected_dispositions
    )
    assert (
        Counter(r["reason"] for r in rows.values() if r.get("reason")) == manifest.expected_reasons
    )
    for locator, row in rows.items():
        expected = manifest.expected_licenses[locator]
        assert row.get("license") == expected, locator  # None: left to the source's license
        assert row.get("license_evidence") == ("metadata" if expected else None)
        if row.get("disposition", "kept") == "kept":
            assert row["title"] == manifest.titles[locator]
            assert all(paragraph in row["text"] for paragraph in manifest.must_contain[locator])
            assert not any(
                gone in row["text"] for gone in manifest.must_not_contain.get(locator, [])
            )


def test_a_book_is_one_document_titled_by_its_first_line(sample) -> None:
    root, manifest = sample
    name = next(n for n in manifest.categories["clean"] if n.endswith(".txt"))
    [row] = read(root, name)
    assert row["format"] == "text" and row["doc_id"] == Path(name).stem
    assert row["text"].startswith(row["title"] + "\n") and "CHAPTER 1" in row["text"]


def test_a_proprietary_record_is_ingested_with_its_own_license(sample) -> None:
    root, manifest = sample
    [locator] = manifest.categories["proprietary_license"]
    rows = read(root, locator.split("#")[0], "CC-BY-SA-4.0")
    [row] = [r for r in rows if f"encyclopedia/{r['locator']}" == locator]
    assert row["license"] == "LicenseRef-proprietary" and row["license_evidence"] == "metadata"
    assert "disposition" not in row  # curation's allowlist drops it, not ingest


def test_the_encoding_option_reads_a_latin1_collection(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "cafe.txt").write_bytes(
        "Le Caf\xe9\n\nUn caf\xe9 cr\xe8me.".encode("latin-1")
    )
    [quarantined] = read(tmp_path, "books/cafe.txt")
    assert quarantined["reason"] == "undecodable" and "encoding" in quarantined["detail"]
    [kept] = read(tmp_path, "books/cafe.txt", encoding="latin-1")
    assert kept["title"] == "Le Café" and kept["text"].endswith("Un café crème.")
