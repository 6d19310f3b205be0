"""A stage run started from the console, run where the CLI would run it — without waiting for it.

    start(site, run_id, step)   a worker thread of the portal takes the run (``models.steps.runs``):
                                queued → running → done | refused | failed

Where the flow runs: on the Prefect server through the step's deployment when Prefect's API is
configured (``grantflow up`` sets it), reachable and holds that deployment — the run's page links
to the server's run; otherwise here, in this process, exactly as ``grantflow <stage>`` runs it (the
flow function called with the same parameters). Either way the console's row is the one guard:
its unique key is taken before the thread starts and given back when the run ends.

A refusal (any ``GrantflowError``) ends the run ``refused`` with its one sentence; anything else
ends it ``failed`` with one line, the traceback kept under ``<data dir>/errors/`` (never on a
page). While an in-process run works, a second thread renews its lease: a portal stopped under a
run leaves a lease that runs out, and the next start of that step settles it as failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

from sqlalchemy.engine import Engine

from models.db import session_scope
from models.errors import GrantflowError
from models.states import RunState
from models.steps.runs import LEASE, PREFECT, begin, finish, keep_traceback, note_prefect_run, renew
from models.types import utcnow
from portal.site import Site

log = logging.getLogger("grantflow.portal.admin.runner")
POLL_SECONDS = 0.5  # the server's record of the run, read twice a second while the page waits
FINAL_PREFECT_FAILURES = ("FAILED", "CRASHED", "CANCELLED", "CANCELLING")
# Prefect's message of a failed run: "Flow run encountered an exception: InputError: <its text>"
RAISED = re.compile(r"exception:\s*(?P<kind>[A-Za-z_][\w.]*):\s*(?P<text>.+)", re.S)


class ServerRunFailed(Exception):
    """The deployment's run failed, crashed or was cancelled for a reason that is not a refusal."""


def _refusal_kinds() -> set[str]:
    kinds: set[str] = set()
    todo: list[type] = [GrantflowError]
    while todo:
        kind = todo.pop()
        kinds.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return kinds


def server_failure(name: str, state_name: str, message: str) -> Exception:
    """What a deployment's run that did not complete ends as on the console: a refusal raised by the
    flow (a ``GrantflowError`` on the worker) is its own first sentence, as when the run is here;
    anything else is a failure naming the run and its state."""
    found = RAISED.search(message)
    if found and found["kind"].rpartition(".")[2] in _refusal_kinds():
        text = found["text"].strip().splitlines()[0].strip()
        return GrantflowError(text)
    first = (message.strip().splitlines() or ["—"])[0]
    return ServerRunFailed(
        f"服务器上的运行 {name} 未成功（{state_name}）：{first} / "
        f"the server's run {name} ended {state_name}: {first}"
    )


@dataclass(frozen=True)
class Job:
    """What a worker thread runs: the flow (``module:function``), its parameters, and its
    deployment on the Prefect server (``flow-name/deployment-name``)."""

    flow: str
    parameters: dict[str, Any]
    deployment: str


def jsonable(value: Any) -> Any:
    """A flow's result as the run's row keeps it (dates as ISO text, anything else as text)."""
    return json.loads(
        json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))
    )


def run_here(job: Job) -> Any:
    """The flow called in this thread, as the CLI calls it (an async flow run to its end)."""
    module, _, name = job.flow.partition(":")
    flow: Any = getattr(import_module(module), name)
    if hasattr(flow, "with_options"):  # its result comes back here: nothing to keep in Prefect's storage
        flow = flow.with_options(persist_result=False)
    result = flow(**job.parameters)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result


async def _on_server(engine: Engine, run_id: int, job: Job) -> tuple[bool, Any]:
    """(True, result) once the deployment's run ended; (False, None) when there is no server or no
    such deployment (the run then goes on here)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import arun_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        return False, None
    async with get_client() as client:
        if await client.api_healthcheck() is not None:
            return False, None
        try:
            await client.read_deployment_by_name(job.deployment)
        except ObjectNotFound:
            return False, None
        parameters = jsonable(job.parameters)
        flow_run = await arun_deployment(
            job.deployment, client=client, parameters=parameters, timeout=0, as_subflow=False
        )
        base = str(get_current_settings().api.url).removesuffix("/").removesuffix("/api")
        url = f"{base}/runs/flow-run/{flow_run.id}"
        with session_scope(engine) as session:
            note_prefect_run(
                session, run_id=run_id, flow_run_id=str(flow_run.id), name=flow_run.name, url=url
            )
        while True:
            flow_run = await client.read_flow_run(flow_run.id)
            state = flow_run.state
            if state is not None and state.is_final():
                break
            await asyncio.sleep(POLL_SECONDS)
        if not state.is_completed():
            raise server_failure(flow_run.name, state.name, state.message or "")
        try:
            return True, await state.aresult(raise_on_failure=True, retry_result_failure=False)
        except Exception:  # completed, its result stored where this machine cannot read it
            return True, {"completed_on": PREFECT}


def _work(site: Site, run_id: int, job: Job) -> None:
    engine = site.engine
    try:
        with session_scope(engine) as session:
            begin(session, run_id=run_id, now=utcnow())
    except Exception as exc:  # never left queued without a lease: ended as failed, or by the next start
        log.exception("console run %s could not begin", run_id)
        with session_scope(engine) as session:
            finish(
                session,
                run_id=run_id,
                state=RunState.failed,
                now=utcnow(),
                message=f"运行未能开始 / the run could not begin ({type(exc).__name__})",
            )
        return
    stop = threading.Event()

    def keep_lease() -> None:
        while not stop.wait(LEASE.total_seconds() / 4):
            try:
                with session_scope(engine) as session:
                    renew(session, run_ids=[run_id], now=utcnow())
            except Exception:  # a busy database: the next round renews it
                log.warning("console run %s: the lease was not renewed this time", run_id, exc_info=True)

    threading.Thread(target=keep_lease, name=f"console-lease-{run_id}", daemon=True).start()
    state, message, error_file, result = RunState.done, "", "", None
    try:
        ran, result = asyncio.run(_on_server(engine, run_id, job))
        if not ran:
            result = run_here(job)
    except GrantflowError as exc:
        state, message = RunState.refused, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except ServerRunFailed as exc:  # the worker's log in Prefect holds its traceback: the page links there
        state, message = RunState.failed, str(exc)
    except Exception as exc:
        error_file = keep_traceback(exc, data_dir=site.settings.data_dir)
        state = RunState.failed
        message = (
            f"运行出错（{type(exc).__name__}），详情已记入 {error_file or '日志'} / the run failed "
            f"({type(exc).__name__}); the details are in {error_file or 'the log'}"
        )
        log.exception("console run %s failed", run_id)
    finally:
        stop.set()
    with session_scope(engine) as session:
        finish(
            session,
            run_id=run_id,
            state=state,
            now=utcnow(),
            result=jsonable(result) if isinstance(result, dict) else None,
            message=message,
            error_file=error_file,
        )


def start(site: Site, run_id: int, job: Job) -> threading.Thread:
    """Run ``job`` for the console run ``run_id`` (committed, queued) in a thread of the portal."""
    thread = threading.Thread(
        target=_work, args=(site, run_id, job), name=f"console-run-{run_id}", daemon=True
    )
    thread.start()
    return thread
