"""The checkpoint's two forms keep the one rule (models.submission): after 提交 a draft never replaces
the supervisor's record or the grantee's report; the only change is an amended submission until the
form's due day, audited as such. On the funded example, supervision opened by the real stage."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.errors import Conflict
from models.states import CheckpointState
from models.supervision.records import (
    progress_of,
    record_amendable_until,
    report_amendable_until,
    report_of,
    save_progress_report,
    save_record,
)
from models.supervision.tables import Checkpoint
from tests.support.supervision import VISIT_AT, open_supervision, progress_fields, record_fields

TZ = "Asia/Shanghai"


@pytest.fixture
def world(funded):
    with Session(funded.engine, expire_on_commit=False) as session:
        open_supervision(session, competition_id=funded.competition_id, settings=funded.settings)
        session.commit()
        competition = session.get(Competition, funded.competition_id)
        checkpoint = session.exec(
            select(Checkpoint).where(Checkpoint.grant_id == funded.grant_ids[0], Checkpoint.code == "midterm")
        ).one()
        yield session, competition, checkpoint


def _actions(session: Session, checkpoint_id: int) -> list[str]:
    rows = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == "checkpoint", AuditEvent.entity_id == checkpoint_id)
        .order_by(col(AuditEvent.id))
    )
    return [e.action for e in rows]


def _record(session, competition, checkpoint, *, submit: bool, at: datetime = VISIT_AT, **extra: str):
    return save_record(
        session,
        checkpoint_id=checkpoint.id,
        fields=record_fields(session, competition, code="midterm", share=0.8, **extra),
        submit=submit,
        actor="supervisor:1",
        now=at,
        timezone=TZ,
    )


def _report(session, checkpoint, *, submit: bool, at: datetime = VISIT_AT, **extra: str):
    fields = {**progress_fields(session, grant_id=checkpoint.grant_id), **extra}
    return save_progress_report(
        session,
        checkpoint_id=checkpoint.id,
        fields=fields,
        submit=submit,
        actor="grantee",
        now=at,
        timezone=TZ,
    )


def test_record_draft_after_submission_is_refused_and_changes_nothing(world) -> None:
    session, competition, checkpoint = world
    _record(session, competition, checkpoint, submit=True)
    session.commit()
    before = _actions(session, checkpoint.id)
    with pytest.raises(Conflict, match="草稿不能替换已提交的内容"):
        _record(session, competition, checkpoint, submit=False, activities_held="1")
    session.rollback()
    record = report_of(session, checkpoint_id=checkpoint.id)
    assert record is not None and not record.draft and record.activities_held == 6
    assert session.get(Checkpoint, checkpoint.id).state is CheckpointState.submitted
    assert _actions(session, checkpoint.id) == before


def test_record_amended_before_its_due_day_is_audited_as_amended(world) -> None:
    session, competition, checkpoint = world
    _record(session, competition, checkpoint, submit=True)
    amended = _record(session, competition, checkpoint, submit=True, activities_held="7")
    assert amended.activities_held == 7 and not amended.draft
    assert _actions(session, checkpoint.id)[-1] == "record_amended"
    event = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and event.reason.startswith("修改已提交的内容")


def test_record_amendment_after_its_due_day_is_refused(world) -> None:
    session, competition, checkpoint = world
    _record(session, competition, checkpoint, submit=True)
    late = record_amendable_until(checkpoint, TZ) + timedelta(seconds=1)
    with pytest.raises(Conflict, match="修改期限已过"):
        _record(session, competition, checkpoint, submit=True, at=late, activities_held="9")


def test_report_draft_after_submission_is_refused_and_an_amendment_is_not(world) -> None:
    session, _, checkpoint = world
    _report(session, checkpoint, submit=True)
    session.commit()
    with pytest.raises(Conflict, match="进度报告已提交"):
        _report(session, checkpoint, submit=False, person_times="1")
    session.rollback()
    stored = progress_of(session, checkpoint_id=checkpoint.id)
    assert stored is not None and not stored.draft and stored.person_times == 300
    amended = _report(session, checkpoint, submit=True, person_times="333")
    assert amended.person_times == 333 and not amended.draft
    assert _actions(session, checkpoint.id)[-2:] == ["progress_submitted", "progress_amended"]


def test_report_amendment_after_the_reports_due_day_is_refused_a_late_first_one_is_not(world) -> None:
    session, _, checkpoint = world
    late = report_amendable_until(checkpoint, TZ) + timedelta(seconds=1)
    assert late.astimezone(VISIT_AT.tzinfo).date() == checkpoint.report_due_on + timedelta(days=1)
    first = _report(session, checkpoint, submit=True, at=late)  # late, but taken (report_on_time says so)
    assert not first.draft
    with pytest.raises(Conflict, match="修改期限已过"):
        _report(session, checkpoint, submit=True, at=late, person_times="1")
