"""The one Spark session factory: local[*] by default, a cluster master when configured."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

# Small shuffles by default: the embedded profile runs on 2-core machines, where
# Spark's default of 200 shuffle partitions is mostly scheduling overhead.
LOCAL_DEFAULTS = {
    "spark.sql.shuffle.partitions": "8",
    "spark.default.parallelism": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "2000",
    # The driver and its UI stay on loopback unless a cluster profile says otherwise.
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "4g",
}


def get_spark(
    master: str = "local[*]",
    app_name: str = "pilehouse",
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """Return the process's Spark session, creating it on first use.

    Spark reuses one session per JVM; later calls with other settings get the
    existing session, which is what a Dagster run and a test session want.
    """
    # Executors must run the same interpreter (and venv) as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master.startswith("local"):
        # Keep the driver's sockets on loopback (and Spark quiet about the hostname).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**LOCAL_DEFAULTS, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
