"""Expert review: experts, assignments, scores per criterion, conflicts, aggregated results."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.links import new_nonce
from models.states import ASSIGNMENT_MOVES, AssignmentState, Machine
from models.types import DecimalText, UtcDateTime, enum_column, utcnow


class Expert(SQLModel, table=True):
    """评审专家."""

    __tablename__ = "expert"
    __table_args__ = (sa.UniqueConstraint("competition_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    name: str = Field(max_length=64)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=32)
    organisation_name: str = Field(default="", max_length=200)
    community: str = Field(default="", max_length=32)
    expertise: str = Field(default="", max_length=200)
    # deactivated in the console: no new sheets or checkpoints (models.review.people)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # changed by a person (the console, an imported list): the configuration's list no longer overwrites it
    edited_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # the expert's own link to the list of their sheets (models.review.links.expert_link); rotates to revoke
    token_nonce: str = Field(
        default_factory=new_nonce, max_length=64, sa_column_kwargs={"server_default": ""}
    )


class ConflictDeclaration(SQLModel, table=True):
    """An expert's declared conflict of interest with one application (利益冲突回避)."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (sa.UniqueConstraint("expert_id", "application_id"),)

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    reason: str = Field(default="", sa_type=sa.Text)
    declared_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ReviewAssignment(SQLModel, table=True):
    """One expert's score sheet for one application."""

    __tablename__ = "review_assignment"
    __machine__: ClassVar[Machine] = Machine("assignment", "state", ASSIGNMENT_MOVES)
    __table_args__ = (sa.UniqueConstraint("expert_id", "application_id"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    state: AssignmentState = Field(default=AssignmentState.invited, sa_type=enum_column(AssignmentState))
    deadline: datetime = Field(sa_type=UtcDateTime)
    comment: str = Field(default="", sa_type=sa.Text)
    token_nonce: str = Field(default="", max_length=64)  # rotates to revoke a personal link
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    source: str = Field(default="portal", max_length=200)  # portal / paper sheet file and row


class Score(SQLModel, table=True):
    """One criterion's points on one sheet."""

    __tablename__ = "score"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="review_assignment.id", index=True)
    criterion_id: int = Field(foreign_key="rubric_criterion.id", index=True)
    points: Decimal = Field(sa_type=DecimalText)


class ReviewResult(SQLModel, table=True):
    """The aggregated score of one application and its rank (评分汇总 / 排名)."""

    __tablename__ = "review_result"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", sa_column_kwargs={"unique": True})
    method: str = Field(max_length=32)
    aggregate: Decimal = Field(sa_type=DecimalText)
    totals: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # expert id -> total, dropped
    spread: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    flags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    rank: int | None = None  # overall rank in the competition
    pool_rank: int | None = None  # rank within its pool (Application.pool)
    std: Decimal = Field(default=Decimal(0), sa_type=DecimalText)  # population std of the totals
    tie_note: str = Field(default="", sa_type=sa.Text)  # how a tie was broken (zh / en)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
