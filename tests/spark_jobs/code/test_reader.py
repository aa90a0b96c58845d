"""The code reader on a sample of real installed distributions laid out as repositories: every
file gets the verdict the manifest planted, every repository the license its files state."""

from __future__ import annotations

import io
import tarfile
from collections import Counter
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from spark_jobs import ingest
from spark_jobs.code.reader import CodeRepoReader, language_of
from spark_jobs.samples.code import CodeSampleManifest, generate_code_sample
from spark_jobs.sources import Source

FS = pafs.LocalFileSystem()
READER = CodeRepoReader()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CodeSampleManifest]:
    out = tmp_path_factory.mktemp("code-landing")
    return out, generate_code_sample(out, repos=12, seed=3)


def source(root: Path, license: str = "detect", **options) -> Source:
    evidence = "detected" if license == "detect" else "declared"
    return Source("sample-code", "code", str(root), "repos", license, evidence, options)


def read_all(root: Path, src: Source | None = None) -> dict[str, dict]:
    src = src or source(root)
    rows: dict[str, dict] = {}
    for unit in ingest.list_units(READER, str(root)):
        for row in READER.read(FS, str(root / unit), unit, src):
            assert row["locator"] not in rows, f"duplicate locator {row['locator']}"
            rows[row["locator"]] = row
    return rows


def verdict(row: dict) -> list:
    return [row.get("disposition", "kept"), row.get("reason")]


def test_sample_is_deterministic(tmp_path: Path) -> None:
    first = generate_code_sample(tmp_path / "a", repos=9, seed=1)
    again = generate_code_sample(tmp_path / "b", repos=9, seed=1)
    assert first == again
    for repo in first.repos.values():
        a, b = tmp_path / "a" / repo["location"], tmp_path / "b" / repo["location"]
        if a.is_file():
            assert a.read_bytes() == b.read_bytes()
    assert CodeSampleManifest.from_json((tmp_path / "a" / "_manifest.json").read_text()) == first


def test_every_file_gets_the_planted_verdict(sample: tuple[Path, CodeSampleManifest]) -> None:
    root, manifest = sample
    rows = read_all(root)
    expected = dict(manifest.files)
    expected |= {
        f"{unit}#corrupt_archive": ["quarantined", "corrupt_archive"]
        for unit in manifest.corrupt_units
    }
    assert {locator: verdict(row) for locator, row in rows.items()} == expected
    assert len(rows) == manifest.rows
    assert Counter(verdict(r)[0] for r in rows.values()) == manifest.expected_dispositions
    assert (
        Counter(r["reason"] for r in rows.values() if r.get("reason")) == manifest.expected_reasons
    )
    for row in rows.values():
        kept = verdict(row)[0] == "kept"
        assert (row.get("text") is not None) == kept
        assert kept or row["detail"], row["locator"]  # every skip and quarantine says why


def test_every_repository_gets_the_license_its_files_state(
    sample: tuple[Path, CodeSampleManifest],
) -> None:
    root, manifest = sample
    rows = read_all(root)
    by_repo: dict[str, set] = {}
    for row in rows.values():
        if row.get("path"):
            by_repo.setdefault(row["repo"], set()).add(
                (row["license"], row["license_evidence"], row["license_class"])
            )
    for name, repo in manifest.repos.items():
        if repo["case"] == "corrupt":
            assert name not in by_repo  # all or nothing: no file of a damaged tarball
            continue
        ((license, evidence, license_class),) = by_repo[name]
        assert (license, license_class) == (repo["license"], repo["license_class"]), name
        assert evidence.startswith(repo["evidence"]), name


@pytest.mark.parametrize(
    ("case", "license_class", "evidence"),
    [
        ("dual", "permissive", "detected:"),
        ("gpl", "copyleft", None),
        ("unlicensed", "unknown", "none"),
        ("spdx_headers", None, "header:SPDX"),
        ("metadata_only", None, "metadata:pyproject.toml"),
    ],
)
def test_hard_license_cases(
    sample: tuple[Path, CodeSampleManifest],
    case: str,
    license_class: str | None,
    evidence: str | None,
) -> None:
    root, manifest = sample
    (name,) = [n for n, repo in manifest.repos.items() if repo["case"] == case]
    rows = [r for r in read_all(root).values() if r.get("repo") == name and r.get("path")]
    assert rows
    for row in rows:
        if license_class:
            assert row["license_class"] == license_class
        if evidence:
            assert row["license_evidence"].startswith(evidence)
    if case == "dual":
        assert " OR " in rows[0]["license"] and "," in rows[0]["license_evidence"]
    if case == "unlicensed":
        assert rows[0]["license"] == "NOASSERTION"


def test_languages_from_extension_name_and_shebang(sample: tuple[Path, CodeSampleManifest]) -> None:
    root, manifest = sample
    rows = read_all(root)
    assert manifest.languages
    for locator, language in manifest.languages.items():
        assert rows[locator]["programming_language"] == language, locator
    licenses = [
        r for r in rows.values() if r.get("path", "").split("/")[-1] in {"LICENSE", "COPYING"}
    ]
    assert licenses and {r["programming_language"] for r in licenses} == {"License"}
    assert language_of("tools/deploy", "#!/usr/bin/env -S python3.11 -u\nprint()") == "Python"
    assert language_of("run", "#!/bin/bash\necho") == "Shell"
    assert language_of("Makefile") == "Makefile"
    assert language_of("notes") is None


def test_pii_config_is_kept_verbatim_for_the_pii_stage(
    sample: tuple[Path, CodeSampleManifest],
) -> None:
    root, manifest = sample
    rows = read_all(root)
    assert manifest.pii
    for locator, values in manifest.pii.items():
        assert verdict(rows[locator]) == ["kept", None]
        assert all(value in rows[locator]["text"] for value in values)


def test_declared_license_and_size_cap_come_from_the_registry(
    sample: tuple[Path, CodeSampleManifest],
) -> None:
    root, manifest = sample
    rows = read_all(root, source(root, "Apache-2.0", max_file_bytes=4096))
    files = [r for r in rows.values() if r.get("path")]
    assert {(r["license"], r["license_evidence"], r["license_class"]) for r in files} == {
        ("Apache-2.0", "declared", "permissive")
    }
    oversized = Counter(r.get("reason") for r in files)["oversized"]
    assert oversized > manifest.expected_reasons["oversized"]
    big = [r for r in files if r.get("reason") == "oversized"]
    assert all(r["size_bytes"] > 4096 and "max_file_bytes 4096" in r["detail"] for r in big)


def test_file_header_overrides_repo_license_and_stray_files_are_quarantined(tmp_path: Path) -> None:
    repo = tmp_path / "mixed"
    (repo / "src").mkdir(parents=True)
    (repo / "LICENSE").write_text(
        "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
        "... The above copyright notice and this permission notice shall be included in all copies\n"
    )
    (repo / "src" / "plain.py").write_text("def f():\n    return 1\n")
    (repo / "src" / "gpl.c").write_text("// SPDX-License-Identifier: GPL-2.0-only\nint main;\n")
    (tmp_path / "notes.txt").write_text("not a repository")
    (tmp_path / "_SUCCESS").write_text("")  # markers are not listed
    rows = read_all(tmp_path)
    assert rows["mixed/src/plain.py"]["license"] == "MIT"
    assert rows["mixed/src/gpl.c"]["license"] == "GPL-2.0-only"
    assert rows["mixed/src/gpl.c"]["license_class"] == "copyleft"
    assert rows["mixed/src/gpl.c"]["license_evidence"] == "header:SPDX"
    assert verdict(rows["notes.txt#not_a_repository"]) == ["quarantined", "not_a_repository"]
    assert len(rows) == 4


def test_garbage_with_a_tarball_name_is_quarantined(tmp_path: Path) -> None:
    (tmp_path / "junk.tar.gz").write_bytes(b"\x1f\x8b\x08 this is not gzip")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("ok/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    (tmp_path / "links.tar").write_bytes(buffer.getvalue())
    rows = read_all(tmp_path)
    junk = rows["junk.tar.gz#corrupt_archive"]
    assert verdict(junk) == ["quarantined", "corrupt_archive"]
    assert (junk["license"], junk["license_class"]) == ("NOASSERTION", "unknown")
    assert verdict(rows["links/link"]) == ["skipped", "symlink"]


# --- through the shared ingest, in Spark -----------------------------------------------------


@pytest.mark.spark
def test_ingest_accounts_for_every_file_exactly_once(
    spark, sample: tuple[Path, CodeSampleManifest]
) -> None:
    root, manifest = sample
    (root / "_SUCCESS").write_text("")
    frame = ingest.ingest_files(spark, READER, source(root), run_id="run-1")
    rows = frame.collect()

    # Conservation: one row per file of each readable repository, one per corrupt tarball.
    assert len(rows) == manifest.rows
    assert len({row.id for row in rows}) == len(rows)
    assert {row.locator for row in rows} == set(manifest.files) | {
        f"{unit}#corrupt_archive" for unit in manifest.corrupt_units
    }
    assert Counter(row.disposition for row in rows) == manifest.expected_dispositions
    assert Counter(row.reason for row in rows if row.reason) == manifest.expected_reasons
    assert frame.columns == ingest.ingest_schema(READER.extra_fields).names
    for row in rows:
        assert row.corpus == "code" and row.source == "sample-code" and row.ingest_run_id == "run-1"
        if row.repo in manifest.repos and row.path:
            assert row.license == manifest.repos[row.repo]["license"]

    # Every repository is one unit: directories and tarballs alike; markers are not.
    assert set(ingest.list_units(READER, str(root))) == {
        r["location"] for r in manifest.repos.values()
    } | set(manifest.corrupt_units)
