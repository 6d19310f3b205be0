"""Shared set-up for the review's database tests: a competition with applications in review,
points that add up to a chosen total, and the sheets of an application."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, select

from models.competition.tables import Competition
from models.intake.tables import Application
from models.review.tables import ReviewAssignment
from models.states import OrganisationKind
from tests.support.factories import make_application, make_competition, make_organisation

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # before the example's review_close (2025-03-21)
CRITERIA = [
    ("need", 20),
    ("design", 25),
    ("capacity", 20),
    ("budget", 15),
    ("innovation", 10),
    ("sustainability", 10),
]
NAMES = {
    "need": "需求分析",
    "design": "项目设计",
    "capacity": "执行能力",
    "budget": "预算合理性",
    "innovation": "创新性",
    "sustainability": "可持续性",
}


def points_for(total: Decimal | int | str) -> dict[str, str]:
    """Points per criterion adding up to ``total`` (weights are 1), filled in rubric order."""
    left = Decimal(total)
    points = {}
    for code, top in CRITERIA:
        points[code] = str(min(Decimal(top), left))
        left -= min(Decimal(top), left)
    return points


def setup_review(session: Session, *, apps: int = 6) -> tuple[Competition, list[Application]]:
    competition = make_competition(session)
    volunteer = OrganisationKind.volunteer_team
    made = [
        make_application(
            session,
            competition=competition,
            ref=f"JT2025-{i:03d}",
            organisation=make_organisation(session, kind=OrganisationKind.registered if i % 2 else volunteer),
            community="吕岭" if i == 1 else "江头",
        )
        for i in range(1, apps + 1)
    ]
    return competition, made


def sheets(session: Session, application_id: int | None = None) -> list[ReviewAssignment]:
    query = select(ReviewAssignment)
    if application_id is not None:
        query = query.where(ReviewAssignment.application_id == application_id)
    return list(session.exec(query))
