"""发信箱's "send now": the delivery ``grantflow outbox send`` runs, started from the page without
making the page wait.

With a Prefect server configured (``PREFECT_API_URL``, as ``grantflow up`` sets it), it is a run of
the ``deliver-letters`` deployment — the page links to the run; otherwise the same delivery engine
(``tasks.mail.delivery.deliver_configured``: the configured SMTP server, or the embedded sink's
.eml files) runs on a background thread of this process.

Two clicks never start two deliveries of a competition from one process (a lock and the running
thread per competition); two processes, or the daily flow at the same moment, are safe anyway: a
letter is claimed under a lease before it is sent (``models.mail.sending``), so each is sent once.
The page polls ``progress`` (the letters' counts, the run's outcome) while a delivery runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.audit import record
from models.competition.tables import Competition
from models.db import session_scope
from models.errors import GrantflowError
from models.mailroom import letter_counts
from models.types import utcnow

log = logging.getLogger("grantflow.portal.admin")
DEPLOYMENT = "deliver-letters/deliver-letters"
STOPPED = "发送中断，详情见服务日志；信件仍在队列中 / the delivery stopped (see the log); letters stay queued"


@dataclass
class Run:
    started_at: datetime
    actor: str
    finished_at: datetime | None = None
    summary: str = ""  # 中文 / English, when it ended
    error: str = ""
    run_url: str = ""  # the Prefect run, when it went to the server


@dataclass(frozen=True)
class Progress:
    running: bool
    run: Run | None
    counts: dict[str, int] = field(default_factory=dict)


def summary_of(report: Any) -> str:
    """One sentence for a delivery report: sent, waiting for a retry, failed."""
    parts = [(f"已发送 {report.sent} 封", f"{report.sent} sent")]
    if report.waiting:
        parts.append((f"{report.waiting} 封稍后重试", f"{report.waiting} waiting for a retry"))
    if report.failed:
        parts.append((f"{len(report.failed)} 封发送失败", f"{len(report.failed)} failed"))
    return "，".join(zh for zh, _ in parts) + " / " + ", ".join(en for _, en in parts)


class Sending:
    """The deliveries this process started, one per competition at a time."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._runs: dict[int, Run] = {}
        self._threads: dict[int, threading.Thread] = {}

    def running(self, competition_id: int) -> bool:
        thread = self._threads.get(competition_id)
        return thread is not None and thread.is_alive()

    def start(self, competition: Competition, *, actor: str) -> bool:
        """Start a delivery of the competition's due letters; False when one is running already."""
        competition_id = competition.id or 0
        with self._lock:
            if self.running(competition_id):
                return False
            run = Run(started_at=utcnow(), actor=actor)
            with session_scope(self.console.site.engine) as session:
                record(
                    session,
                    actor=actor,
                    entity="competition",
                    entity_id=competition_id,
                    action="deliver",
                    reason="立即发送到期的信件 / deliver the due letters now",
                )
            thread = threading.Thread(
                target=self._deliver,
                args=(run, competition_id, competition.slug),
                name=f"deliver-{competition.slug}",
                daemon=True,
            )
            self._runs[competition_id] = run
            self._threads[competition_id] = thread
            thread.start()
            return True

    def progress(self, session: Session, competition: Competition) -> Progress:
        competition_id = competition.id or 0
        return Progress(
            running=self.running(competition_id),
            run=self._runs.get(competition_id),
            counts=letter_counts(session, competition_id=competition_id),
        )

    def wait(self, competition_id: int, timeout: float | None = None) -> None:
        """Until the competition's delivery (if any) has ended (tests, shutting down)."""
        thread = self._threads.get(competition_id)
        if thread is not None:
            thread.join(timeout)

    def _deliver(self, run: Run, competition_id: int, slug: str) -> None:
        try:
            url = start_on_server(slug) if server_configured() else None
            if url is not None:
                run.run_url = url
                run.summary = "已交给 Prefect 服务运行 / handed to the Prefect server"
            else:  # no server, or a server without the deliver-letters deployment: here
                from tasks.mail.delivery import deliver_configured

                site = self.console.site
                report = asyncio.run(
                    deliver_configured(
                        competition_id=competition_id, settings=site.settings, engine=site.engine
                    )
                )
                run.summary = summary_of(report)
        except GrantflowError as exc:
            run.error = str(exc).splitlines()[0]
        except Exception:  # the page says it went wrong; the details go to the log, never to the page
            log.exception("console delivery of %s failed", slug)
            run.error = STOPPED
        finally:
            run.finished_at = utcnow()


def server_configured() -> bool:
    """Whether a Prefect server is configured for this process (``PREFECT_API_URL``)."""
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)


def start_on_server(slug: str) -> str | None:
    """Start a run of the deliver-letters deployment for ``slug``: the run's page in the Prefect UI,
    or None when the server has no such deployment (a test harness, a server not yet deployed to)."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import get_current_settings

    try:
        flow_run = run_deployment(DEPLOYMENT, parameters={"competition_slug": slug}, timeout=0)
    except ObjectNotFound:
        return None
    base = str(get_current_settings().api.url or "").removesuffix("/").removesuffix("/api")
    return f"{base}/runs/flow-run/{flow_run.id}"
