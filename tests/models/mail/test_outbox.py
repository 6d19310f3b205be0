"""The outbox as pure database operations, on SQLite and PostgreSQL: one row per idempotency key,
release and retry, claims that never overlap, backoff, and settling interrupted sends."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session

from models.audit import history
from models.errors import IllegalTransition, NotFound
from models.mail.outbox import (
    KEY_LENGTH,
    OutboxLetter,
    count_by_state,
    get_letter,
    idempotency_key,
    list_letters,
    message_id_for,
    next_due_at,
    queue_letter,
    release_letters,
    retry_letters,
)
from models.mail.sending import (
    claim_letters,
    mark_all_sent,
    mark_deferred,
    mark_failed,
    mark_sent,
    renew_leases,
    resolve_sending,
    retry_delay,
    unclaim,
)
from models.states import LetterState
from models.types import utcnow

LEASE = timedelta(minutes=5)


def letter(n: int, state: LetterState = LetterState.queued) -> OutboxLetter:
    return OutboxLetter(
        idempotency_key=idempotency_key("intake", f"user{n}@example.org", f"receipt:application:{n}"),
        role="receipt",
        stage="intake",
        recipient_email=f"user{n}@example.org",
        subject=f"回执 {n}",
        body_text="正文",
        state=state,
    )


def add(session: Session, count: int, state: LetterState = LetterState.queued) -> list[int]:
    ids = [queue_letter(session, letter(n, state)).id for n in range(count)]
    session.commit()
    return ids  # type: ignore[return-value]


def claim(session: Session, *, now=None, lease=LEASE, limit=10) -> list[OutboxLetter]:
    claimed = claim_letters(
        session, now=now or utcnow(), lease=lease, limit=limit, domain="example.org", actor="t"
    )
    session.commit()
    return claimed


def test_queue_letter_same_key_yields_one_row(session):
    first = queue_letter(session, letter(1))
    second = queue_letter(session, letter(1))
    session.commit()
    assert first.id == second.id and len(list_letters(session)) == 1


def test_idempotency_key_is_bounded_and_still_unique():
    long_a = idempotency_key("intake", "a" * 280 + "@example.org", "receipt:application:1")
    long_b = idempotency_key("intake", "a" * 280 + "@example.org", "receipt:application:2")
    assert len(long_a) == KEY_LENGTH and len(long_b) == KEY_LENGTH and long_a != long_b
    assert idempotency_key("intake", " A@Example.org ", "x") == "intake|a@example.org|x"


def test_release_moves_drafts_to_queued_and_audits(session):
    ids = add(session, 3, LetterState.draft)
    released = release_letters(session, actor="admin:test", ids=ids[:2])
    session.commit()
    assert [row.id for row in released] == ids[:2]
    assert count_by_state(session) == {"queued": 2, "draft": 1}
    [event] = history(session, entity="letter", entity_id=ids[0])
    assert (event.actor, event.from_state, event.to_state) == ("admin:test", "draft", "queued")
    assert len(release_letters(session, actor="admin:test")) == 1  # every draft left
    with pytest.raises(NotFound):
        release_letters(session, actor="admin:test", ids=[999])
    with pytest.raises(IllegalTransition):  # a queued letter is not a draft
        release_letters(session, actor="admin:test", ids=ids[:1])


def test_retry_moves_failed_to_queued_with_fresh_attempts(session):
    [letter_id] = add(session, 1)
    claim(session)
    mark_failed(session, letter_id=letter_id, answer="550 no such user", actor="t")
    session.commit()
    [row] = retry_letters(session, actor="admin:test")
    session.commit()
    assert row.state is LetterState.queued and row.attempts == 0 and row.next_attempt_at is None
    assert row.last_answer == "550 no such user"  # kept for reference


def test_claim_sets_sending_message_id_lease_and_attempt(session):
    ids = add(session, 3)
    now = utcnow()
    claimed = claim(session, now=now, limit=2)
    assert [row.id for row in claimed] == ids[:2]
    row = get_letter(session, letter_id=ids[0])
    assert row.state is LetterState.sending and row.attempts == 1
    assert row.message_id == message_id_for(row, "example.org")
    assert row.message_id.startswith(f"<letter-{row.id}.") and row.message_id.endswith("@example.org>")
    assert row.next_attempt_at == now + LEASE
    assert count_by_state(session) == {"sending": 2, "queued": 1}


def test_claim_skips_letters_that_are_not_due(session):
    ids = add(session, 2)
    row = get_letter(session, letter_id=ids[0])
    row.next_attempt_at = utcnow() + timedelta(minutes=10)
    session.commit()
    assert [r.id for r in claim(session)] == [ids[1]]
    assert next_due_at(session) == row.next_attempt_at


def test_concurrent_claimers_never_claim_the_same_letter(engine):
    with Session(engine) as session:
        add(session, 120)
    claimed: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def claimer(slot: int) -> None:
        try:
            while True:
                with Session(engine, expire_on_commit=False) as session:
                    batch = claim(session, limit=7)
                if not batch:
                    return
                claimed[slot].extend(row.id for row in batch)  # type: ignore[misc]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    every = [letter_id for ids in claimed for letter_id in ids]
    assert len(every) == 120 and len(set(every)) == 120


def test_mark_sent_and_failed_only_touch_letters_still_sending(session):
    ids = add(session, 2)
    claim(session)
    assert mark_sent(session, letter_id=ids[0], answer="250 ok", now=utcnow(), actor="t") is True
    assert mark_sent(session, letter_id=ids[0], answer="250 ok", now=utcnow(), actor="t") is False
    assert mark_failed(session, letter_id=ids[0], answer="550", actor="t") is False
    session.commit()
    row = get_letter(session, letter_id=ids[0])
    assert row.state is LetterState.sent and row.sent_at is not None and row.next_attempt_at is None


def test_claim_audits_each_letter_once_with_its_attempt(session):
    ids = add(session, 3)
    claim(session)
    claim(session, now=utcnow() + timedelta(hours=1))  # nothing queued is left: no row written
    for letter_id in ids:
        moves = [
            (e.actor, e.from_state, e.to_state, e.reason)
            for e in history(session, entity="letter", entity_id=letter_id)
        ]
        assert moves == [("t", "queued", "sending", "第 1 次 / attempt 1")]


def test_mark_all_sent_marks_a_group_and_not_a_letter_no_longer_sending(session):
    ids = add(session, 4)
    claim(session)
    assert mark_failed(session, letter_id=ids[1], answer="550 no such user", actor="t") is True
    session.commit()
    now = utcnow()
    answers = [
        (ids[0], "250 a"),
        (ids[1], "250 b"),
        (ids[2], "250 c"),
        (ids[0], "250 again"),
        (9999, "250 d"),
    ]
    assert mark_all_sent(session, answers=answers, now=now, actor="t") == [True, False, True, False, False]
    session.commit()
    rows = [get_letter(session, letter_id=letter_id) for letter_id in ids]
    assert [row.state for row in rows] == [
        LetterState.sent,
        LetterState.failed,
        LetterState.sent,
        LetterState.sending,
    ]
    assert (rows[0].last_answer, rows[0].sent_at, rows[0].next_attempt_at) == ("250 a", now, None)
    assert rows[1].last_answer == "550 no such user" and rows[1].sent_at is None
    sent = [
        [
            (e.from_state, e.to_state, e.reason)
            for e in history(session, entity="letter", entity_id=letter_id)
        ][1:]
        for letter_id in ids
    ]
    assert sent == [
        [("sending", "sent", "250 a")],
        [("sending", "failed", "550 no such user")],
        [("sending", "sent", "250 c")],
        [],
    ]


def test_deferred_letter_backs_off_then_fails_after_the_last_attempt(session):
    [letter_id] = add(session, 1)
    rng = random.Random(1)
    for attempt in range(1, 4):
        now = utcnow() + timedelta(hours=attempt)
        claim(session, now=now)
        state = mark_deferred(
            session,
            letter_id=letter_id,
            answer="451 later",
            now=now,
            actor="t",
            max_attempts=3,
            base=timedelta(seconds=30),
            cap=timedelta(hours=1),
            rng=rng,
        )
        session.commit()
        row = get_letter(session, letter_id=letter_id)
        if attempt < 3:
            assert state is LetterState.queued
            delay = row.next_attempt_at - now
            assert (
                timedelta(seconds=15) * 2 ** (attempt - 1)
                <= delay
                <= timedelta(seconds=30) * 2 ** (attempt - 1)
            )
    assert state is LetterState.failed
    assert row.attempts == 3 and "gave up after 3 attempts: 451 later" in row.last_answer


def test_retry_delay_grows_exponentially_with_jitter_under_the_cap():
    rng = random.Random(5)
    base, cap = timedelta(seconds=10), timedelta(minutes=5)
    delays = [retry_delay(n, base=base, cap=cap, rng=rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(cap, base * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d.total_seconds(), 3) for d in delays}) == len(delays)  # jittered, not lockstep


def test_unclaim_gives_the_attempt_back(session):
    ids = add(session, 2)
    claim(session)
    assert unclaim(session, letter_ids=ids, reason="run stopped", actor="t") == 2
    session.commit()
    assert {(row.state, row.attempts) for row in list_letters(session)} == {(LetterState.queued, 0)}


def test_resolve_sending_requeues_expired_claims_and_keeps_the_message_id(session):
    ids = add(session, 2)
    claim(session, lease=timedelta(0))
    before = get_letter(session, letter_id=ids[0]).message_id
    result = resolve_sending(session, now=utcnow(), actor="t")
    session.commit()
    assert result == {"confirmed": [], "requeued": ids}
    row = get_letter(session, letter_id=ids[0])
    assert row.state is LetterState.queued and row.message_id == before and row.attempts == 1
    again = claim(session)
    assert again[0].message_id == before


def test_resolve_sending_confirms_what_the_receiver_holds(session):
    ids = add(session, 2)
    claim(session, lease=timedelta(0))
    held = {get_letter(session, letter_id=ids[1]).message_id}
    result = resolve_sending(session, now=utcnow(), actor="t", delivered=held.__contains__)
    session.commit()
    assert result == {"confirmed": [ids[1]], "requeued": [ids[0]]}
    assert get_letter(session, letter_id=ids[1]).state is LetterState.sent


def test_resolve_sending_leaves_live_claims_alone(session):
    add(session, 1)
    claim(session, lease=timedelta(minutes=5))
    assert resolve_sending(session, now=utcnow(), actor="t") == {"confirmed": [], "requeued": []}
    later = resolve_sending(session, now=utcnow() + timedelta(minutes=6), actor="t")
    assert len(later["requeued"]) == 1


def test_renew_leases_extends_held_claims_and_drops_lost_ones(session):
    ids = add(session, 3)
    now = utcnow()
    claim(session, now=now)
    get_letter(session, letter_id=ids[0]).next_attempt_at = now - timedelta(seconds=1)  # ran out
    session.commit()
    resolve_sending(session, now=now, actor="other")  # another sender settles the one that ran out
    session.commit()
    until = now + timedelta(minutes=10)
    kept = renew_leases(session, letter_ids=ids, now=now, until=until)
    session.commit()
    assert kept == ids[1:]
    assert get_letter(session, letter_id=ids[0]).state is LetterState.queued
    assert get_letter(session, letter_id=ids[1]).next_attempt_at == until


def test_resolve_sending_every_takes_over_live_claims(session):
    add(session, 2)
    claim(session, lease=timedelta(minutes=5))
    result = resolve_sending(session, now=utcnow(), actor="t", every=True)
    session.commit()
    assert len(result["requeued"]) == 2
    assert count_by_state(session) == {"queued": 2}


def test_message_id_is_fixed_by_the_row(session):
    [letter_id] = add(session, 1)
    row = get_letter(session, letter_id=letter_id)
    assert message_id_for(row, "example.org") == message_id_for(row, "example.org")
    other = get_letter(session, letter_id=add(session, 2)[1])
    assert message_id_for(row, "example.org") != message_id_for(other, "example.org")
