"""The lifecycle's decision: which step the year may take now, read from every stage's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task

from models.competition.tables import get_competition
from models.db import session_scope
from models.errors import NotFound
from models.settings import get_settings
from models.timeline import next_step_of, no_competition
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
        decision = next_step_of(session, competition, now=as_of, timezone=get_settings().timezone)
        return {
            "competition_id": competition.id,
            "slug": competition.slug,
            "stage": str(competition.stage),
            "step": decision.step.value if decision.step else None,
            "reason": str(decision),
        }
