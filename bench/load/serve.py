"""The portal served as in production, in its own ``uvicorn`` process, for the load benchmark.

``grantflow portal --workers N`` runs ``uvicorn portal.app:served_app --factory --workers N``
(the docs recommend one worker per core: ``portal.serving.recommended_workers``). ``Portal`` starts
the same app the same way — ``python -m uvicorn bench.load.serve:app --factory --workers N``, access
log on, proxy headers — with one difference: the benchmark's competition lives on the 2025 timeline
of the demo, so ``GRANTFLOW_BENCH_CLOCK`` (an ISO moment) fixes the portal's clock there
(``create_app``'s ``clock``), as the portal tests do; without it the clock is the real one.

``Portal.cpu_seconds()`` reads the server's user + system CPU time from /proc (its process and its
workers), to tell a CPU-bound server from one that waits.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType

import httpx
from fastapi import FastAPI

CLOCK_ENV = "GRANTFLOW_BENCH_CLOCK"
ROOT = Path(__file__).resolve().parents[2]


def app() -> FastAPI:
    """The production portal (``portal.app.create_app``), its clock fixed by ``GRANTFLOW_BENCH_CLOCK``."""
    from models.settings import get_settings
    from portal.app import create_app
    from portal.serving import configure_logging

    configure_logging()
    moment = os.environ.get(CLOCK_ENV)
    if not moment:
        return create_app(get_settings())
    fixed = datetime.fromisoformat(moment)
    return create_app(get_settings(), clock=lambda: fixed)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class Portal:
    """``with Portal(env, log=…) as portal:`` the portal on ``portal.url`` until the block ends."""

    def __init__(self, env: dict[str, str], *, log: Path, workers: int = 1, clock: datetime | None = None):
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        if clock is not None:
            self.env[CLOCK_ENV] = clock.isoformat()
        self.log, self.workers = log, workers
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Portal:
        command = [
            sys.executable, "-m", "uvicorn", "bench.load.serve:app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
            "--proxy-headers", "--log-level", "info",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the portal stopped at start; see {self.log}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the portal did not answer within 60 s; see {self.log}")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU the server used so far (its process and its worker processes)."""
        if self.process is None:
            return 0.0
        pids = [self.process.pid, *_children(self.process.pid)]
        return sum(_ticks(pid) for pid in pids) / os.sysconf("SC_CLK_TCK")
