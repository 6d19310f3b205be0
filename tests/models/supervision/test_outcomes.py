"""Checkpoint outcomes on the funded example: pass releases the gated tranche, fail withholds it and
opens a rectification with a re-check, a second failure allows termination with the claw-back."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.errors import Conflict, InputError
from models.funding.tables import Grant, Tranche
from models.intake.tables import Application
from models.mail.outbox import OutboxLetter
from models.states import (
    ApplicationState,
    CheckpointState,
    GrantState,
    RectificationState,
    TrancheState,
)
from models.supervision.notices import queue_outcome_letters, queue_reminders, write_papers
from models.supervision.outcomes import mark_overdue, settle_submitted, terminate_grant
from models.supervision.records import save_progress_report, save_record
from models.supervision.tables import Checkpoint, GrantTermination, Rectification
from tests.support.supervision import BEIJING, VISIT_AT, open_supervision, progress_fields, record_fields

TZ = "Asia/Shanghai"


def _midterm(session: Session, grant_id: int, round: int = 1) -> Checkpoint:
    return session.exec(
        select(Checkpoint).where(
            Checkpoint.grant_id == grant_id, Checkpoint.code == "midterm", Checkpoint.round == round
        )
    ).one()


def _tranche(session: Session, grant_id: int, gate: str) -> Tranche:
    return session.exec(select(Tranche).where(Tranche.grant_id == grant_id, Tranche.gate == gate)).one()


def _report_and_record(
    session: Session,
    competition: Competition,
    checkpoint: Checkpoint,
    *,
    share: float,
    at: datetime,
    **extra: str,
) -> None:
    save_progress_report(
        session,
        checkpoint_id=checkpoint.id,
        fields=progress_fields(session, grant_id=checkpoint.grant_id),
        submit=True,
        actor="grantee",
        now=at,
    )
    save_record(
        session,
        checkpoint_id=checkpoint.id,
        fields=record_fields(session, competition, code=checkpoint.code, share=share, **extra),
        submit=True,
        actor=f"supervisor:{checkpoint.supervisor_id}",
        now=at,
    )


@pytest.fixture
def world(funded):
    with Session(funded.engine, expire_on_commit=False) as session:
        open_supervision(session, competition_id=funded.competition_id, settings=funded.settings)
        session.commit()
        competition = session.get(Competition, funded.competition_id)
        yield funded, session, competition


def test_open_supervision_schedules_every_checkpoint_with_a_link_letter_each(world):
    fw, session, _competition = world
    checkpoints = session.exec(select(Checkpoint)).all()
    assert len(checkpoints) == 3 * 2  # three grants × (midterm, final)
    assert {c.state for c in checkpoints if c.code == "midterm"} == {CheckpointState.open}
    assert {c.state for c in checkpoints if c.code == "final"} == {CheckpointState.scheduled}
    letters = session.exec(select(OutboxLetter).where(OutboxLetter.stage == "supervision")).all()
    assert sorted(lt.role for lt in letters) == ["progress_report_request"] * 3 + ["supervision_request"] * 3
    assert all("/supervise/" in lt.body_text for lt in letters if lt.role == "supervision_request")
    assert all("/report/" in lt.body_text for lt in letters if lt.role == "progress_report_request")
    # running it all again adds nothing
    open_supervision(session, competition_id=fw.competition_id, settings=fw.settings)
    assert len(session.exec(select(Checkpoint)).all()) == 6
    assert len(session.exec(select(OutboxLetter).where(OutboxLetter.stage == "supervision")).all()) == 6


def test_pass_releases_the_gated_tranche_once(world):
    fw, session, competition = world
    grant_id = fw.grant_ids[0]
    checkpoint = _midterm(session, grant_id)
    _report_and_record(session, competition, checkpoint, share=0.8, at=VISIT_AT)
    outcomes = settle_submitted(
        session, competition_id=fw.competition_id, actor="flow", now=VISIT_AT, timezone=TZ
    )
    assert [(o.checkpoint_id, o.passed) for o in outcomes] == [(checkpoint.id, True)]
    assert checkpoint.state is CheckpointState.passed
    tranche = _tranche(session, grant_id, "midterm")
    assert (tranche.state, tranche.released_on) == (TrancheState.released, VISIT_AT.date())
    assert _tranche(session, grant_id, "final").state is TrancheState.planned
    assert (
        settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=VISIT_AT, timezone=TZ)
        == []
    )
    # the release itself queued the 拨款通知 letter (funding's open_gate), once
    paid = select(OutboxLetter).where(
        OutboxLetter.role == "tranche_paid",
        col(OutboxLetter.idempotency_key).endswith(f":tranche-{tranche.id}"),
    )
    assert len(session.exec(paid).all()) == 1
    letters = queue_outcome_letters(session, competition=competition, settings=fw.settings, now=VISIT_AT)
    assert "tranche_paid" not in [lt.role for lt in letters]
    assert queue_outcome_letters(session, competition=competition, settings=fw.settings, now=VISIT_AT) == []
    assert len(session.exec(paid).all()) == 1
    papers = write_papers(session, competition=competition, settings=fw.settings, today=VISIT_AT.date())
    assert sorted(p.role for p in papers) == ["midterm_opinion", "supervision_record"]
    assert all((fw.settings.documents_dir / p.path).is_file() for p in papers)


def test_fail_withholds_rectifies_and_a_passed_recheck_releases(world):
    fw, session, competition = world
    grant_id = fw.grant_ids[1]
    grant = session.get(Grant, grant_id)
    checkpoint = _midterm(session, grant_id)
    _report_and_record(
        session, competition, checkpoint, share=0.4, at=VISIT_AT, rectify="补齐5月签到表\n补开2场活动"
    )
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=VISIT_AT, timezone=TZ)
    assert checkpoint.state is CheckpointState.failed
    assert _tranche(session, grant_id, "midterm").state is TrancheState.withheld
    rectification = session.exec(select(Rectification).where(Rectification.grant_id == grant_id)).one()
    assert rectification.items == ["补齐5月签到表", "补开2场活动"]
    assert rectification.deadline == VISIT_AT.date() + timedelta(days=15)
    assert grant.state is GrantState.rectifying
    assert session.get(Application, grant.application_id).state is ApplicationState.rectifying
    letters = queue_outcome_letters(session, competition=competition, settings=fw.settings, now=VISIT_AT)
    assert [lt.role for lt in letters] == ["rectification"]
    assert "补开2场活动" in letters[0].body_text and len(letters[0].attachments) == 1

    # the re-check opens at once (due on the rectification deadline) and passes
    from models.supervision.schedule import open_checkpoints

    recheck = _midterm(session, grant_id, round=2)
    assert recheck.id == rectification.recheck_id and recheck.due_on == rectification.deadline
    later = VISIT_AT + timedelta(days=10)
    open_checkpoints(session, competition_id=fw.competition_id, today=later.date(), actor="flow")
    _report_and_record(session, competition, recheck, share=0.9, at=later)
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=later, timezone=TZ)
    assert recheck.state is CheckpointState.passed
    assert rectification.state is RectificationState.passed
    assert _tranche(session, grant_id, "midterm").state is TrancheState.released
    assert grant.state is GrantState.active
    with pytest.raises(Conflict):  # no grounds: the rectification passed
        terminate_grant(session, grant_id=grant_id, reason="试图终止", actor="admin", now=later)


def test_second_failure_allows_termination_with_clawback(world):
    fw, session, competition = world
    grant_id = fw.grant_ids[2]
    grant = session.get(Grant, grant_id)
    checkpoint = _midterm(session, grant_id)
    _report_and_record(session, competition, checkpoint, share=0.3, at=VISIT_AT, rectify="补齐台账")
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=VISIT_AT, timezone=TZ)
    with pytest.raises(Conflict):  # the rectification is still open
        terminate_grant(session, grant_id=grant_id, reason="未整改", actor="admin", now=VISIT_AT)
    from models.supervision.schedule import open_checkpoints

    later = VISIT_AT + timedelta(days=12)
    open_checkpoints(session, competition_id=fw.competition_id, today=later.date(), actor="flow")
    recheck = _midterm(session, grant_id, round=2)
    _report_and_record(
        session, competition, recheck, share=0.3, at=later, rectify="仍未补齐台账", spent="1,000"
    )
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=later, timezone=TZ)
    rectification = session.exec(select(Rectification).where(Rectification.grant_id == grant_id)).one()
    assert rectification.state is RectificationState.failed
    with pytest.raises(InputError):
        terminate_grant(session, grant_id=grant_id, reason="  ", actor="admin", now=later)
    termination = terminate_grant(
        session, grant_id=grant_id, reason="整改复查仍不合格", actor="admin", now=later
    )
    first = _tranche(session, grant_id, "signing")
    assert termination.released_fen == first.amount_fen
    assert termination.accepted_spend_fen == 100_000  # the latest record: 1,000 yuan
    assert termination.clawback_fen == first.amount_fen - 100_000
    assert termination.cancelled_fen == grant.amount_fen - first.amount_fen
    assert grant.state is GrantState.terminated
    assert {t.state for t in session.exec(select(Tranche).where(Tranche.grant_id == grant_id))} == {
        TrancheState.released,
        TrancheState.cancelled,
    }
    final = session.exec(
        select(Checkpoint).where(Checkpoint.grant_id == grant_id, Checkpoint.code == "final")
    ).one()
    assert final.state is CheckpointState.waived
    assert (
        terminate_grant(session, grant_id=grant_id, reason="again", actor="admin", now=later).id
        == termination.id
    )
    assert len(session.exec(select(GrantTermination)).all()) == 1
    audit = session.exec(
        select(AuditEvent).where(AuditEvent.entity == "grant", AuditEvent.action == "terminated")
    ).all()
    assert len(audit) == 1 and audit[0].actor == "admin"
    letters = queue_outcome_letters(session, competition=competition, settings=fw.settings, now=later)
    termination_letter = next(lt for lt in letters if lt.role == "termination")
    assert "整改复查仍不合格" in termination_letter.body_text


def test_missing_grantee_report_fails_the_checkpoint_at_its_due_day(world):
    fw, session, _competition = world
    grant_id = fw.grant_ids[0]
    checkpoint = _midterm(session, grant_id)
    after = datetime(2025, 7, 1, 9, 0, tzinfo=BEIJING)
    result = mark_overdue(session, competition_id=fw.competition_id, actor="flow", now=after, timezone=TZ)
    assert checkpoint.id in result["failed"] and checkpoint.id in result["report_missing"]
    assert checkpoint.state is CheckpointState.failed
    assert "未按期提交中期报告" in checkpoint.outcome_reason
    assert _tranche(session, grant_id, "midterm").state is TrancheState.withheld
    again = mark_overdue(session, competition_id=fw.competition_id, actor="flow", now=after, timezone=TZ)
    assert checkpoint.id not in again["failed"] + again["report_missing"]


def test_late_grantee_report_fails_even_a_good_record(world):
    fw, session, competition = world
    checkpoint = _midterm(session, fw.grant_ids[0])
    late = datetime(2025, 6, 29, 10, 0, tzinfo=BEIJING)  # the report was due on 27 June
    _report_and_record(session, competition, checkpoint, share=0.9, at=late)
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=late, timezone=TZ)
    assert checkpoint.state is CheckpointState.failed
    assert checkpoint.outcome_reason.startswith("未按期提交中期报告")


def test_reminders_once_per_offset_to_whoever_has_not_submitted(world):
    fw, session, competition = world
    week_before = datetime(2025, 6, 23, 9, 0, tzinfo=BEIJING)
    letters = queue_reminders(session, competition=competition, settings=fw.settings, now=week_before)
    assert (
        sorted(lt.role for lt in letters) == ["progress_report_reminder"] * 3 + ["supervision_reminder"] * 3
    )
    assert queue_reminders(session, competition=competition, settings=fw.settings, now=week_before) == []
    checkpoint = _midterm(session, fw.grant_ids[0])
    _report_and_record(session, competition, checkpoint, share=0.8, at=week_before)
    day_before = datetime(2025, 6, 29, 9, 0, tzinfo=BEIJING)
    letters = queue_reminders(session, competition=competition, settings=fw.settings, now=day_before)
    assert len([lt for lt in letters if lt.role == "supervision_reminder"]) == 2  # not the one submitted


def test_record_refuses_bad_fields_and_an_unexplained_override(world):
    fw, session, competition = world
    checkpoint = _midterm(session, fw.grant_ids[0])
    fields = record_fields(
        session,
        competition,
        code="midterm",
        share=0.8,
        points_progress="31",
        spent="很多",
        verdict="pass",
        visit_date="2025-13-01",
    )
    with pytest.raises(InputError) as caught:
        save_record(session, checkpoint_id=checkpoint.id, fields=fields, submit=True, actor="s", now=VISIT_AT)
    assert {p.field for p in caught.value.problems} == {
        "points_progress",
        "spent",
        "visit_date",
        "override_reason",
    }
    assert checkpoint.state is CheckpointState.open
    fields = record_fields(
        session, competition, code="midterm", share=0.8, verdict="fail", override_reason="票据造假"
    )
    record = save_record(
        session, checkpoint_id=checkpoint.id, fields=fields, submit=True, actor="s", now=VISIT_AT
    )
    assert (record.computed_passed, record.passed, record.override_reason) == (True, False, "票据造假")


def test_purge_removes_every_supervision_row(world):
    from models.setup import purge_competition

    fw, session, competition = world
    grant_id = fw.grant_ids[2]
    checkpoint = _midterm(session, grant_id)
    _report_and_record(session, competition, checkpoint, share=0.3, at=VISIT_AT, rectify="补齐台账")
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=VISIT_AT, timezone=TZ)
    session.commit()
    if session.get_bind().dialect.name == "sqlite":  # it would reuse ids the audit log names: refused
        with pytest.raises(Conflict, match="SQLite"):
            purge_competition(session, slug=fw.slug, actor="admin")
        assert session.exec(select(Rectification)).all() != []
        return
    assert purge_competition(session, slug=fw.slug, actor="admin")
    session.commit()
    assert session.exec(select(Checkpoint)).all() == [] and session.exec(select(Rectification)).all() == []


def test_supervision_record_lists_the_evidence_with_photos_embedded(world):
    import zipfile

    from models.supervision.evidence import Upload, check_uploads, store_evidence
    from tests.support import evidence_files as files

    fw, session, competition = world
    checkpoint = _midterm(session, fw.grant_ids[0])
    from models.competition.tables import competition_config

    config_rules = competition_config(competition).supervision.uploads
    cleaned = check_uploads(
        [
            Upload("现场照片.jpg", files.photo_with_location(), "photo"),
            Upload("发票.pdf", files.small_pdf(), "receipt"),
        ],
        config_rules,
    )
    written: list = []
    stored = store_evidence(
        session,
        checkpoint_id=checkpoint.id,
        owner="supervisor",
        files=cleaned,
        uploads_dir=fw.settings.uploads_dir,
        folder=fw.slug,
        actor="s",
        written=written,
    )
    assert len(written) == 2 and all(p.is_relative_to(fw.settings.uploads_dir) for p in written)
    save_progress_report(
        session,
        checkpoint_id=checkpoint.id,
        fields=progress_fields(session, grant_id=checkpoint.grant_id),
        submit=True,
        actor="g",
        now=VISIT_AT,
    )
    save_record(
        session,
        checkpoint_id=checkpoint.id,
        fields=record_fields(session, competition, code="midterm", share=0.8),
        submit=True,
        actor="s",
        now=VISIT_AT,
        evidence_ids=[e.id for e in stored],
    )
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=VISIT_AT, timezone=TZ)
    papers = write_papers(session, competition=competition, settings=fw.settings, today=VISIT_AT.date())
    record_doc = next(p for p in papers if p.role == "supervision_record")
    with zipfile.ZipFile(fw.settings.documents_dir / record_doc.path) as docx:
        media = [n for n in docx.namelist() if n.startswith("word/media/grantflow-image")]
        body = docx.read("word/document.xml").decode("utf-8")
    assert len(media) == 1  # the photo, not the PDF
    assert "现场照片.jpg" in body and "发票.pdf" in body and "活动照片（督导）" in body


def test_missed_rectification_deadline_lapses_and_allows_termination(world):
    from models.supervision.schedule import open_checkpoints

    fw, session, competition = world
    grant_id = fw.grant_ids[1]
    checkpoint = _midterm(session, grant_id)
    _report_and_record(session, competition, checkpoint, share=0.3, at=VISIT_AT, rectify="补齐台账")
    settle_submitted(session, competition_id=fw.competition_id, actor="flow", now=VISIT_AT, timezone=TZ)
    rectification = session.exec(select(Rectification).where(Rectification.grant_id == grant_id)).one()
    open_checkpoints(session, competition_id=fw.competition_id, today=VISIT_AT.date(), actor="flow")
    on_deadline = datetime.combine(rectification.deadline, datetime.min.time(), tzinfo=BEIJING)
    assert (
        mark_overdue(session, competition_id=fw.competition_id, actor="flow", now=on_deadline, timezone=TZ)[
            "lapsed"
        ]
        == []
    )
    after = on_deadline + timedelta(days=1, hours=9)
    result = mark_overdue(session, competition_id=fw.competition_id, actor="flow", now=after, timezone=TZ)
    assert result["lapsed"] == [rectification.id]
    assert rectification.state is RectificationState.lapsed
    assert _midterm(session, grant_id, round=2).state is CheckpointState.failed
    assert _tranche(session, grant_id, "midterm").state is TrancheState.withheld
    termination = terminate_grant(session, grant_id=grant_id, reason="逾期未整改", actor="admin", now=after)
    # the accepted spending (2,150.50 yuan) exceeds the money released (2,150.00): nothing to claw back
    assert (termination.released_fen, termination.accepted_spend_fen, termination.clawback_fen) == (
        215_000,
        215_050,
        0,
    )


def test_lines_that_add_up_above_the_grant_are_refused_at_the_line_that_crosses_it(world):
    from models.supervision.plan import project_plan

    fw, session, _competition = world
    grant_id = fw.grant_ids[0]
    checkpoint = _midterm(session, grant_id)
    plan = project_plan(session, grant_id=grant_id)
    grant = session.get(Grant, grant_id)
    fields = progress_fields(session, grant_id=grant_id)
    # every line at its budget (each allowed), with the grant cut below their sum
    fields |= {f"spent_{line.budget_line_id}": str(line.amount_fen // 100) for line in plan.budget}
    grant.amount_fen = sum(line.amount_fen for line in plan.budget) - plan.budget[-1].amount_fen // 2
    session.add(grant)
    with pytest.raises(InputError) as refused:
        save_progress_report(
            session, checkpoint_id=checkpoint.id, fields=fields, submit=True, actor="grantee", now=VISIT_AT
        )
    (problem,) = refused.value.problems
    assert problem.field == f"spent_{plan.budget[-1].budget_line_id}" and "超过资助金额" in problem.zh
