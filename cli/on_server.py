"""A stage run on the Prefect server: the administrator's command starts a deployment's run, waits
for it with a spinner on stderr, and returns the flow's result — or says in one line why not.

Which server: Prefect's ``PREFECT_API_URL`` — set by ``grantflow up`` for its data folder
(``models.settings.apply_prefect_defaults``), or by the administrator for a server elsewhere.
Without one, the command refuses instead of starting a temporary server (where no worker and no
deployment would ever pick the run up). The run's files travel as parameters (see
``models.intake.inbox``); its result is read back from Prefect's result storage, so the flow
persists its result (``persist_result=True``) where this machine can read it (see
deployments/README.md).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from cli.console import line, waiting
from models.errors import ConfigError

DEFAULT_TIMEOUT_SECONDS = 1800
POLL_SECONDS = 2.0
# Where a run's worker would be, when it waits longer than this in Scheduled/Pending
NO_WORKER_HINT_SECONDS = 30


def server_api_url() -> str:
    """Prefect's API URL for this command, or a ``ConfigError`` saying how to get one."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise ConfigError(
            "没有在运行的 Prefect 服务：先运行 grantflow up，或把 PREFECT_API_URL 设为服务器地址 / "
            "no Prefect server is running: start one with grantflow up, or set PREFECT_API_URL "
            "to the server's API (e.g. http://server:4200/api)"
        )
    return str(url)


def ui_url_for(flow_run: Any) -> str:
    """The run's page in the Prefect UI (derived from the API URL when no UI URL is set)."""
    from prefect.settings import get_current_settings
    from prefect.utilities.urls import url_for

    try:
        url = url_for(flow_run)
    except Exception:  # no UI URL can be derived: fall back to the API's host
        url = None
    if url:
        return str(url)
    base = str(get_current_settings().api.url or "").removesuffix("/").removesuffix("/api")
    return f"{base}/runs/flow-run/{flow_run.id}"


def run_on_server(
    deployment: str,
    parameters: dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    read_result: bool = True,
) -> Any:
    """Start a run of ``deployment`` ("flow/deployment") and wait for it; returns its result
    (``read_result``: the flow persists it), or None once it completed (not ``read_result``).

    Raises ``ConfigError`` (one line, the run's name and UI page where there is a run) when no
    server is set or reachable, the deployment is missing, the run fails, crashes or is cancelled,
    it does not end within ``timeout`` seconds, or its result cannot be read here.
    """
    api_url = server_api_url()
    return asyncio.run(
        _run(deployment, parameters, api_url=api_url, timeout=timeout, read_result=read_result)
    )


async def _run(
    deployment: str, parameters: dict[str, Any], *, api_url: str, timeout: float, read_result: bool
) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.deployments import arun_deployment
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        unreachable = await client.api_healthcheck()
        if unreachable is not None:
            raise ConfigError(
                f"无法连接 Prefect 服务 {api_url}（grantflow up 是否在运行？）/ cannot reach the Prefect "
                f"server at {api_url} (is grantflow up running?): {type(unreachable).__name__}"
            )
        try:
            await client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            raise ConfigError(
                f"服务器上没有部署 {deployment}：运行 grantflow up，或 prefect deploy --all --prefect-file "
                f"deployments/prefect.yaml / the server at {api_url} has no deployment {deployment}: "
                "start grantflow up, or run prefect deploy --all --prefect-file deployments/prefect.yaml"
            ) from None
        flow_run = await arun_deployment(
            deployment, client=client, parameters=parameters, timeout=0, as_subflow=False
        )
        url = ui_url_for(flow_run)
        line(f"已提交 / submitted: {flow_run.name} — {url}", err=True)
        started = time.monotonic()
        try:
            flow_run = await _wait(client, flow_run, started=started, timeout=timeout, url=url)
        except (KeyboardInterrupt, asyncio.CancelledError):
            line(f"不再等待；运行仍在服务器上继续 / stopped waiting; the run goes on: {url}", err=True)
            raise
        return await _result(flow_run, url, read=read_result)


async def _wait(client: Any, flow_run: Any, *, started: float, timeout: float, url: str) -> Any:
    last = None
    with waiting(f"{flow_run.name} …") as update:
        while True:
            flow_run = await client.read_flow_run(flow_run.id)
            state = flow_run.state
            if state is not None and state.is_final():
                line(f"  {flow_run.name}: {state.name}", err=True)
                return flow_run
            elapsed = time.monotonic() - started
            name = state.name if state else "Scheduled"
            if name != last:
                line(f"  {flow_run.name}: {name}", err=True)
                last = name
            hint = (
                "（等待工作进程 / waiting for a worker on the pool）"
                if name in ("Scheduled", "Pending", "Late") and elapsed > NO_WORKER_HINT_SECONDS
                else ""
            )
            update(f"{flow_run.name}: {name} {elapsed:.0f} s {hint}")
            if elapsed > timeout:
                raise ConfigError(
                    f"运行 {flow_run.name} 在 {timeout:.0f} 秒内未结束（现为 {name}），仍在服务器上继续，"
                    f"见 {url} / the run {flow_run.name} did not end within {timeout:.0f} s (now {name}); "
                    f"it goes on on the server: {url}"
                )
            await asyncio.sleep(POLL_SECONDS)


async def _result(flow_run: Any, url: str, *, read: bool) -> Any:
    state = flow_run.state
    if not state.is_completed():
        message = (state.message or "").strip() or "—"
        raise ConfigError(
            f"运行 {flow_run.name} 未成功（{state.name}）：{message}；见 {url} / "
            f"the run {flow_run.name} ended {state.type.value}: {message}; see {url}"
        )
    if not read:
        return None
    try:
        return await state.aresult(raise_on_failure=True, retry_result_failure=False)
    except Exception as exc:
        raise ConfigError(
            f"运行 {flow_run.name} 已完成，但本机读不到其结果（工作进程的 Prefect 结果目录须为本机可读，"
            f"见 deployments/README.md）；见 {url} / the run {flow_run.name} completed, but its result "
            f"cannot be read on this machine ({type(exc).__name__}: {exc}); the workers' Prefect "
            f"result folder must be readable here (deployments/README.md); see {url}"
        ) from None
