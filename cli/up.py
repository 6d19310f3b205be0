"""``grantflow up`` / ``grantflow down``: Prefect server, work pool, deployments, a worker and the
portal on one machine — started together, stopped together.

``up`` starts each process in a session of its own (so it outlives the command), writes its pid to
``<data_dir>/run/<name>.pid`` and its output to ``<data_dir>/run/<name>.log``, and records the URLs
in ``<data_dir>/run/state.json``. While that server runs, every other ``grantflow`` command talks to
it (``models.settings.apply_prefect_defaults`` sets ``PREFECT_API_URL`` from the state file), so the
stage commands show up in the Prefect UI and no temporary server is started. ``down`` stops exactly
the processes ``up`` started (by their pid files, process group first with SIGTERM, then SIGKILL),
and removes the state file.

Prefect keeps its own database under ``<data_dir>/prefect`` (SQLite) unless
``PREFECT_API_DATABASE_CONNECTION_URL`` is set (PostgreSQL: ``postgresql+asyncpg://…``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.admin import console_lines
from cli.console import line
from models.errors import ConfigError
from models.settings import PROJECT_ROOT, RUN_STATE_FILE, get_settings

POOL = "grantflow"
PROCESSES = ("prefect-server", "worker", "portal")  # started in this order, stopped in reverse
STARTUP_SECONDS = 120
# How often the worker asks the server for runs to start. Prefect's default, 10 s, made a click wait
# 5 s on average (up to 10) before anything happened; one query a second costs the server nothing
# (bench/results/deploy.md). Set PREFECT_WORKER_QUERY_SECONDS in the environment to choose another.
WORKER_QUERY_SECONDS = "1"


def run_dir() -> Path:
    return get_settings().data_dir.resolve() / "run"


def _pid_file(name: str) -> Path:
    return run_dir() / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pids() -> dict[str, int]:
    """The processes ``up`` started that are still alive, by name."""
    found: dict[str, int] = {}
    for name in PROCESSES:
        path = _pid_file(name)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            found[name] = pid
    return found


def _environment(api_url: str) -> dict[str, str]:
    settings = get_settings()
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(settings.data_dir.resolve() / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_UI_ENABLED": env.get("PREFECT_UI_ENABLED", "true"),
            "GRANTFLOW_HOME": str(PROJECT_ROOT),
            "GRANTFLOW_DATA_DIR": str(settings.data_dir.resolve()),
        }
    )
    return env


def worker_command() -> list[str]:
    """A process worker on the pool (also what bench/bench_deploy.py starts a second one with)."""
    return [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL]


def worker_environment() -> dict[str, str]:
    """The worker's own settings, under the user's: it asks for runs every second."""
    return {
        "PREFECT_WORKER_QUERY_SECONDS": os.environ.get("PREFECT_WORKER_QUERY_SECONDS", WORKER_QUERY_SECONDS)
    }


def portal_command(port: int, workers: int | None = None) -> list[str]:
    """``grantflow portal`` as ``up`` starts it: ``workers`` uvicorn processes, by default the count
    the docs recommend (one per core: ``portal.serving.recommended_workers``)."""
    from portal.serving import recommended_workers

    count = recommended_workers() if workers is None else workers
    return [sys.executable, "-m", "cli.main", "portal", "--port", str(port), "--workers", str(count)]


def _start(name: str, command: list[str], env: dict[str, str]) -> int:
    log = (run_dir() / f"{name}.log").open("ab")
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: it outlives this command; down stops the group
    )
    _pid_file(name).write_text(f"{process.pid}\n")
    return process.pid


def _prefect(args: list[str], env: dict[str, str], *, what: str) -> None:
    """Run one ``prefect`` command to completion; a failure names the command and its last output."""
    result = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise ConfigError(f"{what} 失败 / failed: prefect {' '.join(args)}: " + " | ".join(tail))


def _wait_healthy(api_url: str, pid: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise ConfigError(f"Prefect server 未能启动，见 {log} / Prefect server exited; see {log}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise ConfigError(
        f"Prefect server {STARTUP_SECONDS} 秒内未就绪，见 {log} / "
        f"not healthy after {STARTUP_SECONDS} s; see {log}"
    )


def _stop(name: str, pid: int, *, grace: float = 15) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def state() -> dict[str, Any] | None:
    """What ``up`` recorded, while its server still runs; else None."""
    path = run_dir() / RUN_STATE_FILE
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return recorded if "prefect-server" in running_pids() else None


def up(
    port: Annotated[int, typer.Option("--port", help="Prefect 服务端口 / Prefect server port")] = 4200,
    portal_port: Annotated[int, typer.Option("--portal-port", help="门户端口 / portal port")] = 8000,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="启动工作进程 / start a worker")
    ] = True,
    portal: Annotated[bool, typer.Option("--portal/--no-portal", help="启动门户 / start the portal")] = True,
    deploy: Annotated[
        bool, typer.Option("--deploy/--no-deploy", help="部署各阶段流程 / create the deployments")
    ] = True,
    portal_workers: Annotated[
        int | None,
        typer.Option(
            "--portal-workers",
            min=1,
            help="门户工作进程数，默认每核一个 / portal worker processes (default: one per core)",
        ),
    ] = None,
) -> None:
    """启动本机全套服务 / start Prefect server, work pool, deployments, a worker and the portal."""
    from models.db import default_engine, upgrade_database

    already = running_pids()
    if already:
        recorded = state() or {}
        line(
            "已在运行 / already running: "
            + ", ".join(f"{name} (pid {pid})" for name, pid in already.items())
            + (f" — Prefect UI {recorded.get('ui_url', '')}" if recorded else "")
        )
        return
    run_dir().mkdir(parents=True, exist_ok=True)
    upgrade_database(default_engine())
    api_url = f"http://127.0.0.1:{port}/api"
    env = _environment(api_url)
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    try:
        pid = _start(
            "prefect-server",
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env,
        )
        started.append("prefect-server")
        _wait_healthy(api_url, pid, run_dir() / "prefect-server.log")
        line(f"  ✓ Prefect server: http://127.0.0.1:{port}")
        _prefect(["work-pool", "create", POOL, "--type", "process", "--overwrite"], env, what="work pool")
        line(f"  ✓ 工作池 / work pool: {POOL}")
        if deploy:
            _prefect(
                ["--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
                env,
                what="deploy",
            )
            line("  ✓ 部署 / deployments: deployments/prefect.yaml")
        if worker:
            _start("worker", worker_command(), {**worker_environment(), **env})
            started.append("worker")
            line(f"  ✓ 工作进程 / worker on pool {POOL}")
        if portal:
            command = portal_command(portal_port, portal_workers)
            _start("portal", command, env)
            started.append("portal")
            line(
                f"  ✓ 门户 / portal: http://127.0.0.1:{portal_port} "
                f"({command[-1]} 个工作进程 / worker processes)"
            )
            for text in console_lines(f"http://127.0.0.1:{portal_port}"):
                line(f"  ✓ {text}" if text.startswith("管理后台") else f"  {text}")
    except BaseException:
        for name in reversed(started):
            pid = running_pids().get(name)
            if pid:
                _stop(name, pid)
            _pid_file(name).unlink(missing_ok=True)
        raise
    recorded = {
        "api_url": api_url,
        "ui_url": f"http://127.0.0.1:{port}",
        "portal_url": f"http://127.0.0.1:{portal_port}" if portal else None,
        "started_at": time.time(),
    }
    (run_dir() / RUN_STATE_FILE).write_text(json.dumps(recorded, indent=2), encoding="utf-8")
    line(
        f"Prefect UI: {recorded['ui_url']}  ·  其他 grantflow 命令现在都在这台服务上运行 / every grantflow "
        f"command now runs against it  ·  停止 / stop: grantflow down"
    )


def down() -> None:
    """停止 grantflow up 启动的服务 / stop exactly the processes grantflow up started."""
    alive = running_pids()
    for name in reversed(PROCESSES):
        pid = alive.get(name)
        if pid is not None:
            _stop(name, pid)
            line(f"  ✓ 已停止 / stopped {name} (pid {pid})")
        _pid_file(name).unlink(missing_ok=True)
    (run_dir() / RUN_STATE_FILE).unlink(missing_ok=True)
    if not alive:
        line("没有在运行的服务 / nothing was running")
