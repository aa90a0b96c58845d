"""A tiny document lake written straight to Delta, for trying mixtures without a pipeline run
(tests, benchmarks, docs): raw/annotated/curated web and code tables plus rejects."""

from __future__ import annotations

import pydoc_data.topics

import pyarrow as pa

from spark_jobs.delta import write_arrow
from spark_jobs.lake import Lake

# Real English prose; each document is a slice of one topic.
_TOPICS = [t for _, t in sorted(pydoc_data.topics.topics.items()) if len(t) > 600]
WEB_LICENSES = ("PSF-2.0", "PSF-2.0", "PSF-2.0", "CC-BY-SA-4.0")
CODE_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "GPL-2.0-only")


def _text(index: int, length: int) -> str:
    topic = _TOPICS[index % len(_TOPICS)]
    start = (index * 97) % max(1, len(topic) - length)
    return topic[start : start + length]


def sample_documents(web_docs: int = 60, code_docs: int = 24) -> dict[str, pa.Table]:
    """Rows for raw.web, annotated.web, curated.web, raw.code, annotated.code, curated.code."""
    web = []
    for i in range(web_docs):
        host = f"site{i % 5}.example.org"
        web.append(
            {
                "id": f"web-{i:04d}",
                "corpus": "web",
                "source": "crawl-a" if i % 2 == 0 else "crawl-b",
                "locator": f"https://{host}/page/{i}",
                "url": f"https://{host}/page/{i}",
                "domain": host,
                "license": WEB_LICENSES[i % len(WEB_LICENSES)],
                "language": "de" if i % 10 == 9 else "en",
                "text": _text(i, 300 + (i * 37) % 500),
            }
        )
    code = []
    for i in range(code_docs):
        code.append(
            {
                "id": f"code-{i:04d}",
                "corpus": "code",
                "source": "repos",
                "locator": f"repo{i % 3}/src/module_{i}.py",
                "license": CODE_LICENSES[i % len(CODE_LICENSES)],
                "language": None,
                "text": "# " + _text(i + 1000, 200 + (i * 53) % 400).replace("\n", "\n# "),
            }
        )
    tables = {}
    for corpus, rows in (("web", web), ("code", code)):
        full = pa.Table.from_pylist(rows)
        tables[f"raw.{corpus}"] = full.drop_columns(["language"])
        tables[f"annotated.{corpus}"] = full
        tables[f"curated.{corpus}"] = full
    return tables


def write_sample_lake(lake: Lake, web_docs: int = 60, code_docs: int = 24) -> dict[str, int]:
    """Write the sample tables (and a rejects row for one web page); returns their versions."""
    versions = {}
    for name, table in sample_documents(web_docs, code_docs).items():
        commit = write_arrow(
            table, lake.uri(name), mode="overwrite", partition_by=("source",), store=lake.store
        )
        versions[name] = commit.version
    rejects = pa.Table.from_pylist(
        [
            {
                "id": "web-0000",
                "corpus": "web",
                "stage": "curate",
                "source": "crawl-a",
                "locator": "https://site0.example.org/page/0",
                "reason": "exact_duplicate",
                "detail": "a copy of web-0000 fetched twice",
                "run_id": "sample",
            }
        ]
    )
    versions["rejects"] = write_arrow(
        rejects,
        lake.uri("rejects"),
        mode="overwrite",
        partition_by=("corpus", "stage", "source"),
        store=lake.store,
    ).version
    return versions
