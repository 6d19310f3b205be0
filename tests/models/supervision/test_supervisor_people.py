"""A supervisor deactivated only once nobody waits for their record, and the letters an
administrator asks for: the request again and a reminder, each its own letter once a day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from models.competition.tables import Competition
from models.errors import Conflict
from models.mail.outbox import OutboxLetter
from models.states import CheckpointState
from models.supervision.notices import queue_reminders, supervisor_letters_by_hand
from models.supervision.plan import grant_parts
from models.supervision.supervisors import deactivate_supervisor, reassign, supervisors_of
from models.supervision.tables import Checkpoint
from tests.support.supervision import OPEN_AT, open_supervision


@pytest.fixture
def session(funded):
    with Session(funded.engine, expire_on_commit=False) as session:
        open_supervision(session, competition_id=funded.competition_id, settings=funded.settings)
        yield session


def test_a_supervisor_who_fills_an_open_check_is_not_deactivated(funded, session):
    busy, idle = supervisors_of(session, competition_id=funded.competition_id)[:2]
    with pytest.raises(Conflict) as caught:
        deactivate_supervisor(session, supervisor_id=busy.id, actor="admin:lin", reason="调离")
    assert busy.active and "改派" in str(caught.value)
    refs = [grant_parts(session, c.grant_id)[1].ref for c in _open(session, busy.id)]
    assert refs and all(ref in str(caught.value) for ref in refs)

    for checkpoint in _open(session, busy.id):  # handed over, then they may go
        reassign(
            session, grant_id=checkpoint.grant_id, supervisor_id=idle.id, actor="admin:lin", reason="调离"
        )
    assert deactivate_supervisor(session, supervisor_id=busy.id, actor="admin:lin", reason="调离")
    assert not busy.active
    with pytest.raises(Conflict):  # nobody hands a grant to a deactivated supervisor
        reassign(
            session,
            grant_id=_open(session, idle.id)[0].grant_id,
            supervisor_id=busy.id,
            actor="a",
            reason="b",
        )


def test_the_request_and_the_reminder_asked_for_by_hand_are_letters_of_their_own(funded, session):
    competition = session.get(Competition, funded.competition_id)
    supervisor = supervisors_of(session, competition_id=funded.competition_id)[0]
    mine = _open(session, supervisor.id)
    now = OPEN_AT + timedelta(days=3)
    asked = dict(
        session=session,
        competition=competition,
        settings=funded.settings,
        supervisor_id=supervisor.id,
        now=now,
    )
    reminders = supervisor_letters_by_hand(**asked, invitation=False)
    assert len(reminders) == len(mine) and all(new for _, new in reminders)
    assert {letter.subject_id for letter, _ in reminders} == {c.id for c in mine}
    assert all(letter.role == "supervision_reminder" for letter, _ in reminders)
    assert all(new is False for _, new in supervisor_letters_by_hand(**asked, invitation=False))  # same day
    requests = supervisor_letters_by_hand(**asked, invitation=True)
    assert len(requests) == len(mine) and all(letter.role == "supervision_request" for letter, _ in requests)

    due = mine[0].due_on  # the scheduled reminders still go out on their days
    scheduled = queue_reminders(
        session, competition=competition, settings=funded.settings, now=OPEN_AT.replace(day=due.day - 3)
    )
    assert supervisor.email in {letter.recipient_email for letter in scheduled}
    to_them = session.exec(select(OutboxLetter).where(OutboxLetter.recipient_email == supervisor.email)).all()
    assert len({letter.idempotency_key for letter in to_them}) == len(to_them)


def _open(session: Session, supervisor_id: int) -> list[Checkpoint]:
    return list(
        session.exec(
            select(Checkpoint).where(
                Checkpoint.supervisor_id == supervisor_id, Checkpoint.state == CheckpointState.open
            )
        )
    )
