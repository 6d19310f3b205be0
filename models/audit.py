"""The audit trail: who changed what, when, from which state to which, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.types import UtcDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    actor: str = Field(max_length=100)  # "admin:cli", "expert:12", "system:screening"
    entity: str = Field(max_length=40, index=True)
    entity_id: int = Field(index=True)
    action: str = Field(max_length=60)  # "state", "override", "score", "import" …
    from_state: str = Field(default="", max_length=32)
    to_state: str = Field(default="", max_length=32)
    reason: str = Field(default="", sa_type=sa.Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


def record(
    session: Session,
    *,
    actor: str,
    entity: str,
    entity_id: int,
    action: str,
    reason: str = "",
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row to the session (the caller commits with the change it describes)."""
    if not actor:
        raise ValueError("an audit row needs an actor / 审计记录须有操作人")
    event = AuditEvent(
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        action=action,
        reason=reason,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
    session.add(event)
    return event


def history(session: Session, *, entity: str, entity_id: int) -> list[AuditEvent]:
    rows = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(col(AuditEvent.id))
    )
    return list(rows)
