"""``grantflow portal`` serves the portal as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_portal_command_serves_healthz_and_refuses_a_bad_link(tmp_path: Path, workers: int) -> None:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTFLOW_", "PREFECT_API"))}
    environ["GRANTFLOW_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "portal", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # workers spawn and import the portal each, on a loaded machine
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, "the portal exited early"
                assert time.monotonic() < deadline, "the portal did not start within 120 s"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        refused = httpx.get(f"http://127.0.0.1:{port}/review/not-a-token", timeout=5)
        assert refused.status_code == 403 and "无法打开此链接" in refused.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}" in output
    assert f"worker processes: {workers}" in output
    if workers > 1:  # uvicorn's parent process and its workers, each serving the app
        assert "Started parent process" in output
        assert output.count("Application startup complete") == workers
    assert (tmp_path / "grantflow.db").exists()
