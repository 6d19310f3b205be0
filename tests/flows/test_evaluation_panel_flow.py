"""The final evaluation flow with an expert panel configured, under Prefect's harness: the first
run assigns the panel and mails each expert one invitation (real aiosmtpd sink → .eml) and
evaluates nobody; a re-run sends no second letter; past the panel's due day the year is evaluated,
the missing sheets not counted, and the 结项评估报告 says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import docx
import pytest
from sqlmodel import select

from models.db import default_engine, session_scope, upgrade_database
from models.documents.tables import GeneratedDocument
from models.evaluation.tables import FinalEvaluation, PanelSheet
from models.settings import get_settings
from tests.support.factories import example_config_text
from tests.support.year import Year, evaluated_year

pytestmark = pytest.mark.flows
AT = datetime(2025, 10, 20, 2, 0, tzinfo=UTC)
PANEL = '  expert_panel: {experts_per_grant: 3, weight: "0.5", due_days: 7}\n'


@pytest.fixture
def panel_year(settings_env: Path) -> Year:
    upgrade_database(default_engine())
    text = example_config_text(**{"  barred_years: 2\n": "  barred_years: 2\n" + PANEL})
    with session_scope() as session:
        return evaluated_year(session, config_text=text)


def _invitations(mail_dir: Path) -> list:
    caught = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(mail_dir.glob("*.eml"))
    ]
    return [m for m in caught if "结项评审邀请" in str(m["subject"])]


def test_the_panel_is_invited_once_and_the_year_waits_for_it(prefect_harness, panel_year, settings_env):
    from flows.evaluation import final_evaluation

    slug = panel_year.competition.slug
    first = asyncio.run(final_evaluation(slug, as_of=AT, actor="admin:test"))
    assert first["panel"] == {"sheets": 33, "letters": 7}
    assert first["evaluated"] == [] and first["letters"] == 0 and not first["closed"]
    invitations = _invitations(settings_env / "mail")
    assert len(invitations) == 7
    body = invitations[0].get_body(preferencelist=("plain",)).get_content()
    assert "/final-review/" in body and "2025年10月27日 23:59" in body

    again = asyncio.run(final_evaluation(slug, as_of=AT + timedelta(days=1), actor="admin:test"))
    assert again["panel"] == {"sheets": 0, "letters": 0} and again["evaluated"] == []
    assert len(_invitations(settings_env / "mail")) == 7  # no second letter

    late = asyncio.run(final_evaluation(slug, as_of=AT + timedelta(days=8), actor="admin:test"))
    assert len(late["evaluated"]) == 11 and late["letters"] == 11
    with session_scope() as session:
        evaluations = list(session.exec(select(FinalEvaluation)))
        assert {(e.panel_weight, e.panel_score, e.panel_counted, e.panel_assigned) for e in evaluations} == {
            (Decimal("0.5"), None, 0, 3)
        }
        assert len(list(session.exec(select(PanelSheet)))) == 33
        report = session.exec(
            select(GeneratedDocument).where(GeneratedDocument.role == "final_evaluation_report")
        ).first()
        assert report is not None
        path = get_settings().documents_dir / report.path
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "专家组评分未在期限内提交（应交3份，按期提交0份），按督导评分" in text


def _reminders(mail_dir: Path) -> list:
    caught = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(mail_dir.glob("*.eml"))
    ]
    return [m for m in caught if "结项评审提醒" in str(m["subject"])]


def test_the_panel_is_reminded_before_its_due_day_once_per_offset(prefect_harness, panel_year, settings_env):
    """The morning reminders flow reminds every expert with open panel sheets two days (the default
    offset) before the due day, once; not earlier, and not again the next morning."""
    from flows.evaluation import final_evaluation
    from flows.review import review_reminders

    slug = panel_year.competition.slug
    asyncio.run(final_evaluation(slug, as_of=AT, actor="admin:test"))  # due 2025-10-27 23:59
    early = asyncio.run(review_reminders(slug, as_of=AT + timedelta(days=5)))  # 10-25 10:00 Beijing
    assert early["panel_reminders"] == 0 and _reminders(settings_env / "mail") == []
    due = asyncio.run(review_reminders(slug, as_of=AT + timedelta(days=6)))  # 10-26: two days before
    assert due["panel_reminders"] == 7 and due["reminders"] == 0
    reminders = _reminders(settings_env / "mail")
    assert len(reminders) == 7
    body = reminders[0].get_body(preferencelist=("plain",)).get_content()
    assert "/final-review/" in body and "2025年10月27日 23:59" in body and "逾期未提交的评分不计入" in body
    again = asyncio.run(review_reminders(slug, as_of=AT + timedelta(days=6, hours=3)))
    assert again["panel_reminders"] == 0 and len(_reminders(settings_env / "mail")) == 7
