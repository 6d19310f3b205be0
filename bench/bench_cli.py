"""What a ``grantflow`` command costs around its work, side by side in one run.

- ``status`` (a read command): wall time, median of 5 runs (target ≤ 1 s), beside the time Python
  takes to import the libraries it cannot do without (SQLModel, pydantic-settings, Typer).
- ``call publish`` (a stage command) on Prefect's temporary server, and against ``grantflow up``'s
  server: wall time, and — against the server, where the run's record is kept — the overhead, wall
  time minus the flow run's own duration as the server recorded it (target ≤ 3 s), beside the time
  ``import prefect`` alone takes on the same machine in the same run.

Each stage measurement starts from a fresh data folder with the example competition stored, so both
sides publish the same call. Timings are figures, never test assertions: the machine is shared.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "jiangtou-2025" / "competition.yaml"
CALL_AT = "2025-01-06T09:00:00+08:00"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GRANTFLOW_"))}
    env.update(
        {
            "GRANTFLOW_ENVIRONMENT": "development",
            "GRANTFLOW_DATA_DIR": str(data_dir),
            "PREFECT_UI_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _grantflow(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    return time.perf_counter() - started


def _import_floor(modules: str, env: dict[str, str]) -> float:
    """The time to start Python and import ``modules``: what no change of grantflow's can remove."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {modules}"], cwd=ROOT, env=env, check=True, timeout=300)
    return time.perf_counter() - started


def _prepared(folder: Path) -> dict[str, str]:
    env = _env(folder)
    _grantflow(["competition", "create", str(EXAMPLE)], env)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _last_flow_run_seconds(api_url: str) -> float:
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter",
        data=json.dumps({"sort": "END_TIME_DESC", "limit": 1}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        run: dict[str, Any] = json.load(answer)[0]
    start = datetime.fromisoformat(run["start_time"])
    end = datetime.fromisoformat(run["end_time"])
    return (end - start).total_seconds()


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="grantflow-bench-cli-") as tmp:
        base = Path(tmp)
        env = _prepared(base / "status")
        status = statistics.median(_grantflow(["status"], env) for _ in range(5))
        floor = "sqlmodel, pydantic_settings, typer"
        libraries = statistics.median(_import_floor(floor, env) for _ in range(5))
        prefect_floor = statistics.median(_import_floor("prefect", env) for _ in range(3))

        ephemeral = _grantflow(["call", "publish", "--as-of", CALL_AT], _prepared(base / "ephemeral"))

        env = _prepared(base / "server")
        port = _free_port()
        _grantflow(["up", "--port", str(port), "--no-worker", "--no-portal", "--no-deploy"], env)
        try:
            against_server = _grantflow(["call", "publish", "--as-of", CALL_AT], env)
            flow_body = _last_flow_run_seconds(f"http://127.0.0.1:{port}/api")
        finally:
            _grantflow(["down"], env)
    return {
        "status_wall_s (median of 5; target ≤ 1)": round(status, 2),
        "status_libraries_import_floor_s (sqlmodel, pydantic-settings, typer)": round(libraries, 2),
        "status_over_floor_ratio": round(status / libraries, 2),
        "call_publish_ephemeral_wall_s": round(ephemeral, 2),
        "call_publish_against_up_wall_s": round(against_server, 2),
        "call_publish_flow_body_s (server record)": round(flow_body, 2),
        "stage_overhead_against_up_s (target ≤ 3)": round(against_server - flow_body, 2),
        "prefect_import_floor_s": round(prefect_floor, 2),
        "stage_overhead_beyond_prefect_import_s": round(against_server - flow_body - prefect_floor, 2),
        "ephemeral_over_up_ratio": round(ephemeral / against_server, 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2, ensure_ascii=False))
