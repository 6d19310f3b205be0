"""A panel's people kept in step with their lists, and changed one by one: the configuration's list
never overwrites what a person changed; an address is held once; a deactivated expert's open
sheets go to others; a letter asked for by hand is its own, once a day, beside the scheduled ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.competition.config import Person
from models.errors import Conflict
from models.mail.outbox import OutboxLetter
from models.review.notices import queue_invitations, queue_reminders, remind_expert, resend_invitation
from models.review.people import add_person, edit_person, sync_people
from models.review.reviewing import assign_reviews, deactivate_expert, load_experts
from models.review.tables import Expert
from models.settings import get_settings
from models.states import AssignmentState
from tests.support.review_data import NOW, setup_review, sheets


def _experts(session) -> dict[str, Expert]:
    return {e.email: e for e in session.exec(select(Expert))}


def test_the_configurations_list_never_overwrites_a_persons_change(session):
    competition, _ = setup_review(session)
    first = next(iter(_experts(session).values()))
    person = Person(
        name=first.name,
        email=first.email,
        phone="0592-1234567",
        organisation="改过的单位",
        community=first.community,
        expertise=first.expertise,
    )
    assert edit_person(session, row=first, person=person, entity="expert", actor="admin:lin")
    load_experts(session, competition_id=competition.id, actor="daily")  # the configuration again
    assert (first.phone, first.organisation_name) == ("0592-1234567", "改过的单位")
    updates = session.exec(select(AuditEvent).where(AuditEvent.action == "update")).all()
    assert [(e.actor, e.data["after"]) for e in updates] == [
        ("admin:lin", {"phone": "0592-1234567", "organisation_name": "改过的单位"})
    ]
    listed = Person(name=first.name, email=first.email.upper(), phone="13900000000")  # a list chosen by hand
    sync_people(
        session,
        table=Expert,
        competition_id=competition.id,
        people=[listed],
        entity="expert",
        reason="名单",
        actor="admin:lin",
        by_hand=True,
    )
    assert first.phone == "13900000000"


def test_an_address_is_held_by_one_person_only(session):
    competition, _ = setup_review(session)
    a, b = list(_experts(session).values())[:2]
    with pytest.raises(Conflict):
        add_person(
            session,
            table=Expert,
            competition_id=competition.id,
            person=Person(name="另一位", email=a.email.upper()),
            entity="expert",
            actor="admin:lin",
        )
    with pytest.raises(Conflict):
        edit_person(
            session, row=b, person=Person(name=b.name, email=a.email), entity="expert", actor="admin:lin"
        )
    assert b.email != a.email
    added = add_person(
        session,
        table=Expert,
        competition_id=competition.id,
        person=Person(name="新专家", email="new.expert@experts.example.org"),
        entity="expert",
        actor="admin:lin",
    )
    assert added.active and added.edited_at is not None


def test_a_deactivated_experts_open_sheets_go_to_others_and_they_get_no_new_one(session):
    competition, _apps = setup_review(session)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    leaving = next(iter(_experts(session).values()))
    held = [s for s in sheets(session) if s.expert_id == leaving.id]
    assert held
    withdrawals = deactivate_expert(session, expert_id=leaving.id, actor="admin:lin", reason="退出评审库")
    assert {w.withdrawn.id for w in withdrawals} == {s.id for s in held}
    assert all(s.state is AssignmentState.declined for s in held)
    assert all(w.replacement is not None and w.replacement.expert_id != leaving.id for w in withdrawals)
    assert not leaving.active
    assert deactivate_expert(session, expert_id=leaving.id, actor="admin:lin", reason="again") == []
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "deactivate")).all()
    assert [(e.entity_id, e.actor, e.reason) for e in audit] == [(leaving.id, "admin:lin", "退出评审库")]
    assert assign_reviews(session, competition_id=competition.id, actor="admin").created == []
    letters = queue_invitations(session, competition=competition, settings=get_settings())
    assert leaving.email not in {x.recipient_email for x in letters}
    assert (
        remind_expert(
            session, competition=competition, settings=get_settings(), expert_id=leaving.id, now=NOW
        )
        is None
    )


def test_a_reminder_by_hand_is_its_own_letter_once_a_day(session):
    competition, _ = setup_review(session)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    settings = get_settings()
    queue_invitations(session, competition=competition, settings=settings)
    expert = next(iter(_experts(session).values()))
    first = remind_expert(session, competition=competition, settings=settings, expert_id=expert.id, now=NOW)
    assert first is not None and first[1] is True
    letter = first[0]
    assert letter.role == "review_reminder" and letter.idempotency_key.endswith("by-hand-2025-03-10")
    again = remind_expert(session, competition=competition, settings=settings, expert_id=expert.id, now=NOW)
    assert again == (letter, False)
    next_day = remind_expert(
        session, competition=competition, settings=settings, expert_id=expert.id, now=NOW + timedelta(days=1)
    )
    assert next_day is not None and next_day[1] and next_day[0].id != letter.id
    deadline = sheets(session)[0].deadline
    scheduled = queue_reminders(
        session, competition=competition, settings=settings, now=deadline - timedelta(days=2)
    )
    assert expert.email in {x.recipient_email for x in scheduled}  # the offset's letter still goes out

    invitation = resend_invitation(
        session, competition=competition, settings=settings, expert_id=expert.id, now=NOW
    )
    assert invitation is not None and invitation[1]
    mine = [s.id for s in sheets(session) if s.expert_id == expert.id]
    assert invitation[0].extra["assignments"] == sorted(mine)
    assert resend_invitation(
        session, competition=competition, settings=settings, expert_id=expert.id, now=NOW
    ) == (
        invitation[0],
        False,
    )
    roles = [
        x.role for x in session.exec(select(OutboxLetter).where(OutboxLetter.recipient_email == expert.email))
    ]
    assert sorted(roles) == sorted(
        ["review_invitation", "review_invitation", "review_reminder", "review_reminder", "review_reminder"]
    )
