"""The papers reader on a generated sample and on small hand-made dumps, called directly the
way an ingest task calls it."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from bench.faults_papers import member, tar_gz
from spark_jobs.papers.dumps import normalize_license
from spark_jobs.papers.reader import PapersReader
from spark_jobs.samples.papers import (
    PapersSampleManifest,
    generate_papers_sample,
    prose_paragraphs,
)
from spark_jobs.sources import Source

DECLARED = "LicenseRef-arxiv-nonexclusive-distrib-1.0"


def source(location: Path, **options) -> Source:
    return Source("sample-papers", "papers", str(location), "mixed", DECLARED, options=options)


def read_all(root: Path, names: list[str], **options) -> list[dict]:
    fs = pafs.LocalFileSystem()
    reader = PapersReader()
    return [
        row
        for name in names
        for row in reader.read(fs, str(root / name), name, source(root, **options))
    ]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PapersSampleManifest]:
    root = tmp_path_factory.mktemp("papers")
    return root, generate_papers_sample(root, papers=13, seed=3)


def words(text: str) -> str:
    return " ".join(text.split())


def test_every_sample_paper_gets_its_planted_verdict(sample) -> None:
    root, manifest = sample
    rows = read_all(root, manifest.files)
    assert len(rows) == manifest.papers == sum(map(len, manifest.categories.values()))
    assert Counter(row.get("disposition", "kept") for row in rows) == manifest.expected_dispositions
    assert Counter(row["reason"] for row in rows if row.get("reason")) == manifest.expected_reasons
    assert len({row["locator"] for row in rows}) == len(rows)
    for row in rows:
        if row.get("disposition") == "quarantined":
            assert row["detail"], row["locator"]


def test_kept_papers_have_their_text_title_and_license(sample) -> None:
    root, manifest = sample
    for row in read_all(root, manifest.files):
        expected = manifest.expected_licenses[row["locator"]]
        assert row.get("license") == expected, row[
            "locator"
        ]  # None: the reader left it to the source
        assert row.get("license_evidence") == ("metadata" if expected else None)
        if row.get("disposition", "kept") != "kept":
            continue
        assert row["title"] == manifest.titles[row["locator"]]
        assert row["authors"] and row["format"] in ("latex", "pdf", "jsonl", "parquet")
        for snippet in manifest.must_contain[row["locator"]]:
            assert words(snippet) in words(row["text"]), (row["locator"], snippet)
        for gone in manifest.must_not_contain.get(row["locator"], []):
            assert gone not in row["text"], (row["locator"], gone)


def test_a_latex_tarball_yields_its_body_without_comments(sample) -> None:
    root, manifest = sample
    [locator] = manifest.categories["latex_multi_file"]
    [row] = read_all(root, [locator])
    assert row["format"] == "latex" and row["paper_id"] == Path(locator).name.removesuffix(
        ".tar.gz"
    )
    assert "REVIEWNOTE" not in row["text"] and "%" not in row["text"].replace("50%", "")
    assert "$O(n \\log n)$" in row["text"]


def test_a_malformed_line_is_quarantined_with_its_line_number_and_the_others_are_kept(
    tmp_path: Path,
) -> None:
    good = {
        "id": "p1",
        "title": "A",
        "authors": ["Ann Lee", "Bo Li"],
        "text": "Body one.",
        "license": "CC BY 4.0",
    }
    lines = [
        json.dumps(good),
        '{"id": "p2", "title": "B", "text": "cut',
        "",
        json.dumps(good | {"id": "p3"}),
    ]
    (tmp_path / "dump.jsonl").write_text("\n".join(lines) + "\n")
    rows = read_all(tmp_path, ["dump.jsonl"])
    assert [row["locator"] for row in rows] == [
        "dump.jsonl#line=1",
        "dump.jsonl#line=2",
        "dump.jsonl#line=4",
    ]
    kept, bad, last = rows
    assert bad["disposition"] == "quarantined" and bad["reason"] == "malformed_json"
    assert "line 2" in bad["detail"] and bad["excerpt"].startswith(b'{"id": "p2"')
    for row, paper_id in ((kept, "p1"), (last, "p3")):
        assert (
            "disposition" not in row and row["paper_id"] == paper_id and row["text"] == "Body one."
        )
        assert row["authors"] == "Ann Lee; Bo Li" and row["license"] == "CC-BY-4.0"


def test_a_truncated_gzipped_dump_keeps_the_lines_before_the_break(tmp_path: Path) -> None:
    paragraphs = [paragraph for _, paragraph in prose_paragraphs()[:60]]
    records = [{"id": f"p{i}", "text": text} for i, text in enumerate(paragraphs)]
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    data = compressor.compress("\n".join(map(json.dumps, records)).encode()) + compressor.flush()
    (tmp_path / "dump.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    rows = read_all(tmp_path, ["dump.jsonl.gz"])
    *kept, broken = rows
    assert 0 < len(kept) < len(records)
    assert [row["paper_id"] for row in kept] == [f"p{i}" for i in range(len(kept))]
    assert (
        broken["reason"] == "corrupt_archive"
        and broken["locator"] == "dump.jsonl.gz#corrupt_archive"
    )


def test_the_fields_option_maps_other_column_names(tmp_path: Path) -> None:
    (tmp_path / "dump.jsonl").write_text(
        json.dumps({"arxiv_id": "2401.1", "body_text": "Hi."}) + "\n"
    )
    [skipped] = read_all(tmp_path, ["dump.jsonl"])
    assert skipped["reason"] == "missing_fields" and "text" in skipped["detail"]
    [kept] = read_all(tmp_path, ["dump.jsonl"], fields={"text": "body_text"})
    assert kept["paper_id"] == "2401.1" and kept["text"] == "Hi." and "license" not in kept


@pytest.mark.parametrize(
    ("spelling", "spdx"),
    [
        ("cc-by-4.0", "CC-BY-4.0"),
        ("CC BY 4.0", "CC-BY-4.0"),
        ("http://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
        (
            "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International",
            "CC-BY-NC-SA-4.0",
        ),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("CC0", "CC0-1.0"),
        ("public domain", "PublicDomain"),
        (
            "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
            "LicenseRef-arxiv-nonexclusive-distrib-1.0",
        ),
        ("LicenseRef-proprietary", "LicenseRef-proprietary"),
        ("All rights reserved", "LicenseRef-all-rights-reserved"),
        ("  ", None),
    ],
)
def test_license_spellings_become_spdx_ids(spelling: str, spdx: str | None) -> None:
    assert normalize_license(spelling) == spdx


@pytest.mark.parametrize(
    ("declaration", "body", "text", "codec"),
    [
        (b"\\usepackage[latin1]{inputenc}", b"Caf\xe9 au lait.", "Caf\u00e9 au lait.", "latin-1"),
        # any spelling: an option list, a blank before the brace
        (b"\\usepackage[T1, latin1] {inputenc}", b"Caf\xe9.", "Caf\u00e9.", "latin-1"),
        (
            b"\\usepackage[cp1251]{inputenc}",
            b"\xcf\xf0\xe8\xe2\xe5\xf2.",
            "\u041f\u0440\u0438\u0432\u0435\u0442.",
            "cp1251",
        ),
        # declared UTF-8 but a Latin-1 byte (in a comment too): cp1252, not a lost paper
        (
            b"\\usepackage[utf8]{inputenc} % r\xe9sum\xe9",
            b"Caf\xe9 au lait.",
            "Caf\u00e9 au lait.",
            "cp1252",
        ),
        # no declaration at all
        (b"", b"Na\xefve caf\xe9.", "Na\u00efve caf\u00e9.", "cp1252"),
        # 0x81 is no cp1252 character: Latin-1 reads any byte
        (b"\\usepackage[cp1252]{inputenc}", b"Byte \x81 here.", "Byte \x81 here.", "latin-1"),
    ],
    ids=["latin1", "option-list", "cp1251", "utf8-with-latin1-byte", "undeclared", "latin1-last"],
)
def test_a_source_decodes_by_its_inputenc_then_utf8_then_cp1252_never_quarantined(
    tmp_path: Path, declaration: bytes, body: bytes, text: str, codec: str
) -> None:
    main = (
        b"\\documentclass{article}\n" + declaration + b"\n"
        b"\\begin{document}\n" + body + b"\n\\end{document}\n"
    )
    (tmp_path / "p.tar.gz").write_bytes(tar_gz([member("main.tex", main)]))
    [row] = read_all(tmp_path, ["p.tar.gz"])
    assert row.get("disposition") is None
    assert row["text"] == text
    assert row["source_encoding"] == codec
    assert (row["route"], row["parser"]) == ("latex", "pilehouse-latex")
