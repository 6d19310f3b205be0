"""Start and stop a real PostgreSQL server for the tests.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user (``runuser``),
in a temporary folder that user owns; as a plain user it runs as that user. It listens on a free
loopback port only, and is stopped (``pg_ctl -m fast stop``) also when a test fails.

It runs with ``fsync=off`` and ``synchronous_commit=off`` (fast) unless started ``durable``: a test
that crashes the server itself (``crash_command``) needs every acknowledged commit kept, as a real
server keeps it — ``synchronous_commit=off`` loses the last ones with the server's processes.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: "
            "run `make test` (it installs Debian's postgresql package)"
        )
    return Path(found[-1]).parent


def _options(port: int, directory: Path, durable: bool) -> str:
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
    if durable:  # fsync off is safe while the machine stays up: the server's crash loses nothing
        return f"{options} -c fsync=off"
    return f"{options} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    directory: Path
    port: int
    as_user: list[str]
    durable: bool = False
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, *, durable: bool = False) -> PostgresServer:
        bin_dir = _pg_bin()
        directory = Path(tempfile.mkdtemp(prefix="grantflow-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        data = directory / "data"
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "app",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
        port = _free_port()
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "server.log"),
                "-w",
                "-o",
                _options(port, directory, durable),
                "start",
            ],
            check=True,
            capture_output=True,
        )
        return cls(directory=directory, port=port, as_user=as_user, durable=durable)

    @property
    def admin_url(self) -> str:
        return f"postgresql://app@127.0.0.1:{self.port}/postgres"

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        name = f"test_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://app@127.0.0.1:{self.port}/{name}"

    def control(self, action: str) -> None:
        """``pg_ctl restart``, ``stop`` or ``start`` on this server, fast, waiting until it is done
        (the database-fault tests cut every connection with it)."""
        options = ["-o", _options(self.port, self.directory, self.durable)]
        subprocess.run(
            [
                *self.as_user,
                str(_pg_bin() / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-l",
                str(self.directory / "server.log"),
                "-m",
                "fast",
                "-w",
                *(options if action != "stop" else []),
                action,
            ],
            check=True,
            capture_output=True,
        )

    def crash_command(self) -> list[str]:
        """The command that crashes the server: ``pg_ctl stop -m immediate`` ends every server
        process at once, no checkpoint, open transactions cut; the next start recovers from WAL."""
        data = str(self.directory / "data")
        return [*self.as_user, str(_pg_bin() / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]

    def stop(self) -> None:
        bin_dir = _pg_bin()
        subprocess.run(
            [
                *self.as_user,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-m",
                "fast",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)
