"""Incremental curation: recompute only the source partitions whose inputs changed, and the
partitions whose dedup outcome those changes moved, leaving every curated table as a full
rebuild (spark_jobs.stages.curate_corpora) would.

What depends on what:
- Filters, PII redaction and decontamination decide each document alone: they are recomputed
  for a (corpus, source) partition when its input fingerprint changed (the annotated
  partition's data files, the family's recipe, the benchmark items, STATE_VERSION).
- Dedup decides across all families. Its input, the documents that passed the filters, is
  stored without text in curation.candidates (one partition per source), next to the MinHash
  band keys in dedup.signatures; clusters are recomputed every run from these stored rows
  (no text is read), with the full rebuild's functions and keep rule. A new document that
  displaces a kept one (or joins, splits or re-roots a cluster) changes the outcome of
  documents in untouched partitions; those partitions are found by comparing the new clusters'
  drops with the previous run's and are rewritten too ("rewritten for dedup" in the metadata).
- The duplicate-paragraph filter counts paragraphs across every document, so a recipe that
  sets max_duplicate_paragraph_fraction makes the run a full rebuild (said in the metadata).

curation.state records, per partition, the fingerprint it was curated from and the versions
of the tables the run left behind. When any of those tables was written since (a full
rebuild, a subset run, a takedown, a crash between commits), the state no longer describes
them and the affected families (or everything) are rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import pyarrow as pa
import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.curate import (
    KEEP_POLICY_COLUMNS,
    AnnotatedPartition,
    annotated_partitions,
    cluster_across_corpora,
    contamination_flags,
    drop_contaminated,
    drop_duplicates,
)
from spark_jobs.decontaminate import BenchmarkIndex, build_index, contamination_verdicts
from spark_jobs.dedup import DedupConfig, duplicates_to_drop
from spark_jobs.dedup.checkpoint import FrameCheckpoints
from spark_jobs.delta import CommitResult, open_table, read_spark, table_exists, write_arrow
from spark_jobs.lake import Lake, document_tables
from spark_jobs.select import CurationRecipe, filter_documents
from spark_jobs.stages import (
    BENCHMARK_TABLE,
    CLUSTER_TABLE,
    FLAG_TABLE,
    SIGNATURE_TABLE,
    CurationReport,
    StageReport,
    _benchmark_items,
    _replace,
    _write,
    curate_corpora,
    refresh_signatures,
)

log = logging.getLogger(__name__)

CANDIDATE_TABLE = "curation.candidates"
STATE_TABLE = "curation.state"
# Bumped when filters, redaction or decontamination change what they produce for the same
# inputs: every partition's fingerprint changes and the next run rebuilds everything.
STATE_VERSION = 1
CANDIDATE_COLUMNS = {"id": "string", "corpus": "string", "source": "string", "text_hash": "string"}
STATE_SCHEMA = pa.schema(
    [
        ("corpus", pa.string()),
        ("source", pa.string()),
        ("input_fingerprint", pa.string()),
        ("annotated_version", pa.int64()),
        ("curated_version", pa.int64()),
        ("candidates_version", pa.int64()),
        ("clusters_version", pa.int64()),
        ("flags_version", pa.int64()),
        ("run_id", pa.string()),
    ]
)

Partition = tuple[str, str]  # (corpus, source)


@dataclass
class IncrementalCurationReport(CurationReport):
    """CurationReport plus how the run was done: mode 'incremental' or 'full', why a full
    rebuild was needed, and which partitions were recomputed or rewritten."""

    mode: str = "incremental"
    reason: str = ""
    recomputed: list[Partition] = field(default_factory=list)
    rewritten_for_dedup: list[Partition] = field(default_factory=list)
    removed: list[Partition] = field(default_factory=list)

    def summary(self) -> dict[str, str]:
        """Commit and asset metadata saying what this run recomputed and why."""
        return {
            "curation.mode": self.mode,
            "curation.reason": self.reason,
            "curation.partitions_recomputed": json.dumps(sorted(map(list, self.recomputed))),
            "curation.partitions_rewritten_for_dedup": json.dumps(
                sorted(map(list, self.rewritten_for_dedup))
            ),
            "curation.partitions_removed": json.dumps(sorted(map(list, self.removed))),
        }


# ---------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------


def input_fingerprint(
    partition: AnnotatedPartition, recipe: CurationRecipe, benchmarks: str
) -> str:
    """What a partition's filters, redaction and decontamination verdicts depend on."""
    content = json.dumps(
        [STATE_VERSION, partition.fingerprint, recipe.fingerprint, benchmarks], sort_keys=True
    )
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def benchmarks_fingerprint(items: pa.Table, version: int | None) -> str:
    """benchmarks.items by version; the bundled sample (no table yet) by content."""
    if version is not None:
        return f"v{version}"
    digest = hashlib.sha256()
    for row in items.sort_by([("benchmark", "ascending"), ("item_id", "ascending")]).to_pylist():
        digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    return "bundled:" + digest.hexdigest()[:16]


@dataclass(frozen=True)
class CurationPlan:
    """Which partitions a run recomputes from their annotated text, and which it removes."""

    changed: frozenset[Partition]
    removed: frozenset[Partition]
    # Families whose curated table is rewritten whole (no usable state, or every partition
    # changed); the others are updated partition by partition.
    whole: frozenset[str]
    reason: str = ""


def plan_curation(
    fingerprints: Mapping[Partition, str],
    stored: Mapping[Partition, str],
    stale_families: Collection[str],
) -> CurationPlan:
    """Compare the partitions' current input fingerprints with the stored ones.

    A partition is changed when its fingerprint differs or it was never curated; a stored
    partition that no longer exists is removed. A family in `stale_families` (its curated
    table no longer matches the state) is recomputed whole.
    """
    families = {c for c, _ in fingerprints}
    changed = {
        key for key, fp in fingerprints.items() if key[0] in stale_families or stored.get(key) != fp
    }
    removed = {key for key in stored if key not in fingerprints}
    whole = {
        c
        for c in families
        if c in stale_families or all(key in changed for key in fingerprints if key[0] == c)
    }
    return CurationPlan(frozenset(changed), frozenset(removed), frozenset(whole))


def _stored_state(lake: Lake) -> list[dict]:
    uri = lake.uri(STATE_TABLE)
    if not table_exists(uri, lake.store):
        return []
    from spark_jobs.delta import read_arrow

    return read_arrow(uri, store=lake.store).to_pylist()


def _version(lake: Lake, name: str) -> int | None:
    uri = lake.uri(name)
    return open_table(uri, store=lake.store).version() if table_exists(uri, lake.store) else None


def _usable_state(
    lake: Lake, state: list[dict], corpora: Collection[str], needs_flags: bool
) -> tuple[dict[Partition, str], set[str], str]:
    """(stored fingerprints, stale families, why the state is unusable or '').

    The state is trusted only for tables still at the versions the last incremental run left:
    a shared table written since makes it unusable; a curated table written since makes its
    family stale.
    """
    if not state:
        return {}, set(corpora), "no curation state yet (first incremental run)"
    first = state[0]
    shared = {
        CANDIDATE_TABLE: first["candidates_version"],
        CLUSTER_TABLE: first["clusters_version"],
    }
    if needs_flags:
        shared[FLAG_TABLE] = first["flags_version"]
    for name, version in shared.items():
        if _version(lake, name) != version:
            return {}, set(corpora), f"{name} was written since the last incremental curate"
    stale = set()
    for corpus in corpora:
        versions = {row["curated_version"] for row in state if row["corpus"] == corpus}
        current = _version(lake, document_tables(corpus)[2])
        if not versions or current is None or versions != {current}:
            stale.add(corpus)
    stored = {(row["corpus"], row["source"]): row["input_fingerprint"] for row in state}
    return stored, stale, ""


# ---------------------------------------------------------------------------------------
# Per-partition steps
# ---------------------------------------------------------------------------------------


def candidate_frame(kept: DataFrame) -> DataFrame:
    """The stored dedup input of kept documents: ids, exact key and every keep-policy column
    (null where the family has none), one schema for all families."""
    columns = [F.col(c).cast(t).alias(c) for c, t in CANDIDATE_COLUMNS.items()]
    for name, dtype in KEEP_POLICY_COLUMNS.items():
        value = F.col(name) if name in kept.columns else F.lit(None)
        columns.append(value.cast(dtype).alias(name))
    return kept.select(*columns)


def stored_candidates(candidates: DataFrame, columns: Collection[str]) -> DataFrame:
    """One family's stored candidates with only the keep-policy columns its annotated table
    has, so the keep policy sees exactly what a full rebuild's dedup_frame gives it."""
    keep = [c for c in KEEP_POLICY_COLUMNS if c in columns]
    return candidates.select(*CANDIDATE_COLUMNS, *keep)


def filter_and_decontaminate(
    annotated: Mapping[str, DataFrame],
    recipes: Mapping[str, CurationRecipe],
    items_index,
    run_id: str,
    flags: DataFrame | None = None,
) -> tuple[dict[str, DataFrame], dict[str, list[DataFrame]], DataFrame | None]:
    """The per-document steps of a full rebuild on some partitions: (kept, rejects, flags).

    The same calls, in the same order, as spark_jobs.stages.curate_corpora makes before the
    cross-document steps. `flags`: decontamination.flags rows already computed for these
    documents (the scan is skipped).
    """
    if flags is None:
        flags = contamination_flags(annotated, recipes, items_index)
    verdicts = contamination_verdicts(flags) if flags is not None else None
    kept: dict[str, DataFrame] = {}
    rejects: dict[str, list[DataFrame]] = {}
    for corpus, frame in annotated.items():
        recipe = recipes[corpus]
        kept[corpus], filtered = filter_documents(frame, recipe, run_id)
        rejects[corpus] = [filtered]
        if verdicts is not None and recipe.decontamination is not None:
            kept[corpus], contaminated = drop_contaminated(kept[corpus], verdicts, recipe, run_id)
            rejects[corpus].append(contaminated)
    return kept, rejects, flags


def outcome_moved(old: DataFrame | None, new: DataFrame | None) -> dict[Partition, int]:
    """Documents whose dedup outcome (dropped or not, for which keeper, by which kind)
    differs between two dedup.clusters tables, counted per (corpus, source)."""

    def drops(clusters: DataFrame | None) -> DataFrame | None:
        if clusters is None:
            return None
        where = clusters.select("id", "corpus", "source").distinct()
        return duplicates_to_drop(clusters).join(where, "id")

    old_drops, new_drops = drops(old), drops(new)
    if old_drops is None and new_drops is None:
        return {}
    if old_drops is None or new_drops is None:
        moved = old_drops if new_drops is None else new_drops
    else:
        a = old_drops.select("id", "corpus", "source", "keeper_id", "kind")
        b = new_drops.select("id", "corpus", "source", "keeper_id", "kind")
        moved = a.exceptAll(b).unionByName(b.exceptAll(a))
    counts = moved.select("id", "corpus", "source").distinct().groupBy("corpus", "source").count()
    return {(r["corpus"], r["source"]): r["count"] for r in counts.collect()}


# ---------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------


def _read_partitions(
    spark: SparkSession,
    lake: Lake,
    corpus: str,
    version: int,
    sources: Collection[str],
    all_sources: Collection[str],
) -> DataFrame:
    uri = lake.uri(document_tables(corpus)[1])
    if set(sources) >= set(all_sources):
        return read_spark(spark, uri, version=version, store=lake.store)
    # One read of all the partitions (one snapshot, tasks balanced over their files).
    return read_spark(
        spark, uri, version=version, store=lake.store, partitions={"source": sorted(sources)}
    )


def curate_corpora_incremental(
    spark: SparkSession,
    lake: Lake,
    recipes: Mapping[str, CurationRecipe],
    dedup_config: DedupConfig | None = None,
    *,
    run_id: str,
    metadata: Mapping[str, object],
    families: Collection[str] | None = None,
    table_metadata: Mapping[str, Mapping[str, object]] | None = None,
    shared_tables: Collection[str] = (CLUSTER_TABLE, FLAG_TABLE),
) -> IncrementalCurationReport:
    """curate_corpora's tables, recomputing only what changed since the last run.

    Arguments as for spark_jobs.stages.curate_corpora. A run that writes only some families
    or some shared tables, or whose recipes count duplicate paragraphs, is a full rebuild
    (curate_corpora itself); the report's `mode` and `reason` say so.
    """
    config = dedup_config or DedupConfig()
    extra = table_metadata or {}
    present = [c for c in recipes if table_exists(lake.uri(document_tables(c)[1]), lake.store)]
    reason = ""
    if families is not None and not set(present) <= set(families):
        reason = "only some families were selected"
    elif not {CLUSTER_TABLE, FLAG_TABLE} <= set(shared_tables):
        reason = "dedup.clusters or decontamination.flags was not selected"
    elif any(recipes[c].dedup.max_duplicate_paragraph_fraction is not None for c in present):
        reason = "a recipe drops duplicate paragraphs, which are counted across every document"
    if reason:
        return _full_rebuild(
            spark,
            lake,
            recipes,
            config,
            reason,
            run_id=run_id,
            metadata=metadata,
            families=families,
            table_metadata=extra,
            shared_tables=shared_tables,
        )
    if not present:
        return IncrementalCurationReport(
            dedup_config=config.fingerprint, reason="no annotated tables"
        )
    return _incremental(spark, lake, recipes, config, present, run_id, metadata, extra)


def _full_rebuild(
    spark,
    lake,
    recipes,
    config,
    reason,
    *,
    run_id,
    metadata,
    families,
    table_metadata,
    shared_tables,
) -> IncrementalCurationReport:
    log.info("curate_corpora: full rebuild (%s)", reason)
    summary = {"curation.mode": "full", "curation.reason": reason}
    tables = {name: {**meta, **summary} for name, meta in table_metadata.items()}
    for corpus in recipes:
        tables.setdefault(document_tables(corpus)[2], dict(summary))
    report = curate_corpora(
        spark,
        lake,
        recipes,
        config,
        run_id=run_id,
        metadata={**metadata, **summary},
        families=families,
        table_metadata=tables,
        shared_tables=shared_tables,
    )
    return IncrementalCurationReport(
        families=report.families,
        shared=report.shared,
        dedup_config=report.dedup_config,
        mode="full",
        reason=reason,
    )


def _incremental(
    spark: SparkSession,
    lake: Lake,
    recipes: Mapping[str, CurationRecipe],
    config: DedupConfig,
    corpora: Sequence[str],
    run_id: str,
    metadata: Mapping[str, object],
    extra: Mapping[str, Mapping[str, object]],
) -> IncrementalCurationReport:
    versions = {c: _version(lake, document_tables(c)[1]) for c in corpora}
    schemas = {
        c: set(
            read_spark(spark, lake.uri(document_tables(c)[1]), version=v, store=lake.store).columns
        )
        for c, v in versions.items()
    }
    items, items_version = _benchmark_items(lake)
    benchmarks = benchmarks_fingerprint(items, items_version)
    partitions: dict[Partition, AnnotatedPartition] = {
        (p.corpus, p.source): p
        for c, v in versions.items()
        for p in annotated_partitions(lake.uri(document_tables(c)[1]), c, v, lake.store)
    }
    fingerprints = {
        key: input_fingerprint(p, recipes[key[0]], benchmarks) for key, p in partitions.items()
    }
    decontaminates = any(recipes[c].decontamination is not None for c in corpora)
    state = _stored_state(lake)
    stored, stale, why = _usable_state(lake, state, corpora, decontaminates)
    plan = plan_curation(fingerprints, stored, stale)
    previous = state[0] if state and not why else None
    report = IncrementalCurationReport(
        dedup_config=config.fingerprint,
        mode="incremental" if previous else "full",
        reason=why or "",
        recomputed=sorted(plan.changed),
        removed=sorted(plan.removed),
    )
    log.info(
        "curate_corpora (%s%s): %d partitions changed, %d removed, %d unchanged",
        report.mode,
        f": {why}" if why else "",
        len(plan.changed),
        len(plan.removed),
        len(partitions) - len(plan.changed),
    )
    inputs = {document_tables(c)[1]: v for c, v in versions.items()}
    lineage = {
        **metadata,
        **{f"lineage.input.{name}": v for name, v in inputs.items()},
        "lineage.dedup_config": config.fingerprint,
    }
    if items_version is not None:
        lineage[f"lineage.input.{BENCHMARK_TABLE}"] = items_version

    @functools.cache
    def index(n: int, names: str | tuple[str, ...]) -> BenchmarkIndex:
        return build_index(items, n, names)

    sources = {c: [s for (k, s) in partitions if k == c] for c in corpora}
    cached: list[DataFrame] = []
    # Connected components checkpoint here: storage every executor reaches (local or s3://).
    checkpoints = FrameCheckpoints.under_lake(lake.root_uri, lake.store, name="dedup")

    def recompute(keys: Collection[Partition], flags: DataFrame | None = None):
        frames = {}
        for corpus in corpora:
            mine = [s for (c, s) in keys if c == corpus]
            if mine:
                # Cached: the filters' reject branches and the kept rows all start from it.
                frames[corpus] = _read_partitions(
                    spark, lake, corpus, versions[corpus], mine, sources[corpus]
                ).persist(StorageLevel.MEMORY_AND_DISK)
                cached.append(frames[corpus])
        kept, rejects, flags = filter_and_decontaminate(frames, recipes, index, run_id, flags)
        for corpus in kept:
            kept[corpus] = kept[corpus].persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(kept[corpus])
        if flags is not None:
            flags = flags.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(flags)
        return kept, rejects, flags

    try:
        signatures, signature_plan, signature_commits = None, None, []
        if any(recipes[c].dedup.fuzzy for c in corpora):
            signatures, signature_plan, signature_commits = refresh_signatures(
                spark, lake, versions, config, {**metadata, **extra.get(SIGNATURE_TABLE, {})}
            )
        kept, rejects, fresh_flags = recompute(plan.changed)

        # 1. The stored dedup input: changed partitions replaced, removed ones emptied.
        summary = report.summary()
        candidates_commit = _update_candidates(
            spark, lake, kept, plan, previous is None, {**lineage, **summary}
        )
        by_corpus = {
            c: stored_candidates(
                read_spark(
                    spark,
                    lake.uri(CANDIDATE_TABLE),
                    version=candidates_commit.version,
                    store=lake.store,
                    partitions={"corpus": c},
                ),
                schemas[c],
            )
            for c in corpora
        }

        # 2. Clusters over every family's candidates, exactly as a full rebuild forms them.
        clusters = cluster_across_corpora(by_corpus, recipes, config, signatures, checkpoints)
        if clusters is not None:
            clusters = clusters.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(clusters)

        # 3. Untouched partitions whose documents' dedup outcome moved are rewritten too.
        old_clusters = None
        if previous is not None and previous["clusters_version"] is not None:
            old_clusters = read_spark(
                spark,
                lake.uri(CLUSTER_TABLE),
                version=previous["clusters_version"],
                store=lake.store,
            )
        moved = outcome_moved(old_clusters, clusters) if previous is not None else {}
        rewritten = sorted(k for k in moved if k in partitions and k not in plan.changed)
        report.rewritten_for_dedup = rewritten
        summary = report.summary()
        if rewritten:
            log.info(
                "dedup outcome moved in %d untouched partitions: %s", len(rewritten), rewritten
            )
            # Their flags are stored and still valid (same inputs): no decontamination scan.
            stored_flags = None
            if decontaminates and previous["flags_version"] is not None:
                stored_flags = read_spark(
                    spark,
                    lake.uri(FLAG_TABLE),
                    version=previous["flags_version"],
                    store=lake.store,
                )
            more_kept, more_rejects, _ = recompute(rewritten, stored_flags)
            for corpus, frame in more_kept.items():
                if corpus in kept:
                    kept[corpus] = kept[corpus].unionByName(frame)
                    rejects[corpus].extend(more_rejects[corpus])
                else:
                    kept[corpus], rejects[corpus] = frame, more_rejects[corpus]

        # 4. Curated partitions and curate rejects of every recomputed partition.
        if clusters is not None:
            kept, duplicate_rejects = drop_duplicates(kept, clusters, run_id)
            for corpus, frame in duplicate_rejects.items():
                rejects[corpus].append(frame)
        touched = set(plan.changed) | set(rewritten) | set(plan.removed)
        curated_versions: dict[str, int] = {}
        for corpus in corpora:
            curated_table = document_tables(corpus)[2]
            family_lineage = {
                **lineage,
                **summary,
                "lineage.recipe": recipes[corpus].name,
                "lineage.recipe_hash": recipes[corpus].fingerprint,
                **extra.get(curated_table, {}),
            }
            mine = sorted(s for (c, s) in touched if c == corpus)
            family = _write_family(
                lake,
                corpus,
                kept.get(corpus),
                rejects.get(corpus, []),
                mine,
                corpus in plan.whole,
                family_lineage,
                cached,
            )
            family.inputs = dict(inputs)
            report.families[corpus] = family
            if curated_table in family.commits:
                curated_versions[corpus] = family.commits[curated_table].version

        # 5. Shared tables: clusters whole (no text), flags with the changed partitions'.
        shared = report.shared
        shared.inputs = dict(inputs)
        shared_lineage = {**lineage, **summary}
        if clusters is not None:
            shared.commits[CLUSTER_TABLE] = _replace(
                lake, CLUSTER_TABLE, clusters, {**shared_lineage, **extra.get(CLUSTER_TABLE, {})}
            )
            shared.counts["duplicate clusters"] = (
                clusters.select("kind", "cluster_id").distinct().count()
            )
        if decontaminates:
            flags = _merged_flags(
                spark, lake, previous, fresh_flags, set(plan.changed) | set(plan.removed)
            )
            if flags is not None:
                flags = flags.persist(StorageLevel.MEMORY_AND_DISK)
                cached.append(flags)
                shared.commits[FLAG_TABLE] = _replace(
                    lake, FLAG_TABLE, flags, {**shared_lineage, **extra.get(FLAG_TABLE, {})}
                )
                shared.counts["contaminated documents"] = flags.select("id").distinct().count()
        shared.commits[CANDIDATE_TABLE] = candidates_commit
        shared.counts["partitions recomputed"] = len(plan.changed)
        shared.counts["partitions rewritten for dedup"] = len(rewritten)
        shared.counts["partitions removed"] = len(plan.removed)
        shared.counts["partitions unchanged"] = len(partitions) - len(plan.changed) - len(rewritten)
        if signature_plan is not None:
            shared.counts["signature partitions recomputed"] = len(signature_plan.recompute)
            shared.counts["signature partitions reused"] = len(signature_plan.reuse)
            shared.counts["signature partitions removed"] = len(signature_plan.remove)
            if signature_commits:
                shared.commits[SIGNATURE_TABLE] = signature_commits[-1]

        # 6. The state, last: a run that fails before this leaves it describing older tables,
        # so the next run sees the mismatch and rebuilds.
        clusters_version = _version(lake, CLUSTER_TABLE) if clusters is not None else None
        flags_version = _version(lake, FLAG_TABLE) if decontaminates else None
        rows = [
            {
                "corpus": c,
                "source": s,
                "input_fingerprint": fingerprints[(c, s)],
                "annotated_version": versions[c],
                "curated_version": curated_versions.get(c),
                "candidates_version": candidates_commit.version,
                "clusters_version": clusters_version,
                "flags_version": flags_version,
                "run_id": run_id,
            }
            for (c, s) in sorted(partitions)
        ]
        shared.commits[STATE_TABLE] = write_arrow(
            pa.Table.from_pylist(rows, schema=STATE_SCHEMA),
            lake.uri(STATE_TABLE),
            mode="overwrite",
            metadata={**metadata, **summary},
            store=lake.store,
            overwrite_schema=True,
        )
    finally:
        for frame in cached:
            frame.unpersist()
        checkpoints.clear()
    return report


def _update_candidates(
    spark: SparkSession,
    lake: Lake,
    kept: Mapping[str, DataFrame],
    plan: CurationPlan,
    rebuild: bool,
    lineage: Mapping[str, object],
) -> CommitResult:
    """curation.candidates with the changed partitions' kept documents (removed partitions
    emptied); rewritten whole on a rebuild."""
    frames = [candidate_frame(frame) for frame in kept.values()]
    fresh = functools.reduce(DataFrame.unionByName, frames) if frames else None
    uri = lake.uri(CANDIDATE_TABLE)
    if rebuild or not table_exists(uri, lake.store):
        if fresh is None:
            raise ValueError("a rebuild of curation.candidates needs the annotated documents")
        return _replace(lake, CANDIDATE_TABLE, fresh, lineage)
    if fresh is None:
        fresh = _empty(spark, lake, CANDIDATE_TABLE)
    commit = None
    sources: dict[str, list[str]] = {}
    for corpus, source in sorted(plan.changed | plan.removed):
        sources.setdefault(corpus, []).append(source)
    for corpus, names in sources.items():  # one commit per family, all its partitions
        rows = fresh.where((F.col("corpus") == corpus) & F.col("source").isin(names))
        commit = _write(lake, CANDIDATE_TABLE, rows, lineage, {"corpus": corpus, "source": names})
    if commit is None:  # nothing changed: the table stays at its version
        commit = CommitResult(uri, open_table(uri, store=lake.store).version(), 0, 0, 0)
    return commit


def _write_family(
    lake: Lake,
    corpus: str,
    kept: DataFrame | None,
    rejects: Sequence[DataFrame],
    sources: Sequence[str],
    whole: bool,
    lineage: Mapping[str, object],
    cached: list[DataFrame],
) -> StageReport:
    """Write a family's recomputed partitions (or its whole curated table) and curate rejects;
    report the tables' totals after the writes."""
    curated_table = document_tables(corpus)[2]
    if kept is None and not table_exists(lake.uri(curated_table), lake.store):
        return StageReport(counts={"kept": 0, "rejected": 0})  # a family with no sources yet
    removed = None
    if rejects:
        removed = functools.reduce(DataFrame.unionByName, rejects)
        removed = removed.persist(StorageLevel.MEMORY_AND_DISK)
        cached.append(removed)
    commits: dict[str, CommitResult] = {}
    if whole and kept is not None:
        commits[curated_table] = _replace(lake, curated_table, kept, lineage)
        commits["rejects"] = _write(
            lake, "rejects", removed, lineage, {"corpus": corpus, "stage": "curate"}
        )
    elif sources:
        # One commit per table for all the recomputed partitions; a removed source has no
        # rows left, so the write clears its partitions.
        spark = lake_session(kept, removed)
        names = sorted(sources)
        rows = kept if kept is not None else _empty(spark, lake, curated_table)
        gone = removed if removed is not None else _empty(spark, lake, "rejects")
        in_sources = F.col("source").isin(names)
        commits[curated_table] = _write(
            lake, curated_table, rows.where(in_sources), lineage, {"source": names}
        )
        commits["rejects"] = _write(
            lake,
            "rejects",
            gone.where(in_sources),
            lineage,
            {"corpus": corpus, "stage": "curate", "source": names},
        )
    if curated_table not in commits:  # nothing to rewrite: the table as it stands
        uri = lake.uri(curated_table)
        commits[curated_table] = CommitResult(
            uri, open_table(uri, store=lake.store).version(), 0, 0, 0
        )
    kept_rows = _table_rows(lake, curated_table)
    rejected = _table_rows(lake, "rejects", {"corpus": corpus, "stage": "curate"})
    counts = {"kept": kept_rows, "rejected": rejected}
    for name, commit in list(commits.items()):
        # The tables' totals, not this run's last partition write.
        total = kept_rows if name == curated_table else rejected
        commits[name] = replace(commit, num_rows=total)
    return StageReport(commits=commits, counts=counts)


def lake_session(*frames: DataFrame | None) -> SparkSession | None:
    for frame in frames:
        if frame is not None:
            return frame.sparkSession
    return SparkSession.getActiveSession()


def _empty(spark: SparkSession, lake: Lake, name: str) -> DataFrame:
    """No rows, with the table's columns: what an overwrite of a partition to nothing writes."""
    return read_spark(spark, lake.uri(name), store=lake.store).limit(0)


def _table_rows(lake: Lake, name: str, where: Mapping[str, str] | None = None) -> int:
    """Rows of a table's current snapshot (from the log's file statistics), optionally of the
    partitions matching `where`."""
    uri = lake.uri(name)
    if not table_exists(uri, lake.store):
        return 0
    adds = pa.table(open_table(uri, store=lake.store).get_add_actions(flatten=True))
    if adds.num_rows == 0:
        return 0
    mask = None
    for column, value in (where or {}).items():
        match = pc.fill_null(pc.equal(adds.column(f"partition.{column}"), value), False)
        mask = match if mask is None else pc.and_(mask, match)
    if mask is not None:
        adds = adds.filter(mask)
    return int(pc.sum(adds.column("num_records")).as_py() or 0)


def _merged_flags(
    spark: SparkSession,
    lake: Lake,
    previous: Mapping[str, object] | None,
    fresh: DataFrame | None,
    recomputed: set[Partition],
) -> DataFrame | None:
    """decontamination.flags: the stored rows of untouched partitions and the fresh rows of
    recomputed ones (fresh rows only, on a rebuild)."""
    if previous is None or previous["flags_version"] is None:
        return fresh
    stored = read_spark(
        spark, lake.uri(FLAG_TABLE), version=previous["flags_version"], store=lake.store
    )
    if recomputed:
        keys = spark.createDataFrame(sorted(recomputed), "corpus string, source string")
        stored = stored.join(F.broadcast(keys), ["corpus", "source"], "left_anti")
    stored = stored.select(*(fresh.columns if fresh is not None else stored.columns))
    return stored if fresh is None else stored.unionByName(fresh)
