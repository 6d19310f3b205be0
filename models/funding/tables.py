"""Funding: the decision per application, the grant, and its tranches."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.states import GRANT_MOVES, TRANCHE_MOVES, GrantState, Machine, TrancheState
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
