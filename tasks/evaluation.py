"""Tasks of the final evaluation (结项) and the year's report: thin, take ids, one session each."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from sqlmodel import Session

from models.competition.tables import Competition
from models.db import lock_competition, session_scope
from models.documents.engine.cn_format import local_date
from models.evaluation.annual import annual_figures
from models.evaluation.annual_report import write_annual_report
from models.evaluation.evaluating import close_competition, evaluate_grants, open_evaluation
from models.evaluation.export import export_workbook
from models.evaluation.notices import queue_results, write_reports
from models.evaluation.panel import assign_panel
from models.evaluation.panel_notices import queue_panel_invitations, queue_panel_reminders
from models.settings import get_settings
from models.supervision.notices import queue_rectification_notices, queue_termination_notices
from tasks.database_faults import ON_DATABASE_FAULT


def _competition(session: Session, competition_id: int) -> Competition:
    competition = session.get(Competition, competition_id)
    assert competition is not None
    return competition


@task(name="open-evaluation", **ON_DATABASE_FAULT)
def open_evaluation_task(competition_id: int, actor: str, as_of: datetime | None = None) -> bool:
    """项目实施 → 结项评估 (taking effect ``as_of``); False when under way already."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        return open_evaluation(session, competition=_competition(session, competition_id), actor=actor)


@task(name="assign-final-panel", **ON_DATABASE_FAULT)
def assign_panel_task(competition_id: int, actor: str, as_of: datetime) -> dict[str, int]:
    """With an expert panel configured: its sheets for every grant whose 结项 is in, and the letters."""
    settings = get_settings()
    with session_scope() as session:
        lock_competition(session, competition_id)
        sheets = assign_panel(
            session, competition_id=competition_id, actor=actor, now=as_of, timezone=settings.timezone
        )
        letters = queue_panel_invitations(
            session, competition=_competition(session, competition_id), settings=settings
        )
        return {"sheets": len(sheets), "letters": len(letters)}


@task(name="queue-panel-reminders", **ON_DATABASE_FAULT)
def queue_panel_reminders_task(competition_id: int, as_of: datetime) -> list[int]:
    """Remind the 结项 panel's experts of their open sheets (nothing when no panel is configured)."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        letters = queue_panel_reminders(
            session, competition=_competition(session, competition_id), settings=get_settings(), now=as_of
        )
        return [letter.id for letter in letters if letter.id is not None]


@task(name="evaluate-grants", **ON_DATABASE_FAULT)
def evaluate_task(competition_id: int, actor: str, as_of: datetime) -> list[dict[str, Any]]:
    """Score, grade and settle every grant whose 结项 reports are in; each decision's papers (结项评估报告,
    结余资金退回通知) are written in the same transaction, from the state at that moment."""
    settings = get_settings()
    day = local_date(as_of, settings.timezone)
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        settled = evaluate_grants(session, competition_id=competition_id, actor=actor, on=day)
        write_reports(
            session, competition=_competition(session, competition_id), issue_date=day, settings=settings
        )
        return [
            {
                "grant_id": s.grant_id,
                "round": s.round,
                "score": s.score,
                "grade": s.grade,
                "outcome": str(s.outcome),
            }
            for s in settled
        ]


@task(name="write-final-reports", **ON_DATABASE_FAULT)
def write_reports_task(competition_id: int, as_of: datetime) -> list[int]:
    """结项评估报告 of every evaluated project's latest round (each written once); returns document ids."""
    settings = get_settings()
    with session_scope() as session:
        lock_competition(session, competition_id)
        documents = write_reports(
            session,
            competition=_competition(session, competition_id),
            issue_date=local_date(as_of, settings.timezone),
            settings=settings,
        )
        return [d.id for d in documents if d.id is not None]


@task(name="queue-final-results", **ON_DATABASE_FAULT)
def queue_results_task(competition_id: int, as_of: datetime | None = None) -> list[int]:
    """The result letter (report attached) once per round and outcome, dated ``as_of``."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        letters = queue_results(session, competition=_competition(session, competition_id))
        return [letter.id for letter in letters if letter.id is not None]


@task(name="queue-final-rectifications", **ON_DATABASE_FAULT)
def queue_rectifications_task(competition_id: int, as_of: datetime | None = None) -> list[int]:
    """The 整改通知 of a failed 结项 (once per rectification) and the 终止通知 of a terminated one
    (once per termination), documents and letters dated ``as_of`` — supervision's own notices, so a
    project failed at the 中期评估 and one failed at the 结项 read alike."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = _competition(session, competition_id)
        letters = queue_rectification_notices(session, competition=competition, settings=get_settings())
        letters += queue_termination_notices(session, competition=competition, settings=get_settings())
        return [letter.id for letter in letters if letter.id is not None]


@task(name="close-competition", **ON_DATABASE_FAULT)
def close_task(competition_id: int, actor: str, as_of: datetime | None = None) -> bool:
    """结项评估 → 已结束 (taking effect ``as_of``) when every grant is completed or terminated."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        return close_competition(session, competition=_competition(session, competition_id), actor=actor)


@task(name="write-annual-report", **ON_DATABASE_FAULT)
def annual_report_task(competition_id: int, as_of: datetime) -> int:
    """年度总结报告 with its charts; returns the document id."""
    settings = get_settings()
    with session_scope() as session:
        lock_competition(session, competition_id)
        document = write_annual_report(
            session,
            competition=_competition(session, competition_id),
            issue_date=local_date(as_of, settings.timezone),
            settings=settings,
        )
        assert document.id is not None
        return document.id


@task(name="publish-annual-figures", **ON_DATABASE_FAULT)
def publish_figures(competition_id: int) -> dict[str, Any]:
    """The year's figures as a Prefect table artifact; returns them."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        figures = annual_figures(session, competition_id=competition_id, timezone=get_settings().timezone)
    create_table_artifact(
        key=f"annual-{figures['competition']}",
        table=[
            {
                "领域 category": row["name"],
                "申报 received": row["received"],
                "立项 funded": row["funded"],
                "资助(分) granted_fen": row["granted_fen"],
                "计划人次 planned": row["planned_person_times"],
                "实际人次 delivered": row["person_times"],
            }
            for row in figures["by_category"]
        ],
        description=f"年度数据 / the year's figures of {figures['competition']}",
    )
    return figures


@task(name="export-workbook", retries=1)
def export_task(competition_id: int, path: str) -> dict[str, int]:
    """Every table to one .xlsx file; returns the rows per sheet."""
    with session_scope() as session:
        lock_competition(session, competition_id)
        return export_workbook(
            session, competition_id=competition_id, path=Path(path), timezone=get_settings().timezone
        )
