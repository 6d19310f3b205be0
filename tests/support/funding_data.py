"""A competition whose review has closed, built by production code: the example configuration
(optionally edited), applications through the factories, experts assigned by ``assign_reviews``,
every sheet submitted by ``save_sheet`` with chosen totals, the review closed by ``close_review``,
and the competition moved to 立项决定 by ``set_state``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from models.competition.tables import Competition
from models.intake.tables import Application
from models.lifecycle import set_state
from models.review.results import close_review
from models.review.reviewing import assign_reviews
from models.review.score_sheets import save_sheet
from models.states import CompetitionStage, OrganisationKind
from tests.support.factories import example_config_text, make_application, make_competition, make_organisation
from tests.support.review_data import NOW, points_for, sheets

# ref: (pool kind, total, amount in yuan, category, community)
WORLD = {
    "JT2025-001": ("registered", 90, 8_000, "elderly", "江头"),
    "JT2025-002": ("registered", 85, 8_000, "children", "吕厝"),
    "JT2025-003": ("registered", 80, 8_000, "elderly", "园山"),
    "JT2025-004": ("registered", 80, 8_000, "elderly", "金尚"),
    "JT2025-005": ("registered", 70, 8_000, "public_service", "江村"),
    "JT2025-006": ("registered", 50, 6_000, "elderly", "蔡塘"),
    "JT2025-007": ("volunteer", 88, 8_000, "children", "后埔"),
    "JT2025-008": ("volunteer", 75, 8_000, "elderly", "祥店"),
}
APPROVED_AT = datetime(2025, 3, 24, 1, 0, tzinfo=UTC)  # Monday 09:00 Beijing time


def scored_competition(
    session: Session, *, world: dict[str, tuple[str, int, int, str, str]] | None = None, **replacements: str
) -> tuple[Competition, dict[str, Application]]:
    competition = make_competition(session, text=example_config_text(**replacements))
    applications = {}
    for ref, (kind, _, amount, category, community) in (world or WORLD).items():
        organisation = make_organisation(
            session,
            kind=OrganisationKind.registered if kind == "registered" else OrganisationKind.volunteer_team,
            community=community,
            legal_representative="陈秀兰",
            address=f"厦门市湖里区{community}社区",
        )
        applications[ref] = make_application(
            session,
            competition=competition,
            organisation=organisation,
            ref=ref,
            amount_fen=amount * 100,
            category=category,
            community=community,
            contact_email=f"{ref.lower()}@example.org",
            contact_name="王丽华",
        )
    assert competition.id is not None
    assign_reviews(session, competition_id=competition.id, actor="admin")
    for ref, (_, total, *_rest) in (world or WORLD).items():
        for sheet in sheets(session, applications[ref].id):
            save_sheet(
                session,
                assignment_id=sheet.id or 0,
                points=points_for(total),
                comment=f"{ref} 的评审意见：活动安排可再细化。",
                submit=True,
                actor="expert",
                now=NOW,
            )
    close_review(session, competition_id=competition.id, actor="admin")
    for stage in (CompetitionStage.call_open, CompetitionStage.screening, CompetitionStage.review):
        set_state(session, competition, stage, actor="admin")
    set_state(session, competition, CompetitionStage.funding, actor="admin")
    session.flush()
    return competition, applications
