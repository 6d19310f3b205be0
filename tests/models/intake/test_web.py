"""网上申报 in the domain, on SQLite and PostgreSQL: one web-form row is validated, stored and receipted
like an imported row; a duplicate, a closed competition or a late post stores nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.errors import InputError
from models.intake.fields import RawActivity, RawBudgetLine, RawRow
from models.intake.tables import Application, BudgetLine
from models.intake.web import (
    WEB_FORM,
    ApplicationsClosed,
    DuplicateApplication,
    budget_line_where,
    ensure_accepting,
    submit_web_application,
)
from models.lifecycle import set_state
from models.mail.outbox import OutboxLetter
from models.settings import Settings
from models.states import ApplicationState, CompetitionStage
from tests.support.factories import make_competition

BEIJING = ZoneInfo("Asia/Shanghai")
OPEN_AT = datetime(2025, 2, 20, 10, 0, tzinfo=BEIJING)
VALUES: dict[str, object] = {
    "organisation": "厦门市湖里区乐龄社会工作服务中心",
    "kind": "registered",
    "contact_name": "李敏",
    "contact_phone": "13905920123",
    "contact_email": "limin@example.org",
    "title": "银龄助餐·幸福食堂",
    "category": "elderly",
    "communities": "江头、吕厝",
    "period_start": "2025-05-01",
    "period_end": "2025-09-30",
    "amount": "6000",
    "summary": "为江头、吕厝社区独居老人提供每周三次助餐服务，并开展健康讲座。",
    "beneficiaries": "80",
}
PLAN = [("2025年5月—9月", "助餐服务", "60", "1800"), ("2025年6月", "健康讲座", "2", "90")]


def web_row(**changes: object) -> RawRow:
    """What the web form posts: its fields, its budget lines and its 活动安排 lines (as rows)."""
    lines = [("餐费补贴", "10", "500"), ("健康讲座", "500", "2")]
    return RawRow(
        where=WEB_FORM,
        values={**VALUES, **changes},
        budget=[
            RawBudgetLine(budget_line_where(n), {"item": item, "unit_price": price, "quantity": quantity})
            for n, (item, price, quantity) in enumerate(lines, start=1)
        ],
        activity_plan=[
            RawActivity(
                f"{WEB_FORM}：活动安排第{n}行 (activity {n})",
                {"period": period, "content": content, "sessions": sessions, "participants": people},
            )
            for n, (period, content, sessions, people) in enumerate(PLAN, start=1)
        ],
    )


@pytest.fixture
def open_competition(session: Session) -> Competition:
    competition = make_competition(session)
    set_state(session, competition, CompetitionStage.call_open, actor="test")
    session.commit()
    return competition


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def submit(
    session: Session,
    competition: Competition,
    settings: Settings,
    *,
    now: datetime = OPEN_AT,
    plan_rows: bool = True,
    **changes: Any,
) -> Application:
    """Submit ``web_row(**changes)``; ``plan_rows=False`` leaves out the 活动安排 rows."""
    assert competition.id is not None
    row = web_row(**changes)
    if not plan_rows:
        row.activity_plan = []
    return submit_web_application(
        session,
        competition_id=competition.id,
        row=row,
        now=now,
        actor="applicant:web",
        settings=settings,
    )


def count(session: Session, table: type[Any]) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def test_web_application_is_stored_audited_and_receipted(
    session: Session, open_competition: Competition, settings: Settings
) -> None:
    application = submit(session, open_competition, settings)
    session.commit()
    assert application.ref == "2025-001" and application.source == WEB_FORM
    assert application.state is ApplicationState.submitted and application.amount_fen == 600_000
    assert count(session, BudgetLine) == 2
    audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "application")).one()
    assert audit.actor == "applicant:web" and audit.data == {"source": WEB_FORM}
    letter = session.exec(select(OutboxLetter)).one()
    assert letter.role == "receipt" and letter.recipient_email == "limin@example.org"
    assert [p.name for p in settings.documents_dir.rglob("*.docx")] == ["受理回执-2025-001.docx"]
    assert application.beneficiaries == 80
    assert application.details["activities"] == [
        {"period": "2025年5月—9月", "content": "助餐服务", "sessions": 60, "participants": 1800},
        {"period": "2025年6月", "content": "健康讲座", "sessions": 2, "participants": 90},
    ]


def test_web_application_plan_as_the_form_text_reads_alike(
    session: Session, open_competition: Competition, settings: Settings
) -> None:
    """A textarea of 时间|活动内容|场次|预计人次 lines is the same plan as the rows."""
    text = "\n".join("|".join(line) for line in PLAN)
    application = submit(session, open_competition, settings, plan_rows=False, activities=text)
    assert [(a["content"], a["sessions"], a["participants"]) for a in application.details["activities"]] == [
        ("助餐服务", 60, 1800),
        ("健康讲座", 2, 90),
    ]


def test_web_application_without_a_plan_is_refused_at_its_fields(
    session: Session, open_competition: Competition, settings: Settings
) -> None:
    """The competition requires the plan: no activity and no 直接受益人数 → a problem at each field."""
    with pytest.raises(InputError) as caught:
        submit(session, open_competition, settings, plan_rows=False, beneficiaries="")
    session.rollback()
    assert {(p.where, p.field) for p in caught.value.problems} == {
        (WEB_FORM, "直接受益人数"),
        (WEB_FORM, "活动安排"),
    }
    assert count(session, Application) == 0


def test_web_application_problems_name_the_web_form_and_store_nothing(
    session: Session, open_competition: Competition, settings: Settings
) -> None:
    with pytest.raises(InputError) as caught:
        submit(session, open_competition, settings, title="", amount="6500")
    session.rollback()
    assert {(p.where, p.field) for p in caught.value.problems} == {
        (WEB_FORM, "项目名称"),
        (WEB_FORM, "预算明细"),
    }
    assert count(session, Application) == 0 and count(session, OutboxLetter) == 0


def test_web_application_twice_is_a_duplicate_naming_the_stored_reference(
    session: Session, open_competition: Competition, settings: Settings
) -> None:
    submit(session, open_competition, settings)
    session.commit()
    with pytest.raises(DuplicateApplication, match="2025-001") as caught:
        submit(session, open_competition, settings, contact_email="other@example.org")
    session.rollback()
    assert caught.value.ref == "2025-001"
    assert count(session, Application) == 1 and count(session, OutboxLetter) == 1


def test_web_form_takes_applications_only_while_the_call_is_open(
    session: Session, settings: Settings
) -> None:
    competition = make_competition(session)
    with pytest.raises(ApplicationsClosed) as draft:
        ensure_accepting(competition, now=OPEN_AT, timezone=settings.timezone)
    assert draft.value.reason == "not_open"
    set_state(session, competition, CompetitionStage.call_open, actor="test")
    ensure_accepting(competition, now=datetime(2025, 2, 28, 17, 0, tzinfo=BEIJING), timezone="Asia/Shanghai")
    with pytest.raises(ApplicationsClosed, match="2025年2月28日 17:00") as late:
        submit(session, competition, settings, now=datetime(2025, 2, 28, 17, 1, tzinfo=BEIJING))
    assert late.value.reason == "deadline"
    session.rollback()
    assert count(session, Application) == 0
