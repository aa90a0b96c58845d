"""A PostgreSQL server of its own for the cluster profile's stores: initdb + pg_ctl, with one
database for Dagster (runs, events, schedules) and one for MLflow (tracking and model registry).

    python -m infra.postgres start var/postgres          # prints Dagster's URL
    eval "$(python -m infra.postgres start var/postgres --env)"  # exports both settings
    python -m infra.postgres stop var/postgres

Binds 127.0.0.1 on a free (or given) port; password authentication with a generated
password kept in the data directory's parent (mode 0600). Under root, initdb refuses to
run, so the server runs as the `postgres` system user (Debian's postgresql package creates
it) and the data directory is created owned by it.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DATABASE = "dagster"
MLFLOW_DATABASE = "mlflow"
# Every database the helper creates: the Dagster instance's and MLflow's.
DATABASES = (DATABASE, MLFLOW_DATABASE)
USER = "pilehouse"


def find_pg_bin() -> Path:
    """The directory holding initdb and pg_ctl: PILEHOUSE_PG_BIN, PATH, or Debian's layout."""
    explicit = os.environ.get("PILEHOUSE_PG_BIN")
    candidates = [Path(explicit)] if explicit else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    # Debian: /usr/lib/postgresql/<major>/bin, newest first.
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in debian]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise FileNotFoundError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under "
        "/usr/lib/postgresql/*/bin; install Debian's `postgresql` package or set PILEHOUSE_PG_BIN"
    )


HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LocalPostgres:
    """One PostgreSQL cluster in `data_dir`, started on `host`:`port` (host: 127.0.0.1, or
    another loopback address standing for another machine in multi-address tests)."""

    def __init__(self, data_dir: str | Path, port: int | None = None, host: str = HOST) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.port = port or free_port(host)
        self.bin = find_pg_bin()
        self._as_postgres = os.geteuid() == 0
        self.password_file = self.data_dir.parent / f".{self.data_dir.name}.password"

    def dsn_of(self, database: str) -> str:
        """libpq's URL of one database (psycopg2.connect, psql)."""
        password = self.password_file.read_text().strip()
        return f"postgresql://{USER}:{password}@{self.host}:{self.port}/{database}"

    def url_of(self, database: str) -> str:
        """SQLAlchemy's URL of one database. SQLAlchemy 2.1 maps a bare postgresql:// to
        psycopg 3; the driver installed here is psycopg2."""
        return self.dsn_of(database).replace("postgresql://", "postgresql+psycopg2://", 1)

    @property
    def dsn(self) -> str:
        """libpq's URL of the Dagster database."""
        return self.dsn_of(DATABASE)

    @property
    def url(self) -> str:
        """What Dagster's postgres_url (PILEHOUSE_DAGSTER_POSTGRES_URL) takes."""
        return self.url_of(DATABASE)

    @property
    def mlflow_url(self) -> str:
        """MLflow's tracking URI (PILEHOUSE_MLFLOW_TRACKING_URI): its database store."""
        return self.url_of(MLFLOW_DATABASE)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def init(self) -> None:
        """Create the cluster (once): the pilehouse superuser with a generated password."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.password_file.write_text(secrets.token_urlsafe(24))
        self.password_file.chmod(0o600)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.initdb-password"
        shutil.copyfile(self.password_file, pwfile)
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-instructions",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> LocalPostgres:
        self.init()
        options = (
            f"-p {self.port} -c listen_addresses={self.host} "
            f"-c unix_socket_directories={self.data_dir}"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.data_dir / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        try:
            self._create_databases()
        except BaseException:
            self.stop()
            raise
        return self

    def _create_databases(self) -> None:
        import psycopg2

        password = self.password_file.read_text().strip()
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = psycopg2.connect(
                    host=self.host,
                    port=self.port,
                    user=USER,
                    password=password,
                    dbname="postgres",
                )
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                for database in DATABASES:
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                    if cursor.fetchone() is None:
                        cursor.execute(f"CREATE DATABASE {database}")
        finally:
            connection.close()

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.postgres", description=__doc__)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("data_dir", help="the cluster's data directory, e.g. var/postgres")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--host", default=HOST, help="a loopback address (default 127.0.0.1)")
    parser.add_argument(
        "--env",
        action="store_true",
        help="print `export` lines for both stores' settings instead of Dagster's URL alone",
    )
    args = parser.parse_args(argv)
    server = LocalPostgres(args.data_dir, args.port, args.host)
    if args.action == "stop":
        server.stop()
        return 0
    server.start()
    print(
        f"PostgreSQL on {server.host}:{server.port} (data {server.data_dir}), "
        f"databases {', '.join(DATABASES)}",
        file=sys.stderr,
    )
    if args.env:  # for `eval "$(python -m infra.postgres start DIR --env)"`
        print(f"export PILEHOUSE_DAGSTER_POSTGRES_URL='{server.url}'")
        print(f"export PILEHOUSE_MLFLOW_TRACKING_URI='{server.mlflow_url}'")
    else:  # the URL alone, so `export VAR=$(python -m infra.postgres start DIR)` works
        print(server.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
