"""The `pilehouse` command: run the pipeline, open the UIs, query the lake."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from orchestration.settings import Settings, load_settings

LOCALHOST = "127.0.0.1"


def _landing_has_warcs(path: Path) -> bool:
    return path.is_dir() and any(path.rglob("*.warc.gz"))


def ensure_sample_corpus(settings: Settings, *, pages: int, seed: int, regenerate: bool) -> Path:
    """Write the bundled sample crawl into the landing zone unless it is already there."""
    from spark_jobs.samples.web import generate_web_sample

    target = Path(settings.landing_uri) / "web" / "sample-crawl"
    if _landing_has_warcs(target) and not regenerate:
        print(f"sample corpus: using {target} (pass --regenerate to rebuild it)")
        return target
    if target.exists():
        shutil.rmtree(target)
    started = time.monotonic()
    manifest = generate_web_sample(target, pages=pages, seed=seed)
    planted = ", ".join(f"{n} {category}" for category, n in sorted(manifest.counts.items()))
    print(f"sample corpus: wrote {pages} pages to {target} in {time.monotonic() - started:.1f} s")
    print(f"  planted: {planted} (see {target / '_manifest.json'})")
    return target


def cmd_run(args: argparse.Namespace) -> int:
    """Generate the sample corpus if needed and materialize the whole asset graph."""
    from orchestration.instance import prepare_dagster_home

    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    prepare_dagster_home(settings)
    if not settings.landing_uri.startswith("s3://"):
        ensure_sample_corpus(
            settings,
            pages=args.pages or settings.sample_pages,
            seed=settings.sample_seed,
            regenerate=args.regenerate,
        )

    import dagster as dg

    from orchestration.definitions import WEB_PIPELINE, defs
    from orchestration.report import render_summary, step_durations
    from spark_jobs.lake import Lake

    started = time.monotonic()
    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def(WEB_PIPELINE)
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    elapsed = time.monotonic() - started
    status = "SUCCESS" if result.success else "FAILURE"
    print()
    print(f"== Pilehouse run {result.run_id} ({WEB_PIPELINE}): {status} in {elapsed:.1f} s ==")
    print(
        render_summary(
            Lake(settings.lake_uri, settings.store), step_durations(instance, result.run_id)
        )
    )
    print()
    print("next:")
    print(f"  Dagster UI  .venv/bin/pilehouse ui         then open http://{LOCALHOST}:3000")
    print(f"  MLflow UI   .venv/bin/pilehouse mlflow-ui  then open http://{LOCALHOST}:5000")
    print('  SQL         .venv/bin/pilehouse sql "SELECT reason, count(*) FROM rejects GROUP BY 1"')
    return 0 if result.success else 1


def cmd_sample(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    ensure_sample_corpus(
        settings, pages=args.pages or settings.sample_pages, seed=args.seed, regenerate=True
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """Dagster webserver + daemon (`dagster dev`) on loopback, on the same DAGSTER_HOME as `run`."""
    from orchestration.instance import prepare_dagster_home

    settings = load_settings()
    prepare_dagster_home(settings)
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
    return subprocess.call(command)


def cmd_mlflow_ui(args: argparse.Namespace) -> int:
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
    return subprocess.call(command)


def cmd_sql(args: argparse.Namespace) -> int:
    from orchestration.sql import ReadOnlyError, query
    from spark_jobs.lake import Lake

    settings = load_settings()
    try:
        table = query(Lake(settings.lake_uri, settings.store), args.query)
    except ReadOnlyError as error:
        print(error, file=sys.stderr)
        return 2
    print(table.to_pandas().to_string(index=False, max_colwidth=args.max_width))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from orchestration.report import render_summary
    from spark_jobs.lake import Lake

    settings = load_settings()
    print(render_summary(Lake(settings.lake_uri, settings.store)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pilehouse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="materialize the whole asset graph (embedded default)")
    run.add_argument(
        "--pages", type=int, help="sample corpus size (default: PILEHOUSE_SAMPLE_PAGES or 2000)"
    )
    run.add_argument("--regenerate", action="store_true", help="rebuild the sample corpus")
    run.set_defaults(func=cmd_run)

    sample = commands.add_parser("sample", help="(re)generate the sample crawl in the landing zone")
    sample.add_argument("--pages", type=int)
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(func=cmd_sample)

    ui = commands.add_parser("ui", help="start the Dagster webserver and daemon")
    ui.add_argument("--host", default=LOCALHOST)
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    mlflow_ui = commands.add_parser("mlflow-ui", help="start the MLflow UI on the local store")
    mlflow_ui.add_argument("--host", default=LOCALHOST)
    mlflow_ui.add_argument("--port", type=int, default=5000)
    mlflow_ui.set_defaults(func=cmd_mlflow_ui)

    sql = commands.add_parser("sql", help="read-only SQL over the lake's tables (DuckDB)")
    sql.add_argument("query")
    sql.add_argument("--max-width", type=int, default=60)
    sql.set_defaults(func=cmd_sql)

    summary = commands.add_parser("summary", help="print the lake's current summary")
    summary.set_defaults(func=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
