"""The funding flows under Prefect's harness: draft → approve (公示) → the lifecycle waits out the
window and closes it → grants, 立项通知书 + 资助协议书, 未入选通知 → signing and the first tranche.
Letters go through the embedded SMTP sink into .eml files; every flow is re-run to show it is safe."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import select

from models.db import default_engine, session_scope, upgrade_database
from models.funding.tables import FundingDecision, Tranche
from models.funding.workdays import BEIJING
from models.mail.outbox import OutboxLetter
from models.states import TrancheState
from tests.support.funding_data import scored_competition

pytestmark = pytest.mark.flows
APPROVE_AT = datetime(2025, 3, 24, 9, 0, tzinfo=BEIJING)
END = datetime(2025, 3, 28, 17, 30, tzinfo=BEIJING)


@pytest.fixture
def competition_in_funding(settings_env: Path) -> str:
    upgrade_database(default_engine())
    with session_scope() as session:
        competition, _ = scored_competition(session)
        return competition.slug


def _subjects(mail_dir: Path) -> list[str]:
    return [
        str(message_from_bytes(p.read_bytes(), policy=policy.default)["subject"])
        for p in mail_dir.glob("*.eml")
    ]


def test_funding_from_draft_to_first_tranche(prefect_harness, competition_in_funding, settings_env):
    from flows.funding import funding_approve, funding_draft
    from flows.grants import grants_sign
    from flows.lifecycle import advance

    slug = competition_in_funding
    drafted = funding_draft(slug, actor="admin:test")
    assert drafted["funded"] == 7 and drafted["report"]["reconciles"]
    assert funding_draft(slug, actor="admin:test")["changed"] == 0

    approved = funding_approve(slug, actor="admin:test", as_of=APPROVE_AT)
    assert approved["approved"] and datetime.fromisoformat(approved["notice"]["ends_at"]) == END
    again = funding_approve(slug, actor="admin:test", as_of=APPROVE_AT + timedelta(hours=1))
    assert not again["approved"] and again["notice"] == approved["notice"]
    assert funding_draft(slug, actor="admin:test")["approved"]

    waiting = asyncio.run(advance(slug, as_of=END - timedelta(minutes=1)))
    assert waiting["step"] is None and "公示中" in waiting["waiting"]
    closed = asyncio.run(advance(slug, as_of=END + timedelta(days=3)))
    assert closed["step"] == "close_publicity"
    assert (closed["result"]["grants"], closed["result"]["letters"]) == (7, 8)
    subjects = _subjects(settings_env / "mail")
    assert sum("立项通知" in s for s in subjects) == 7 and sum("未入选" in s for s in subjects) == 1

    signed = asyncio.run(grants_sign(slug, signings=[("JT2025-001", date(2025, 4, 8))], actor="admin:test"))
    assert signed["signed"] == 1
    asyncio.run(grants_sign(slug, signings=[("JT2025-001", date(2025, 4, 8))], actor="admin:test"))
    with session_scope() as session:
        released = session.exec(select(Tranche).where(Tranche.state == TrancheState.released)).all()
        assert [(t.label, t.amount_fen) for t in released] == [("首期拨付", 400_000)]
        paid = session.exec(select(OutboxLetter).where(OutboxLetter.role == "tranche_paid")).all()
        assert len(paid) == 1
        assert len(session.exec(select(FundingDecision)).all()) == 8
    assert sum("拨款通知" in s for s in _subjects(settings_env / "mail")) == 1
