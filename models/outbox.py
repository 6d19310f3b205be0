"""The outbox: every outgoing letter is a row before anything is sent.

The idempotency key (stage, recipient, subject) makes queuing the same letter twice yield one row.
The sender (``tasks/mail.py``) moves rows queued → sending → sent / failed through ``set_state``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from models.states import LetterState
from models.types import UtcDateTime, enum_column, utcnow


class OutboxLetter(SQLModel, table=True):
    __tablename__ = "outbox_letter"

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int | None = Field(default=None, foreign_key="competition.id", index=True)
    idempotency_key: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    role: str = Field(max_length=60)  # the mail template role: receipt, award, rejection …
    stage: str = Field(max_length=40)
    recipient_email: str = Field(max_length=254)
    recipient_name: str = Field(default="", max_length=200)
    subject_entity: str = Field(default="", max_length=40)  # application, grant, assignment …
    subject_id: int | None = None
    subject: str = Field(max_length=500)  # the rendered subject line
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)
    attachments: list[int] = Field(default_factory=list, sa_type=sa.JSON)  # GeneratedDocument ids
    state: LetterState = Field(default=LetterState.queued, sa_type=enum_column(LetterState), index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_answer: str = Field(default="", sa_type=sa.Text)
    message_id: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


def idempotency_key(stage: str, recipient: str, subject: str) -> str:
    """The key that makes a letter unique: stage + recipient + subject (e.g. ``application:12``)."""
    return f"{stage}|{recipient.strip().lower()}|{subject}"


def queue_letter(session: Session, letter: OutboxLetter) -> OutboxLetter:
    """Add ``letter`` unless a letter with the same idempotency key exists; return the stored one.

    Safe against a concurrent writer: the unique key decides, inside a savepoint.
    """
    existing = session.exec(
        select(OutboxLetter).where(OutboxLetter.idempotency_key == letter.idempotency_key)
    ).first()
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(letter)
            session.flush()
    except IntegrityError:
        stored = session.exec(
            select(OutboxLetter).where(OutboxLetter.idempotency_key == letter.idempotency_key)
        ).one()
        return stored
    return letter
