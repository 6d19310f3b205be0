"""A slow server: it stores the message, then answers the final "." late.

Before the fix the reply to DATA waited only the per-command timeout; a server that stored the
message and answered after it got the letter again and again under the same Message-ID (20 letters
became 158 messages). Now the final reply waits ``smtp_data_timeout_seconds`` (RFC 5321
§4.5.3.2.6: 10 minutes), and a send never answered is an unknown outcome: confirmed by the
receiving side when it can be asked, else sent once more at most — never in a loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models.audit import history
from models.mail.outbox import list_letters
from models.mail.sending import UNKNOWN_OUTCOMES
from models.settings import Environment, Settings
from models.states import LetterState
from tasks.mail.delivery import deliver_configured, deliver_due
from tasks.mail.sink import EmlSink, delivered_in, message_id_of
from tasks.mail.smtp import SmtpServer
from tests.tasks.conftest import FAST, SENDER, queue_receipts

# Generous for a loaded machine, and still far below the server's lateness where it must matter.
COMMAND_TIMEOUT = 1.0
LATE = 1.6  # the server answers this much after storing the message
NEVER = None  # … or only once the client has hung up: no timer race, however loaded the machine


@dataclass
class LateSink(EmlSink):
    """Stores the message, then answers 250 ``late`` seconds later — or, with ``late=NEVER``, not
    before the client has given up and closed the connection — on the first ``late_attempts``
    attempts of each Message-ID (all of them when None)."""

    late: float | None = LATE
    late_attempts: int | None = None
    attempts: Counter[str] = field(default_factory=Counter)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        message_id = message_id_of(data)
        self.attempts[message_id] += 1
        answer = self.store(data, envelope.mail_from or "", tuple(envelope.rcpt_tos))
        if self.late_attempts is None or self.attempts[message_id] <= self.late_attempts:
            if self.late is NEVER:
                while server.transport is not None and not server.transport.is_closing():
                    await asyncio.sleep(0.01)
            else:
                await asyncio.sleep(self.late)
        return answer

    def stored(self) -> Counter[str]:
        """How many times the server took each Message-ID in (duplicates included)."""
        return Counter(receipt.message_id for receipt in self.receipts)


def rows(engine):
    with Session(engine) as session:
        return list_letters(session)


def settings_for(sink, tmp_path: Path, *, data_timeout: float, connections: int = 4) -> Settings:
    return Settings(
        _env_file=None,
        environment=Environment.test,
        data_dir=tmp_path / "data",
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_timeout_seconds=COMMAND_TIMEOUT,
        smtp_data_timeout_seconds=data_timeout,
        smtp_connections=connections,
        mail_from=SENDER,
    )


FAST_RETRIES = {"retry_base": FAST.retry_base, "retry_cap": FAST.retry_cap, "linger": timedelta(seconds=30)}


async def test_late_final_reply_within_the_data_timeout_stores_each_letter_once(
    sqlite_engine, start_sink, tmp_path
):
    handler = LateSink(tmp_path / "mail")
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 20)
    settings = settings_for(sink, tmp_path, data_timeout=30, connections=10)
    report = await deliver_configured(settings=settings, engine=sqlite_engine, **FAST_RETRIES)
    letters = rows(sqlite_engine)
    assert report.sent == 20 and report.failed == [] and report.retries == 0 and report.unanswered == 0
    assert {letter.state for letter in letters} == {LetterState.sent}
    assert {letter.attempts for letter in letters} == {1}
    # every letter reached the server exactly once, although each answer came after the command timeout
    assert handler.stored() == Counter({letter.message_id: 1 for letter in letters})


async def test_no_reply_from_a_configured_server_sends_once_more_then_fails(
    sqlite_engine, start_sink, tmp_path
):
    handler = LateSink(tmp_path / "mail", late=NEVER)  # never answers while the client waits
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 3)
    settings = settings_for(sink, tmp_path, data_timeout=0.4)
    report = await deliver_configured(settings=settings, engine=sqlite_engine, **FAST_RETRIES)
    letters = rows(sqlite_engine)
    assert handler.stored() == Counter({letter.message_id: 2 for letter in letters})  # never a loop
    assert {letter.state for letter in letters} == {LetterState.failed}
    assert {letter.extra[UNKNOWN_OUTCOMES] for letter in letters} == {2}
    assert all("outcome unknown" in letter.last_answer for letter in letters)
    assert all("the server may hold it" in letter.last_answer for letter in letters)
    assert report.sent == 0 and report.unanswered == 6 and report.retries == 3
    assert sorted(failure["id"] for failure in report.failed) == sorted(letter.id for letter in letters)
    with Session(sqlite_engine) as session:  # recorded: each move audited with its reason
        events = history(session, entity="letter", entity_id=letters[0].id)
    moves = [(event.from_state, event.to_state) for event in events if event.action == "state"]
    assert moves[-4:] == [
        ("queued", "sending"),
        ("sending", "queued"),
        ("queued", "sending"),
        ("sending", "failed"),
    ]
    assert "sent once more" in events[-3].reason and "outcome unknown" in events[-1].reason
    # a later run sends nothing more
    again = await deliver_configured(settings=settings, engine=sqlite_engine, **FAST_RETRIES)
    assert again.sent == 0 and sum(handler.stored().values()) == 6


async def test_no_reply_once_then_an_answer_is_sent_twice_and_marked_sent(
    sqlite_engine, start_sink, tmp_path
):
    handler = LateSink(tmp_path / "mail", late=NEVER, late_attempts=1)
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 3)
    settings = settings_for(sink, tmp_path, data_timeout=0.4)
    report = await deliver_configured(settings=settings, engine=sqlite_engine, **FAST_RETRIES)
    letters = rows(sqlite_engine)
    assert {letter.state for letter in letters} == {LetterState.sent}
    assert handler.stored() == Counter({letter.message_id: 2 for letter in letters})
    assert {letter.extra[UNKNOWN_OUTCOMES] for letter in letters} == {1}
    assert report.sent == 3 and report.unanswered == 3 and report.failed == []
    assert len(handler.files()) == 3  # same Message-ID: a deduplicating mailbox keeps one


async def test_no_reply_from_a_receiver_that_can_be_asked_is_confirmed_not_resent(
    sqlite_engine, start_sink, documents_dir, tmp_path
):
    handler = LateSink(tmp_path / "mail", late=NEVER)
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 4)
    report = await deliver_due(
        sqlite_engine,
        SmtpServer(sink.host, sink.port, timeout=COMMAND_TIMEOUT, data_timeout=0.4),
        sender=SENDER,
        documents_dir=documents_dir,
        options=FAST,
        delivered=delivered_in(handler.folder),
    )
    letters = rows(sqlite_engine)
    assert {letter.state for letter in letters} == {LetterState.sent}
    assert {letter.attempts for letter in letters} == {1}
    assert all("confirmed by the receiving side" in letter.last_answer for letter in letters)
    assert handler.stored() == Counter({letter.message_id: 1 for letter in letters})
    assert report.sent == 4 and report.confirmed_after_silence == 4 and report.unanswered == 4


def test_data_timeout_comes_from_settings_and_defaults_to_ten_minutes(tmp_path):
    settings = Settings(_env_file=None, smtp_host="mail.example.org", smtp_timeout_seconds=20)
    server = SmtpServer.from_settings(settings)
    assert server.timeout == 20 and server.data_timeout == 600
    assert (
        SmtpServer.from_settings(settings.model_copy(update={"smtp_data_timeout_seconds": 90})).data_timeout
        == 90
    )
