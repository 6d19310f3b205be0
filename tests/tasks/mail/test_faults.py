"""Failures on the wire: 421/451 answers, dropped connections, 5xx refusals, a lost 250, a dead
server, and sends interrupted by a crash — every letter ends delivered exactly once or failed with
the server's answer kept."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session

from models.db import session_scope
from models.mail.mime import message_domain
from models.mail.outbox import list_letters
from models.mail.sending import claim_letters
from models.states import LetterState
from models.types import utcnow
from tasks.mail.delivery import SmtpServer, deliver_due
from tasks.mail.sink import delivered_in, message_id_of
from tasks.mail.workers import Claimed, build_outgoing, claim_batch
from tests.support.smtp import FaultySink
from tests.tasks.conftest import FAST, SENDER, queue_receipts, server_for


def rows(engine):
    with Session(engine) as session:
        return list_letters(session)


async def test_random_421_451_and_drops_every_letter_delivered_exactly_once(
    sqlite_engine, start_sink, documents_dir, tmp_path
):
    handler = FaultySink(tmp_path / "mail", faulty_share=1 / 3, lost_reply_share=0.1, seed=2025)
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 90)
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    letters = rows(sqlite_engine)
    assert report.sent == 90 and report.failed == []
    assert {letter.state for letter in letters} == {LetterState.sent}
    # the faults really happened
    assert handler.events["421"] > 0 and handler.events["451"] > 0 and handler.events["drop"] > 0
    assert handler.events["lost-reply"] > 0
    assert report.retries >= handler.events["421"] + handler.events["451"] + handler.events["drop"]
    # exactly once: one stored message per letter, under the letter's own Message-ID
    stored = [message_id_of(path.read_bytes()) for path in handler.files()]
    assert len(stored) == 90 and len(set(stored)) == 90
    assert set(stored) == {letter.message_id for letter in letters}
    # a 250 lost on the wire is the one case the server sees a letter twice: same Message-ID, kept once
    assert handler.duplicates == handler.events["lost-reply"]


async def test_550_for_one_address_fails_that_letter_and_delivers_the_others(
    sqlite_engine, start_sink, documents_dir, tmp_path
):
    handler = FaultySink(tmp_path / "mail", faulty_share=0, reject=frozenset({"user3@example.org"}))
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 8)
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    by_address = {letter.recipient_email: letter for letter in rows(sqlite_engine)}
    refused = by_address.pop("user3@example.org")
    assert refused.state is LetterState.failed and refused.attempts == 1
    assert refused.last_answer.startswith("550 5.1.1") and "mailbox unavailable" in refused.last_answer
    assert [failure["id"] for failure in report.failed] == [refused.id]
    assert report.failed[0]["answer"] == refused.last_answer
    assert {letter.state for letter in by_address.values()} == {LetterState.sent}
    assert len(handler.files()) == 7


async def test_554_on_data_fails_the_letter_with_the_answer_kept(
    sqlite_engine, start_sink, documents_dir, tmp_path
):
    handler = FaultySink(tmp_path / "mail", always="554")
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 2)
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    assert len(report.failed) == 2 and report.sent == 0
    assert {letter.last_answer for letter in rows(sqlite_engine)} == {
        "554 5.6.0 拒收 Message rejected as spam"
    }
    assert handler.files() == []


async def test_451_for_ever_fails_after_the_last_attempt_with_the_answer_kept(
    sqlite_engine, start_sink, documents_dir, tmp_path
):
    handler = FaultySink(tmp_path / "mail", always="451")
    sink = start_sink(handler)
    queue_receipts(sqlite_engine, 2)
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=replace(FAST, max_attempts=3),
    )
    letters = rows(sqlite_engine)
    assert {letter.state for letter in letters} == {LetterState.failed}
    assert {letter.attempts for letter in letters} == {3}
    assert all(
        "gave up after 3 attempts" in letter.last_answer and "451 4.3.0" in letter.last_answer
        for letter in letters
    )
    assert report.retries == 4 and len(report.failed) == 2
    assert handler.events["451"] == 6


async def test_dead_server_defers_letters_with_backoff_for_a_later_run(sqlite_engine, documents_dir):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    queue_receipts(sqlite_engine, 3)
    before = utcnow()
    report = await deliver_due(
        sqlite_engine,
        SmtpServer("127.0.0.1", port, timeout=5),
        sender=SENDER,
        documents_dir=documents_dir,
        options=replace(
            FAST, retry_base=timedelta(minutes=1), retry_cap=timedelta(hours=1), linger=timedelta(0)
        ),
    )
    letters = rows(sqlite_engine)
    assert report.sent == 0 and report.failed == [] and report.waiting == 3
    assert {letter.state for letter in letters} == {LetterState.queued}
    assert {letter.attempts for letter in letters} == {1}
    for letter in letters:
        assert "connection problem" in letter.last_answer
        # 1 minute · 2⁰ with jitter of 50–100 %
        assert before + timedelta(seconds=30) <= letter.next_attempt_at <= utcnow() + timedelta(minutes=1)


def _interrupt(engine, documents_dir, *, lease: timedelta) -> bytes:
    """Claim one letter and build its bytes, as a sender does right before DATA — then 'crash'."""
    with session_scope(engine) as session:
        [claimed] = claim_batch(
            session,
            now=utcnow(),
            options=replace(FAST, lease=lease, batch=1),
            domain=message_domain(SENDER),
            competition_id=None,
        )
    from models.mail.mime import parse_mailbox

    assert isinstance(claimed, Claimed)
    return build_outgoing(
        claimed, sender=parse_mailbox(SENDER), documents_dir=documents_dir, date=utcnow()
    ).data


async def test_interrupted_send_the_sink_holds_is_confirmed_not_resent(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 1)
    data = _interrupt(sqlite_engine, documents_dir, lease=timedelta(0))
    sink.handler.store(data, "noreply@jiangtou.example.org", ("user0@example.org",))  # the server had it
    sink.handler.receipts.clear()
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=FAST,
        delivered=delivered_in(sink.handler.folder),
    )
    [letter] = rows(sqlite_engine)
    assert report.confirmed_after_crash == 1 and report.sent == 0
    assert letter.state is LetterState.sent and "confirmed" in letter.last_answer
    assert sink.handler.receipts == []  # nothing went over the wire again


async def test_interrupted_send_is_resent_with_the_same_message_id(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 1)
    data = _interrupt(sqlite_engine, documents_dir, lease=timedelta(0))
    sink.handler.store(data, "noreply@jiangtou.example.org", ("user0@example.org",))
    report = await deliver_due(
        sqlite_engine, server_for(sink), sender=SENDER, documents_dir=documents_dir, options=FAST
    )
    [letter] = rows(sqlite_engine)
    assert report.requeued_after_crash == 1 and report.sent == 1
    assert letter.state is LetterState.sent and letter.attempts == 2
    assert [r.message_id for r in sink.handler.receipts] == [letter.message_id, letter.message_id]
    assert sink.handler.duplicates == 1 and len(sink.handler.files()) == 1


async def test_a_letter_whose_lease_ran_out_is_not_sent(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 2)
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=replace(FAST, lease=timedelta(0), linger=timedelta(0)),
    )
    assert report.sent == 0 and sink.handler.receipts == []
    assert {letter.state for letter in rows(sqlite_engine)} == {LetterState.sending}  # for the next run


async def test_takeover_settles_live_claims_at_once(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 1)
    with session_scope(sqlite_engine) as session:
        claim_letters(session, now=utcnow(), lease=timedelta(minutes=5), limit=1, domain="x.org", actor="x")
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=replace(FAST, takeover=True),
    )
    assert report.requeued_after_crash == 1 and report.sent == 1
    assert [letter.state for letter in rows(sqlite_engine)] == [LetterState.sent]


async def test_live_claim_of_another_sender_is_left_alone(sqlite_engine, sink, documents_dir):
    queue_receipts(sqlite_engine, 1)
    with session_scope(sqlite_engine) as session:
        claim_letters(
            session, now=utcnow(), lease=timedelta(minutes=5), limit=1, domain="x.org", actor="other"
        )
    report = await deliver_due(
        sqlite_engine,
        server_for(sink),
        sender=SENDER,
        documents_dir=documents_dir,
        options=replace(FAST, linger=timedelta(0)),
    )
    [letter] = rows(sqlite_engine)
    assert report.sent == 0 and report.requeued_after_crash == 0
    assert letter.state is LetterState.sending
    assert sink.handler.receipts == []
