"""Delivering the outbox over SMTP with aiosmtplib: the engine behind the Prefect task in
``tasks/mail.py`` (the workers are in ``tasks/mail_run.py``, the SMTP side in ``tasks/smtp.py``).
No Prefect here, so a bare process can run it too (the crash test, the benchmark).

How one run goes:
1. settle letters left in ``sending`` by a crashed run whose lease is over (``resolve_sending``;
   all of them with ``takeover``), asking the embedded sink whether it holds them;
2. ``connections`` workers, each with one SMTP connection reused for many messages, claim small
   batches of due letters (committed as ``sending`` with their Message-ID *before* any SMTP
   command), send them one by one under a shared rate limit, and commit each answer at once:
   250 → ``sent``; 4xx or a lost connection → ``queued`` again after a backoff with jitter (or
   ``failed`` when the attempts are used up); 5xx → ``failed`` with the answer kept; no reply to
   the final "." of DATA within ``data_timeout`` → outcome unknown: ``sent`` if the receiving side
   holds it, else sent once more at most, then ``failed`` (models/mail/sending.py ``mark_unknown``);
3. the run waits for retries that come due within ``linger``; later ones wait for the next run —
   the report says how many wait and when the earliest is due (``waiting``, ``next_attempt_at``).
A refused login, a refused sender address or a TLS failure stops the run (``DeliveryError``):
those are settings to fix, not letters to fail. Letters claimed but not tried go back to ``queued``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import default_engine
from models.errors import DeliveryError
from models.mail.outbox import count_by_state, next_due_at
from models.mail.sending import resolve_sending
from models.settings import Settings, get_settings
from models.states import LetterState
from models.types import utcnow
from tasks.mail.sink import MailSink, delivered_in
from tasks.mail.smtp import SmtpServer
from tasks.mail.workers import ACTOR, DeliveryOptions, DeliveryReport, DeliveryRun

__all__ = ["DeliveryOptions", "DeliveryReport", "SmtpServer", "deliver_configured", "deliver_due"]


async def deliver_due(
    engine: Engine,
    server: SmtpServer,
    *,
    sender: str,
    documents_dir: Path,
    options: DeliveryOptions | None = None,
    competition_id: int | None = None,
    delivered: Callable[[str], bool] | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Deliver every due letter (of one competition, or all) to ``server``; see the module docstring.

    ``delivered(message_id)`` asks the receiving side about interrupted sends, when it can be asked.
    Raises ``DeliveryError`` when the server refuses our login, our sender address or TLS.
    """
    options = options or DeliveryOptions()
    report = DeliveryReport(server=str(server))
    run = DeliveryRun(
        engine,
        server,
        options,
        sender=sender,
        documents_dir=documents_dir,
        competition_id=competition_id,
        rng=rng or random.Random(),
        report=report,
        delivered=delivered,
    )
    settled: dict[str, list[int]] = await run.db(
        resolve_sending, now=utcnow(), actor=ACTOR, delivered=delivered, every=options.takeover
    )
    report.confirmed_after_crash = len(settled["confirmed"])
    report.requeued_after_crash = len(settled["requeued"])
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(options.connections):
                group.create_task(run.worker())
    except* Exception as failures:  # a database error, say: raise it as itself, not as a group
        raise failures.exceptions[0] from failures
    report.waiting = await run.db(_count_queued, competition_id=competition_id)
    if report.waiting:
        report.next_attempt_at = await run.db(next_due_at, competition_id=competition_id)
    if run.fatal is not None:
        raise DeliveryError(f"发送中止，信件仍在队列中 / delivery stopped, letters stay queued: {run.fatal}")
    return report


def _count_queued(session: Session, *, competition_id: int | None) -> int:
    return count_by_state(session, competition_id=competition_id).get(LetterState.queued.value, 0)


async def deliver_configured(
    *,
    competition_id: int | None = None,
    settings: Settings | None = None,
    engine: Engine | None = None,
    **option_changes: Any,
) -> DeliveryReport:
    """Deliver through ``GRANTFLOW_SMTP_HOST`` when it is set; otherwise through the embedded sink,
    which saves each letter as an .eml file under the data folder's ``mail/``."""
    settings = settings or get_settings()
    engine = engine or default_engine()
    options = DeliveryOptions.from_settings(settings, **option_changes)
    common: dict[str, Any] = {
        "sender": settings.mail_from,
        "documents_dir": settings.documents_dir,
        "options": options,
        "competition_id": competition_id,
    }
    if settings.smtp_host:
        return await deliver_due(engine, SmtpServer.from_settings(settings), **common)
    sink = MailSink(settings.mail_dir)
    await asyncio.to_thread(sink.start)
    try:
        report = await deliver_due(
            engine,
            SmtpServer(
                sink.host,
                sink.port,
                timeout=settings.smtp_timeout_seconds,
                data_timeout=settings.smtp_data_timeout_seconds,
            ),
            delivered=delivered_in(settings.mail_dir),
            **common,
        )
    finally:
        await asyncio.to_thread(sink.stop)
    report.mail_dir = str(settings.mail_dir.resolve())
    return report
