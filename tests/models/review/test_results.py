"""Closing the review and its report (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent
from models.errors import Conflict
from models.intake.tables import Application
from models.review.results import close_review, review_report
from models.review.reviewing import (
    assign_reviews,
    unfinished_assignments,
)
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewResult
from models.states import ApplicationState
from tests.support.review_data import NOW, points_for, setup_review, sheets

# ---- closing the review -------------------------------------------------------------------------


def _score_all(session: Session, totals: dict[str, list[int]]) -> None:
    """Submit each application's sheets (by expert id order) with the given totals."""
    for application in session.exec(select(Application)):
        for sheet, total in zip(
            sorted(sheets(session, application.id), key=lambda s: s.expert_id),
            totals[application.ref],
            strict=True,
        ):
            save_sheet(
                session,
                assignment_id=sheet.id,
                points=points_for(total),
                submit=True,
                actor="expert",
                now=NOW,
            )


TOTALS = {
    "JT2025-001": [70, 80, 85, 90, 99],  # trimmed: 85.00, spread 29 > 20 → disagreement
    "JT2025-002": [80, 82, 84, 86, 88],  # 84.00
    "JT2025-003": [60, 65, 70, 75, 80],  # 70.00
    "JT2025-004": [90, 91, 92, 93, 94],  # 92.00
}


def test_close_review_trimmed_mean_ranks_pools_and_flags(session):
    competition, apps = setup_review(session, apps=4)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, TOTALS)
    results = close_review(session, competition_id=competition.id, actor="admin")
    by_app = {r.application_id: r for r in results}
    first = by_app[apps[0].id]
    assert (first.method, first.aggregate, first.spread) == ("trimmed_mean", Decimal("85.00"), Decimal(29))
    dropped = {v["dropped"]: Decimal(v["total"]) for v in first.totals.values() if v["dropped"]}
    assert dropped == {"low": Decimal(70), "high": Decimal(99)}
    # mean 84.8, squared deviations 219.04 + 23.04 + 0.04 + 27.04 + 201.64 = 470.8; √(470.8 / 5) = 9.7036
    assert first.flags == ["disagreement"] and first.std == Decimal("9.70")
    assert [(r.application_id, r.rank) for r in results] == [
        (apps[3].id, 1),
        (apps[0].id, 2),
        (apps[1].id, 3),
        (apps[2].id, 4),
    ]
    # pools: 001 and 003 are registered organisations, 002 and 004 volunteer teams
    assert {a.ref: by_app[a.id].pool_rank for a in apps} == {
        "JT2025-001": 1,
        "JT2025-003": 2,
        "JT2025-002": 2,
        "JT2025-004": 1,
    }
    assert all(a.state is ApplicationState.scored for a in apps)


def test_close_review_rerun_changes_nothing(session):
    competition, _ = setup_review(session, apps=4)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, TOTALS)
    first = [
        (r.id, r.rank, r.aggregate, r.computed_at)
        for r in close_review(session, competition_id=competition.id, actor="admin")
    ]
    events = len(session.exec(select(AuditEvent)).all())
    again = close_review(session, competition_id=competition.id, actor="admin")
    assert [(r.id, r.rank, r.aggregate, r.computed_at) for r in again] == first
    assert len(session.exec(select(AuditEvent)).all()) == events
    assert len(session.exec(select(ReviewResult)).all()) == 4


def test_close_review_tie_broken_by_configured_rule_with_note(session):
    competition, apps = setup_review(session, apps=2)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, {"JT2025-001": [80] * 5, "JT2025-002": [80] * 5})
    apps[0].amount_fen = 700_000  # equal on every criterion: the smaller request (JT2025-002) wins
    results = close_review(session, competition_id=competition.id, actor="admin")
    assert [r.application_id for r in results] == [apps[1].id, apps[0].id]
    assert "申请金额较少（5,000.00 元 < 7,000.00 元）" in results[0].tie_note
    assert "a smaller request" in results[1].tie_note


def test_close_review_without_submitted_sheet_refused(session):
    competition, apps = setup_review(session, apps=2)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    for sheet in sheets(session, apps[0].id):
        save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="e", now=NOW)
    with pytest.raises(Conflict, match="JT2025-002"):
        close_review(session, competition_id=competition.id, actor="admin")
    assert apps[0].state is ApplicationState.in_review


def test_close_review_flags_unfinished_sheets_incomplete(session):
    competition, _ = setup_review(session, apps=1)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    for sheet in sheets(session)[:4]:
        save_sheet(session, assignment_id=sheet.id, points=points_for(80), submit=True, actor="e", now=NOW)
    [result] = close_review(session, competition_id=competition.id, actor="admin")
    assert result.flags == ["incomplete", "not_trimmed"]
    assert result.aggregate == Decimal("80.00")


def test_unfinished_assignments_lists_open_sheets(session):
    competition, apps = setup_review(session, apps=2)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    done = sheets(session, apps[0].id)[0]
    save_sheet(session, assignment_id=done.id, points=points_for(80), submit=True, actor="e", now=NOW)
    draft = sheets(session, apps[1].id)[0]
    save_sheet(session, assignment_id=draft.id, points={"need": "10"}, submit=False, actor="e", now=NOW)
    open_sheets = unfinished_assignments(session, competition_id=competition.id)
    assert len(open_sheets) == 9
    assert done.id not in {o.assignment.id for o in open_sheets}
    assert draft.id in {o.assignment.id for o in open_sheets}
    assert [o.expert.id for o in open_sheets] == sorted(o.expert.id for o in open_sheets)


def test_review_report_json_has_totals_dropped_ranks_and_panel(session):
    competition, _ = setup_review(session, apps=4)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, TOTALS)
    close_review(session, competition_id=competition.id, actor="admin")
    report = json.loads(json.dumps(review_report(session, competition_id=competition.id)))
    refs = [a["ref"] for a in report["applications"]]
    assert refs == ["JT2025-004", "JT2025-001", "JT2025-002", "JT2025-003"]
    second = report["applications"][1]
    assert second["aggregate"] == "85.00" and second["rank"] == 2 and second["pool_rank"] == 1
    assert sorted(e["total"] for e in second["experts"] if e["dropped"]) == ["70", "99"]
    assert len(second["dropped"]) == 2 and second["flags"][0]["code"] == "disagreement"
    for name in ("icc2_1", "icc2_k", "kendall_w"):
        stat = report["panel"][name]
        assert (stat["value"] is None) == bool(stat["reason"])
    # 4 applications × 5 of 7 experts: incomplete — the one-way figures apply, on every score;
    # the two-way ones are given on the largest complete block
    panel = report["panel"]
    assert panel["design"] == "incomplete" and panel["applies"] == ["icc1_1", "icc1_k"]
    assert (
        "4 applications, 7 experts, each application scored by 5 experts, 20 scores" in panel["design_text"]
    )
    assert panel["icc1_1"]["value"] is not None and panel["icc1_1"]["basis"].endswith(
        "all 20 scores of 4 applications"
    )
    assert "k₀ = (N − Σnᵢ²/N) / (n − 1)" in panel["icc1_1"]["formula"] and panel["k0"] == "5.0000"
    assert "largest complete block" in panel["icc2_1"]["basis"]


def test_score_summary_explains_the_one_figure_of_its_design_in_chinese(session):
    import re
    from datetime import date

    from models.competition.tables import Competition
    from models.review.papers import score_summary_context

    competition, _ = setup_review(session, apps=4)
    assign_reviews(session, competition_id=competition.id, actor="admin")
    _score_all(session, TOTALS)
    close_review(session, competition_id=competition.id, actor="admin")
    panel = review_report(session, competition_id=competition.id)["panel"]
    context = score_summary_context(
        session,
        competition=session.get(Competition, competition.id),
        prepared_by="林晓燕",
        issue_date=date(2025, 3, 21),
    )
    # 7 experts, 5 an application: each application has its own experts, so the one-way ICC(1,1)
    assert panel["summary"]["statistic"] == "icc1_1"
    assert panel["summary"]["value"] == panel["icc1_1"]["value"]
    assert context["agreement"] == panel["summary"]["zh"]
    assert context["agreement"].startswith(
        f"4个申报各由5位专家评分（共7位专家，每人评其中一部分），专家评分一致性系数（组内相关系数）为"
        f"{panel['icc1_1']['value']}（最大为1"
    )
    assert "agreement_method" not in context
    # whole totals print as 70.0, alike in the column, never 70 beside 80.5
    row = next(r for pool in context["pools"] for r in pool["rows"] if r["ref"] == "JT2025-001")
    assert row["scores"].split() == ["70.0", "80.0", "85.0", "90.0", "99.0"]
    assert row["dropped"].split() == ["70.0", "99.0"]
    assert not re.search(r"[A-Za-z]", context["agreement"])  # no ICC, MSB or formula for staff
