"""The year's figures reconcile: every total computed a second way, straight from the tables."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models.competition.tables import competition_config
from models.evaluation.annual import annual_figures, grant_reconciliation
from models.evaluation.evaluating import evaluate_grants, open_evaluation
from models.evaluation.tables import FinalEvaluation
from models.funding.tables import Grant, Tranche
from models.intake.tables import Application, BudgetLine
from models.states import ApplicationState, TrancheState

ACTOR = "admin:test"


def _evaluated(session: Session, year) -> dict:
    open_evaluation(session, competition=year.competition, actor=ACTOR)
    evaluate_grants(session, competition_id=year.competition_id, actor=ACTOR, on=date(2025, 10, 20))
    return annual_figures(session, competition_id=year.competition_id)


def test_totals_equal_sums_over_the_tables(year_session, year):
    figures = _evaluated(year_session, year)
    applications = year_session.exec(select(Application)).all()
    grants = year_session.exec(select(Grant)).all()
    tranches = year_session.exec(select(Tranche)).all()
    evaluations = year_session.exec(select(FinalEvaluation)).all()
    assert figures["applications"] == {
        "received": len(applications),
        "eligible": sum(
            a.state not in (ApplicationState.ineligible, ApplicationState.submitted) for a in applications
        ),
        "funded": len(grants),
    }
    money = figures["money"]
    assert money["requested_fen"] == sum(a.amount_fen for a in applications)
    assert money["granted_fen"] == sum(g.amount_fen for g in grants)
    assert money["paid_fen"] == sum(t.paid_fen for t in tranches if t.state is TrancheState.released)
    assert money["reduced_fen"] == sum(t.reduced_fen for t in tranches)
    assert money["withheld_fen"] == sum(t.amount_fen for t in tranches if t.state is TrancheState.withheld)
    assert money["due_fen"] == sum(
        t.amount_fen for t in tranches if t.state in (TrancheState.planned, TrancheState.due)
    )
    assert money["spent_fen"] == sum(e.spent_fen for e in evaluations)
    # each identity holds exactly, its parts listed
    assert money["granted_fen"] == sum(
        money[k] for k in ("paid_fen", "reduced_fen", "cancelled_fen", "withheld_fen", "due_fen")
    )
    assert money["paid_fen"] == money["used_fen"] + money["to_return_fen"] + money["in_hand_fen"]
    assert money["spent_fen"] == money["used_fen"] + money["borne_fen"] + money["advanced_fen"]
    assert money["to_return_fen"] == sum(row["to_return_fen"] for row in figures["returns"])
    assert money["to_return_fen"] == sum(
        grant_reconciliation(year_session, grant_id=g.id).money.to_return_fen for g in grants
    )
    # the final tranche and the balance settled together: never a 尾款 paid and a balance to return
    finals = {t.grant_id: t for t in tranches if t.gate == "final"}
    for grant in grants:
        settled = grant_reconciliation(year_session, grant_id=grant.id).money
        if finals[grant.id].paid_fen:
            assert settled.to_return_fen == 0, grant.id
    assert money["reduced_fen"] > 0  # underspent projects: their final tranche settled off
    assert figures["delivery"]["person_times"] == sum(e.person_times for e in evaluations)
    assert figures["delivery"]["sessions"] == sum(e.activities_held for e in evaluations)
    # every breakdown adds up to the totals
    for key in ("by_pool", "by_category", "by_community"):
        for field in ("received", "eligible", "funded", "granted_fen", "paid_fen", "person_times"):
            total = figures["applications"].get(
                field, figures["money"].get(field, figures["delivery"].get(field))
            )
            assert sum(row[field] for row in figures[key]) == total, (key, field)
    assert sum(row["count"] for row in figures["grades"]) == len(evaluations)
    assert figures["outcomes"]["rectified"] == 1


def test_every_community_is_listed_even_without_a_project(year_session, year):
    figures = _evaluated(year_session, year)
    config = competition_config(year.competition)
    assert [row["name"] for row in figures["by_community"]] == list(config.communities)
    empty = [row["name"] for row in figures["by_community"] if row["funded"] == 0]
    assert empty and figures["communities_covered"] == 11 - len(empty)
    assert [row["name"] for row in figures["by_category"]] == ["一老", "一小", "公益服务"]


def test_reconciliation_per_budget_line_in_integer_fen(year_session, year):
    _evaluated(year_session, year)
    grant = year.grants[year.refs()[0]]
    result = grant_reconciliation(year_session, grant_id=grant.id)
    lines = year_session.exec(
        select(BudgetLine).where(BudgetLine.application_id == grant.application_id)
    ).all()
    assert sum(line.budget_fen for line in result.lines) == sum(b.amount_fen for b in lines)
    assert result.lines_spent_fen == result.money.spent_fen
    # passed having spent the whole grant: every tranche paid in full, nothing to return
    assert result.money.paid_fen == result.money.spent_fen == grant.amount_fen
    assert result.money.to_return_fen == result.money.reduced_fen == 0


def test_timeline_lists_each_stage_once_in_order(year_session, year):
    figures = _evaluated(year_session, year)
    assert [row["stage"] for row in figures["timeline"]] == [
        "draft",
        "call_open",
        "screening",
        "review",
        "funding",
        "publicity",
        "implementation",
        "evaluation",
    ]
    assert all(row["label"] and row["date"] for row in figures["timeline"])
