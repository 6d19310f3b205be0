"""The staged decision on a closed review (SQLite and PostgreSQL): draft, re-draft, adjust, ties,
approve."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.errors import Conflict, InputError
from models.funding.decision import (
    adjust_amount,
    approve_decision,
    decide_tie,
    draft_decision,
    funding_report,
)
from models.funding.tables import FundingDecision
from models.states import ApplicationState, CompetitionStage
from tests.support.funding_data import scored_competition


def _audits(session) -> int:
    return len(session.exec(select(AuditEvent)).all())


RETURNED = {"unspent: other_pool": "unspent: returned"}


def test_draft_explains_every_outcome_and_reconciles(session):
    competition, _ = scored_competition(session, **RETURNED)
    result = draft_decision(session, competition_id=competition.id, actor="admin")
    report = funding_report(session, competition_id=competition.id)
    amounts = {r["ref"]: r["amount_fen"] // 100 for r in report["applications"]}
    assert amounts == {
        "JT2025-001": 8_000,
        "JT2025-002": 8_000,
        "JT2025-003": 8_000,
        "JT2025-004": 8_000,
        "JT2025-005": 0,  # 4,000 left in the registered pool
        "JT2025-006": 0,  # 50 < 60
        "JT2025-007": 8_000,
        "JT2025-008": 8_000,
    }
    assert (report["funded_fen"], report["returned_fen"], report["reconciles"]) == (
        4_800_000,
        1_200_000,
        True,
    )
    fifth = next(r for r in report["applications"] if r["ref"] == "JT2025-005")
    assert fifth["explanation"].startswith(
        "总排名第7、社会组织组第5名，得分70.00，社会组织组此时仅剩4,000.00元"
    )
    assert " / rank 7 overall" in fifth["explanation"]
    assert result.changed == 8 and not result.allocation.ties


def test_second_draft_with_the_same_inputs_changes_nothing(session):
    competition, _ = scored_competition(session)
    draft_decision(session, competition_id=competition.id, actor="admin")
    rows = [(d.id, d.amount_fen, d.explanation, d.decided_at) for d in session.exec(select(FundingDecision))]
    audits = _audits(session)
    again = draft_decision(session, competition_id=competition.id, actor="admin")
    assert again.changed == 0 and _audits(session) == audits
    assert [
        (d.id, d.amount_fen, d.explanation, d.decided_at) for d in session.exec(select(FundingDecision))
    ] == rows


def test_adjustment_is_named_in_the_explanation_and_audited(session):
    competition, _ = scored_competition(session, **RETURNED)
    draft_decision(session, competition_id=competition.id, actor="admin")
    decision = adjust_amount(
        session,
        competition_id=competition.id,
        ref="JT2025-002",
        amount_fen=650_000,
        reason="核减宣传费1,500元",
        actor="admin:lin",
    )
    assert (decision.amount_fen, decision.computed_fen) == (650_000, 800_000)
    assert "管理员调整为6,500.00元（核减宣传费1,500元）" in decision.explanation
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "funding_adjusted")).one()
    assert (event.actor, event.data["before"], event.data["after"]) == ("admin:lin", 800_000, 650_000)
    report = funding_report(session, competition_id=competition.id)
    assert report["returned_fen"] == 1_350_000 and report["reconciles"]
    with pytest.raises(InputError, match="下限"):
        adjust_amount(
            session,
            competition_id=competition.id,
            ref="JT2025-002",
            amount_fen=900_000,
            reason="x",
            actor="a",
        )
    with pytest.raises(InputError, match="理由"):
        adjust_amount(
            session,
            competition_id=competition.id,
            ref="JT2025-002",
            amount_fen=700_000,
            reason=" ",
            actor="a",
        )


def test_tie_at_the_cut_blocks_approval_until_decided(session):
    # 28,000 for the registered pool: after 001 and 002, 12,000 are left for 003 and 004 (both 80.00,
    # the same points on every criterion and the same request: still tied after the configured rules)
    competition, apps = scored_competition(session, **{"amount: 36000": "amount: 28000"}, **RETURNED)
    result = draft_decision(session, competition_id=competition.id, actor="admin")
    assert result.allocation.ties == (("JT2025-003", "JT2025-004"),)
    with pytest.raises(Conflict, match="decide-tie"):
        approve_decision(session, competition_id=competition.id, actor="admin")
    assert competition.stage is CompetitionStage.funding
    with pytest.raises(InputError):
        decide_tie(session, competition_id=competition.id, refs=["JT2025-003"], reason="x", actor="admin")
    decide_tie(
        session,
        competition_id=competition.id,
        refs=["JT2025-004", "JT2025-003"],
        reason="004 服务社区此前无项目",
        actor="admin",
    )
    report = {r["ref"]: r for r in funding_report(session, competition_id=competition.id)["applications"]}
    assert (report["JT2025-004"]["amount_fen"], report["JT2025-003"]["amount_fen"]) == (800_000, 0)
    assert not any(r["tie_open"] for r in report.values())
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "funding_tie_decided")).one()
    assert approve_decision(session, competition_id=competition.id, actor="admin")
    assert apps["JT2025-004"].state is ApplicationState.shortlisted
    assert apps["JT2025-003"].state is ApplicationState.not_funded


def test_approve_moves_the_projects_and_a_later_draft_changes_nothing(session):
    competition, apps = scored_competition(session)
    draft_decision(session, competition_id=competition.id, actor="admin")
    assert approve_decision(session, competition_id=competition.id, actor="admin")
    assert competition.stage is CompetitionStage.publicity
    assert apps["JT2025-001"].state is ApplicationState.shortlisted
    assert apps["JT2025-006"].state is ApplicationState.not_funded
    audits = _audits(session)
    assert draft_decision(session, competition_id=competition.id, actor="admin").approved
    assert not approve_decision(session, competition_id=competition.id, actor="admin")
    assert _audits(session) == audits
    with pytest.raises(Conflict):
        adjust_amount(
            session, competition_id=competition.id, ref="JT2025-001", amount_fen=1, reason="x", actor="a"
        )


def test_money_a_pool_cannot_use_moves_to_the_other_pool(session):
    # the example moves unspent money between pools: the volunteer pool keeps 8,000 nobody can use,
    # the registered pool has 4,000 left for JT2025-005's 8,000
    competition, _ = scored_competition(session)
    draft_decision(session, competition_id=competition.id, actor="admin")
    report = funding_report(session, competition_id=competition.id)
    fifth = next(r for r in report["applications"] if r["ref"] == "JT2025-005")
    assert fifth["amount_fen"] == 800_000 and "其他组调剂" in fifth["explanation"]
    registered, volunteer = report["pools"]
    assert (volunteer["moved_fen"], registered["received_fen"], registered["returned_fen"]) == (
        800_000,
        800_000,
        400_000,
    )
    assert (report["funded_fen"], report["returned_fen"], report["reconciles"]) == (5_600_000, 400_000, True)
