"""Funding: the decision per application, the 公示 notices and their objections, the grant, and its
tranches."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.intake.tables import Application
from models.states import (
    GRANT_MOVES,
    OBJECTION_MOVES,
    TRANCHE_MOVES,
    GrantState,
    Machine,
    ObjectionState,
    TrancheState,
)
from models.types import DecimalText, UtcDateTime, enum_column, utcnow


class FundingDecision(SQLModel, table=True):
    """The staged decision for one application with its written, reproducible explanation."""

    __tablename__ = "funding_decision"

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    application_id: int = Field(foreign_key="application.id", sa_column_kwargs={"unique": True})
    funded: bool
    amount_fen: int = Field(default=0, sa_type=sa.BigInteger)
    rank: int | None = None
    pool: str = Field(default="", max_length=40)
    explanation: str = Field(default="", sa_type=sa.Text)
    released: bool = False  # staged decisions are applied together
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    pool_rank: int | None = None
    score: Decimal | None = Field(default=None, sa_type=DecimalText)
    rule: str = Field(default="", max_length=40)  # the allocation rule that funded or cut it
    computed_fen: int = Field(default=0, sa_type=sa.BigInteger)  # what the rules gave
    left_fen: int = Field(default=0, sa_type=sa.BigInteger)  # what its pool held after it
    adjusted_fen: int | None = Field(default=None, sa_type=sa.BigInteger)  # the administrator's amount
    adjust_reason: str = Field(default="", sa_type=sa.Text)
    adjusted_by: str = Field(default="", max_length=100)
    tie_open: bool = False  # tied at the cut after the configured rules: approval waits
    tie_precedence: int | None = None  # the administrator's order within the tie
    excluded_reason: str = Field(default="", sa_type=sa.Text)  # an upheld objection


class PublicityNotice(SQLModel, table=True):
    """拟资助项目公示: one published notice and its window (a new one after an upheld objection)."""

    __tablename__ = "publicity_notice"
    __table_args__ = (sa.UniqueConstraint("competition_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    seq: int
    published_at: datetime = Field(sa_type=UtcDateTime)
    first_day: date
    ends_at: datetime = Field(sa_type=UtcDateTime)
    working_days: int
    document_id: int | None = Field(default=None, foreign_key="generated_document.id")
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    superseded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Objection(SQLModel, table=True):
    """异议: raised by a named person against one project during a notice's window."""

    __tablename__ = "objection"
    __machine__: ClassVar[Machine] = Machine("objection", "state", OBJECTION_MOVES)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    notice_id: int = Field(foreign_key="publicity_notice.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    raised_by: str = Field(max_length=100)
    text: str = Field(sa_type=sa.Text)
    received_at: datetime = Field(sa_type=UtcDateTime)
    state: ObjectionState = Field(default=ObjectionState.open, sa_type=enum_column(ObjectionState))
    resolution: str = Field(default="", sa_type=sa.Text)
    resolved_by: str = Field(default="", max_length=100)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Grant(SQLModel, table=True):
    """资助: one funded project's money and agreement."""

    __tablename__ = "grant"
    __machine__: ClassVar[Machine] = Machine("grant", "state", GRANT_MOVES)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    application_id: int = Field(foreign_key="application.id", sa_column_kwargs={"unique": True})
    amount_fen: int = Field(sa_type=sa.BigInteger)
    state: GrantState = Field(default=GrantState.awarded, sa_type=enum_column(GrantState))
    agreement_no: str = Field(default="", max_length=40)
    signed_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sign_by: date | None = None  # the agreement lapses when not signed by this day


class Tranche(SQLModel, table=True):
    """One staged payment (拨付), gated on a checkpoint or on signing."""

    __tablename__ = "tranche"
    __machine__: ClassVar[Machine] = Machine("tranche", "state", TRANCHE_MOVES)
    __table_args__ = (sa.UniqueConstraint("grant_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", index=True)
    seq: int
    label: str = Field(max_length=40)
    percent: Decimal = Field(sa_type=DecimalText)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    gate: str = Field(max_length=40)  # "signing" or a checkpoint code
    state: TrancheState = Field(default=TrancheState.planned, sa_type=enum_column(TrancheState))
    released_on: date | None = None
    note: str = Field(default="", sa_type=sa.Text)  # why it was released or withheld
    # what was paid (released: the amount, or less when settled by the verified spending) and what
    # the settlement took off it (据实结算核减); paid + reduced = amount for a settled tranche
    paid_fen: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    reduced_fen: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})


def grants_of(session: Session, *, competition_id: int) -> list[Grant]:
    """The competition's grants, by application reference (a read: the list commands use it)."""
    return list(
        session.exec(
            select(Grant)
            .join(Application, col(Application.id) == col(Grant.application_id))
            .where(Grant.competition_id == competition_id)
            .order_by(col(Application.ref))
        )
    )
