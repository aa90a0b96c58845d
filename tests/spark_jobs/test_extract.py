"""`pilehouse extract`: the documents each landing format makes, without Spark."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.faults_papers import good_pdf, member, tar_gz
from bench.faults_records import warc_record
from orchestration.cli import main as cli_main
from spark_jobs.extract import extract_documents, main

PAPER = (
    "\\documentclass{article}\n\\title{Tides}\\author{Ana Smith}\n\\begin{document}\n"
    "\\begin{abstract}Tides rise.\\end{abstract}\nThe moon pulls the sea.\n\\end{document}\n"
)


def one(path: Path, **kwargs) -> dict:
    [document] = list(extract_documents([path], **kwargs))
    return document


def test_a_latex_tarball_gives_text_front_matter_route_and_parser(tmp_path: Path) -> None:
    path = tmp_path / "2401.00001.tar.gz"
    path.write_bytes(tar_gz([member("paper/main.tex", PAPER)]))
    document = one(path)
    assert document["corpus"] == "papers" and document["disposition"] == "kept"
    assert document["title"] == "Tides" and document["authors"] == "Ana Smith"
    assert document["abstract"] == "Tides rise."
    assert document["text"] == "Abstract\n\nTides rise.\n\nThe moon pulls the sea."
    assert (document["route"], document["parser"]) == ("latex", "pilehouse-latex")


@pytest.mark.parametrize("name", ["paper.tex", "paper.tex.gz"])
def test_a_lone_tex_file_plain_or_gzipped(tmp_path: Path, name: str) -> None:
    data = PAPER.encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert "The moon pulls the sea." in one(path)["text"]


def test_a_pdf_gives_its_text_layer_route(tmp_path: Path) -> None:
    path = tmp_path / "good.pdf"
    path.write_bytes(good_pdf())
    document = one(path)
    assert document["route"] == "text_layer" and document["parser"] == "pypdfium2"
    assert document["text"] and document["parser_version"].startswith("pypdfium2")


def test_a_quarantined_input_says_why(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"<html>404 Not Found</html>")
    document = one(path)
    assert document["disposition"] == "quarantined"
    assert document["reason"] == "pdf_corrupt" and "no %PDF- header" in document["detail"]
    assert document["text"] is None


def test_a_warc_gives_one_document_per_response(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    body = b"<html><body><article><p>" + b"The harbour was quiet that morning. " * 8
    body += b"</p></article></body></html>"
    path.write_bytes(b"".join(gzip.compress(warc_record(n, body=body)) for n in range(2)))
    documents = list(extract_documents([path]))
    assert [d["corpus"] for d in documents] == ["web", "web"]
    assert all("The harbour was quiet" in (d["text"] or "") for d in documents)
    assert documents[0]["title"] == "https://example.com/0"


def test_a_jsonl_dump_gives_one_document_per_record(tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    records = [
        {"id": "1", "title": "A", "text": "First paper text.", "license": "CC-BY-4.0"},
        {"id": "2", "title": "B", "text": "Second paper text.", "license": "CC-BY-4.0"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + "{not json\n")
    documents = list(extract_documents([path]))
    assert [d["text"] for d in documents[:2]] == ["First paper text.", "Second paper text."]
    assert documents[0]["route"] == "record"
    assert documents[2]["disposition"] == "quarantined" and documents[2]["reason"]


def test_a_code_repository_directory_gives_its_files(tmp_path: Path) -> None:
    repo = tmp_path / "tiny-repo"
    (repo / "src").mkdir(parents=True)
    (repo / "LICENSE").write_text(
        "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining "
        'a copy of this software and associated documentation files (the "Software"), to '
        "deal in the Software without restriction\n"
    )
    (repo / "src" / "main.py").write_text("def add(a, b):\n    return a + b\n")
    documents = list(extract_documents([repo]))
    by_path = {d["title"]: d for d in documents}
    assert "src/main.py" in by_path
    assert by_path["src/main.py"]["text"].startswith("def add(a, b):")
    assert by_path["src/main.py"]["corpus"] == "code"


def test_main_prints_json_lines_and_exits_0_also_for_quarantined_input(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    good = tmp_path / "p.tar.gz"
    good.write_bytes(tar_gz([member("main.tex", PAPER)]))
    bad = tmp_path / "empty.pdf"
    bad.write_bytes(b"")
    assert main([str(good), str(bad)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["disposition"] for line in lines] == ["kept", "quarantined"]
    # The same through `pilehouse extract`.
    assert cli_main(["extract", str(good), str(bad)]) == 0
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["disposition"] for line in again] == ["kept", "quarantined"]


@pytest.mark.parametrize(
    "command", [["-m", "spark_jobs.extract"], ["-m", "orchestration.cli", "extract"]]
)
def test_a_missing_file_is_one_line_and_a_non_zero_exit(tmp_path: Path, command) -> None:
    done = subprocess.run(
        [sys.executable, *command, str(tmp_path / "nope.pdf")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0 and "nope.pdf does not exist" in done.stderr


def test_extract_starts_no_spark(tmp_path: Path) -> None:
    path = tmp_path / "p.tar.gz"
    path.write_bytes(tar_gz([member("main.tex", PAPER)]))
    script = io.StringIO()
    script.write(
        "import sys, json\nfrom spark_jobs.extract import extract_documents\n"
        f"list(extract_documents([{str(path)!r}]))\n"
        "from pyspark import SparkContext\n"
        "print(json.dumps(SparkContext._active_spark_context is None))\n"
    )
    done = subprocess.run([sys.executable, "-c", script.getvalue()], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "true"
