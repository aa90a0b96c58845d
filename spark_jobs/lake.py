"""The lake's table registry: the named tables (where each lives, how it is partitioned, what it
is for) and `Lake.tables()`, the tables one lake holds, which SQL, the catalog, takedown and
lineage all list from."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

from spark_jobs.delta import open_table, table_exists
from spark_jobs.storage import LOCAL, ObjectStore

log = logging.getLogger(__name__)


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
# What quality_signals.word_count counts; the catalog, the corpus report, the README and
# docs/curation.md say it in these words (tests/spark_jobs/analyst/test_corpus_report.py).
WORD_COUNT_DEFINITION = "spaCy English tokens that are not only punctuation"
ANNOTATED_WEB_COLUMNS = {
    **RAW_WEB_COLUMNS,
    "language": "fastText lid.176 language code of the text",
    "language_score": "fastText lid.176 probability of that language (0..1)",
    "script": "dominant Unicode script of the letters (Latin, Cyrillic, Han, ...)",
    "quality_signals": "RedPajama-V2-style quality signals (spark_jobs/annotators/quality.py "
    "SIGNALS, documented in docs/curation.md); quality_signals.word_count is the number of "
    f"{WORD_COUNT_DEFINITION} (Gopher's words)",
    "text_hash": "exact-dedup key: hash of the normalized text",
}
# The rejects table's columns, in its column order (the stages select these).
REJECT_COLUMNS = {
    "id": "id of the removed record (joins to raw.web / annotated.web id)",
    "corpus": "corpus family",
    "source": "source name",
    "locator": "URL or WARC position of the record",
    "stage": "stage that removed it: ingest or curate",
    "reason": "why: e.g. http_status_404, language_not_allowed, language_score_low, "
    "gopher_short_doc, exact_duplicate",
    "detail": "reason details (the kept duplicate's id, the failing value, ...)",
    "run_id": "Dagster run id of the run that removed it",
}
# The quarantine table's columns, in its column order (the ingest stage selects these).
QUARANTINE_COLUMNS = {
    **{k: v for k, v in REJECT_COLUMNS.items() if k not in ("reason", "detail", "run_id")},
    "reason": "why the record could not be read: e.g. gzip_corrupt, undecodable_text",
    "detail": "the error message",
    "excerpt": "the first bytes of the record, escaped",
    "run_id": REJECT_COLUMNS["run_id"],
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
        TableSpec(
            "quality.profiles",
            (),
            "What each source looked like in each validated curated version: the measures the "
            "distribution gate judged, their bounds, and whether the source was accepted",
            {
                "table": "the validated table, e.g. curated.web",
                "version": "its Delta version that was validated",
                "source": "the source (partition) measured",
                "kind": "removal, language_share or byte_length",
                "key": "e.g. 'curate: language_not_allowed', 'en', 'p50'",
                "value": "the measure: a rate, a share, or bytes",
                "n": "documents the measure is over",
                "low": "lower bound it was held to",
                "high": "upper bound it was held to",
                "basis": "where the bounds came from (learned history or first-version rule)",
                "within": "whether the measure was within its bounds",
                "source_accepted": "every measure of this source was within bounds: "
                "later versions learn from it",
            },
        ),
    ]
}

# Training mixtures (spark_jobs/mixtures): one table mixtures.<name> per recipe.
MIXTURE_COLUMNS = {
    "position": "place of this row in the mixture's token stream (0 first)",
    "id": "document id (joins to curated.<corpus> id)",
    "corpus": "corpus family",
    "source": "source name",
    "license": "SPDX id of the document's license",
    "language": "fastText language code (null where the corpus has none)",
    "component": "recipe component that selected the document",
    "repetition": "0 the first time the document appears in the mixture, 1 the second, ...",
    "token_count": "tokens of the document with the mixture's tokenizer, end-of-text included",
}
TABLES["ops.index_contamination"] = TableSpec(
    "ops.index_contamination",
    (),
    "Benchmark items traced against a mixture's n-gram index, one row per item and build",
    {
        "mixture": "mixture name",
        "mixture_version": "Delta version of mixtures.<name> the index was built from",
        "index": "manifest.json of the index",
        "benchmark": "benchmark name",
        "item_id": "item id within the benchmark",
        "split": "the item's split",
        "item_tokens": "tokens of question + answer (the index's tokenizer)",
        "longest_tokens": "tokens of the item's longest span found in the training tokens",
        "longest_text": "that span's text",
        "occurrences": "how often that span occurs in the training tokens",
        "covered_tokens": "item tokens inside spans of at least min_tokens found there",
        "documents": "training documents holding the longest span (up to 3)",
        "contaminated": "the verdict (docs/trace.md: Contamination at any length)",
        "checked_at": "when the item was checked",
    },
)
TABLES["ops.substring_edits"] = TableSpec(
    "ops.substring_edits",
    (),
    "Repeated spans found by a mixture's exact-substring dedup, one row per span",
    {
        "mixture": "mixture name",
        "mixture_version": "Delta version of mixtures.<name> the export was cut from",
        "id": "document id",
        "action": "remove (cut from the exported tokens) or mark (left in)",
        "start_token": "first token of the span in the document (tokenizer of the mixture)",
        "end_token": "token after the span",
        "tokens": "tokens in the span",
        "min_tokens": "the recipe's min_tokens",
        "keep": "one (first occurrence kept) or none",
        "text": "the span's text (up to 2,000 characters)",
    },
)
TABLES["ops.shard_exports"] = TableSpec(
    "ops.shard_exports",
    (),
    "Training shards exported from a mixture version, one row per shard (immutable files)",
    {
        "mixture": "mixture name",
        "mixture_version": "Delta version of mixtures.<name> the shards were cut from",
        "manifest_uri": "manifest.json of the export",
        "shard": "shard file name (.bin; its .idx sits next to it)",
        "sha256": "checksum of the .bin file",
        "tokens": "tokens in the shard",
        "first_position": "first mixture position with tokens in the shard",
        "last_position": "last mixture position with tokens in the shard",
    },
)
TABLES["ops.takedowns"] = TableSpec(
    "ops.takedowns",
    (),
    "Takedown / opt-out requests: what matched, what was deleted where, which runs it affects",
    {
        "request_id": "takedown request id",
        "requested_at": "when the takedown ran (UTC)",
        "criteria": "the request as JSON: ids, url_pattern, domain, source, license, reason",
        "document_ids": "ids of the documents removed",
        "tables": "per table: version before, version written, rows deleted",
        "affected_runs": "MLflow run ids whose dataset inputs held any of the documents",
        "affected_shards": "exported shard files (immutable) that hold any of the documents",
    },
)

# The mixtures of the recipe files shipped with the code location (file stem = mixture name),
# so the catalog and SQL know them before they are first built.
_MIXTURE_RECIPES = Path(__file__).parents[1] / "orchestration" / "mixtures"
for _recipe_file in sorted(_MIXTURE_RECIPES.glob("*.yaml")):
    TABLES[f"mixtures.{_recipe_file.stem}"] = TableSpec(
        f"mixtures.{_recipe_file.stem}",
        (),
        f"Documents of the {_recipe_file.stem} training mixture, in token-stream order",
        MIXTURE_COLUMNS,
    )


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


# Decontamination and cross-corpus dedup (spark_jobs/decontaminate.py, spark_jobs/curate.py).
TABLES["benchmarks.items"] = TableSpec(
    "benchmarks.items",
    ("benchmark",),
    "Benchmark items documents are decontaminated against, loaded from JSONL files",
    {
        "benchmark": "benchmark name (the JSONL file's name unless a line says otherwise)",
        "item_id": "item id within the benchmark",
        "split": "benchmark split, e.g. test or dev",
        "question": "the item's prompt text",
        "answer": "the item's reference answer",
    },
)
TABLES["decontamination.flags"] = TableSpec(
    "decontamination.flags",
    ("corpus",),
    "Documents that share a word n-gram with a benchmark item, one row per (document, item)",
    {
        "id": "id of the flagged document (joins to annotated.<corpus> id)",
        "corpus": "corpus family of the document",
        "source": "source of the document",
        "benchmark": "benchmark the shared text comes from (benchmarks.items benchmark)",
        "item_id": "the benchmark item it shares an n-gram with (benchmarks.items item_id)",
        "ngram": "the first shared n-gram: lower-cased words joined by spaces",
        "ngram_size": "n, the number of words per n-gram the scan used",
        "matches": "how many of the document's n-gram positions match this item",
    },
)
TABLES["dedup.signatures"] = TableSpec(
    "dedup.signatures",
    ("corpus", "source"),
    "MinHash-LSH band keys of every annotated document, recomputed per changed source",
    {
        "id": "document id (annotated.<corpus> id)",
        "corpus": "corpus family",
        "source": "source name",
        "band_keys": "MinHash-LSH band keys, one per band (null: the text has no shingles)",
        "num_shingles": "distinct word shingles of the normalized text",
        "config_fingerprint": "dedup config (orchestration/recipes/dedup.yaml) the keys were "
        "computed under; keys of different configs are never compared",
        "annotated_version": "annotated.<corpus> version the keys were computed from",
        "annotated_fingerprint": "hash of the annotated partition's data files then; when it "
        "differs from the current one, the partition's keys are recomputed",
    },
)
TABLES["dedup.clusters"] = TableSpec(
    "dedup.clusters",
    ("corpus",),
    "Exact and near-duplicate clusters across corpora, with the keeper of each",
    {
        "id": "a document in a duplicate cluster",
        "corpus": "its corpus family",
        "source": "its source",
        "cluster_id": "the cluster (its smallest member id)",
        "kind": "exact (same normalized text hash) or fuzzy (MinHash-LSH near duplicates)",
        "keeper_id": "the member the keep policy keeps; the others are rejected naming it",
        "is_keeper": "whether this document is its cluster's keeper",
        "cluster_size": "members in the cluster",
    },
)

# Incremental curation's stored state (spark_jobs/incremental.py).
TABLES["curation.candidates"] = TableSpec(
    "curation.candidates",
    ("corpus", "source"),
    "Documents that passed their recipe's filters and decontamination (dedup's input), "
    "without text; rewritten per changed source so dedup needs no text of untouched sources",
    {
        "id": "document id (annotated.<corpus> id)",
        "corpus": "corpus family",
        "source": "source name",
        "text_hash": "exact-dedup key (annotated.<corpus> text_hash)",
        "license": "keep-policy column (null where the family has none)",
        "license_class": "keep-policy column (null where the family has none)",
        "quality_score": "keep-policy column (null where the family has none)",
        "classifier_score": "keep-policy column (null where the family has none)",
        "published_date": "keep-policy column (null where the family has none)",
        "fetch_date": "keep-policy column (null where the family has none)",
    },
)
TABLES["curation.state"] = TableSpec(
    "curation.state",
    (),
    "What the last incremental curate was computed from: one row per source partition",
    {
        "corpus": "corpus family",
        "source": "source name",
        "input_fingerprint": "hash of the annotated partition's files, the recipe and the "
        "benchmark items; a partition whose fingerprint changed is recomputed",
        "annotated_version": "annotated.<corpus> version read",
        "curated_version": "curated.<corpus> version the run left; another version means the "
        "table was written since and the family is rebuilt",
        "candidates_version": "curation.candidates version the run left",
        "clusters_version": "dedup.clusters version the run left",
        "flags_version": "decontamination.flags version the run left",
        "run_id": "the run that wrote this state",
    },
)

# Classifier scores and sentence embeddings (spark_jobs/classifiers), one pair per family.
CLASSIFIED_COLUMNS = {
    "id": "document id (joins to annotated.<corpus> id)",
    "source": "source name",
    "quality_score": "P(reference quality) from the fastText quality classifier (0..1)",
    "quality_model": "MLflow registered model that produced quality_score",
    "quality_model_version": "its registered version",
    "edu_score": "educational value 0..5 (MiniLM embedding + PyTorch regression head)",
    "edu_model": "MLflow registered model that produced edu_score",
    "edu_model_version": "its registered version",
    "topic": "topic/format class (MiniLM embedding + PyTorch classification head)",
    "topic_score": "probability of that class",
    "topic_model": "MLflow registered model that produced topic",
    "topic_model_version": "its registered version",
    "embedding_model": "sentence encoder the heads ran on, with the package that ships it",
    "tokens": "encoder tokens the document was embedded from (first 128)",
    "device": "torch device that scored the document (cuda:N or cpu)",
    "gpu_addresses": "GPU addresses Spark assigned to the task (empty: none requested)",
}
for _corpus in CORPORA:
    TABLES[f"classified.{_corpus}"] = TableSpec(
        f"classified.{_corpus}",
        ("source",),
        f"Classifier scores of annotated.{_corpus}: quality, educational value, topic, "
        "with the model version of each",
        CLASSIFIED_COLUMNS,
    )
    TABLES[f"embeddings.{_corpus}"] = TableSpec(
        f"embeddings.{_corpus}",
        ("source",),
        f"all-MiniLM-L6-v2 sentence embeddings of annotated.{_corpus} (for semantic dedup)",
        {
            "id": "document id",
            "source": "source name",
            "embedding_model": "the encoder and the package that ships it",
            "tokens": "tokens embedded (first 128)",
            "embedding": "384 floats, L2-normalised mean-pooled token embeddings",
        },
    )


# Synthetic data (spark_jobs/synthetic): synthetic.<recipe> holds every generation request's
# result with its provenance; its ok samples are annotated and curated like a family, one
# source partition per recipe. It has no raw table: synthetic.<recipe> plays that part.
SYNTHETIC = "synthetic"
SYNTHETIC_COLUMNS = {
    "id": "sample id: hash of the recipe fingerprint, source document, template hash and variant",
    "recipe": "synthetic recipe (orchestration/synthetic/<recipe>.yaml)",
    "recipe_fingerprint": "hash of everything in the recipe that decides the sample's content",
    "source": "the recipe's name (synthetic samples' source partition)",
    "source_table": "table the source document was read from, e.g. curated.web",
    "source_version": "its Delta version read",
    "source_doc_id": "id of the source document (joins to source_table id)",
    "origin_source": "source name of the source document",
    "license": "license of the source document, inherited by the sample",
    "transformation": "rephrase, genre_audience, qa or generate",
    "variant": "which prompt of the transformation (style=..., genre=...;audience=..., qa)",
    "template_name": "prompt template name in the recipe",
    "template_hash": "sha256 (16 hex) of the system message and template",
    "prompt": "the prompt sent (template filled with the source text)",
    "endpoint": "OpenAI-compatible base URL called",
    "model_requested": "model name the recipe asked for",
    "model": "model name the endpoint reported",
    "model_fingerprint": "model version the endpoint reported (system_fingerprint)",
    "sampling": "sampling parameters as JSON (temperature, top_p, max_tokens, stop)",
    "request_seed": "sampling seed sent with the request",
    "requested_at": "when the first attempt was sent (UTC)",
    "latency_s": "seconds from the first attempt to the final answer, retries included",
    "attempts": "HTTP attempts made (retries on 429, 5xx and time-outs)",
    "http_status": "HTTP status of the last attempt (null: no answer)",
    "prompt_tokens": "prompt tokens the endpoint counted",
    "completion_tokens": "generated tokens the endpoint counted",
    "finish_reason": "stop, length, ... as the endpoint reported",
    "status": "ok, or failed (then error says why; a re-run requests it again)",
    "error": "why the request failed",
    "text": "the generated text",
    "run_id": "Dagster run id of the generation run",
    "chunk": "commit unit: samples hash into the recipe's requests.chunks partitions",
}
_SYNTHETIC_PROVENANCE = ("source_doc_id", "source_table", "source_version", "recipe",
                         "template_hash", "model", "model_fingerprint")  # fmt: skip
for _stage in ("annotated", "curated"):
    TABLES[f"{_stage}.{SYNTHETIC}"] = TableSpec(
        f"{_stage}.{SYNTHETIC}",
        ("source",),
        _STAGE_DESCRIPTIONS[_stage]
        .format(corpus="synthetic (model-written)")
        .replace("raw.synthetic (model-written)", "synthetic.<recipe> ok samples"),
        COMMON_DOCUMENT_COLUMNS
        | {k: v for k, v in ANNOTATED_WEB_COLUMNS.items() if k not in RAW_WEB_COLUMNS}
        | {k: SYNTHETIC_COLUMNS[k] for k in _SYNTHETIC_PROVENANCE}
        | {
            "source": "the synthetic recipe that made the sample",
            "source_containment": "share of the sample's word 5-grams found in its source "
            "document (above the recipe's curation.max_source_similarity: copies_source)",
            "source_jaccard": "Jaccard similarity of the sample's and its source's 5-grams",
        },
    )


def synthetic_table(recipe: str) -> str:
    """Make synthetic.<recipe> a known lake table (catalog, SQL); returns the table name."""
    name = f"{SYNTHETIC}.{recipe}"
    TABLES.setdefault(
        name,
        TableSpec(
            name,
            ("chunk",),
            f"Generation results of synthetic recipe {recipe}: samples with provenance, "
            "failed requests with their error",
            SYNTHETIC_COLUMNS,
        ),
    )
    return name


for _recipe_file in sorted(
    (Path(__file__).parents[1] / "orchestration" / "synthetic").glob("*.yaml")
):
    synthetic_table(_recipe_file.stem)


def document_tables(corpus: str) -> tuple[str, str, str]:
    """The raw, annotated and curated table names of a corpus family (synthetic's "raw"
    table is per recipe: synthetic.<recipe>)."""
    if corpus == SYNTHETIC:
        return f"{SYNTHETIC}.*", f"annotated.{SYNTHETIC}", f"curated.{SYNTHETIC}"
    if corpus not in CORPORA:
        raise ValueError(f"unknown corpus family {corpus!r}; families: {', '.join(CORPORA)}")
    return f"raw.{corpus}", f"annotated.{corpus}", f"curated.{corpus}"


def _mixture_spec(name: str) -> TableSpec:
    mixture = name.removeprefix("mixtures.")
    return TableSpec(
        name,
        (),
        f"Documents of the {mixture} training mixture, in token-stream order",
        MIXTURE_COLUMNS,
    )


# Families of tables named at run time, `<family>.<member>`: how to describe a member that
# TABLES does not list (a mixture built from a recipe outside the shipped ones, say).
TABLE_FAMILIES: dict[str, Callable[[str], TableSpec]] = {"mixtures": _mixture_spec}

# A folder name that can be one part of a table name: `lake.uri` turns every '.' of a name
# into a '/', SQL puts each part in double quotes, and '_' starts folders that are not tables.
_NAME_PART = re.compile(r'[^._"][^."]*')


def known_spec(name: str) -> TableSpec | None:
    """The spec of a table TABLES lists or a family names (None: neither)."""
    if name in TABLES:
        return TABLES[name]
    family, _, member = name.partition(".")
    describe = TABLE_FAMILIES.get(family)
    return describe(name) if describe and _NAME_PART.fullmatch(member) else None


@dataclass(frozen=True)
class Lake:
    """Resolves table names ('curated.web') to Delta table URIs under one root, and lists the
    tables the lake holds."""

    root_uri: str
    store: ObjectStore = LOCAL

    def uri(self, name: str) -> str:
        return f"{self.root_uri.rstrip('/')}/{name.replace('.', '/')}"

    def spec(self, name: str) -> TableSpec:
        """The table's spec: from TABLES, its family, or (a table this registry does not
        describe) its partitioning as stored."""
        spec = known_spec(name)
        if spec is not None:
            return spec
        if all(_NAME_PART.fullmatch(part) for part in name.split(".")) and table_exists(
            self.uri(name), self.store
        ):
            stored = open_table(self.uri(name), store=self.store)
            return TableSpec(
                name,
                tuple(stored.metadata().partition_columns),
                "a Delta table found in the lake that spark_jobs/lake.py does not describe",
            )
        raise KeyError(f"unknown lake table {name!r}; known tables: {', '.join(TABLES)}")

    def tables(self) -> list[str]:
        """Every Delta table in this lake, by dotted name: those TABLES lists in its order,
        then the others found in storage (mixtures.<name>, tables of newer stages), sorted.

        Read from storage: a table exists once its first commit does. Folders starting with
        '_' (indexes, scratch) are not tables.
        """
        found = set(self._stored_tables())
        return [n for n in TABLES if n in found] + sorted(found - TABLES.keys())

    def _stored_tables(self) -> list[str]:
        fs, root = self.store.filesystem(self.root_uri)

        def children(path: str) -> list[pafs.FileInfo]:
            try:
                infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
            except OSError:
                return []
            return [i for i in infos if i.type == pafs.FileType.Directory]

        base = self.root_uri.rstrip("/")
        names = []
        for first in children(root):
            if first.base_name.startswith("_"):
                continue
            if table_exists(f"{base}/{first.base_name}", self.store):
                names.append((first.base_name,))
                continue
            for second in children(first.path):
                if second.base_name.startswith("_"):
                    continue
                if table_exists(f"{base}/{first.base_name}/{second.base_name}", self.store):
                    names.append((first.base_name, second.base_name))
        return [".".join(parts) for parts in names if self._nameable(parts)]

    def _nameable(self, parts: tuple[str, ...]) -> bool:
        if all(_NAME_PART.fullmatch(part) for part in parts):
            return True
        log.warning(
            "%s holds a Delta table, but a folder name with '.' or '\"' cannot be part of a "
            "table name; SQL, the catalog, takedown and lineage skip it: rename the folder",
            "/".join((self.root_uri.rstrip("/"), *parts)),
        )
        return False
