"""Tasks of supervision: thin, they take ids, open a session, call ``models.supervision``, commit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import task
from sqlmodel import Session

from models.competition.tables import Competition
from models.db import lock_competition, session_scope
from models.settings import get_settings
from models.supervision import notices, outcomes, schedule, supervisors
from tasks.database_faults import ON_DATABASE_FAULT


def _competition(session: Session, competition_id: int) -> Competition:
    competition = session.get(Competition, competition_id)
    assert competition is not None
    return competition


def _today(moment: datetime) -> Any:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


@task(name="assign-supervisors", **ON_DATABASE_FAULT)
def assign_supervisors_task(
    competition_id: int, actor: str, supervisors_file: str | None = None
) -> dict[str, int]:
    """Supervisors from the configuration (or an .xlsx list), the configured number per running grant."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        people = supervisors.load_supervisors(
            session,
            competition_id=competition_id,
            actor=actor,
            path=Path(supervisors_file) if supervisors_file else None,
        )
        assigned = supervisors.assign_supervisors(session, competition_id=competition_id, actor=actor)
        return {"supervisors": len(people), "assigned": len(assigned)}


@task(name="schedule-checkpoints", **ON_DATABASE_FAULT)
def schedule_checkpoints_task(competition_id: int, as_of: datetime, actor: str) -> dict[str, int]:
    """Checkpoints for new grants; open those whose day has come."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        created = schedule.schedule_checkpoints(session, competition_id=competition_id, actor=actor)
        opened = schedule.open_checkpoints(
            session, competition_id=competition_id, today=_today(as_of), actor=actor
        )
        return {"scheduled": len(created), "opened": len(opened)}


@task(name="queue-supervision-invitations", **ON_DATABASE_FAULT)
def queue_invitations_task(competition_id: int, as_of: datetime | None = None) -> list[int]:
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        letters = notices.queue_invitations(
            session, competition=_competition(session, competition_id), settings=get_settings()
        )
        return [letter.id for letter in letters if letter.id is not None]


@task(name="queue-supervision-reminders", **ON_DATABASE_FAULT)
def queue_reminders_task(competition_id: int, as_of: datetime) -> list[int]:
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        letters = notices.queue_reminders(
            session, competition=_competition(session, competition_id), settings=get_settings(), now=as_of
        )
        return [letter.id for letter in letters if letter.id is not None]


@task(name="mark-overdue-checkpoints", **ON_DATABASE_FAULT)
def mark_overdue_task(competition_id: int, as_of: datetime, actor: str) -> dict[str, list[int]]:
    with session_scope() as session:
        lock_competition(session, competition_id)
        return outcomes.mark_overdue(
            session, competition_id=competition_id, actor=actor, now=as_of, timezone=get_settings().timezone
        )


@task(name="settle-checkpoints", **ON_DATABASE_FAULT)
def settle_checkpoints_task(competition_id: int, as_of: datetime, actor: str) -> list[dict[str, Any]]:
    """Pass or fail every submitted checkpoint: tranche gates, rectifications."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        settled = outcomes.settle_submitted(
            session, competition_id=competition_id, actor=actor, now=as_of, timezone=get_settings().timezone
        )
        return [{"checkpoint_id": o.checkpoint_id, "passed": o.passed, "reason": o.reason} for o in settled]


@task(name="supervision-papers-and-letters", **ON_DATABASE_FAULT)
def papers_and_letters_task(competition_id: int, as_of: datetime) -> dict[str, int]:
    """督导记录表, 中期评估意见, 整改通知 and the outcome letters (exactly once each)."""
    settings = get_settings()
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = _competition(session, competition_id)
        papers = notices.write_papers(
            session, competition=competition, settings=settings, today=_today(as_of)
        )
        letters = notices.queue_outcome_letters(
            session, competition=competition, settings=settings, now=as_of
        )
        return {"documents": len(papers), "letters": len(letters)}
