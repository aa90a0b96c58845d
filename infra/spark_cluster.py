"""A Spark standalone cluster on this machine: one master and one or more workers, each a
process bound to its own address, whose workers can advertise GPUs through
infra/gpu_discovery.sh.

Every address in 127.0.0.0/8 is this machine's, so a master on 127.0.0.2 and workers on
127.0.0.3 and 127.0.0.4 behave like separate hosts: a component that advertises 127.0.0.1
instead of its own address is unreachable, which is how tests catch loopback assumptions.

On a machine without GPUs, `fake_gpus="0,1"` makes the discovery script report those
addresses: Spark then schedules GPU tasks exactly as on a GPU machine, and the classifier
stage falls back to the CPU inside each task (spark_jobs.classifiers.gpu.select_device).

    with StandaloneCluster("var/spark-cluster", gpus_per_worker=2, fake_gpus="0,1") as cluster:
        spark = get_spark(cluster.master_url, conf=cluster.application_conf())
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
# What `python -m infra.spark_cluster` listens on: the cluster profile's default spark_master.
DEFAULT_MASTER_PORT = 7077
DISCOVERY_SCRIPT = Path(__file__).with_name("gpu_discovery.sh")


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package."""
    import pyspark

    return Path(pyspark.__file__).parent


def _free_ports(count: int, host: str = HOST) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class StandaloneCluster:
    """A Spark master and its workers, each a `bin/spark-class` process bound to its own address."""

    def __init__(
        self,
        work_dir: str | os.PathLike[str],
        *,
        master_host: str = HOST,
        master_port: int | None = None,
        worker_hosts: Sequence[str] = (HOST,),
        worker_cores: int = 2,
        worker_memory: str = "2g",
        gpus_per_worker: int = 0,
        fake_gpus: str | None = None,
        start_timeout_s: float = 120.0,
    ) -> None:
        """Configure (but do not start) a cluster.

        Args:
            work_dir: logs, the workers' work directories and their properties file.
            master_host, master_port: where the master listens (port: a free one when None).
            worker_hosts: one worker per address (addresses may repeat).
            worker_cores, worker_memory: what each worker offers to executors.
            gpus_per_worker: GPUs each worker offers (0: no GPU resource at all).
            fake_gpus: comma-separated addresses the discovery script reports instead of
                asking nvidia-smi (CPU-only machines, tests).
            start_timeout_s: how long `start()` waits for each worker to register.
        """
        self.work_dir = Path(work_dir).resolve()
        self.master_host = master_host
        self.worker_hosts = list(worker_hosts)
        if not self.worker_hosts:
            raise ValueError("a cluster needs at least one worker host")
        self.worker_cores = worker_cores
        self.worker_memory = worker_memory
        self.gpus_per_worker = gpus_per_worker
        self.fake_gpus = fake_gpus
        self.start_timeout_s = start_timeout_s
        self.master_ui = _free_ports(1, master_host)[0]
        self.master_port = master_port or _free_ports(1, master_host)[0]
        # (port, web UI port) of each worker, free on its own address.
        self.worker_ports = [tuple(_free_ports(2, host)) for host in self.worker_hosts]
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def master_url(self) -> str:
        return f"spark://{self.master_host}:{self.master_port}"

    @property
    def total_cores(self) -> int:
        return self.worker_cores * len(self.worker_hosts)

    def application_conf(
        self,
        *,
        executor_cores: int = 1,
        executor_memory: str = "1g",
        executor_gpus: int = 1,
        driver_host: str | None = None,
    ) -> dict[str, str]:
        """Session settings for an application on this cluster.

        The application takes every core of every worker (spark.cores.max), so the session's
        parallelism is derived from them. Executors get `executor_gpus` GPUs each; default
        tasks ask for none, so only a stage with a GPU resource profile (the classifier
        stage) is scheduled onto them. `driver_host`: the address the driver binds and
        advertises (default: Spark's choice, SPARK_LOCAL_IP or the host name's address).
        """
        conf = {
            "spark.executor.cores": str(executor_cores),
            "spark.executor.memory": executor_memory,
            "spark.cores.max": str(self.total_cores),
        }
        if driver_host:
            conf["spark.driver.host"] = driver_host
            conf["spark.driver.bindAddress"] = driver_host
        if self.gpus_per_worker:
            conf["spark.executor.resource.gpu.amount"] = str(executor_gpus)
        return conf

    def _env(self, host: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SPARK_HOME=str(spark_home()),
            # Each daemon (and the executors a worker launches, which inherit its
            # environment) binds and advertises its own address.
            SPARK_LOCAL_IP=host,
            SPARK_LOG_DIR=str(self.work_dir / "logs"),
            SPARK_WORKER_DIR=str(self.work_dir / "work"),
            PYSPARK_PYTHON=sys.executable,
        )
        if self.fake_gpus is not None:
            env["PILEHOUSE_FAKE_GPU_ADDRESSES"] = self.fake_gpus
        return env

    def _worker_properties(self) -> Path:
        lines = ["spark.worker.cleanup.enabled=false"]
        if self.gpus_per_worker:
            lines += [
                f"spark.worker.resource.gpu.amount={self.gpus_per_worker}",
                f"spark.worker.resource.gpu.discoveryScript={DISCOVERY_SCRIPT}",
            ]
        path = self.work_dir / "worker.properties"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _launch(self, name: str, host: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.work_dir / "logs" / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(spark_home() / "bin" / "spark-class"), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(host),
            start_new_session=True,  # its own process group: stop() ends the JVM and its children
        )
        log.close()
        self._processes.append(process)
        return process

    def worker_names(self) -> list[str]:
        """Log names of the workers: `worker` for a single one, `worker-<i>` otherwise."""
        if len(self.worker_hosts) == 1:
            return ["worker"]
        return [f"worker-{i}" for i in range(len(self.worker_hosts))]

    def start(self) -> StandaloneCluster:
        """Start the master and the workers; return once every worker has registered.

        Raises:
            RuntimeError: a process exited or a worker did not register in time; the
                message includes the log tail.
        """
        if self._processes:
            return self
        for sub in ("logs", "work"):
            (self.work_dir / sub).mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        try:
            self._launch(
                "master",
                self.master_host,
                [
                    "org.apache.spark.deploy.master.Master",
                    "--host", self.master_host, "--port", str(self.master_port),
                    "--webui-port", str(self.master_ui),
                ],
            )  # fmt: skip
            self._wait_for("master", "Starting Spark master at")
            properties = self._worker_properties()
            names = self.worker_names()
            for name, host, (port, ui) in zip(
                names, self.worker_hosts, self.worker_ports, strict=True
            ):
                work = self.work_dir / "work" / name
                work.mkdir(parents=True, exist_ok=True)
                self._launch(
                    name,
                    host,
                    [
                        "org.apache.spark.deploy.worker.Worker",
                        "--host", host, "--port", str(port), "--webui-port", str(ui),
                        "--cores", str(self.worker_cores), "--memory", self.worker_memory,
                        "--work-dir", str(work), "--properties-file", str(properties),
                        self.master_url,
                    ],
                )  # fmt: skip
            for name in names:
                self._wait_for(name, "Successfully registered with master")
        except BaseException:
            self.stop()
            raise
        return self

    def log(self, name: str) -> str:
        path = self.work_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait_for(self, name: str, marker: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if marker in self.log(name):
                return
            if any(p.poll() is not None for p in self._processes):
                break
            time.sleep(0.5)
        tail = "\n".join(self.log(name).splitlines()[-30:])
        raise RuntimeError(
            f"Spark {name} did not log {marker!r} within {self.start_timeout_s:.0f} s "
            f"(or exited); log {self.work_dir / 'logs' / (name + '.log')}:\n{tail}"
        )

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the worker, then the master: SIGTERM to each process group, SIGKILL after grace."""
        atexit.unregister(self.stop)
        processes, self._processes = self._processes, []
        for process in reversed(processes):
            if process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return bool(self._processes) and all(p.poll() is None for p in self._processes)

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def cluster_from_args(argv: list[str] | None = None) -> StandaloneCluster:
    """The cluster `python -m infra.spark_cluster ARGS` runs (configured, not started)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--work-dir", default="var/spark-cluster")
    parser.add_argument("--host", default=HOST, help="the master's address (and port, --port)")
    parser.add_argument("--port", type=int, default=DEFAULT_MASTER_PORT)
    parser.add_argument(
        "--worker-hosts",
        default=HOST,
        help="comma-separated addresses, one worker each (e.g. 127.0.0.3,127.0.0.4)",
    )
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="per worker")
    parser.add_argument("--memory", default="4g")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs the worker offers")
    parser.add_argument("--fake-gpus", default=None, help='addresses to advertise, e.g. "0,1"')
    args = parser.parse_args(argv)
    return StandaloneCluster(
        args.work_dir,
        master_host=args.host,
        master_port=args.port,
        worker_hosts=args.worker_hosts.split(","),
        worker_cores=args.cores,
        worker_memory=args.memory,
        gpus_per_worker=args.gpus,
        fake_gpus=args.fake_gpus,
    )


def main(argv: list[str] | None = None) -> None:
    """Run a cluster in the foreground until Ctrl-C or SIGTERM: python -m infra.spark_cluster."""
    cluster = cluster_from_args(argv)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    # SIGTERM (a service manager, `kill`) stops the daemons like Ctrl-C does.
    signal.signal(signal.SIGTERM, interrupt)
    with cluster:
        print(f"Spark master {cluster.master_url}; application settings:")
        for key, value in cluster.application_conf().items():
            print(f"  {key}={value}")
        try:
            while cluster.running:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
