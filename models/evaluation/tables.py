"""Final evaluation (结项): the final score and grade of each grant, the expert panel's sheets, and
each application's result (``final_results``, read by ``grantflow status`` without importing the
stage)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.funding.tables import Grant
from models.states import ASSIGNMENT_MOVES, AssignmentState, Machine
from models.types import DecimalText, UtcDateTime, enum_column, utcnow


class FinalEvaluation(SQLModel, table=True):
    """结项评估: the final score and grade band of one grant, and what it led to.

    One row per grant; after a rectification the second round's result replaces the first (both
    stay in the audit trail). ``outcome`` is ``released`` (尾款拨付), ``withheld`` (不拨尾款),
    ``rectification`` (限期整改) or ``terminated`` (终止).
    """

    __tablename__ = "final_evaluation"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", sa_column_kwargs={"unique": True})
    score: Decimal = Field(sa_type=DecimalText)
    grade: str = Field(max_length=20)
    activities_held: int = 0
    person_times: int = 0
    summary: str = Field(default="", sa_type=sa.Text)
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    round: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    passed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    outcome: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    spent_fen: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    # with an expert panel (evaluation.expert_panel): the two parts of ``score`` and the panel's weight
    supervisor_score: Decimal | None = Field(default=None, sa_type=DecimalText)
    panel_score: Decimal | None = Field(default=None, sa_type=DecimalText)
    panel_weight: Decimal | None = Field(default=None, sa_type=DecimalText)
    panel_counted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # sheets that count
    panel_assigned: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # sheets assigned


class PanelSheet(SQLModel, table=True):
    """结项专家评分表: one expert's score (0–100) and comment on one grant's final checkpoint round.

    Made by ``models.evaluation.panel.assign_panel`` when ``evaluation.expert_panel`` is configured;
    opened by its personal link (purpose ``final_review``: holder the expert, nonce ``token_nonce``,
    life the ``deadline`` plus the read-only grace). Its states are the review sheet's
    (invited → draft → submitted); a sheet not submitted by the deadline does not count.
    """

    __tablename__ = "panel_sheet"
    __machine__: ClassVar[Machine] = Machine("panel_sheet", "state", ASSIGNMENT_MOVES)
    __table_args__ = (sa.UniqueConstraint("checkpoint_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    grant_id: int = Field(foreign_key="grant.id", index=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    state: AssignmentState = Field(default=AssignmentState.invited, sa_type=enum_column(AssignmentState))
    due_on: date
    deadline: datetime = Field(sa_type=UtcDateTime)  # the end of due_on, competition time
    token_nonce: str = Field(default="", max_length=64)  # rotates to revoke the personal link
    score: Decimal | None = Field(default=None, sa_type=DecimalText)
    comment: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


def final_results(session: Session, *, competition_id: int) -> dict[int, dict[str, str]]:
    """Each evaluated application's final score, grade and outcome, by application id (``status``)."""
    rows = session.exec(
        select(Grant.application_id, FinalEvaluation)
        .join(FinalEvaluation, col(FinalEvaluation.grant_id) == col(Grant.id))
        .where(Grant.competition_id == competition_id)
    )
    return {
        application_id: {
            "score": str(evaluation.score),
            "grade": evaluation.grade,
            "outcome": evaluation.outcome,
            "round": str(evaluation.round),
        }
        for application_id, evaluation in rows
    }
