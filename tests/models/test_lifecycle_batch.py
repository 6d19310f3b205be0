"""``set_states``, the batch form of ``set_state``, on SQLite and PostgreSQL: each row moved once with
the audit row ``set_state`` writes, an illegal move anywhere in the batch changes nothing, and a row
another run moved meanwhile is neither moved again nor audited twice — it is left out of the answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from models.audit import AuditEvent, history, take_effect
from models.errors import IllegalTransition
from models.lifecycle import set_state, set_states
from models.mail.outbox import OutboxLetter
from models.states import LetterState
from tests.support.outbox import queue_receipts

AS_OF = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def compose(session: Session, count: int, *, first: int = 0, hold: str = "") -> list[OutboxLetter]:
    """Receipts queued as intake queues them (held as drafts with ``hold``), read into ``session``."""
    ids = queue_receipts(session.get_bind(), count, start=first, hold=hold)  # type: ignore[arg-type]
    query = select(OutboxLetter).where(col(OutboxLetter.id).in_(ids)).order_by(col(OutboxLetter.id))
    return list(session.exec(query))


def audit_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def states(session: Session, letters: list[OutboxLetter]) -> list[LetterState]:
    ids = [letter.id for letter in letters]
    query = select(OutboxLetter.id, OutboxLetter.state).where(col(OutboxLetter.id).in_(ids))
    found = {letter_id: state for letter_id, state in session.exec(query)}
    return [found[letter_id] for letter_id in ids]


def moves(session: Session, letter: OutboxLetter) -> list[tuple[str, str, str, str, str, dict]]:
    """The letter's state moves as audited: actor, action, from, to, reason, data."""
    assert letter.id is not None
    return [
        (e.actor, e.action, e.from_state, e.to_state, e.reason, e.data)
        for e in history(session, entity="letter", entity_id=letter.id)
        if e.action == "state"
    ]


def test_set_states_moves_each_row_once_with_the_audit_row_set_state_writes(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        take_effect(session, AS_OF)
        batch, single = compose(session, 3), compose(session, 3, first=3)
        before = audit_count(session)
        reasons = [f"第 1 次 / attempt 1 of #{letter.id}" for letter in batch]
        data = {"run": "bench"}
        moved = set_states(
            session, batch, LetterState.sending, actor="system:mail", reason=reasons, data=data
        )
        for letter in single:
            set_state(
                session,
                letter,
                LetterState.sending,
                actor="system:mail",
                reason=f"第 1 次 / attempt 1 of #{letter.id}",
                data=data,
            )
        session.commit()
        assert moved == batch
        assert [letter.state for letter in batch] == [LetterState.sending] * 3
    with Session(engine) as session:
        assert states(session, batch + single) == [LetterState.sending] * 6
        assert audit_count(session) == before + 6  # one row a move, not one more
        for mine, theirs in zip(batch, single, strict=True):
            (row,) = moves(session, mine)
            (expected,) = moves(session, theirs)
            assert row[-2] == f"第 1 次 / attempt 1 of #{mine.id}"
            assert row[:-2] == expected[:-2] == ("system:mail", "state", "queued", "sending")
            assert row[-1] == expected[-1] == {"run": "bench", "as_of": AS_OF.isoformat()}
            (event,) = [
                e for e in history(session, entity="letter", entity_id=mine.id) if e.action == "state"
            ]
            assert event.at.tzinfo is not None


def test_set_states_from_several_states_audits_each_from_its_own(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        drafts = compose(session, 2, hold="待审阅 / to be read first")
        failed = compose(session, 2, first=2)
        for letter in failed:
            set_state(session, letter, LetterState.sending, actor="t")
            set_state(session, letter, LetterState.failed, actor="t", reason="550")
        session.commit()
        moved = set_states(
            session, [drafts[0], failed[0], drafts[1], failed[1]], LetterState.queued, actor="admin:x"
        )
        session.commit()
        assert moved == [drafts[0], failed[0], drafts[1], failed[1]]
    with Session(engine) as session:
        assert states(session, drafts + failed) == [LetterState.queued] * 4
        assert [moves(session, d)[-1][2:4] for d in drafts] == [("draft", "queued")] * 2
        assert [moves(session, f)[-1][2:4] for f in failed] == [("failed", "queued")] * 2
        assert [len(moves(session, d)) for d in drafts] == [1, 1]


def test_set_states_illegal_move_anywhere_changes_nothing(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        letters = compose(session, 3)
        set_state(session, letters[2], LetterState.sending, actor="t")
        set_state(session, letters[2], LetterState.sent, actor="t", reason="250")
        session.commit()
        before = audit_count(session)
        letters[0].last_answer = "an unsaved change"
        with pytest.raises(IllegalTransition) as refused:
            set_states(session, letters, LetterState.sending, actor="t")
        assert "cannot move from sent to sending" in str(refused.value)
        # nothing reached the database, not even the other objects' unsaved changes
        with Session(engine) as other:
            assert states(other, letters) == [LetterState.queued, LetterState.queued, LetterState.sent]
            assert audit_count(other) == before
            assert other.get(OutboxLetter, letters[0].id).last_answer == ""  # type: ignore[union-attr]
        assert states(session, letters) == [LetterState.queued, LetterState.queued, LetterState.sent]
        assert audit_count(session) == before
        session.rollback()


def test_set_states_row_moved_meanwhile_is_not_moved_twice_and_is_left_out(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        ids = [letter.id for letter in compose(session, 3)]
    with Session(engine, expire_on_commit=False) as mine, Session(engine) as theirs:
        read = list(
            mine.exec(
                select(OutboxLetter).where(col(OutboxLetter.id).in_(ids)).order_by(col(OutboxLetter.id))
            )
        )
        mine.commit()  # what this run read, before the other run moved one of them
        other = theirs.get(OutboxLetter, ids[1])
        assert other is not None
        set_state(theirs, other, LetterState.sending, actor="other-run", reason="theirs")
        theirs.commit()
        for letter in read:
            letter.last_answer = "mine"
        moved = set_states(mine, read, LetterState.sending, actor="this-run", reason="mine")
        mine.commit()
        assert [letter.id for letter in moved] == [ids[0], ids[2]]
        lost = read[1]
        assert lost.state is LetterState.sending and lost.last_answer == ""  # refreshed, its change dropped
    with Session(engine) as session:
        letters = [session.get(OutboxLetter, letter_id) for letter_id in ids]
        assert [letter.last_answer for letter in letters] == ["mine", "", "mine"]  # type: ignore[union-attr]
        assert [[m[0] for m in moves(session, letter)] for letter in letters] == [  # type: ignore[arg-type]
            ["this-run"],
            ["other-run"],
            ["this-run"],
        ]


def test_set_states_refuses_a_row_twice_and_reasons_that_do_not_match(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        letters = compose(session, 2)
        before = audit_count(session)
        with pytest.raises(ValueError, match="same row twice"):
            set_states(session, [letters[0], letters[0]], LetterState.sending, actor="t")
        with pytest.raises(ValueError, match="2 objects but 1 reasons"):
            set_states(session, letters, LetterState.sending, actor="t", reason=["one"])
        assert set_states(session, [], LetterState.sending, actor="t") == []
        session.rollback()
        assert states(session, letters) == [LetterState.queued] * 2
        assert audit_count(session) == before
