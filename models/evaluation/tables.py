"""Final evaluation (结项): the final score and grade of each grant."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import DecimalText, UtcDateTime, utcnow


class FinalEvaluation(SQLModel, table=True):
    """结项评估: the final score and grade band of one grant."""

    __tablename__ = "final_evaluation"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="grant.id", sa_column_kwargs={"unique": True})
    score: Decimal = Field(sa_type=DecimalText)
    grade: str = Field(max_length=20)
    activities_held: int = 0
    person_times: int = 0
    summary: str = Field(default="", sa_type=sa.Text)
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
