"""The competition (one year's 微公益创投 of one street) and its rubric."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.errors import NotFound
from models.states import COMPETITION_MOVES, CompetitionStage, Machine
from models.types import DecimalText, UtcDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from models.competition.config import CompetitionConfig


class Competition(SQLModel, table=True):
    __tablename__ = "competition"
    __machine__: ClassVar[Machine] = Machine("competition", "stage", COMPETITION_MOVES)

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
    from models.competition.config_file import parse_config

    return parse_config(competition.config_yaml, source=competition.config_source or competition.slug)


def station_contact(session: Session, *, competition_id: int | None) -> str:
    """Whom to call about a competition (its configuration's ``competition.contact``); without one,
    the newest competition's ('' when there is none)."""
    competition = session.get(Competition, competition_id) if competition_id is not None else None
    if competition is None:
        competition = session.exec(select(Competition).order_by(col(Competition.id).desc())).first()
    return competition_config(competition).competition.contact if competition is not None else ""


def list_criteria(session: Session, *, competition_id: int) -> list[RubricCriterion]:
    return list(
        session.exec(
            select(RubricCriterion)
            .where(RubricCriterion.competition_id == competition_id)
            .order_by(col(RubricCriterion.position))
        )
    )


def list_competitions(session: Session) -> list[Competition]:
    """Every competition, the newest first."""
    return list(session.exec(select(Competition).order_by(col(Competition.id).desc())))


def count_competitions(session: Session) -> int:
    return len(session.exec(select(Competition.id)).all())
