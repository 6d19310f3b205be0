"""The record of every generated document (``GeneratedDocument``) and of every 文号 given
(``DocumentNumberSeries``, ``DocumentNumber``; ``models.documents.numbering`` assigns them).

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
    path: str = Field(max_length=500, index=True)  # relative to the documents folder; looked up per write
    filename: str = Field(max_length=200)  # what the recipient sees: 受理回执-JT2025-001.docx
    sha256: str = Field(max_length=64)
    size: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class DocumentNumberSeries(SQLModel, table=True):
    """The last 序号 given under one 机关代字 in one year (``models.documents.numbering``): the row a
    new number is counted on, locked while it is counted."""

    __tablename__ = "document_number_series"

    prefix: str = Field(primary_key=True, max_length=20)
    year: int = Field(primary_key=True)
    last: int = 0


class DocumentNumber(SQLModel, table=True):
    """One 文号 given to one decision's paper: ``prefix``〔year〕seq号, never given again."""

    __tablename__ = "document_number"
    __table_args__ = (
        sa.UniqueConstraint("prefix", "year", "seq"),
        sa.UniqueConstraint("kind", "subject_entity", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int | None = Field(default=None, foreign_key="competition.id", index=True)
    kind: str = Field(max_length=40)  # the numbered paper: payment_notice, rectification_notice …
    subject_entity: str = Field(max_length=40)  # the decision it records: tranche, rectification …
    subject_id: int
    prefix: str = Field(max_length=20)
    year: int
    seq: int
    number: str = Field(max_length=60)  # as printed: 江头社工〔2025〕12号
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
