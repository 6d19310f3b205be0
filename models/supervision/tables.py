"""Supervision (督导): supervisors, checkpoints and their reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.states import CHECKPOINT_MOVES, CheckpointState, Machine
from models.types import DecimalText, UtcDateTime, enum_column, utcnow


class Supervisor(SQLModel, table=True):
    """督导."""

    __tablename__ = "supervisor"
    __table_args__ = (sa.UniqueConstraint("competition_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    name: str = Field(max_length=64)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=32)
    organisation_name: str = Field(default="", max_length=200)


class Checkpoint(SQLModel, table=True):
    """A scheduled check of one grant: 中期评估, 结项评估, a visit."""

    __tablename__ = "checkpoint"
    __machine__: ClassVar[Machine] = Machine("checkpoint", "state", CHECKPOINT_MOVES)
    __table_args__ = (sa.UniqueConstraint("grant_id", "code", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", index=True)
    supervisor_id: int | None = Field(default=None, foreign_key="supervisor.id", index=True)
    code: str = Field(max_length=40)  # configured: midterm, final, visit-1 …
    round: int = 1  # 2 after a rectification
    due_on: date
    state: CheckpointState = Field(default=CheckpointState.scheduled, sa_type=enum_column(CheckpointState))


class CheckpointReport(SQLModel, table=True):
    """What a supervisor reported at a checkpoint (督导记录表)."""

    __tablename__ = "checkpoint_report"

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id", index=True)
    supervisor_id: int = Field(foreign_key="supervisor.id", index=True)
    activities_held: int = 0
    person_times: int = 0
    spent_fen: int = Field(default=0, sa_type=sa.BigInteger)
    indicators: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    score: Decimal = Field(sa_type=DecimalText)
    passed: bool
    findings: str = Field(default="", sa_type=sa.Text)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # document ids, kinds
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
