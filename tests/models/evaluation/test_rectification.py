"""A failed 结项 under ``on_fail: rectify_once`` on the example year: supervision's one 整改 — one
Rectification (deadline, the supervisors' findings to fix), one 整改通知 document and one letter,
none doubled by a re-run or by the supervision flow's own pass — and the re-check, filed through
the supervisor's real form, settles it: passed releases the final tranche, failed terminates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import docx
from sqlmodel import Session, select

from models.audit import take_effect
from models.documents.tables import GeneratedDocument
from models.evaluation.evaluating import evaluate_grants, final_checkpoint, open_evaluation
from models.evaluation.grading import Outcome
from models.funding.tables import Tranche
from models.mail.outbox import OutboxLetter
from models.settings import get_settings
from models.states import CheckpointState, GrantState, RectificationState, TrancheState
from models.supervision.notices import queue_outcome_letters, queue_rectification_notices
from models.supervision.records import save_record
from models.supervision.schedule import open_checkpoints
from models.supervision.tables import Rectification
from tests.support.supervision import record_fields
from tests.support.year import Year

BEIJING = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 10, 20, 10, 0, tzinfo=BEIJING)  # the 结项评估 runs as of this moment
RECHECK_AT = datetime(2025, 10, 31, 10, 0, tzinfo=BEIJING)
ACTOR = "admin:test"


def _evaluate(session: Session, year: Year, at: datetime) -> dict[str, Outcome]:
    take_effect(session, at)
    open_evaluation(session, competition=year.competition, actor=ACTOR)
    settled = evaluate_grants(session, competition_id=year.competition_id, actor=ACTOR, on=at.date())
    by_grant = {g.id: ref for ref, g in year.grants.items()}
    return {by_grant[s.grant_id]: s.outcome for s in settled}


def _notices(session: Session, year: Year) -> list[OutboxLetter]:
    return queue_rectification_notices(session, competition=year.competition, settings=get_settings())


def _rows(session: Session, table: type, **where: object) -> list:
    query = select(table)
    for name, value in where.items():
        query = query.where(getattr(table, name) == value)
    return list(session.exec(query))


def _recheck(session: Session, year: Year, ref: str, *, share: float) -> None:
    """The re-check as supervision runs it: opened on its day, the supervisor's form submitted."""
    open_checkpoints(session, competition_id=year.competition_id, today=date(2025, 10, 28), actor=ACTOR)
    checkpoint = final_checkpoint(session, grant_id=year.grants[ref].id)
    assert checkpoint is not None and checkpoint.round == 2 and checkpoint.state is CheckpointState.open
    spent = str(year.grants[ref].amount_fen // 100)  # the whole grant spent: the final tranche in full
    fields = record_fields(
        session, year.competition, code="final", share=share, visit_date="2025-10-28", spent=spent
    )
    if share < 0.6:
        fields["rectify"] = "台账仍不齐全"
    save_record(
        session,
        checkpoint_id=checkpoint.id,
        fields=fields,
        submit=True,
        actor=f"supervisor:{checkpoint.supervisor_id}",
        now=datetime(2025, 10, 28, 16, 0, tzinfo=BEIJING),
    )


def test_failed_final_opens_one_rectification_with_its_notice_and_letter(year_session, year, settings_env):
    failing = year.refs()[3]
    grant = year.grants[failing]
    assert _evaluate(year_session, year, AT)[failing] is Outcome.rectification
    letters = _notices(year_session, year)
    assert len(letters) == 1

    (rectification,) = _rows(year_session, Rectification, grant_id=grant.id)
    first = year.final_checkpoints[failing]
    assert rectification.checkpoint_id == first.id and rectification.state is RectificationState.open
    assert rectification.deadline == date(2025, 10, 30)  # on + rectification_days (10)
    assert rectification.items == ["台账齐全，活动按计划开展。"]  # the supervisor's findings
    assert rectification.opened_at.astimezone(BEIJING) == AT  # the run's as_of, not the wall clock
    recheck = final_checkpoint(year_session, grant_id=grant.id)
    assert recheck.id == rectification.recheck_id and (recheck.round, recheck.due_on) == (
        2,
        date(2025, 10, 30),
    )
    assert grant.state is GrantState.rectifying

    (document,) = _rows(year_session, GeneratedDocument, role="rectification_notice")
    assert (document.subject_entity, document.subject_id) == ("rectification", rectification.id)
    text = "\n".join(
        p.text for p in docx.Document(str(settings_env / "documents" / document.path)).paragraphs
    )
    text += "\n".join(
        cell.text
        for table in docx.Document(str(settings_env / "documents" / document.path)).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "整改通知" in text and "结项评估" in text and "中期评估" not in text
    assert "2025年10月30日" in text  # the deadline
    assert "2025年10月20日" in text  # issued the day the 结项 failed, as of the run
    assert "台账齐全，活动按计划开展。" in text and "尾款" in text  # what to fix, what is withheld

    (letter,) = _rows(year_session, OutboxLetter, role="rectification")
    assert letter.id == letters[0].id and letter.attachments == [document.id]
    assert "结项评估" in letter.body_text and "2025年10月30日" in letter.body_text

    # a re-run, and the supervision flow's own pass over the rectifications, add nothing
    year_session.commit()
    assert _evaluate(year_session, year, AT) == {}
    assert _notices(year_session, year) == []
    assert (
        queue_outcome_letters(year_session, competition=year.competition, settings=get_settings(), now=AT)
        == []
    )
    assert len(_rows(year_session, Rectification, grant_id=grant.id)) == 1
    assert len(_rows(year_session, GeneratedDocument, role="rectification_notice")) == 1
    assert len(_rows(year_session, OutboxLetter, role="rectification")) == 1


def test_passed_recheck_settles_the_rectification_and_releases_the_final_tranche(year_session, year):
    failing = year.refs()[3]
    grant = year.grants[failing]
    _evaluate(year_session, year, AT)
    assert len(_notices(year_session, year)) == 1
    _recheck(year_session, year, failing, share=0.8)
    assert _evaluate(year_session, year, RECHECK_AT) == {failing: Outcome.released}
    (rectification,) = _rows(year_session, Rectification, grant_id=grant.id)
    assert rectification.state is RectificationState.passed
    assert grant.state is GrantState.completed
    tranche = year_session.exec(
        select(Tranche).where(Tranche.grant_id == grant.id, Tranche.gate == "final")
    ).one()
    assert (tranche.state, tranche.released_on) == (TrancheState.released, RECHECK_AT.date())
    assert _notices(year_session, year) == []  # the passed re-check sends no second 整改通知


def test_failed_recheck_fails_the_rectification_and_terminates(year_session, year):
    failing = year.refs()[3]
    grant = year.grants[failing]
    _evaluate(year_session, year, AT)
    _recheck(year_session, year, failing, share=0.4)
    assert _evaluate(year_session, year, RECHECK_AT) == {failing: Outcome.terminated}
    (rectification,) = _rows(year_session, Rectification, grant_id=grant.id)
    assert rectification.state is RectificationState.failed
    assert grant.state is GrantState.terminated
    tranches = _rows(year_session, Tranche, grant_id=grant.id)
    assert sorted(t.state for t in tranches) == [
        TrancheState.cancelled,
        TrancheState.released,
        TrancheState.released,
    ]


def test_recheck_without_a_report_lapses_the_rectification(year_session, year):
    failing = year.refs()[3]
    _evaluate(year_session, year, AT)
    open_checkpoints(year_session, competition_id=year.competition_id, today=date(2025, 10, 28), actor=ACTOR)
    assert _evaluate(year_session, year, RECHECK_AT) == {failing: Outcome.terminated}  # past due, no report
    (rectification,) = _rows(year_session, Rectification, grant_id=year.grants[failing].id)
    assert rectification.state is RectificationState.lapsed
