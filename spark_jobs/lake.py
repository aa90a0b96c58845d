"""The lake's named tables: where each lives, how it is partitioned, what it is for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from spark_jobs.storage import LOCAL, ObjectStore


@dataclass(frozen=True)
class TableSpec:
    name: str
    partition_by: tuple[str, ...]
    description: str
    # What each column means, shown by `pilehouse catalog`; columns not listed show their type only.
    columns: Mapping[str, str] = field(default_factory=dict)


RAW_WEB_COLUMNS = {
    "id": "stable document id (hash of source and locator); the same in every table a page reaches",
    "corpus": "corpus family, e.g. web",
    "source": "source name from orchestration/sources.yaml",
    "locator": "where the record came from: the URL, or URL#warc=file:offset for a repeat fetch",
    "url": "the page's URL as fetched",
    "domain": "host of the URL, lower-cased, without www. and port",
    "title": "HTML <title>",
    "fetch_date": "WARC-Date of the response (UTC)",
    "http_status": "HTTP status code of the response",
    "content_type": "Content-Type header of the response",
    "license": "SPDX id of the license the text is under",
    "license_evidence": "how the license was determined (declared by the source, detected, ...)",
    "ingest_run_id": "Dagster run id of the ingest that wrote the row",
    "text": "extracted main text (resiliparse)",
    "byte_length": "UTF-8 bytes of text",
    "warc_file": "WARC file the record was read from, relative to the source location",
    "warc_offset": "byte offset of the record in its WARC file",
}
ANNOTATED_WEB_COLUMNS = {
    **RAW_WEB_COLUMNS,
    "language": "fastText lid.176 language code of the text",
    "language_score": "fastText lid.176 probability of that language (0..1)",
    "quality_signals": "Gopher quality signals; quality_signals.word_count is the number of "
    "whitespace-separated words that are not bare punctuation (no tokenizer: words, not tokens)",
    "text_hash": "exact-dedup key: hash of the normalized text",
}
REJECT_COLUMNS = {
    "id": "id of the removed record (joins to raw.web / annotated.web id)",
    "corpus": "corpus family",
    "source": "source name",
    "locator": "URL or WARC position of the record",
    "stage": "stage that removed it: ingest or curate",
    "reason": "why: e.g. http_status_404, language_not_allowed, gopher_short_doc, exact_duplicate",
    "detail": "reason details (the kept duplicate's id, the failing value, ...)",
    "run_id": "Dagster run id of the run that removed it",
}
QUARANTINE_COLUMNS = {
    **{k: v for k, v in REJECT_COLUMNS.items() if k != "detail"},
    "reason": "why the record could not be read: e.g. gzip_corrupt, undecodable_text",
    "detail": "the error message",
    "excerpt": "the first bytes of the record, escaped",
}


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec(
            "raw.web",
            ("source",),
            "Web pages extracted from WARC files, one row per page",
            RAW_WEB_COLUMNS,
        ),
        TableSpec(
            "annotated.web",
            ("source",),
            "raw.web plus language, Gopher quality verdict and exact-dedup key",
            ANNOTATED_WEB_COLUMNS,
        ),
        TableSpec(
            "curated.web",
            ("source",),
            "Web documents kept by the recipe (gold)",
            ANNOTATED_WEB_COLUMNS,
        ),
        TableSpec(
            "rejects",
            ("corpus", "stage", "source"),
            "Documents removed by a stage, with the reason (one row per removal)",
            REJECT_COLUMNS,
        ),
        TableSpec(
            "quarantine",
            ("corpus", "source"),
            "Input records that could not be read (corrupt, undecodable), with the error",
            QUARANTINE_COLUMNS,
        ),
        TableSpec(
            "quality.validations",
            (),
            "Data-quality gate results: one row per expectation per validated table version",
            {
                "table": "the validated table, e.g. curated.web",
                "version": "its Delta version that was validated",
                "suite": "the expectation suite (= Dagster check name)",
                "expectation": "Great Expectations expectation type",
                "description": "the promise, in words",
                "success": "whether this expectation held",
                "observed": "the observed value or count of unexpected rows",
                "sample_ids": "ids of offending rows (documents, languages, rules, sources)",
                "suite_success": "whether the whole suite passed on this version",
                "run_id": "Dagster run id of the check",
            },
        ),
    ]
}


TABLES["ops.run_failures"] = TableSpec(
    "ops.run_failures",
    (),
    "Failed Dagster runs, one row per failed step, written by the run_failure_sensor",
    {
        "run_id": "Dagster run id of the failed run",
        "job": "the run's job, e.g. ingest_web",
        "partition": "the run's partition (source name), null for unpartitioned runs",
        "step": "the failed step (op) key, null when the run failed outside a step",
        "error_class": "class of the exception that failed the step (under Dagster's wrappers)",
        "message": "the error message",
        "failed_at": "when the sensor recorded the failure (UTC)",
    },
)

# The corpus families; each has raw, annotated and curated tables partitioned by source.
CORPORA = ("web", "code", "papers", "licensed")
COMMON_DOCUMENT_COLUMNS = {
    name: RAW_WEB_COLUMNS[name]
    for name in ("id", "source", "license", "license_evidence", "ingest_run_id", "byte_length")
} | {
    "corpus": "corpus family",
    "locator": "where the record came from: repo/path, paper id, file#line, ...",
    "text": "the document's text",
}
_STAGE_DESCRIPTIONS = {
    "raw": "{corpus} documents as ingested from the landing zone, one row per document",
    "annotated": "raw.{corpus} plus language, quality signals and exact-dedup key",
    "curated": "{corpus} documents kept by the recipe (gold)",
}
for _corpus in CORPORA[1:]:
    for _stage, _description in _STAGE_DESCRIPTIONS.items():
        _columns = COMMON_DOCUMENT_COLUMNS | (
            {k: v for k, v in ANNOTATED_WEB_COLUMNS.items() if k not in RAW_WEB_COLUMNS}
            if _stage != "raw"
            else {}
        )
        TABLES[f"{_stage}.{_corpus}"] = TableSpec(
            f"{_stage}.{_corpus}", ("source",), _description.format(corpus=_corpus), _columns
        )


def document_tables(corpus: str) -> tuple[str, str, str]:
    """The raw, annotated and curated table names of a corpus family."""
    if corpus not in CORPORA:
        raise ValueError(f"unknown corpus family {corpus!r}; families: {', '.join(CORPORA)}")
    return f"raw.{corpus}", f"annotated.{corpus}", f"curated.{corpus}"


@dataclass(frozen=True)
class Lake:
    """Resolves table names ('curated.web') to Delta table URIs under one root."""

    root_uri: str
    store: ObjectStore = LOCAL

    def uri(self, name: str) -> str:
        return f"{self.root_uri.rstrip('/')}/{name.replace('.', '/')}"

    def spec(self, name: str) -> TableSpec:
        try:
            return TABLES[name]
        except KeyError:
            raise KeyError(
                f"unknown lake table {name!r}; known tables: {', '.join(TABLES)}"
            ) from None
