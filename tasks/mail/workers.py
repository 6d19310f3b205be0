"""One delivery run: a few workers, each with one SMTP connection reused for many messages.

A worker claims a small batch (committed as ``sending``, with Message-IDs, before any SMTP command),
builds the messages off the event loop, sends them one by one under the shared rate limit, and
commits each answer before its next message: 250 → ``sent`` (group-committed with the 250s of the
other connections), 4xx / lost connection → backoff, 5xx → ``failed``, no reply to the final "."
of DATA (after the long ``data_timeout``) → outcome unknown: confirmed by the receiving side when it
can be asked, else sent once more at most (``mark_unknown``). It renews its batch's
leases at half-time and never sends a letter whose lease it lost. Database work runs in a thread,
one transaction at a time. Used by ``tasks/mail_delivery.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosmtplib
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import faults
from models.db import session_scope
from models.documents.tables import GeneratedDocument
from models.mail.mime import Attachment, Mailbox, build_message, message_bytes, parse_mailbox
from models.mail.outbox import OutboxLetter, letter_date, next_due_at
from models.mail.sending import (
    claim_letters,
    mark_all_sent,
    mark_deferred,
    mark_failed,
    mark_unknown,
    renew_leases,
    unclaim,
)
from models.settings import Settings
from models.states import LetterState
from models.types import utcnow
from tasks.mail.smtp import Outcome, RateLimit, SmtpServer, classify, transmit

ACTOR = "system:mail"


@dataclass(frozen=True)
class DeliveryOptions:
    connections: int = 4  # concurrent SMTP connections
    max_per_second: float = 0  # for all connections together; 0 = no limit
    batch: int = 10  # letters a worker claims at a time
    messages_per_connection: int = 100  # then a fresh connection (servers cap a session)
    lease: timedelta = timedelta(minutes=5)  # a claim not renewed for this long is presumed dead
    takeover: bool = False  # settle every `sending` row at once: only when no other sender runs
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    linger: timedelta = timedelta(minutes=2)  # wait for retries that come due this soon
    timezone: str = "Asia/Shanghai"  # for the Date header

    @classmethod
    def from_settings(cls, settings: Settings, **changes: Any) -> DeliveryOptions:
        base = cls(
            connections=settings.smtp_connections,
            max_per_second=settings.smtp_max_per_second,
            messages_per_connection=settings.smtp_messages_per_connection,
            linger=timedelta(seconds=settings.smtp_linger_seconds),
            timezone=settings.timezone,
        )
        return replace(base, **changes)


@dataclass
class DeliveryReport:
    server: str = ""
    mail_dir: str = ""  # where the embedded sink saved the .eml files ("" for a real server)
    sent: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # id, recipient, answer
    retries: int = 0  # transient failures met in this run (each will be tried again)
    waiting: int = 0  # letters left queued for a later run (their backoff reaches past linger)
    next_attempt_at: datetime | None = None  # when the earliest waiting letter is due (None: none waits)
    unanswered: int = 0  # sends the server never answered after DATA (outcome unknown)
    confirmed_after_silence: int = 0  # … of which the receiving side holds the message: sent
    confirmed_after_crash: int = 0
    requeued_after_crash: int = 0
    connections: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (the time as ISO 8601 UTC), as the Prefect task returns it."""
        report = asdict(self)
        report["next_attempt_at"] = self.next_attempt_at.isoformat() if self.next_attempt_at else None
        return report


@dataclass(frozen=True)
class Claimed:
    """What a worker needs of a claimed letter, read inside the claiming transaction."""

    letter_id: int
    recipient: str
    recipient_name: str
    subject: str
    text: str
    html: str
    message_id: str
    attachments: tuple[tuple[int, str, str], ...]  # (document id, file name, path under documents/)
    dated: datetime | None = None  # the run's moment it was queued as of (its Date header)


@dataclass(frozen=True)
class Outgoing:
    letter_id: int
    recipient: str
    data: bytes


def claim_batch(
    session: Session, *, now: datetime, options: DeliveryOptions, domain: str, competition_id: int | None
) -> list[Claimed]:
    """Claim due letters and read, in the same transaction, what sending them needs."""
    letters = claim_letters(
        session,
        now=now,
        lease=options.lease,
        limit=options.batch,
        domain=domain,
        actor=ACTOR,
        competition_id=competition_id,
    )
    wanted = {doc_id for letter in letters for doc_id in letter.attachments}
    documents = (
        {
            doc.id: doc
            for doc in session.exec(select(GeneratedDocument).where(col(GeneratedDocument.id).in_(wanted)))
        }
        if wanted
        else {}
    )
    claimed = []
    for letter in letters:
        assert letter.id is not None
        attachments = tuple(
            (doc_id, documents[doc_id].filename, documents[doc_id].path)
            if doc_id in documents
            else (doc_id, "", "")
            for doc_id in letter.attachments
        )
        claimed.append(
            Claimed(
                letter.id,
                letter.recipient_email,
                letter.recipient_name,
                letter.subject,
                letter.body_text,
                letter.body_html,
                letter.message_id,
                attachments,
                letter_date(letter),
            )
        )
    return claimed


def build_outgoing(letter: Claimed, *, sender: Mailbox, documents_dir: Path, date: datetime) -> Outgoing:
    """The bytes of one letter; OSError / LookupError / ValueError when it cannot be built."""
    attachments = []
    for doc_id, filename, path in letter.attachments:
        if not path:
            raise LookupError(f"附件文档 {doc_id} 不存在 / attached document #{doc_id} does not exist")
        attachments.append(Attachment(filename, (documents_dir / path).read_bytes()))
    message = build_message(
        sender=sender,
        recipient_email=letter.recipient,
        recipient_name=letter.recipient_name,
        subject=letter.subject,
        text=letter.text,
        html=letter.html,
        message_id=letter.message_id,
        date=letter.dated or date,
        attachments=attachments,
    )
    return Outgoing(letter.letter_id, letter.recipient, message_bytes(message))


class DeliveryRun:
    """One delivery run: the shared state of its workers."""

    def __init__(
        self,
        engine: Engine,
        server: SmtpServer,
        options: DeliveryOptions,
        *,
        sender: str,
        documents_dir: Path,
        competition_id: int | None,
        rng: random.Random,
        report: DeliveryReport,
        delivered: Callable[[str], bool] | None = None,
    ) -> None:
        self.engine, self.server, self.options = engine, server, options
        self.delivered = delivered  # asks the receiving side whether it holds a Message-ID
        self.sender = parse_mailbox(sender)
        self.documents_dir, self.competition_id, self.rng, self.report = (
            documents_dir,
            competition_id,
            rng,
            report,
        )
        self.limit = RateLimit(options.max_per_second)
        self.deadline = utcnow() + options.linger
        self.fatal: str | None = None
        self._db_lock = asyncio.Lock()
        self._unsaved: list[tuple[int, str, asyncio.Future[bool]]] = []

    async def db(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        """Run a models/ function in its own committed transaction, off the event loop, one at a time."""

        def call() -> Any:
            with session_scope(self.engine) as session:
                return fn(session, **kwargs)

        async with self._db_lock:
            return await asyncio.to_thread(call)

    async def claim(self) -> tuple[list[Outgoing], datetime]:
        now = utcnow()
        claimed: list[Claimed] = await self.db(
            claim_batch,
            now=now,
            options=self.options,
            domain=self.sender.domain,
            competition_id=self.competition_id,
        )
        for letter in claimed:
            faults.reach("claimed", letter.letter_id)
        date = datetime.now(ZoneInfo(self.options.timezone))

        def build_all() -> list[Outgoing | str]:
            built: list[Outgoing | str] = []
            for letter in claimed:
                try:
                    built.append(
                        build_outgoing(
                            letter, sender=self.sender, documents_dir=self.documents_dir, date=date
                        )
                    )
                except (OSError, LookupError, ValueError) as exc:
                    built.append(f"信件无法生成 / letter could not be built: {exc}")
            return built

        outgoing = []
        for letter, result in zip(claimed, await asyncio.to_thread(build_all), strict=True):
            if isinstance(result, Outgoing):
                outgoing.append(result)
                continue
            await self.db(mark_failed, letter_id=letter.letter_id, answer=result, actor=ACTOR)
            self.report.failed.append(
                {"id": letter.letter_id, "recipient": letter.recipient, "answer": result}
            )
        return outgoing, now + self.options.lease

    async def idle_wait(self) -> float | None:
        """Seconds until a queued letter comes due within the run's horizon; None: the run is done."""
        due: datetime | None = await self.db(next_due_at, competition_id=self.competition_id)
        if due is None or due > self.deadline:
            return None
        return min(max((due - utcnow()).total_seconds(), 0.0), 1.0)

    async def sent(self, item: Outgoing, answer: str) -> None:
        """Commit ``sent`` before this connection sends anything else.

        Group commit: the 250s that arrive on other connections while a commit is running are
        committed together in the next one — each connection still waits for its own.
        """
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._unsaved.append((item.letter_id, answer, done))
        async with self._db_lock:
            if not done.done():
                batch, self._unsaved = self._unsaved, []

                def call() -> list[bool]:
                    with session_scope(self.engine) as session:
                        return mark_all_sent(
                            session, answers=[(i, a) for i, a, _ in batch], now=utcnow(), actor=ACTOR
                        )

                try:
                    marked = await asyncio.to_thread(call)
                except BaseException as exc:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    raise
                for (_, _, future), ok in zip(batch, marked, strict=True):
                    future.set_result(ok)
        if await done:
            self.report.sent += 1

    async def failed(self, item: Outgoing, answer: str) -> None:
        if await self.db(mark_failed, letter_id=item.letter_id, answer=answer, actor=ACTOR):
            self.report.failed.append({"id": item.letter_id, "recipient": item.recipient, "answer": answer})

    async def deferred(self, item: Outgoing, answer: str) -> None:
        state = await self.db(
            mark_deferred,
            letter_id=item.letter_id,
            answer=answer,
            now=utcnow(),
            actor=ACTOR,
            max_attempts=self.options.max_attempts,
            base=self.options.retry_base,
            cap=self.options.retry_cap,
            rng=self.rng,
        )
        if state is LetterState.failed:
            self.report.failed.append({"id": item.letter_id, "recipient": item.recipient, "answer": answer})
        elif state is LetterState.queued:
            self.report.retries += 1

    async def unanswered(self, item: Outgoing, answer: str) -> None:
        """No reply after DATA: ask the receiving side, else send once more at most (``mark_unknown``)."""
        self.report.unanswered += 1
        state = await self.db(
            mark_unknown,
            letter_id=item.letter_id,
            answer=answer,
            now=utcnow(),
            actor=ACTOR,
            max_attempts=self.options.max_attempts,
            base=self.options.retry_base,
            cap=self.options.retry_cap,
            rng=self.rng,
            delivered=self.delivered,
        )
        if state is LetterState.sent:
            self.report.sent += 1
            self.report.confirmed_after_silence += 1
        elif state is LetterState.failed:
            answer = await self.db(_last_answer, letter_id=item.letter_id)
            self.report.failed.append({"id": item.letter_id, "recipient": item.recipient, "answer": answer})
        elif state is LetterState.queued:
            self.report.retries += 1

    async def give_back(self, items: list[Outgoing], reason: str) -> None:
        if items:
            await self.db(unclaim, letter_ids=[i.letter_id for i in items], reason=reason, actor=ACTOR)

    async def connect(self) -> aiosmtplib.SMTP:
        smtp = self.server.client()
        await smtp.connect()
        self.report.connections += 1
        return smtp

    async def hold(self, pending: list[Outgoing], lease_until: datetime) -> tuple[list[Outgoing], datetime]:
        """Renew the batch's leases at half-time; drop a letter whose lease was lost (not ours now)."""
        now = utcnow()
        if now < lease_until - self.options.lease / 2:
            return pending, lease_until
        until = now + self.options.lease
        ids = [item.letter_id for item in pending]
        held = set(await self.db(renew_leases, letter_ids=ids, now=now, until=until))
        return [item for item in pending if item.letter_id in held], until

    async def worker(self) -> None:
        smtp: aiosmtplib.SMTP | None = None
        used = 0
        try:
            while self.fatal is None:
                pending, lease_until = await self.claim()
                if not pending:
                    wait = await self.idle_wait()
                    if wait is None:
                        return
                    await asyncio.sleep(wait)
                    continue
                while pending:
                    if self.fatal is not None:
                        await self.give_back(pending, "发送中止 / run stopped")
                        break
                    pending, lease_until = await self.hold(pending, lease_until)
                    if not pending:
                        break
                    if smtp is None or not smtp.is_connected or used >= self.options.messages_per_connection:
                        await _close(smtp)
                        smtp, used = None, 0
                        try:
                            smtp = await self.connect()
                        except Exception as exc:
                            kind, answer = classify(exc)
                            if kind is Outcome.fatal:
                                self.fatal = self.fatal or answer
                                await self.give_back(pending, answer)
                            else:
                                for rest in pending:
                                    await self.deferred(rest, answer)
                            break
                    item = pending[0]
                    await self.limit.wait()
                    try:
                        answer = await transmit(
                            smtp,
                            self.sender.address,
                            item.recipient,
                            item.data,
                            data_timeout=self.server.data_timeout,
                        )
                    except Exception as exc:
                        kind, answer = classify(exc)
                        if kind is Outcome.fatal:
                            self.fatal = self.fatal or answer
                            await self.give_back(pending, answer)
                            break
                        if kind is Outcome.unknown:
                            await self.unanswered(item, answer)
                        elif kind is Outcome.transient:
                            await self.deferred(item, answer)
                        else:
                            await self.failed(item, answer)
                    else:
                        used += 1
                        faults.reach("accepted", item.letter_id)
                        await self.sent(item, f"250 {answer}")
                        faults.reach("committed", item.letter_id)
                    pending = pending[1:]
        finally:
            await _close(smtp)


def _last_answer(session: Session, *, letter_id: int) -> str:
    letter = session.get(OutboxLetter, letter_id)
    return letter.last_answer if letter is not None else ""


async def _close(smtp: aiosmtplib.SMTP | None) -> None:
    if smtp is None:
        return
    if smtp.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await smtp.quit()
    smtp.close()
