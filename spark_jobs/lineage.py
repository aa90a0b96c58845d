"""Lineage between documents, lake tables, mixtures, exported shards and training runs.

Answers "what fed this run?" (tables, versions, sources, licenses) and "where did this
document go?" (tables now, mixture versions, shards, runs), from Delta snapshots (time
travel) and the dataset inputs MLflow runs recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import mlflow
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from spark_jobs.delta import open_table, snapshot_dataset, table_exists
from spark_jobs.lake import Lake
from spark_jobs.mixtures.build import EXPORTS_TABLE, latest_export, read_manifest
from spark_jobs.storage import LOCAL, ObjectStore
from spark_jobs.tracking import (
    MIXTURE_SOURCE_CONTEXT,
    RunInput,
    log_manifest,
    manifest_snapshots,
    open_run,
    run_inputs,
)

TRAINING_EXPERIMENT = "pilehouse-training"
ROLES = {"training": "trained on", MIXTURE_SOURCE_CONTEXT: "mixture drawn from"}


# --- Tables -----------------------------------------------------------------------------


def rows_with_ids(
    uri: str,
    ids: Iterable[str],
    *,
    version: int | None = None,
    columns: Iterable[str] = ("id",),
    store: ObjectStore = LOCAL,
) -> pa.Table:
    """Rows of a snapshot whose id is one of `ids` (only the given columns that exist)."""
    dataset = snapshot_dataset(uri, version=version, store=store)
    if "id" not in dataset.schema.names:
        return pa.table({"id": pa.array([], pa.string())})
    wanted = [c for c in dict.fromkeys(["id", *columns]) if c in dataset.schema.names]
    return dataset.to_table(columns=wanted, filter=ds.field("id").isin(pa.array(sorted(ids))))


# --- Runs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSummary:
    """One Delta input of a run, and what it held."""

    name: str
    uri: str
    version: int | None
    rows: int
    tokens: int | None
    by_source: dict[str, int]
    by_license: dict[str, int]
    error: str | None = None
    context: str | None = None  # the MLflow dataset context: training, mixture_source


@dataclass(frozen=True)
class RunLineage:
    run_id: str
    run_name: str
    experiment: str
    status: str
    params: dict[str, str]
    inputs: list[InputSummary]


def _count_by(table: pa.Table, column: str, weight: str | None) -> dict[str, int]:
    if column not in table.column_names or table.num_rows == 0:
        return {}
    if weight:
        grouped = table.group_by(column).aggregate([(weight, "sum")])
        values = grouped[f"{weight}_sum"]
    else:
        grouped = table.group_by(column).aggregate([(column, "count")])
        values = grouped[f"{column}_count"]
    return dict(
        sorted(
            zip(grouped[column].to_pylist(), (int(v) for v in values.to_pylist()), strict=True),
            key=lambda kv: str(kv[0]),
        )
    )


def summarize_input(item: RunInput, store: ObjectStore = LOCAL) -> InputSummary:
    """Rows, tokens, sources and licenses of one snapshot a run consumed."""
    try:
        dataset = snapshot_dataset(item.uri, version=item.version, store=store)
        columns = [c for c in ("source", "license", "token_count") if c in dataset.schema.names]
        table = dataset.to_table(columns=columns)
    except (FileNotFoundError, ValueError, OSError) as error:
        return InputSummary(
            item.name, item.uri, item.version, 0, None, {}, {}, str(error), item.context
        )
    weight = "token_count" if "token_count" in table.column_names else None
    return InputSummary(
        name=item.name,
        uri=item.uri,
        version=item.version,
        rows=table.num_rows,
        tokens=int(pc.sum(table["token_count"]).as_py() or 0) if weight else None,
        by_source=_count_by(table, "source", weight),
        by_license=_count_by(table, "license", weight),
        context=item.context,
    )


def run_lineage(run_id: str, tracking_uri: str, store: ObjectStore = LOCAL) -> RunLineage:
    """Which tables, versions, sources and licenses fed an MLflow run."""
    client = mlflow.MlflowClient(tracking_uri)
    run = client.get_run(run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    return RunLineage(
        run_id=run_id,
        run_name=run.info.run_name or "",
        experiment=experiment.name,
        status=run.info.status,
        params=dict(run.data.params),
        inputs=[summarize_input(item, store) for item in run_inputs(client, run_id)],
    )


def render_run_lineage(lineage: RunLineage) -> str:
    unit = "tokens"
    lines = [
        f"run {lineage.run_id} ({lineage.run_name}) in experiment {lineage.experiment}, "
        f"{lineage.status}"
    ]
    mixture = lineage.params.get("mixture.name")
    if mixture:
        lines.append(
            f"mixture {mixture} v{lineage.params.get('mixture.version')} "
            f"(recipe {lineage.params.get('mixture.recipe_hash')}, tokenizer "
            f"{lineage.params.get('tokenizer.version')})"
        )
    if not lineage.inputs:
        lines.append("no Delta dataset inputs were logged on this run")
    for item in lineage.inputs:
        role = ROLES.get(item.context or "", item.context or "input")
        lines.append(f"  {item.name} @ v{item.version}  {item.uri}  [{role}]")
        if item.error:
            lines.append(f"    unreadable: {item.error}")
            continue
        counted = unit if item.tokens is not None else "rows"
        total = f", {item.tokens} tokens" if item.tokens is not None else ""
        lines.append(f"    {item.rows} rows{total}")
        for label, counts in (("sources", item.by_source), ("licenses", item.by_license)):
            if counts:
                shown = ", ".join(f"{k} {v}" for k, v in counts.items())
                lines.append(f"    {label} ({counted}): {shown}")
    return "\n".join(lines)


def all_runs(tracking_uri: str) -> Iterator[mlflow.entities.Run]:
    """Every run of every experiment in the tracking store."""
    client = mlflow.MlflowClient(tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return
    token = None
    while True:
        page = client.search_runs(experiments, max_results=500, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


@dataclass(frozen=True)
class RunHit:
    run_id: str
    run_name: str
    experiment_id: str
    tables: tuple[str, ...]  # "curated.web@v3" entries that held the documents
    document_ids: tuple[str, ...]


def runs_holding(ids: Iterable[str], tracking_uri: str, store: ObjectStore = LOCAL) -> list[RunHit]:
    """Runs whose logged Delta inputs (at their versions) contain any of the documents."""
    ids = sorted(set(ids))
    client = mlflow.MlflowClient(tracking_uri)

    @functools.cache
    def holding(uri: str, version: int | None) -> frozenset[str]:
        try:
            return frozenset(
                rows_with_ids(uri, ids, version=version, store=store)["id"].to_pylist()
            )
        except (FileNotFoundError, ValueError, OSError):
            return frozenset()  # a vacuumed or moved snapshot cannot be checked

    hits = []
    for run in all_runs(tracking_uri):
        tables, found = [], set()
        for item in run_inputs(client, run.info.run_id):
            held = holding(item.uri, item.version)
            if held:
                tables.append(f"{item.name}@v{item.version}")
                found |= held
        if tables:
            hits.append(
                RunHit(
                    run.info.run_id,
                    run.info.run_name or "",
                    run.info.experiment_id,
                    tuple(tables),
                    tuple(sorted(found)),
                )
            )
    return sorted(hits, key=lambda h: h.run_id)


# --- Mixtures and shards ----------------------------------------------------------------


@dataclass(frozen=True)
class MixtureHit:
    mixture: str
    version: int
    positions: tuple[int, ...]
    document_ids: tuple[str, ...]
    current: bool


@dataclass(frozen=True)
class ShardHit:
    mixture: str
    mixture_version: int
    manifest_uri: str
    shard: str
    sha256: str
    document_ids: tuple[str, ...]


def mixtures_holding(lake: Lake, ids: Iterable[str]) -> list[MixtureHit]:
    """Every version of every mixture table that contains any of the documents."""
    ids = sorted(set(ids))
    hits = []
    for name in sorted(lake.tables()):
        if not name.startswith("mixtures."):
            continue
        uri = lake.uri(name)
        latest = open_table(uri, store=lake.store).version()
        for version in range(latest + 1):
            try:
                rows = rows_with_ids(
                    uri, ids, version=version, columns=["position"], store=lake.store
                )
            except (FileNotFoundError, ValueError, OSError):
                continue  # vacuumed
            if rows.num_rows:
                hits.append(
                    MixtureHit(
                        name.split(".", 1)[1],
                        version,
                        tuple(sorted(rows["position"].to_pylist())),
                        tuple(sorted(set(rows["id"].to_pylist()))),
                        version == latest,
                    )
                )
    return hits


def shards_holding(lake: Lake, mixtures: Iterable[MixtureHit]) -> list[ShardHit]:
    """Exported shards cut from those mixture versions whose positions include the documents."""
    uri = lake.uri(EXPORTS_TABLE)
    hits_by_version = {(m.mixture, m.version): m for m in mixtures}
    if not hits_by_version or not table_exists(uri, lake.store):
        return []
    exports = snapshot_dataset(uri, store=lake.store).to_table().to_pylist()
    found = []
    for export in exports:
        hit = hits_by_version.get((export["mixture"], export["mixture_version"]))
        if hit is None:
            continue
        inside = [
            p for p in hit.positions if export["first_position"] <= p <= export["last_position"]
        ]
        if inside:
            positions = set(inside)
            rows = rows_with_ids(
                lake.uri(f"mixtures.{hit.mixture}"),
                hit.document_ids,
                version=hit.version,
                columns=["position"],
                store=lake.store,
            )
            ids = sorted({r["id"] for r in rows.to_pylist() if r["position"] in positions})
            found.append(
                ShardHit(
                    export["mixture"],
                    export["mixture_version"],
                    export["manifest_uri"],
                    export["shard"],
                    export["sha256"],
                    tuple(ids),
                )
            )
    return sorted(found, key=lambda s: (s.manifest_uri, s.shard))


# --- Documents ----------------------------------------------------------------------------


@dataclass
class DocumentLineage:
    document_id: str
    tables: dict[str, int] = field(default_factory=dict)  # current tables holding it -> version
    mixtures: list[MixtureHit] = field(default_factory=list)
    shards: list[ShardHit] = field(default_factory=list)
    runs: list[RunHit] = field(default_factory=list)
    # For a synthetic sample: its source document, recipe, template and model, per table.
    derived_from: list[dict] = field(default_factory=list)


_PROVENANCE = ("source_doc_id", "source_table", "source_version", "recipe", "template_hash",
               "model", "model_fingerprint")  # fmt: skip


def synthetic_provenance(lake: Lake, doc_id: str) -> list[dict]:
    """Where a synthetic sample came from, from the synthetic.* tables that hold it."""
    found = []
    for name in lake.tables():
        if not name.startswith("synthetic."):
            continue
        rows = rows_with_ids(lake.uri(name), [doc_id], columns=_PROVENANCE, store=lake.store)
        found += [{"table": name, **row} for row in rows.to_pylist()]
    return found


def tables_holding(lake: Lake, ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Current tables holding any of the documents: name -> (version, matching rows)."""
    ids = sorted(set(ids))
    held = {}
    for name in sorted(lake.tables()):
        uri = lake.uri(name)
        version = open_table(uri, store=lake.store).version()
        rows = rows_with_ids(uri, ids, version=version, store=lake.store).num_rows
        if rows:
            held[name] = (version, rows)
    return held


def document_lineage(doc_id: str, lake: Lake, tracking_uri: str | None) -> DocumentLineage:
    """Where a document is now, which mixture versions and shards held it, which runs used it."""
    lineage = DocumentLineage(doc_id)
    lineage.tables = {name: v for name, (v, _) in tables_holding(lake, [doc_id]).items()}
    lineage.mixtures = mixtures_holding(lake, [doc_id])
    lineage.shards = shards_holding(lake, lineage.mixtures)
    if tracking_uri:
        lineage.runs = runs_holding([doc_id], tracking_uri, lake.store)
    lineage.derived_from = synthetic_provenance(lake, doc_id)
    return lineage


def render_document_lineage(lineage: DocumentLineage) -> str:
    lines = [f"document {lineage.document_id}"]
    if lineage.tables:
        lines.append("  in current table versions:")
        lines += [f"    {name} @ v{v}" for name, v in sorted(lineage.tables.items())]
    else:
        lines.append("  in no current table version")
    for p in lineage.derived_from:
        lines.append(
            f"  synthetic sample of recipe {p.get('recipe')} ({p['table']}): source document "
            f"{p.get('source_doc_id')} of {p.get('source_table')} @ v{p.get('source_version')}, "
            f"template {p.get('template_hash')}, model {p.get('model')} "
            f"({p.get('model_fingerprint')})"
        )
    lines.append("  mixtures:" if lineage.mixtures else "  in no mixture version")
    for hit in lineage.mixtures:
        now = " (current)" if hit.current else ""
        lines.append(
            f"    mixtures.{hit.mixture} @ v{hit.version}{now}: "
            f"{len(hit.positions)} occurrence(s), positions {list(hit.positions)[:10]}"
        )
    lines.append("  exported shards:" if lineage.shards else "  in no exported shard")
    lines += [f"    {s.manifest_uri.rsplit('/', 1)[0]}/{s.shard}" for s in lineage.shards]
    lines.append("  training runs:" if lineage.runs else "  in no recorded training run")
    lines += [f"    {r.run_id} ({r.run_name}) via {', '.join(r.tables)}" for r in lineage.runs]
    return "\n".join(lines)


# --- External training runs ---------------------------------------------------------------


def start_training_run(
    lake: Lake,
    mixture: str,
    *,
    tracking_uri: str,
    experiment: str = TRAINING_EXPERIMENT,
    run_id: str | None = None,
    run_name: str | None = None,
    manifest_uri: str | None = None,
    artifact_location: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Register an external training job: open (or attach to) an MLflow run and log the
    mixture's manifest and its Delta dataset inputs. Returns the run id.

    Args:
        lake: where the mixture and its export registry are.
        mixture: mixture name; its newest export is used unless `manifest_uri` is given.
        tracking_uri: MLflow tracking URI.
        experiment: experiment for a new run (ignored when attaching).
        run_id: attach to this existing run instead of creating one; its status is kept.
        run_name: name of a new run (default train-<mixture>-v<version>).
        manifest_uri: a specific export's manifest.json.
        artifact_location: artifact root if the experiment is created here.
        tags: extra run tags.
    """
    manifest_uri = manifest_uri or latest_export(lake, mixture)
    manifest = read_manifest(manifest_uri, lake.store)
    snapshots = manifest_snapshots(manifest, lake.store)
    name = run_name or f"train-{mixture}-v{manifest['mixture']['version']}"
    with open_run(
        tracking_uri,
        experiment,
        run_id=run_id,
        run_name=name,
        artifact_location=artifact_location,
        tags={"pilehouse.run_kind": "external", **(tags or {})} if run_id is None else tags,
    ) as run:
        log_manifest(manifest, manifest_uri, snapshots)
        return run.info.run_id
