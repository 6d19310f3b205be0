"""The review flows under Prefect's harness: open (assign + invitations with personal links),
reminders once per offset, close (results, documents, ranking artifact). Letters go through the
embedded SMTP sink (real aiosmtpd on loopback) into .eml files."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import select

from models.competition.tables import Competition
from models.db import default_engine, session_scope, upgrade_database
from models.documents.tables import GeneratedDocument
from models.lifecycle import set_state
from models.mail.outbox import OutboxLetter
from models.mail.reminders import due_reminder_offset
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewAssignment
from models.states import ApplicationState, CompetitionStage, LetterState
from tests.support.factories import make_application, make_competition

pytestmark = pytest.mark.flows
LINK = re.compile(r"http://127\.0\.0\.1:8000/expert/[A-Za-z0-9_\-.]+")


@pytest.fixture
def competition_in_screening(settings_env: Path) -> tuple[int, str]:
    upgrade_database(default_engine())
    with session_scope() as session:
        competition = make_competition(session)
        set_state(session, competition, CompetitionStage.call_open, actor="test")
        set_state(session, competition, CompetitionStage.screening, actor="test")
        for i, community in enumerate(["江头", "吕岭", "园山", "金尚", "江村", "蔡塘"]):
            make_application(session, competition=competition, community=community, title=f"社区项目{i}")
        make_application(
            session, competition=competition, state=ApplicationState.ineligible, title="不合格项目"
        )
        return competition.id, competition.slug


def _messages(mail_dir: Path) -> list:
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(mail_dir.glob("*.eml"))]


def test_review_lifecycle_from_invitations_to_ranking(
    prefect_harness, competition_in_screening, settings_env
):
    from flows.review import close_review, open_review, review_reminders

    competition_id, slug = competition_in_screening
    opened = asyncio.run(open_review(slug, actor="admin:test"))
    assert opened["applications"] == 6  # the ineligible one is not reviewed
    assert opened["sheets"] == 6 * 5
    mail_dir = settings_env / "mail"
    invitations = _messages(mail_dir)
    assert len(invitations) == opened["invitations"] == 7  # one letter per expert
    links = [LINK.findall(m.get_body(("plain",)).get_content()) for m in invitations]
    assert all(len(found) == 1 for found in links)  # one link a letter: the expert's own page
    assert len({found[0] for found in links}) == 7
    names = [re.findall(r"社区项目\d", m.get_body(("plain",)).get_content()) for m in invitations]
    assert sum(len(found) for found in names) == 30  # each letter names the expert's applications
    assert all("专家评审" in str(m["subject"]) or "评审邀请" in str(m["subject"]) for m in invitations)

    again = asyncio.run(open_review(slug, actor="admin:test"))  # idempotent: nothing new
    assert again["sheets"] == 0 and again["invitations"] == 0
    assert len(_messages(mail_dir)) == 7

    with session_scope() as session:
        competition = session.get(Competition, competition_id)
        assert competition.stage is CompetitionStage.review
        sheets = session.exec(select(ReviewAssignment)).all()
        deadline = sheets[0].deadline
    first = asyncio.run(review_reminders(slug, as_of=deadline - timedelta(days=2)))
    assert first["reminders"] == 7
    repeat = asyncio.run(review_reminders(slug, as_of=deadline - timedelta(days=2, hours=-3)))
    assert repeat["reminders"] == 0  # never twice for the same offset
    last_day = asyncio.run(review_reminders(slug, as_of=deadline - timedelta(hours=12)))
    assert last_day["reminders"] == 7
    assert len(_messages(mail_dir)) == 7 + 14

    with session_scope() as session:
        for n, sheet in enumerate(sorted(sheets, key=lambda s: s.id)):
            base = Decimal(12 + n % 5)
            save_sheet(
                session,
                assignment_id=sheet.id,
                submit=True,
                actor=f"expert:{sheet.expert_id}",
                points={
                    "need": base,
                    "design": base + 5,
                    "capacity": base,
                    "budget": Decimal(10),
                    "innovation": Decimal(7),
                    "sustainability": Decimal(6),
                },
                comment="评审意见",
                now=deadline - timedelta(hours=2),
            )
    closed = close_review(slug, actor="admin:test", as_of=deadline + timedelta(hours=1), prepared_by="林老师")
    assert closed["results"] == 6
    assert closed["documents"] == 7 + 1  # a 专家评分表 per expert and the 评分汇总表
    with session_scope() as session:
        assert session.get(Competition, competition_id).stage is CompetitionStage.funding
        summary = session.exec(
            select(GeneratedDocument).where(GeneratedDocument.role == "score_summary")
        ).one()
        letters = session.exec(select(OutboxLetter)).all()
        assert {letter.state for letter in letters} == {LetterState.sent}
    text = "\n".join(
        cell.text
        for table in Document(settings_env / "documents" / summary.path).tables
        for row in table.rows
        for cell in row.cells
    )
    printed = Document(settings_env / "documents" / summary.path).element.xml
    assert "社区项目0" in text and "专家评分一致性系数" in printed and "ICC" not in printed


def test_reminder_offset_rule():
    from datetime import UTC, datetime

    deadline = datetime(2025, 3, 21, 9, tzinfo=UTC)
    assert due_reminder_offset(deadline=deadline, now=deadline - timedelta(days=4), offsets=[3, 1]) is None
    assert due_reminder_offset(deadline=deadline, now=deadline - timedelta(days=3), offsets=[3, 1]) == 3
    assert due_reminder_offset(deadline=deadline, now=deadline - timedelta(hours=20), offsets=[3, 1]) == 1
    assert due_reminder_offset(deadline=deadline, now=deadline, offsets=[3, 1]) is None
