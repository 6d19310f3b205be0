"""Tasks of the expert review: assign, invite, remind, close, and the review's documents."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import task
from prefect.artifacts import create_table_artifact
from sqlmodel import col, select

from models.competition.tables import Competition, competition_config
from models.db import lock_competition, session_scope
from models.documents.registry import write_document
from models.lifecycle import set_state
from models.review.notices import queue_invitations, queue_reminders
from models.review.papers import expert_sheet_context, score_summary_context
from models.review.results import close_review, review_report
from models.review.reviewing import assign_reviews, load_experts
from models.review.tables import Expert, ReviewAssignment
from models.settings import get_settings
from models.states import AssignmentState, CompetitionStage
from tasks.database_faults import ON_DATABASE_FAULT


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


@task(name="assign-experts", **ON_DATABASE_FAULT)
def assign_experts(
    competition_id: int, actor: str, experts_file: str | None = None, as_of: datetime | None = None
) -> dict[str, int]:
    """Experts from the configuration (or an .xlsx sheet), k per eligible application; the
    competition enters review (taking effect ``as_of``)."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        experts = load_experts(
            session,
            competition_id=competition_id,
            actor=actor,
            path=Path(experts_file) if experts_file else None,
        )
        run = assign_reviews(session, competition_id=competition_id, actor=actor)
        if competition.stage is CompetitionStage.screening:
            set_state(
                session,
                competition,
                CompetitionStage.review,
                actor=actor,
                reason="专家评审开始 / review opens",
            )
        return {"experts": len(experts), "sheets": len(run.created), "applications": len(run.moved)}


@task(name="queue-review-invitations", **ON_DATABASE_FAULT)
def queue_review_invitations(competition_id: int, as_of: datetime | None = None) -> list[int]:
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        letters = queue_invitations(session, competition=competition, settings=get_settings())
        return [letter.id for letter in letters if letter.id is not None]


@task(name="queue-review-reminders", **ON_DATABASE_FAULT)
def queue_review_reminders(competition_id: int, as_of: datetime) -> list[int]:
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        letters = queue_reminders(session, competition=competition, settings=get_settings(), now=as_of)
        return [letter.id for letter in letters if letter.id is not None]


@task(name="close-review", **ON_DATABASE_FAULT)
def close_review_task(competition_id: int, actor: str, as_of: datetime | None = None) -> int:
    """Aggregate, flag and rank; the competition moves on to the funding decision (``as_of``)."""
    with session_scope(as_of=as_of) as session:
        lock_competition(session, competition_id)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        results = close_review(session, competition_id=competition_id, actor=actor)
        if competition.stage is CompetitionStage.review:
            set_state(
                session,
                competition,
                CompetitionStage.funding,
                actor=actor,
                reason="专家评审结束 / review closed",
            )
        return len(results)


@task(name="write-review-documents", **ON_DATABASE_FAULT)
def write_review_documents(competition_id: int, as_of: datetime, prepared_by: str = "") -> list[int]:
    """专家评分表 for every expert who submitted sheets, and the 评分汇总表/排名表 (制表人:
    ``prepared_by``, or the configuration's signer)."""
    settings = get_settings()
    day = _local_day(as_of)
    ids: list[int] = []
    with session_scope() as session:
        lock_competition(session, competition_id)
        competition = session.get(Competition, competition_id)
        assert competition is not None
        submitted = select(ReviewAssignment.expert_id).where(
            ReviewAssignment.competition_id == competition_id,
            ReviewAssignment.state == AssignmentState.submitted,
        )
        experts = session.exec(select(Expert).where(col(Expert.id).in_(submitted)).order_by(col(Expert.id)))
        for expert in experts:
            doc = write_document(
                session,
                role="expert_score_sheet",
                context=expert_sheet_context(session, expert=expert, signed_date=day),
                competition_id=competition_id,
                stage="review",
                subject_entity="expert",
                subject_id=expert.id,
                filename=f"专家评分表-{expert.name}.docx",
                documents_dir=settings.documents_dir,
            )
            ids.append(doc.id or 0)
        summary = write_document(
            session,
            role="score_summary",
            context=score_summary_context(
                session,
                competition=competition,
                prepared_by=prepared_by or competition_config(competition).competition.signer,
                issue_date=day,
            ),
            competition_id=competition_id,
            stage="review",
            subject_entity="competition",
            subject_id=competition_id,
            filename="评分汇总表及排名表.docx",
            documents_dir=settings.documents_dir,
        )
        ids.append(summary.id or 0)
    return ids


@task(name="publish-ranking", **ON_DATABASE_FAULT)
def publish_ranking(competition_id: int) -> dict[str, Any]:
    """The ranking as a Prefect table artifact (Prefect UI), and the panel's agreement figures."""
    with session_scope() as session:
        report = review_report(session, competition_id=competition_id)
    rows = [
        {
            "排名 rank": entry["rank"],
            "组内 pool rank": entry["pool_rank"],
            "编号 ref": entry["ref"],
            "项目 title": entry["title"],
            "组 pool": entry["pool"],
            "得分 aggregate": entry["aggregate"],
            "去掉 dropped": ", ".join(str(e) for e in entry["dropped"]),
            "标记 flags": "；".join(f["zh"] for f in entry["flags"]),
        }
        for entry in report["applications"]
    ]
    create_table_artifact(
        key=f"ranking-{report['competition']}",
        table=rows,
        description=f"评分汇总 / ranking of {report['competition']} ({report['method']})",
    )
    return report["panel"]
