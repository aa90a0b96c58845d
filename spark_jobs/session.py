"""The one Spark session factory: local[*] by default, a cluster master when configured.

What differs between a laptop and a cluster (driver address, tasks per core, file sizes) is a
`SessionLayout`, filled from the settings profile; only a `local[...]` master binds loopback.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyspark is imported where a session starts: settings stay light
    from pyspark.sql import SparkSession

LOOPBACK = "127.0.0.1"
_BYTES = re.compile(r"\s*(\d+)\s*([kmgtp]?)(?:i?b)?\s*", re.IGNORECASE)

# Settings every session gets, whatever the master.
COMMON_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "2000",
    "spark.ui.showConsoleProgress": "false",
}
# Embedded (local[...]) sessions only: no UI port, and a driver sized for a laptop.
LOCAL_ONLY_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.driver.memory": "4g",
}


# Not a Spark setting: Pilehouse's own cap on bytes per written file, kept in the session's
# conf so every stage write reads the same value (Spark ignores unknown spark.* keys).
MAX_BYTES_PER_FILE_CONF = "spark.pilehouse.maxBytesPerFile"


@dataclass(frozen=True)
class SessionLayout:
    """How a session is spread over its machines: the knobs that differ between profiles.

    Attributes:
        driver_host: the address executors use to reach the driver. None: 127.0.0.1 for a
            local master; for a cluster, Spark's own choice (SPARK_LOCAL_IP, else the
            address of the host name).
        driver_bind_address: the address the driver's sockets bind; None: as driver_host
            for a local master, Spark's own choice (all of the host's addresses) otherwise.
        tasks_per_core: spark.default.parallelism = cores x this (reads via
            spark_jobs.delta.read_spark make four tasks per unit of parallelism).
        shuffle_partitions_per_core: spark.sql.shuffle.partitions = cores x this.
        max_records_per_file: rows per written data file at most (0: no cap); read back
            with `max_records_per_file(spark)`.
        max_bytes_per_file: Arrow (uncompressed) bytes per written data file at most, a
            Spark size ("512m"; "0": no cap); read back with `max_bytes_per_file(spark)`.
        max_partition_bytes: spark.sql.files.maxPartitionBytes, the largest split of a file
            Spark's own readers hand one task, and the byte range an ingest reads a big
            landing file in (spark_jobs.ingest.split_listing).
        cores: the executors' cores when known in advance; None: local[N] gives N, a cluster
            gives spark.cores.max or, failing that, the cores registered when the session
            started.
    """

    driver_host: str | None = None
    driver_bind_address: str | None = None
    tasks_per_core: int = 2
    shuffle_partitions_per_core: int = 4
    max_records_per_file: int = 500_000
    max_bytes_per_file: str = "512m"
    max_partition_bytes: str = "128m"
    cores: int | None = None


def is_local(master: str) -> bool:
    return master.startswith("local")


def local_cores(master: str) -> int:
    """The cores of a local master: local -> 1, local[N] / local[N,F] -> N, local[*] -> all."""
    match = re.fullmatch(r"local(?:-cluster)?(?:\[([^\],]+)(?:,[^\]]*)?\])?", master)
    if match is None or match[1] is None:
        return 1
    return (os.cpu_count() or 1) if match[1] == "*" else int(match[1])


def expected_cores(master: str, conf: dict[str, str], layout: SessionLayout) -> int | None:
    """The executors' cores known before the session starts, or None (Spark will know)."""
    if layout.cores:
        return layout.cores
    if is_local(master):
        return local_cores(master)
    if "spark.cores.max" in conf:
        return int(conf["spark.cores.max"])
    if "spark.executor.instances" in conf and "spark.executor.cores" in conf:
        return int(conf["spark.executor.instances"]) * int(conf["spark.executor.cores"])
    return None


def session_conf(
    master: str, conf: dict[str, str] | None = None, layout: SessionLayout | None = None
) -> dict[str, str]:
    """The settings a session starts with: defaults, the layout's, then `conf` (which wins)."""
    conf = dict(conf or {})
    layout = layout or SessionLayout()
    out = dict(COMMON_DEFAULTS)
    if is_local(master):
        out.update(LOCAL_ONLY_DEFAULTS)
        host = layout.driver_host or LOOPBACK
        out["spark.driver.host"] = host
        out["spark.driver.bindAddress"] = layout.driver_bind_address or host
    else:
        # A cluster's executors connect back to the driver: never pin it to loopback here.
        if layout.driver_host:
            out["spark.driver.host"] = layout.driver_host
        if layout.driver_bind_address:
            out["spark.driver.bindAddress"] = layout.driver_bind_address
        # Start only once the executors asked for are registered, so the parallelism
        # derived from their cores is the cluster's, not the first executor's.
        out["spark.scheduler.minRegisteredResourcesRatio"] = "1.0"
    cores = expected_cores(master, conf, layout)
    if cores:
        out["spark.default.parallelism"] = str(cores * layout.tasks_per_core)
        out["spark.sql.shuffle.partitions"] = str(cores * layout.shuffle_partitions_per_core)
    out["spark.sql.files.maxRecordsPerFile"] = str(layout.max_records_per_file)
    out[MAX_BYTES_PER_FILE_CONF] = layout.max_bytes_per_file
    out["spark.sql.files.maxPartitionBytes"] = layout.max_partition_bytes
    out.update(conf)
    return out


def get_spark(
    master: str = "local[*]",
    app_name: str = "pilehouse",
    conf: dict[str, str] | None = None,
    layout: SessionLayout | None = None,
) -> SparkSession:
    """Return the process's Spark session, creating it on first use.

    Spark reuses one session per JVM; later calls with other settings get the
    existing session, which is what a Dagster run and a test session want.
    """
    from pyspark.sql import SparkSession

    layout = layout or SessionLayout()
    # Executors must run the same interpreter (and venv) as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    bind = layout.driver_bind_address or (LOOPBACK if is_local(master) else None)
    if bind:
        # Every socket of the driver's JVM (not only the RPC and block manager ports that
        # spark.driver.bindAddress names) on the configured address; without it Spark picks
        # the host name's address for the rest, which may be another network.
        os.environ.setdefault("SPARK_LOCAL_IP", bind)
    settings = session_conf(master, conf, layout)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    if "spark.default.parallelism" not in settings:
        # Cores unknown in advance: Spark's default parallelism is the registered cores.
        cores = spark.sparkContext.defaultParallelism
        if "spark.sql.shuffle.partitions" not in (conf or {}):
            spark.conf.set(
                "spark.sql.shuffle.partitions", str(cores * layout.shuffle_partitions_per_core)
            )
    return spark


def max_bytes_per_file(spark: SparkSession) -> int | None:
    """The session's cap on Arrow bytes per written file (MAX_BYTES_PER_FILE_CONF), or None."""
    value = parse_bytes(spark.conf.get(MAX_BYTES_PER_FILE_CONF, "0") or "0")
    return value if value > 0 else None


def parse_bytes(value: str | int) -> int:
    """Bytes of a size written the way Spark settings are ("128m", "1g", "4096", "64kb")."""
    if isinstance(value, int):
        return value
    match = _BYTES.fullmatch(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a size in bytes (e.g. 134217728, 128m or 1g)")
    return int(match[1]) << (10 * " kmgtp".index(match[2].lower() or " "))


def max_records_per_file(spark: SparkSession) -> int | None:
    """The session's cap on rows per written file (spark.sql.files.maxRecordsPerFile), or None."""
    value = int(spark.conf.get("spark.sql.files.maxRecordsPerFile", "0") or 0)
    return value if value > 0 else None
