"""The lifecycle's decision: which step the year may take now, read from every stage's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task
from sqlmodel import select

from models.competition.tables import competition_config, get_competition
from models.db import session_scope
from models.documents.engine.cn_format import local_date
from models.errors import NotFound
from models.evaluation.annual_report import annual_report_of
from models.evaluation.evaluating import GRANTS_CLOSED, finals_ready
from models.funding.decision import open_objections
from models.funding.publicity import current_notice
from models.funding.tables import grants_of
from models.review.tables import ReviewAssignment
from models.settings import get_settings
from models.states import ASSIGNMENTS_OPEN, GrantState
from models.timeline import next_step, no_competition
from tasks.database_faults import ON_DATABASE_FAULT


@task(name="decide-next-step", **ON_DATABASE_FAULT)
def decide_next_step(slug: str | None, as_of: datetime) -> dict[str, Any]:
    """What the lifecycle may do now (see ``models.timeline.next_step``), and for which competition.

    No competition yet is an answer, not an error: ``competition_id`` is None and ``reason`` says so.
    """
    with session_scope() as session:
        try:
            competition = get_competition(session, slug=slug)
        except NotFound:
            decision = no_competition(slug)
            return {"competition_id": None, "slug": slug, "step": None, "reason": str(decision)}
        competition_id = competition.id or 0
        sheets = session.exec(
            select(ReviewAssignment).where(ReviewAssignment.competition_id == competition_id)
        ).all()
        notice = current_notice(session, competition_id=competition_id)
        grants = grants_of(session, competition_id=competition_id)
        decision = next_step(
            stage=competition.stage,
            config=competition_config(competition),
            now=as_of,
            open_sheets=sum(1 for s in sheets if s.state in ASSIGNMENTS_OPEN),
            sheets=len(sheets),
            publicity_ends_at=notice.ends_at if notice is not None else None,
            open_objections=len(open_objections(session, competition_id=competition_id)),
            unsigned=sum(1 for g in grants if g.state is GrantState.awarded),
            finals_ready=finals_ready(
                session, competition_id=competition_id, on=local_date(as_of, get_settings().timezone)
            ),
            grants_open=sum(1 for g in grants if g.state not in GRANTS_CLOSED),
            annual_report_written=annual_report_of(session, competition_id=competition_id) is not None,
        )
        return {
            "competition_id": competition.id,
            "slug": competition.slug,
            "stage": str(competition.stage),
            "step": decision.step.value if decision.step else None,
            "reason": str(decision),
        }
