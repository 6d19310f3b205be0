"""The demo's sample experts (cli/demo/people/experts.py) score as year.yaml says and fill every sheet
through the real portal over HTTP."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from cli.demo.people.experts import demo_points, open_sheet_links, review_by_sample_experts
from models.db import session_scope
from models.review.results import close_review
from models.review.tables import ReviewAssignment, Score
from models.states import AssignmentState
from tests.portal.review_world import ReviewWorld, build_world

RUBRIC = {
    "need": (Decimal(20), Decimal("0.5")),
    "design": (Decimal(25), Decimal("0.5")),
    "innovation": (Decimal(10), Decimal(1)),
}


@pytest.fixture
def world(settings_env: Path) -> ReviewWorld:
    """A competition in review whose applications came through the real intake (the portal's world)."""
    return build_world()


def test_demo_points_same_seed_same_points_on_each_step() -> None:
    first = demo_points(RUBRIC, seed=7, application_id=3, expert_id=2)
    assert first == demo_points(RUBRIC, seed=7, application_id=3, expert_id=2)
    assert first != demo_points(RUBRIC, seed=8, application_id=3, expert_id=2)
    for code, (top, step) in RUBRIC.items():
        assert Decimal(0) <= first[code] <= top and first[code] % step == 0


def test_demo_points_better_application_scores_higher_on_average() -> None:
    def mean_share(application_id: int) -> Decimal:
        totals = [
            sum(demo_points(RUBRIC, seed=1, application_id=application_id, expert_id=e).values())
            for e in range(1, 8)
        ]
        return sum(totals, Decimal(0)) / len(totals)

    means = sorted(mean_share(a) for a in range(1, 12))
    assert means[-1] - means[0] > 8  # applications differ, experts broadly agree


def test_review_by_sample_experts_submits_every_sheet_over_http(world: ReviewWorld) -> None:
    links = open_sheet_links(world.engine, competition_id=world.competition_id, settings=world.settings)
    assert len(links) == len(world.sheets) == 15
    report = review_by_sample_experts(
        world.settings, world.engine, competition_id=world.competition_id, seed=2025
    )
    assert report.submitted == 15 and 0 < report.drafts < 15
    with session_scope(world.engine) as session:
        sheets = session.exec(select(ReviewAssignment)).all()
        assert {s.state for s in sheets} == {AssignmentState.submitted}
        assert all(s.comment for s in sheets)
        for sheet in sheets:
            points = session.exec(select(Score.points).where(Score.assignment_id == sheet.id)).all()
            assert len(points) == 6 and sum(points, Decimal(0)) == report.totals[sheet.id or 0]
    assert open_sheet_links(world.engine, competition_id=world.competition_id, settings=world.settings) == []


def test_review_by_sample_experts_then_the_review_closes(world: ReviewWorld) -> None:
    review_by_sample_experts(world.settings, world.engine, competition_id=world.competition_id, seed=7)
    with session_scope(world.engine) as session:
        results = close_review(session, competition_id=world.competition_id, actor="admin:test")
    assert sorted(r.rank for r in results) == [1, 2, 3]
    assert all(r.aggregate > 0 and "incomplete" not in r.flags for r in results)
