"""A local Spark standalone cluster (one master, one worker) on 127.0.0.1 whose worker
advertises GPUs through infra/gpu_discovery.sh, for running and testing GPU stages.

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
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
DISCOVERY_SCRIPT = Path(__file__).with_name("gpu_discovery.sh")


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package."""
    import pyspark

    return Path(pyspark.__file__).parent


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class StandaloneCluster:
    """A Spark master and one worker, each a `bin/spark-class` process bound to 127.0.0.1."""

    def __init__(
        self,
        work_dir: str | os.PathLike[str],
        *,
        worker_cores: int = 2,
        worker_memory: str = "2g",
        gpus_per_worker: int = 0,
        fake_gpus: str | None = None,
        start_timeout_s: float = 120.0,
    ) -> None:
        """Configure (but do not start) a cluster.

        Args:
            work_dir: logs, the worker's work directory and its properties file.
            worker_cores, worker_memory: what the worker offers to executors.
            gpus_per_worker: GPUs the worker offers (0: no GPU resource at all).
            fake_gpus: comma-separated addresses the discovery script reports instead of
                asking nvidia-smi (CPU-only machines, tests).
            start_timeout_s: how long `start()` waits for the worker to register.
        """
        self.work_dir = Path(work_dir).resolve()
        self.worker_cores = worker_cores
        self.worker_memory = worker_memory
        self.gpus_per_worker = gpus_per_worker
        self.fake_gpus = fake_gpus
        self.start_timeout_s = start_timeout_s
        self.master_port, self.master_ui, self.worker_port, self.worker_ui = _free_ports(4)
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    def application_conf(
        self, *, executor_cores: int = 1, executor_memory: str = "1g", executor_gpus: int = 1
    ) -> dict[str, str]:
        """Session settings for an application on this cluster.

        Executors get `executor_gpus` GPUs each; default tasks ask for none, so only a stage
        with a GPU resource profile (the classifier stage) is scheduled onto them.
        """
        conf = {
            "spark.executor.cores": str(executor_cores),
            "spark.executor.memory": executor_memory,
            "spark.cores.max": str(self.worker_cores),
            # Executors run on this machine; their sockets stay on loopback too.
            "spark.executorEnv.SPARK_LOCAL_IP": HOST,
        }
        if self.gpus_per_worker:
            conf["spark.executor.resource.gpu.amount"] = str(executor_gpus)
        return conf

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SPARK_HOME=str(spark_home()),
            SPARK_LOCAL_IP=HOST,
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

    def _launch(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.work_dir / "logs" / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(spark_home() / "bin" / "spark-class"), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(),
            start_new_session=True,  # its own process group: stop() ends the JVM and its children
        )
        log.close()
        self._processes.append(process)
        return process

    def start(self) -> StandaloneCluster:
        """Start the master and the worker; return once the worker has registered.

        Raises:
            RuntimeError: a process exited or the worker did not register in time; the
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
                [
                    "org.apache.spark.deploy.master.Master",
                    "--host", HOST, "--port", str(self.master_port),
                    "--webui-port", str(self.master_ui),
                ],
            )  # fmt: skip
            self._wait_for("master", "Starting Spark master at")
            self._launch(
                "worker",
                [
                    "org.apache.spark.deploy.worker.Worker",
                    "--host", HOST, "--port", str(self.worker_port),
                    "--webui-port", str(self.worker_ui),
                    "--cores", str(self.worker_cores), "--memory", self.worker_memory,
                    "--work-dir", str(self.work_dir / "work"),
                    "--properties-file", str(self._worker_properties()),
                    self.master_url,
                ],
            )  # fmt: skip
            self._wait_for("worker", "Successfully registered with master")
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


def main(argv: list[str] | None = None) -> None:
    """Run a cluster in the foreground until Ctrl-C: python -m infra.spark_cluster [--fake-gpus 0,1]."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--work-dir", default="var/spark-cluster")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--memory", default="4g")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs the worker offers")
    parser.add_argument("--fake-gpus", default=None, help='addresses to advertise, e.g. "0,1"')
    args = parser.parse_args(argv)
    cluster = StandaloneCluster(
        args.work_dir,
        worker_cores=args.cores,
        worker_memory=args.memory,
        gpus_per_worker=args.gpus,
        fake_gpus=args.fake_gpus,
    )
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
