"""The competition (one year's 微公益创投 of one street) and its rubric."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.audit import record
from models.errors import Conflict, NotFound
from models.states import CompetitionStage
from models.types import DecimalText, UtcDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from models.config import CompetitionConfig


class Competition(SQLModel, table=True):
    __tablename__ = "competition"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=200)
    organiser: str = Field(max_length=200)
    year: int
    stage: CompetitionStage = Field(default=CompetitionStage.draft, sa_type=enum_column(CompetitionStage))
    budget_fen: int = Field(sa_type=sa.BigInteger)
    pool_fen: int = Field(sa_type=sa.BigInteger)
    config_yaml: str = Field(sa_type=sa.Text)
    config_sha256: str = Field(max_length=64)
    config_source: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class RubricCriterion(SQLModel, table=True):
    __tablename__ = "rubric_criterion"
    __table_args__ = (sa.UniqueConstraint("competition_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    position: int
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    description: str = Field(default="", sa_type=sa.Text)
    max_points: Decimal = Field(sa_type=DecimalText)
    weight: Decimal = Field(sa_type=DecimalText)
    step: Decimal = Field(default=Decimal("0.5"), sa_type=DecimalText)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "max_points": str(self.max_points),
            "weight": str(self.weight),
        }


# ---- queries and commands (keyword-only) -------------------------------------------------------


def create_competition(session: Session, *, text: str, source: str, actor: str) -> Competition:
    """Validate a configuration and store a new competition with its rubric, experts and supervisors.

    Nothing is stored when the configuration is invalid or the slug exists already.
    """
    from models.config import config_digest, parse_config
    from models.review import Expert
    from models.supervision import Supervisor

    config = parse_config(text, source=source)
    info = config.competition
    if session.exec(select(Competition).where(Competition.slug == info.slug)).first() is not None:
        raise Conflict(
            f"竞赛 {info.slug} 已存在 / competition {info.slug!r} exists already ({source}: competition.slug)"
        )
    competition = Competition(
        slug=info.slug,
        name=info.name,
        organiser=info.organiser,
        year=info.year,
        budget_fen=config.budget.service_budget,
        pool_fen=config.budget.pool,
        config_yaml=text,
        config_sha256=config_digest(text),
        config_source=source,
    )
    session.add(competition)
    session.flush()
    assert competition.id is not None
    for position, criterion in enumerate(config.rubric.criteria, start=1):
        session.add(
            RubricCriterion(
                competition_id=competition.id,
                position=position,
                code=criterion.code,
                name=criterion.name,
                description=criterion.description,
                max_points=criterion.max_points,
                weight=criterion.weight,
                step=criterion.step,
            )
        )
    for person in config.experts:
        session.add(
            Expert(
                competition_id=competition.id,
                name=person.name,
                email=str(person.email),
                phone=person.phone,
                organisation_name=person.organisation,
                community=person.community,
                expertise=person.expertise,
            )
        )
    for person in config.supervisors:
        session.add(
            Supervisor(
                competition_id=competition.id,
                name=person.name,
                email=str(person.email),
                phone=person.phone,
                organisation_name=person.organisation,
            )
        )
    record(
        session,
        actor=actor,
        entity="competition",
        entity_id=competition.id,
        action="create",
        to_state=str(competition.stage),
        reason=f"配置文件 / configuration {source}",
        data={"sha256": competition.config_sha256},
    )
    session.flush()
    return competition


def get_competition(session: Session, *, slug: str | None = None) -> Competition:
    """The competition with ``slug``; without a slug, the only (or newest) one."""
    query = select(Competition)
    if slug:
        found = session.exec(query.where(Competition.slug == slug)).first()
        if found is None:
            raise NotFound(f"没有竞赛 {slug} / no competition {slug!r}")
        return found
    found = session.exec(query.order_by(col(Competition.id).desc())).first()
    if found is None:
        raise NotFound(
            "数据库中还没有竞赛，先运行 grantflow competition create FILE / "
            "no competition yet: run `grantflow competition create FILE`"
        )
    return found


def competition_config(competition: Competition) -> CompetitionConfig:
    """The validated configuration stored with ``competition``."""
    from models.config import parse_config

    return parse_config(competition.config_yaml, source=competition.config_source or competition.slug)


def list_criteria(session: Session, *, competition_id: int) -> list[RubricCriterion]:
    return list(
        session.exec(
            select(RubricCriterion)
            .where(RubricCriterion.competition_id == competition_id)
            .order_by(col(RubricCriterion.position))
        )
    )


def purge_competition(session: Session, *, slug: str, actor: str) -> bool:
    """Delete a competition and everything that belongs to it (the demo's fresh start on a shared
    database). Organisations, which outlive competitions, are kept. Returns False if none existed."""
    from models.application import Application, BudgetLine, EligibilityCheck
    from models.document import GeneratedDocument
    from models.funding import FundingDecision, Grant, Tranche
    from models.outbox import OutboxLetter
    from models.review import ConflictDeclaration, Expert, ReviewAssignment, ReviewResult, Score
    from models.supervision import Checkpoint, CheckpointReport, FinalEvaluation, Supervisor

    competition = session.exec(select(Competition).where(Competition.slug == slug)).first()
    if competition is None:
        return False
    cid = competition.id
    apps = select(Application.id).where(Application.competition_id == cid)
    grants = select(Grant.id).where(Grant.competition_id == cid)
    checkpoints = select(Checkpoint.id).where(col(Checkpoint.grant_id).in_(grants))
    assignments = select(ReviewAssignment.id).where(ReviewAssignment.competition_id == cid)
    for statement in (
        sa.delete(CheckpointReport).where(col(CheckpointReport.checkpoint_id).in_(checkpoints)),
        sa.delete(Checkpoint).where(col(Checkpoint.grant_id).in_(grants)),
        sa.delete(FinalEvaluation).where(col(FinalEvaluation.grant_id).in_(grants)),
        sa.delete(Tranche).where(col(Tranche.grant_id).in_(grants)),
        sa.delete(Grant).where(col(Grant.competition_id) == cid),
        sa.delete(FundingDecision).where(col(FundingDecision.competition_id) == cid),
        sa.delete(Score).where(col(Score.assignment_id).in_(assignments)),
        sa.delete(ReviewAssignment).where(col(ReviewAssignment.competition_id) == cid),
        sa.delete(ReviewResult).where(col(ReviewResult.application_id).in_(apps)),
        sa.delete(ConflictDeclaration).where(col(ConflictDeclaration.application_id).in_(apps)),
        sa.delete(EligibilityCheck).where(col(EligibilityCheck.application_id).in_(apps)),
        sa.delete(BudgetLine).where(col(BudgetLine.application_id).in_(apps)),
        sa.delete(OutboxLetter).where(col(OutboxLetter.competition_id) == cid),
        sa.delete(GeneratedDocument).where(col(GeneratedDocument.competition_id) == cid),
        sa.delete(Application).where(col(Application.competition_id) == cid),
        sa.delete(Expert).where(col(Expert.competition_id) == cid),
        sa.delete(Supervisor).where(col(Supervisor.competition_id) == cid),
        sa.delete(RubricCriterion).where(col(RubricCriterion.competition_id) == cid),
        sa.delete(Competition).where(col(Competition.id) == cid),
    ):
        session.execute(statement)
    record(session, actor=actor, entity="competition", entity_id=cid or 0, action="purge", reason=slug)
    session.flush()
    return True
