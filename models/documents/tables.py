"""The record of every generated document: the ``GeneratedDocument`` table.

Apart from the registry and its engine, so that a command that only reads the tables (``grantflow
status``) does not import the .docx engine.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class GeneratedDocument(SQLModel, table=True):
    """One file written under the documents folder, by role and subject (see ``registry``)."""

    __tablename__ = "generated_document"
    __table_args__ = (sa.UniqueConstraint("role", "subject_entity", "subject_id", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int | None = Field(default=None, foreign_key="competition.id", index=True)
    role: str = Field(max_length=60)  # the registered document role: call_notice, receipt …
    subject_entity: str = Field(default="", max_length=40)
    subject_id: int | None = None
    path: str = Field(max_length=500)  # relative to the documents folder
    filename: str = Field(max_length=200)  # what the recipient sees: 受理回执-JT2025-001.docx
    sha256: str = Field(max_length=64)
    size: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
