"""Tasks that create and advance the competition itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task
from sqlmodel import select

from models.competition.config import read_config_text
from models.competition.tables import competition_config, get_competition
from models.db import default_engine, session_scope, upgrade_database
from models.errors import NotFound
from models.funding.decision import open_objections
from models.funding.grants import grants_of
from models.funding.publicity import current_notice
from models.review.tables import ReviewAssignment
from models.setup import create_competition
from models.states import ASSIGNMENTS_OPEN, GrantState
from models.timeline import next_step, no_competition


@task(name="prepare-database")
def prepare_database() -> None:
    """Create the schema, or upgrade an older one in place."""
    upgrade_database(default_engine())


@task(name="create-competition")
def create_competition_from_file(config_path: str, actor: str) -> int:
    """Validate the YAML file and store the competition; returns its id."""
    text = read_config_text(config_path)
    with session_scope() as session:
        competition = create_competition(session, text=text, source=str(config_path), actor=actor)
        assert competition.id is not None
        return competition.id


@task(name="create-competition-from-text")
def create_competition_from_text(text: str, source: str, actor: str) -> int:
    """Validate configuration text sent with the run (from another machine); returns the new id."""
    with session_scope() as session:
        competition = create_competition(session, text=text, source=source, actor=actor)
        assert competition.id is not None
        return competition.id


@task(name="find-competition")
def competition_id_for(slug: str | None) -> int:
    with session_scope() as session:
        competition = get_competition(session, slug=slug)
        assert competition.id is not None
        return competition.id


@task(name="decide-next-step")
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
        decision = next_step(
            stage=competition.stage,
            config=competition_config(competition),
            now=as_of,
            open_sheets=sum(1 for s in sheets if s.state in ASSIGNMENTS_OPEN),
            sheets=len(sheets),
            publicity_ends_at=notice.ends_at if notice is not None else None,
            open_objections=len(open_objections(session, competition_id=competition_id)),
            unsigned=sum(
                1 for g in grants_of(session, competition_id=competition_id) if g.state is GrantState.awarded
            ),
        )
        return {
            "competition_id": competition.id,
            "slug": competition.slug,
            "stage": str(competition.stage),
            "step": decision.step.value if decision.step else None,
            "reason": str(decision),
        }
