"""The `pilehouse` command: run the pipeline, open the UIs, query the lake."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Threads that libraries start while these imports run (BLAS, Arrow's allocator) and those
# DuckDB starts for the SQL shell are started with SIGINT blocked, so the kernel always hands
# a Ctrl-C to the main thread: taken by another thread, it would not interrupt the shell's
# wait for the next key, and the first Ctrl-C would seem lost. The main thread's mask is
# restored at once.
_SAVED_MASK = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
try:
    from orchestration.settings import load_settings
    from spark_jobs.config_files import ConfigError
finally:
    signal.pthread_sigmask(signal.SIG_SETMASK, _SAVED_MASK)

LOCALHOST = "127.0.0.1"
VERBOSE_HELP = "Spark's and Dagster's logs on the terminal too"


def cmd_run(args: argparse.Namespace) -> int:
    """Generate the sample corpus if needed and materialize the whole asset graph, in a worker
    (`python -m orchestration.pipeline`) that Ctrl-C or SIGTERM stops with its Spark JVM."""
    from infra.process_tree import supervise
    from orchestration.instance import prepare_dagster_home

    prepare_dagster_home(load_settings())  # exported: the worker uses the same instance
    runs = _RunCancellation()
    command = [sys.executable, "-m", "orchestration.pipeline"]
    if getattr(args, "pages", None):
        command += ["--pages", str(args.pages)]
    for flag in ("regenerate", "no_samples", "curate_only", "verbose"):
        if getattr(args, flag, False):
            command.append(f"--{flag.replace('_', '-')}")
    return supervise(command, before_stop=runs.before_stop, after_stop=runs.after_stop)


def cmd_curate(args: argparse.Namespace) -> int:
    """Curation alone, on what is already ingested: the curate run of `pilehouse run`."""
    args.curate_only = True
    return cmd_run(args)


def _runs_of(instance, tree) -> list:
    """The unfinished Dagster runs executed, or being launched, by processes of `tree`: a run
    whose RUN_START came from one of them, or that was launched through a code server of
    theirs (its `.dagster/grpc_info` socket or port is on one of their command lines)."""
    import json

    import dagster as dg

    pids = {proc.pid for proc in tree}
    arguments = {word for proc in tree for word in proc.command.split()}
    in_progress = [
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ]
    runs = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=in_progress)):
        server = json.loads(run.tags.get(".dagster/grpc_info", "{}"))
        if str(server.get("socket") or server.get("port") or "") in arguments:
            runs.append(run)
            continue
        started = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1
        ).records
        if started and started[0].event_log_entry.dagster_event.pid in pids:
            runs.append(run)
    return runs


class _RunCancellation:
    """Stop hooks for `supervise` that keep this command's Dagster runs honest. The instance
    is opened up front, so that a stop does not wait for it."""

    def __init__(self) -> None:
        import dagster as dg

        self.instance = dg.DagsterInstance.get()

    def before_stop(self, tree) -> None:
        """Mark this command's runs as being canceled, so that the run workers record the
        interrupt as a cancellation (not a failure that run retries would launch again); a
        run still starting is canceled outright (its worker, if it starts, then does not)."""
        import dagster as dg

        for run in _runs_of(self.instance, tree):
            if run.status == dg.DagsterRunStatus.STARTING:
                self.instance.report_run_canceled(
                    run, message="Canceled before it started: pilehouse was interrupted."
                )
            elif run.status == dg.DagsterRunStatus.STARTED:
                self.instance.report_run_canceling(
                    run, message="Stopping: pilehouse was interrupted."
                )

    def after_stop(self, tree) -> None:
        """Once every process is gone: a run whose worker could not say so itself is CANCELED."""
        for run in _runs_of(self.instance, tree):
            self.instance.report_run_canceled(
                run,
                message="pilehouse was stopped before this run finished; its processes "
                "are gone. Re-execute it from the UI or re-run the command.",
            )


def cmd_sample(args: argparse.Namespace) -> int:
    from spark_jobs.samples.bundled import ensure_samples

    settings = load_settings()
    try:
        ensure_samples(
            settings.landing_uri,
            pages=args.pages or settings.sample_pages,
            seed=args.seed,
            regenerate=True,
            store=settings.store,
        )
    except OSError as error:  # an unreachable or refusing object store
        print(f"error: writing the samples to {settings.landing_uri}: {error}", file=sys.stderr)
        return 2
    return 0


def sample_pages(text: str) -> int:
    """--pages: a whole number the sample generators support."""
    from spark_jobs.samples.bundled import MAX_PAGES, MIN_PAGES

    try:
        pages = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not MIN_PAGES <= pages <= MAX_PAGES:
        raise argparse.ArgumentTypeError(f"{pages} is outside {MIN_PAGES}..{MAX_PAGES:,}")
    return pages


def _running_daemon_age() -> float | None:
    """Seconds since a dagster-daemon last beat on this instance, if one did in the last minute."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        beats = instance.get_daemon_heartbeats().values()
    latest = max((beat.timestamp for beat in beats), default=None)
    if latest is not None and time.time() - latest < 60:
        return time.time() - latest
    return None


def cmd_ui(args: argparse.Namespace) -> int:
    """Dagster webserver + exactly one daemon (`dagster dev`) on loopback, on the same
    DAGSTER_HOME as `run`."""
    from infra.process_tree import supervise
    from orchestration.instance import prepare_dagster_home

    settings = load_settings()
    prepare_dagster_home(settings)
    # Two daemons on one instance would both tick sensors and schedules and launch runs twice.
    age = _running_daemon_age()
    if age is not None:
        print(
            f"error: a dagster-daemon is already running on DAGSTER_HOME={os.environ['DAGSTER_HOME']} "
            f"(last heartbeat {age:.0f} s ago); stop it first (or wait a minute if it just stopped)",
            file=sys.stderr,
        )
        return 2
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-m",
        "orchestration.definitions",
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    print(
        f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
    )
    # Data Docs and reports over http, so that the UI's links open; a child of this process,
    # so that the stop below ends it with the others.
    outputs_port = args.outputs_port or settings.outputs_port
    outputs = [
        sys.executable,
        *(
            "-m",
            "spark_jobs.analyst.outputs_server",
            "--host",
            args.host,
            "--port",
            str(outputs_port),
        ),
        *("--lake", settings.lake_uri, "--home", str(settings.home)),
    ]
    subprocess.Popen(outputs)
    print(f"Data Docs and reports on http://{args.host}:{outputs_port}/")
    # Ctrl-C or SIGTERM: this command's runs are marked canceling, `dagster dev` and its
    # webserver, daemon, code servers and run workers stop, whatever is left is killed, and
    # a run whose worker could not finish it is marked CANCELED.
    runs = _RunCancellation()
    return supervise(command, before_stop=runs.before_stop, after_stop=runs.after_stop)


def cmd_mlflow_ui(args: argparse.Namespace) -> int:
    from infra.process_tree import supervise

    settings = load_settings()
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        settings.mlflow_tracking_uri,
        "--default-artifact-root",
        settings.mlflow_artifacts_uri,
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    print(f"MLflow UI on http://{args.host}:{args.port}")
    return supervise(command)  # Ctrl-C or SIGTERM stops the server and its workers


def _lake():
    from spark_jobs.lake import Lake

    settings = load_settings()
    return Lake(settings.lake_uri, settings.store)


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param expects name=value, got {pair!r}")
        params[name] = value
    return params


def cmd_sql(args: argparse.Namespace) -> int:
    """Run one statement (or an example), or open the shell when none is given."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # see _SAVED_MASK
    try:
        from spark_jobs.analyst.sql import LakeSQL, example_queries
        from spark_jobs.analyst.sql_shell import format_table, run_shell
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    statement = args.query
    if args.example:
        examples = example_queries()
        if args.example not in examples:
            print(f"no example {args.example!r}; examples: {', '.join(examples)}", file=sys.stderr)
            return 2
        statement = examples[args.example].sql
    # DuckDB starts its worker threads with the connection (see _SAVED_MASK).
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        session = LakeSQL(_lake())
        session.arrow("SELECT 1")  # the thread pool exists before SIGINT is unblocked
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    with session:
        if statement is None:
            history = load_settings().home / "sql_history"
            return run_shell(session, max_width=args.max_width, history=history)
        try:
            table = session.arrow(statement, _params(args.param))
        except Exception as error:
            # Refusals, unknown tables, bad time-travel references, SQL errors: say it, exit 2.
            print(f"error: {error}", file=sys.stderr)
            return 2
    print(format_table(table, args.max_width))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from spark_jobs.analyst.table_diff import diff_snapshots, render_diff

    try:
        diff = diff_snapshots(_lake(), args.table, args.old, args.new)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render_diff(diff))
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from spark_jobs.analyst.catalog import describe_lake, describe_table, render_catalog

    lake = _lake()
    infos = [describe_table(lake, name) for name in args.tables] if args.tables else None
    print(render_catalog(infos or describe_lake(lake), columns=not args.no_columns))
    return 0


def cmd_sql_server(args: argparse.Namespace) -> int:
    """Spark Connect server on loopback with every lake table registered by name, in a
    worker (`python -m spark_jobs.analyst.spark_sql`) that Ctrl-C or SIGTERM stops with its JVM."""
    from infra.process_tree import supervise

    settings = load_settings()
    command = [
        sys.executable,
        *("-m", "spark_jobs.analyst.spark_sql", "--lake", settings.lake_uri),
        *("--host", args.host, "--port", str(args.port), "--master", settings.spark_master),
        *("--refresh-seconds", str(args.refresh_seconds)),
    ]
    return supervise(command)


def cmd_report(args: argparse.Namespace) -> int:
    from spark_jobs.analyst.corpus_report import write_corpus_report

    report = write_corpus_report(_lake())
    print(f"corpus report: {report.index_uri}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """What is ingested, curated, failing and queued (the lake's logs and the Dagster
    instance; no Spark)."""
    from orchestration.instance import prepare_dagster_home
    from orchestration.status import collect_status, render_status

    settings = load_settings()
    prepare_dagster_home(settings)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        print(render_status(collect_status(settings, instance)))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from orchestration.run_summary import render_summary
    from spark_jobs.lake import Lake

    settings = load_settings()
    print(render_summary(Lake(settings.lake_uri, settings.store)))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Re-ingest sources of a family: one run per source partition (whole-location mode)."""
    from orchestration.instance import prepare_dagster_home

    settings = load_settings()
    prepare_dagster_home(settings)

    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.jobs import ingest_job_name
    from orchestration.pipeline import QUIET_LOGS, TERSE_LOGS, sync_source_partitions
    from orchestration.progress import RunProgress

    instance = dg.DagsterInstance.get()
    registered = sync_source_partitions(instance, settings).get(args.corpus, [])
    chosen = args.partitions.split(",") if args.partitions else registered
    unknown = sorted(set(chosen) - set(registered))
    if unknown or not chosen:
        print(
            f"error: {', '.join(unknown) or 'no sources'}: not registered {args.corpus} sources; "
            f"registered: {', '.join(registered) or 'none'} ({settings.sources_file})",
            file=sys.stderr,
        )
        return 2
    job = ingest_job_name(args.corpus)
    if args.launch:
        # A Dagster backfill on this instance: the daemon runs it (pool "spark": one at a
        # time) and the UI shows its progress under Overview > Backfills.
        command = [
            str(Path(sys.executable).with_name("dagster")),
            *("job", "backfill", "-m", "orchestration.definitions", "-j", job),
            *("--partitions", ",".join(chosen), "--noprompt"),
        ]
        return subprocess.call(command)
    # Started before the runs (as `pilehouse run` does), its JVM's log in a file.
    from orchestration.pipeline import spark_output_to
    from spark_jobs.session import get_spark

    spark_log = None if args.verbose else settings.home / "logs" / "spark.log"
    with spark_output_to(spark_log):
        get_spark(settings.spark_master, conf=settings.spark_conf, layout=settings.spark_layout)
    progress = RunProgress()
    failed = 0
    for name in chosen:
        with progress.follow(instance, f"{job} {name}") as run_id:
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance,
                partition_key=name,
                raise_on_error=False,
                run_config=QUIET_LOGS if args.verbose else TERSE_LOGS,
                run_id=run_id,
                tags={"pilehouse/trigger": "backfill"},
            )
        failed += not result.success
    progress.render_table()
    return 1 if failed else 0


def cmd_mixture(args: argparse.Namespace) -> int:
    """Build a mixture (table, shards, manifest), or list the recipes."""
    from spark_jobs.mixtures.build import materialize_mixture
    from spark_jobs.mixtures.recipe import load_recipe, load_recipes

    if args.action == "list":
        for name, recipe in load_recipes(load_settings().mixtures_dir).items():
            parts = ", ".join(f"{c.name} ({c.table})" for c in recipe.components)
            print(f"{name}: {parts}; policy {recipe.license_policy}; seed {recipe.seed}")
        return 0
    if not args.name:
        print("error: name the mixture to build (pilehouse mixture list)", file=sys.stderr)
        return 2
    settings = load_settings()
    exported = materialize_mixture(
        _lake(),
        load_recipe(args.name, settings.mixtures_dir),
        export_uri=args.export_uri,
        tracking_uri=settings.mlflow_tracking_uri,
        artifact_location=settings.mlflow_artifacts_uri,
    )
    manifest = exported.manifest
    totals = manifest["totals"]
    print(
        f"mixtures.{args.name} v{manifest['mixture']['version']}: {totals['rows']} rows, "
        f"{totals['tokens']} tokens in {len(manifest['shards'])} shard(s); "
        f"tokenizer {manifest['tokenizer']['version']}"
    )
    for by in ("component", "source", "license", "language"):
        shares = ", ".join(f"{k} {v['tokens']}" for k, v in totals[by].items())
        print(f"  tokens by {by}: {shares}")
    print(f"manifest: {exported.manifest_uri}")
    return 0


def cmd_training(args: argparse.Namespace) -> int:
    """Register an external training run on a mixture, or train a proxy model on it."""
    from spark_jobs.lineage import TRAINING_EXPERIMENT, start_training_run
    from spark_jobs.mixtures.build import latest_export
    from spark_jobs.mixtures.proxy import PROXY_EXPERIMENT, ProxyConfig, run_proxy_training

    settings = load_settings()
    lake = _lake()
    try:
        if args.action == "start":
            run_id = start_training_run(
                lake,
                args.mixture,
                tracking_uri=settings.mlflow_tracking_uri,
                experiment=args.experiment or TRAINING_EXPERIMENT,
                run_id=args.run_id,
                manifest_uri=args.manifest,
                artifact_location=settings.mlflow_artifacts_uri,
            )
            print(run_id)
            print(f"export MLFLOW_RUN_ID={run_id}  # then mlflow.start_run() attaches to it")
            return 0
        run_id, result = run_proxy_training(
            args.manifest or latest_export(lake, args.mixture),
            tracking_uri=settings.mlflow_tracking_uri,
            experiment=args.experiment or PROXY_EXPERIMENT,
            config=ProxyConfig(steps=args.steps),
            store=lake.store,
            artifact_location=settings.mlflow_artifacts_uri,
        )
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"proxy run {run_id} on {result.device}: val_loss {result.val_loss:.4f}")
    for source, loss in result.val_loss_by_source.items():
        print(f"  val_loss {source}: {loss:.4f}")
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    """What fed a training run, or where a document went."""
    from spark_jobs.lineage import (
        document_lineage,
        render_document_lineage,
        render_run_lineage,
        run_lineage,
    )

    settings = load_settings()
    if args.document:
        lineage = document_lineage(args.document, _lake(), settings.mlflow_tracking_uri)
        print(render_document_lineage(lineage))
        return 0
    if not args.run_id:
        print("error: give a RUN_ID or --document ID", file=sys.stderr)
        return 2
    from mlflow.exceptions import MlflowException

    try:
        lineage = run_lineage(args.run_id, settings.mlflow_tracking_uri, settings.store)
    except MlflowException as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    print(render_run_lineage(lineage))
    return 0


def cmd_takedown(args: argparse.Namespace) -> int:
    """Delete documents from every table, record the request, list affected runs and shards;
    with --purge, then remove them physically (shards rewritten, tables vacuumed)."""
    from spark_jobs.takedown import TakedownRequest, purge, takedown, taken_down_ids

    settings = load_settings()
    if args.retention_hours is not None and (not args.purge or args.retention_hours < 0):
        print("error: --retention-hours needs --purge and a value >= 0", file=sys.stderr)
        return 2
    criteria = (args.ids, args.url_pattern, args.domain, args.source, args.license)
    lake = _lake()
    ids = None  # purge: every recorded takedown
    if any(criteria) or not args.purge:
        try:
            request = TakedownRequest(
                ids=tuple(args.ids or ()),
                url_pattern=args.url_pattern,
                domain=args.domain,
                source=args.source,
                license=args.license,
                reason=args.reason or "",
            )
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        report = takedown(
            lake, request, tracking_uri=settings.mlflow_tracking_uri, dry_run=args.dry_run
        )
        print(report.render())
        if args.dry_run:  # nothing recorded yet: purge what the request would add
            ids = taken_down_ids(lake) | set(report.document_ids)
    if args.purge:
        print(purge(lake, ids, retention_hours=args.retention_hours, dry_run=args.dry_run).render())
    return 0


def _ngram_index(args: argparse.Namespace):
    """The index `trace` / `count` query: --index, the mixture a --run consumed, or --mixture."""
    from spark_jobs.indexes.query import locate_mixture_index, locate_run_index, open_index

    lake = _lake()
    if args.index:
        return open_index(lake, args.index)
    if args.run:
        tracking_uri = load_settings().mlflow_tracking_uri
        return open_index(lake, locate_run_index(lake, args.run, tracking_uri))
    if args.mixture:
        return open_index(lake, locate_mixture_index(lake, args.mixture))
    raise ValueError("say which index: --mixture NAME, --run RUN_ID or --index URI")


def cmd_trace(args: argparse.Namespace) -> int:
    """The longest spans of a text that occur in the training data, with their documents."""
    import json

    from mlflow.exceptions import MlflowException

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        result = _ngram_index(args).trace(
            text, max_documents=args.documents, min_tokens=args.min_tokens, max_spans=args.spans
        )
    except (FileNotFoundError, ValueError, MlflowException) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.render())
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    """Occurrences of an n-gram in the training data."""
    from mlflow.exceptions import MlflowException

    try:
        index = _ngram_index(args)
        count = index.count(args.ngram)
    except (FileNotFoundError, ValueError, MlflowException) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if index.note:
        print(f"note: {index.note}", file=sys.stderr)
    print(f"{count}\t{args.ngram!r} in {index.built_from}")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    """The documents Pilehouse would store for landing files, as JSON lines (no Spark)."""
    from spark_jobs.extract import main as extract

    return extract([*args.files, *(["--corpus", args.corpus] if args.corpus else [])])


def cmd_contamination(args: argparse.Namespace) -> int:
    """Benchmark items traced against a mixture's index: longest overlap at any length."""
    from spark_jobs.indexes.contamination import main as contamination

    settings = load_settings()
    benchmarks = (
        args.benchmarks
        or [str(p) for p in settings.benchmark_locations]
        or [str(Path(__file__).resolve().parents[1] / "spark_jobs" / "benchmarks")]
    )
    argv = [args.mixture, "--lake", settings.lake_uri, "--benchmarks", *benchmarks]
    argv += ["--json"] if args.json else []
    argv += ["--no-record"] if args.no_record else []
    try:
        return contamination(argv)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def cmd_validate(args: argparse.Namespace) -> int:
    """Check profiles, environment, source registry, recipes, dedup settings and mixture
    recipes without starting Spark: one line per file, exit 2 if any is invalid."""
    from orchestration.validate import check_configuration

    started = time.monotonic()
    checks = check_configuration(raise_errors=args.debug)
    for check in checks:
        print(check.line)
    invalid = sum(check.error is not None for check in checks)
    print(
        f"{len(checks)} checked, {invalid} invalid in {time.monotonic() - started:.2f} s",
        file=sys.stderr,
    )
    return 2 if invalid else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pilehouse", description=__doc__)
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks of configuration errors"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="materialize the whole asset graph (embedded default)")
    run.add_argument(
        "--pages",
        type=sample_pages,
        help="sample corpus size, 40 to 200,000 web pages (default: PILEHOUSE_SAMPLE_PAGES "
        "or 2000)",
    )
    run.add_argument("--regenerate", action="store_true", help="rebuild the sample corpus")
    run.add_argument(
        "--no-samples",
        action="store_true",
        help="neither generate nor ingest the bundled sample corpora: only your own sources "
        "(PILEHOUSE_SOURCES_FILE)",
    )
    run.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    run.set_defaults(func=cmd_run)

    curate = commands.add_parser(
        "curate", help="curate what is already ingested (no ingest, no sample generation)"
    )
    curate.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    curate.set_defaults(func=cmd_curate)

    sample = commands.add_parser("sample", help="(re)generate the sample crawl in the landing zone")
    sample.add_argument("--pages", type=sample_pages, help="40 to 200,000 web pages")
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(func=cmd_sample)

    ui = commands.add_parser("ui", help="start the Dagster webserver and daemon")
    ui.add_argument("--host", default=LOCALHOST)
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--outputs-port",
        type=int,
        help="where Data Docs and reports are served (default: the outputs_port setting, 3001)",
    )
    ui.set_defaults(func=cmd_ui)

    mlflow_ui = commands.add_parser("mlflow-ui", help="start the MLflow UI on the local store")
    mlflow_ui.add_argument("--host", default=LOCALHOST)
    mlflow_ui.add_argument("--port", type=int, default=5000)
    mlflow_ui.set_defaults(func=cmd_mlflow_ui)

    sql = commands.add_parser(
        "sql",
        help="read-only SQL over the lake's tables (DuckDB); no query opens a shell",
        description="Tables by name; time travel with name@v3 or name@2026-11-23T10:00:00Z; "
        "history('name') is a table's commit log; lake_tables / lake_columns the catalog.",
    )
    sql.add_argument("query", nargs="?", help="a statement; omit it for the interactive shell")
    sql.add_argument(
        "--example", help="run a documented example from spark_jobs/analyst/examples.sql"
    )
    sql.add_argument(
        "--param", action="append", default=[], help="name=value for $name in the query"
    )
    sql.add_argument("--max-width", type=int, default=60)
    sql.set_defaults(func=cmd_sql)

    diff = commands.add_parser(
        "diff", help="rows added/removed and column summary between versions"
    )
    diff.add_argument("table", help="e.g. curated.web")
    diff.add_argument("old", help="a version (3 or v3) or an ISO 8601 time")
    diff.add_argument("new", help="a version (3 or v3) or an ISO 8601 time")
    diff.set_defaults(func=cmd_diff)

    catalog = commands.add_parser("catalog", help="tables, columns and meanings, versions, sizes")
    catalog.add_argument("tables", nargs="*", help="only these tables")
    catalog.add_argument("--no-columns", action="store_true", help="the table list only")
    catalog.set_defaults(func=cmd_catalog)

    server = commands.add_parser(
        "sql-server", help="Spark Connect server exposing the lake's tables (Spark SQL)"
    )
    server.add_argument("--host", default=LOCALHOST)
    server.add_argument("--port", type=int, default=15002)
    server.add_argument(
        "--refresh-seconds",
        type=float,
        default=10.0,
        help="how often to re-point the views at new table versions",
    )
    server.set_defaults(func=cmd_sql_server)

    report = commands.add_parser("report", help="write the corpus report (HTML + PNG charts)")
    report.set_defaults(func=cmd_report)

    status = commands.add_parser(
        "status", help="what is ingested, curated, failing and queued (no Spark)"
    )
    status.set_defaults(func=cmd_status)

    summary = commands.add_parser("summary", help="print the lake's current summary")
    summary.set_defaults(func=cmd_summary)

    backfill = commands.add_parser(
        "backfill",
        help="re-ingest a family's sources (all, or --partitions), one run per source",
    )
    backfill.add_argument("corpus", choices=["web", "code", "papers", "licensed"])
    backfill.add_argument("--partitions", help="comma-separated source names (default: all)")
    backfill.add_argument(
        "--launch",
        action="store_true",
        help="submit a Dagster backfill for the daemon (shown in the UI) instead of running here",
    )
    backfill.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    backfill.set_defaults(func=cmd_backfill)

    mixture = commands.add_parser(
        "mixture", help="build a training mixture (table, shards, manifest) or list recipes"
    )
    mixture.add_argument("action", choices=["build", "list"])
    mixture.add_argument("name", nargs="?", help="recipe name (orchestration/mixtures/NAME.yaml)")
    mixture.add_argument("--export-uri", help="where the shards go (local dir or s3://)")
    mixture.set_defaults(func=cmd_mixture)

    training = commands.add_parser(
        "training", help="register an external training run on a mixture, or train a proxy"
    )
    training.add_argument("action", choices=["start", "proxy"])
    training.add_argument("--mixture", required=True)
    training.add_argument("--run-id", help="attach to this MLflow run instead of opening one")
    training.add_argument("--experiment", help="MLflow experiment of a new run")
    training.add_argument("--manifest", help="a specific export's manifest.json")
    training.add_argument("--steps", type=int, default=200, help="proxy training steps")
    training.set_defaults(func=cmd_training)

    lineage = commands.add_parser(
        "lineage", help="tables/versions/sources/licenses of a run, or a document's path"
    )
    lineage.add_argument("run_id", nargs="?", help="an MLflow run id")
    lineage.add_argument("--document", help="a document id instead of a run")
    lineage.set_defaults(func=cmd_lineage)

    takedown = commands.add_parser(
        "takedown",
        help="delete documents from every table; report affected runs and shards; --purge "
        "removes them physically",
    )
    takedown.add_argument("--ids", nargs="+", help="document ids")
    takedown.add_argument("--url-pattern", help="regular expression searched in url/locator")
    takedown.add_argument("--domain", help="a host; its subdomains match too")
    takedown.add_argument("--source", help="every document of this source")
    takedown.add_argument("--license", help="every document under this SPDX license")
    takedown.add_argument("--reason", help="why (kept with the request)")
    takedown.add_argument("--dry-run", action="store_true", help="report matches, delete nothing")
    takedown.add_argument(
        "--purge",
        action="store_true",
        help="then remove physically: rewrite shards holding taken-down documents, vacuum "
        "the tables takedowns rewrote (no criteria: purge every recorded takedown)",
    )
    takedown.add_argument(
        "--retention-hours",
        type=int,
        help="with --purge: delete table files removed more than this long ago "
        "(default: the table's delta.deletedFileRetentionDuration, else 7 days; 0: all)",
    )
    takedown.set_defaults(func=cmd_takedown)

    for name, about in (
        ("trace", "the longest spans of a text found in the training data, with documents"),
        ("count", "occurrences of an n-gram in the training data"),
    ):
        query = commands.add_parser(name, help=about)
        if name == "trace":
            query.add_argument("text", help="the text to trace ('-' reads standard input)")
            query.add_argument("--documents", type=int, default=5, help="documents per span")
            query.add_argument("--min-tokens", type=int, default=6, help="shortest span shown")
            query.add_argument("--spans", type=int, default=10, help="spans shown, longest first")
            query.add_argument("--json", action="store_true", help="print JSON")
            query.set_defaults(func=cmd_trace)
        else:
            query.add_argument("ngram", help="text, tokenized like the training data")
            query.set_defaults(func=cmd_count)
        which = query.add_mutually_exclusive_group()
        which.add_argument("--mixture", help="the newest index of this mixture")
        which.add_argument("--run", help="the index of the mixture this MLflow run trained on")
        which.add_argument("--index", help="an index directory or its manifest.json")

    extract = commands.add_parser(
        "extract",
        help="print, as JSON lines, the documents Pilehouse would store for landing files "
        "(no Spark)",
    )
    extract.add_argument(
        "files", nargs="+", help="WARC, PDF, LaTeX tarball or .tex, JSONL dump, code directory"
    )
    extract.add_argument("--corpus", choices=("web", "code", "papers", "licensed"))
    extract.set_defaults(func=cmd_extract)

    contamination = commands.add_parser(
        "contamination",
        help="benchmark items traced against a mixture's n-gram index (longest overlap)",
    )
    contamination.add_argument("mixture", help="the mixture whose newest index is checked")
    contamination.add_argument(
        "--benchmarks", nargs="+", help="benchmark .jsonl files or folders (default: settings)"
    )
    contamination.add_argument("--json", action="store_true", help="one JSON object per item")
    contamination.add_argument(
        "--no-record", action="store_true", help="do not append to ops.index_contamination"
    )
    contamination.set_defaults(func=cmd_contamination)

    validate = commands.add_parser(
        "validate", help="check every configuration file (no Spark): one line per file"
    )
    # Also after the subcommand; SUPPRESS keeps a global --debug from being reset.
    validate.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback"
    )
    validate.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Redirected to a file or a pipe, every line is written as it is printed.
    for stream in (sys.stdout, sys.stderr):
        if not stream.isatty():
            stream.reconfigure(line_buffering=True)
    try:
        return args.func(args)
    except ConfigError as error:
        # A mistake in a file the user edits: the one line that names it, no traceback.
        if args.debug:
            raise
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
