"""Tasks of the eligibility screening: screen, write the 资格审查表, queue the results, then open it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.db import lock_competition, session_scope
from models.documents.engine.cn_format import local_date
from models.evaluation.barred import barred_organisations
from models.screening.eligibility import screen_applications
from models.screening.notices import (
    check_screening_may_run,
    open_screening,
    queue_results,
    screening_report,
    write_sheets,
)
from models.settings import get_settings
from tasks.database_faults import ON_DATABASE_FAULT


def _competition(session: Session, competition_id: int) -> Competition:
    competition = session.get(Competition, competition_id)
    assert competition is not None
    return competition


@task(name="open-screening", **ON_DATABASE_FAULT)
def open_screening_task(competition_id: int, as_of: datetime, actor: str) -> bool:
    """征集中 → 资格审查 once the work is done; False when the stage had moved already."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        return open_screening(
            session, competition=_competition(session, competition_id), now=as_of, actor=actor
        )


@task(name="screen-applications", **ON_DATABASE_FAULT)
def screen_task(competition_id: int, as_of: datetime, actor: str) -> dict[str, int]:
    """Every rule on every submitted application; each result stored with its reason. Refused
    (nothing stored) before the deadline or before the call was published."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        competition = _competition(session, competition_id)
        check_screening_may_run(competition, now=as_of)
        # earlier years' outcomes bar organisations; screening may not import that later stage
        barred = barred_organisations(session, year=competition.year)
        outcomes = screen_applications(session, competition_id=competition_id, actor=actor, barred=barred)
        passed = sum(1 for o in outcomes if o.passed)
        return {"screened": len(outcomes), "eligible": passed, "ineligible": len(outcomes) - passed}


@task(name="write-eligibility-sheets", **ON_DATABASE_FAULT)
def write_sheets_task(competition_id: int, as_of: datetime, reviewer: str = "") -> list[int]:
    """资格审查表 of each screened application (new or changed since), signed by ``reviewer`` or
    the configuration's signer; returns document ids."""
    settings = get_settings()
    with session_scope() as session:
        lock_competition(session, competition_id)
        competition = _competition(session, competition_id)
        documents = write_sheets(
            session,
            competition=competition,
            reviewer=reviewer or competition_config(competition).competition.signer,
            review_date=local_date(as_of, settings.timezone),
            settings=settings,
        )
        return [d.id for d in documents if d.id is not None]


@task(name="queue-eligibility-results", **ON_DATABASE_FAULT)
def queue_results_task(competition_id: int, as_of: datetime | None = None) -> list[int]:
    """The result letter of each decided application (the sheet attached when ineligible), dated
    ``as_of``."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        letters = queue_results(session, competition=_competition(session, competition_id))
        return [letter.id for letter in letters if letter.id is not None]


@task(name="publish-screening", **ON_DATABASE_FAULT)
def publish_screening(competition_id: int) -> list[dict[str, Any]]:
    """The screening result as a Prefect table artifact; returns it (for the CLI and the demo)."""
    with session_scope() as session:
        competition = _competition(session, competition_id)
        rows = screening_report(session, competition_id=competition_id)
    create_table_artifact(
        key=f"screening-{competition.slug}",
        table=[
            {
                "编号 ref": r["ref"],
                "项目 title": r["title"],
                "申报单位 organisation": r["organisation"],
                "结果 result": "通过" if r["eligible"] else "未通过",
                "原因 reasons": "；".join(r["reasons"]),
            }
            for r in rows
        ],
        description=f"资格审查结果 / eligibility screening of {competition.slug}",
    )
    return rows
