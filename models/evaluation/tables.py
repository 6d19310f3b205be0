"""Final evaluation (结项): the final score and grade of each grant, and each application's result
(``final_results``, read by ``grantflow status`` without importing the stage)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.funding.tables import Grant
from models.types import DecimalText, UtcDateTime, utcnow


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
