"""The screening flow under Prefect's harness: every rule stored with its reason, a 资格审查表 per
application, result letters (the sheet attached when ineligible), an administrator's override that
changes the outcome, the deadline, and re-runs that change nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.db import default_engine, session_scope, upgrade_database
from models.documents.tables import GeneratedDocument
from models.errors import Conflict, InputError
from models.intake.imports import import_applications
from models.intake.tables import Application, EligibilityCheck
from models.lifecycle import set_state
from models.mail.outbox import OutboxLetter
from models.screening.eligibility import override_check
from models.states import ApplicationState, CompetitionStage
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import make_competition
from tests.support.mailbox import attachment_names, docx_text, messages, plain_text, with_subject

pytestmark = pytest.mark.flows
BEIJING = ZoneInfo("Asia/Shanghai")
SCREENING_AT = datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING)
INELIGIBLE = {"2025-022": "禁止申报名单", "2025-023": "一个单位一个项目", "2025-024": "登记或备案"}


@pytest.fixture
def applications_in(settings_env: Path) -> tuple[int, str]:
    """The example's 24 spreadsheet applications, received while the call was open."""
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        set_state(session, competition, CompetitionStage.call_open, actor="test")
        import_applications(
            session,
            competition_id=competition.id,
            path=EXAMPLE_DIR / "applications.xlsx",
            actor="test",
            now=datetime(2025, 2, 20, 10, 0, tzinfo=BEIJING),
        )
        return competition.id, competition.slug


async def test_screening_writes_sheets_and_tells_every_applicant(
    prefect_harness, applications_in, settings_env
):
    from flows.screening import screening

    competition_id, slug = applications_in
    result = await screening(slug, as_of=SCREENING_AT, actor="admin:test", reviewer="林老师")
    assert result["opened"] is True
    assert (result["screened"], result["eligible"], result["ineligible"]) == (24, 21, 3)
    assert result["sheets"] == 24 and result["letters"] == 24
    failed = {row["ref"]: row["reasons"] for row in result["applications"] if not row["eligible"]}
    assert {ref: reasons[0].split("：")[0] for ref, reasons in failed.items()} == INELIGIBLE

    with session_scope() as session:
        assert session.get(Competition, competition_id).stage is CompetitionStage.screening
        checks = session.exec(select(EligibilityCheck)).all()
        assert len(checks) == 24 * 8 and all(c.reason for c in checks)
        sheets = session.exec(select(GeneratedDocument)).all()
        assert {d.role for d in sheets} == {"eligibility_sheet"} and len(sheets) == 24
        refs = dict(session.exec(select(Application.id, Application.ref)).all())

    mail = messages(settings_env / "mail")
    passed, not_passed = with_subject(mail, "：通过"), with_subject(mail, "：未通过")
    assert len(passed) == 21 and all(attachment_names(m) == [] for m in passed)
    assert len(not_passed) == 3
    for message in not_passed:
        ref = next(r for r in INELIGIBLE if r in str(message["subject"]))
        assert attachment_names(message) == [f"资格审查表-{ref}.docx"]
        assert INELIGIBLE[ref] in plain_text(message)
    barred = next(d for d in sheets if refs[d.subject_id] == "2025-022")
    text = docx_text(settings_env / "documents" / barred.path)
    assert "禁止申报名单 | 不在禁止申报名单内 | 不符合 | 申报单位在禁止申报名单中" in text
    assert "林老师" in text and "2025年3月3日" in text


async def test_screening_run_again_is_a_no_op(prefect_harness, applications_in, settings_env):
    from flows.screening import screening

    _competition_id, slug = applications_in
    await screening(slug, as_of=SCREENING_AT)
    with session_scope() as session:
        before = {(d.id, d.sha256) for d in session.exec(select(GeneratedDocument))}
    again = await screening(slug, as_of=datetime(2025, 3, 4, 9, 0, tzinfo=BEIJING))
    assert again["opened"] is False and again["screened"] == 0
    assert again["sheets"] == 0 and again["letters"] == 0 and again["delivery"]["sent"] == 0
    assert len(messages(settings_env / "mail")) == 24
    with session_scope() as session:
        assert {(d.id, d.sha256) for d in session.exec(select(GeneratedDocument))} == before
        assert len(session.exec(select(OutboxLetter)).all()) == 24


async def test_screening_override_writes_a_sheet_of_its_own_and_sends_the_new_result(
    prefect_harness, applications_in, settings_env
):
    from flows.screening import screening

    _competition_id, slug = applications_in
    await screening(slug, as_of=SCREENING_AT)
    with session_scope() as session:
        application = session.exec(select(Application).where(Application.ref == "2025-024")).one()
        first = session.exec(
            select(GeneratedDocument).where(GeneratedDocument.subject_id == application.id)
        ).one()
    first_bytes = (settings_env / "documents" / first.path).read_bytes()
    with session_scope() as session:
        override_check(
            session,
            application_id=application.id,
            rule="registration",
            passed=True,
            reason="已补交备案证明（湖里志备〔2024〕031号）",
            actor="admin:test",
        )
    result = await screening(slug, as_of=datetime(2025, 3, 5, 9, 0, tzinfo=BEIJING))
    assert result["sheets"] == 1 and result["letters"] == 1
    with session_scope() as session:
        assert session.get(Application, application.id).state is ApplicationState.eligible
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "eligibility_override")).one()
        assert audit.reason.startswith("已补交备案证明") and audit.data == {
            "rule": "registration",
            "from": False,
            "to": True,
        }
        kept, sheet = session.exec(
            select(GeneratedDocument)
            .where(GeneratedDocument.subject_id == application.id)
            .order_by(GeneratedDocument.id)
        ).all()
    assert kept.id == first.id and (settings_env / "documents" / kept.path).read_bytes() == first_bytes
    assert sheet.filename == "资格审查表-2025-024（第2版）.docx"
    text = docx_text(settings_env / "documents" / sheet.path)
    assert "管理员改判：已补交备案证明" in text and "2025年3月5日" in text
    news = [m for m in with_subject(messages(settings_env / "mail"), "2025-024")]
    assert sorted(str(m["subject"]).rsplit("：", 1)[1] for m in news) == ["未通过", "通过"]


async def test_screening_waits_for_the_deadline(prefect_harness, applications_in, settings_env):
    from flows.screening import screening

    competition_id, slug = applications_in
    with pytest.raises(InputError, match="screening cannot start yet"):
        await screening(slug, as_of=datetime(2025, 2, 27, 9, 0, tzinfo=BEIJING))
    with session_scope() as session:
        assert session.get(Competition, competition_id).stage is CompetitionStage.call_open
        assert session.exec(select(EligibilityCheck)).all() == []


async def test_screening_of_an_unpublished_competition_is_refused(prefect_harness, settings_env):
    from flows.screening import screening

    upgrade_database(default_engine())
    with session_scope() as session:
        slug = make_competition(session).slug
    with pytest.raises(Conflict, match="请先发布征集公告"):
        await screening(slug, as_of=SCREENING_AT)


async def test_screening_interrupted_in_the_document_step_is_finished_by_the_next_run(
    prefect_harness, applications_in, settings_env, monkeypatch
):
    """The stage moves last: a run that fails while writing the 资格审查表 leaves the competition
    征集中 — the hourly ``advance`` screens again instead of opening the review — and the next run
    writes every sheet, queues every letter once and only then moves to 资格审查."""
    import models.screening.notices
    from flows.screening import screening
    from tasks.lifecycle import decide_next_step

    real_write_document = models.screening.notices.write_document
    written = []

    def failing_on_the_fifth(*args, **kwargs):
        if len(written) == 4:
            raise OSError("磁盘已满 / disk full")
        written.append(real_write_document(*args, **kwargs))
        return written[-1]

    def step() -> tuple[str, str | None]:
        """What the hourly ``advance`` reads: the stage and the step it would take now."""
        decided = decide_next_step.fn(slug, datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING))
        return decided["stage"], decided["step"]

    _competition_id, slug = applications_in
    monkeypatch.setattr(models.screening.notices, "write_document", failing_on_the_fifth)
    with pytest.raises(OSError, match="disk full"):
        await screening(slug, as_of=SCREENING_AT)
    assert step() == ("call_open", "screening")  # not open_review
    with session_scope() as session:
        assert len(session.exec(select(EligibilityCheck)).all()) == 24 * 8  # screened, committed
        assert session.exec(select(GeneratedDocument)).all() == []  # the failed step wrote nothing
        assert session.exec(select(OutboxLetter)).all() == []
        assert session.exec(select(AuditEvent).where(AuditEvent.to_state == "screening")).all() == []

    monkeypatch.setattr(models.screening.notices, "write_document", real_write_document)
    result = await screening(slug, as_of=SCREENING_AT)
    assert result["opened"] is True and result["screened"] == 0
    assert result["sheets"] == 24 and result["letters"] == 24
    assert step() == ("screening", "open_review")
    with session_scope() as session:
        assert len(session.exec(select(GeneratedDocument)).all()) == 24
        assert len(session.exec(select(OutboxLetter)).all()) == 24
        moves = session.exec(select(AuditEvent).where(AuditEvent.to_state == "screening")).all()
        assert [(m.entity, m.from_state) for m in moves] == [("competition", "call_open")]
    assert len(messages(settings_env / "mail")) == 24
