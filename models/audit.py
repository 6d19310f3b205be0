"""The audit trail: who changed what, when, from which state to which, and why.

``at`` is when the row was written (the wall clock). A run that works *as of* another moment — a
stage flow given ``as_of``, the demo replaying 2025 — says so to its session (``take_effect``, or
``models.db.session_scope(as_of=...)``); every row written in that session then carries the
moment in ``data["as_of"]``, and ``effective_at(event)`` is the moment the change took effect:
that ``as_of``, else ``at``. Reports that date what happened (the 年度总结报告's timeline) read it.

The log is append-only through every interface. Here, every statement SQLAlchemy sends (the ORM's
flush of a changed or deleted row, a bulk or Core ``update``/``delete``, a text statement) is
checked as SQL before it reaches the database, and one that would change or remove audit rows
raises ``AuditAppendOnly``; below, triggers in the database (migration 0012) refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL) from any client at all. Nothing in the code base changes or deletes an
audit row (``tests/models/test_audit_append_only.py`` scans it); a purged competition's rows stay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
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


AS_OF = "as_of"  # the session.info key, and the audit data key, of a run's effective moment


def take_effect(session: Session, moment: datetime | None) -> None:
    """Say that what this session writes takes effect at ``moment`` (a run's ``as_of``)."""
    if moment is not None:
        if moment.tzinfo is None:
            raise ValueError("as_of needs a time zone / as_of 须带时区")
        session.info[AS_OF] = moment


def effective_now(session: Session) -> datetime:
    """The moment this session's changes take effect: its run's ``as_of``, else now."""
    moment = session.info.get(AS_OF)
    return moment if isinstance(moment, datetime) else utcnow()


def effective_at(event: AuditEvent) -> datetime:
    """When the change an audit row records took effect: the run's ``as_of``, else ``at``."""
    stamp = (event.data or {}).get(AS_OF)
    if isinstance(stamp, str):
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            return event.at
        if moment.tzinfo is not None:
            return moment
    return event.at


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
    data = _stamped(session, data)
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


def _stamped(session: Session, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """``data`` with the session's ``as_of`` (see ``take_effect``) when it has one and data has none."""
    moment = session.info.get(AS_OF)
    if isinstance(moment, datetime) and AS_OF not in (data or {}):
        return {**(data or {}), AS_OF: moment.isoformat()}
    return data


def record_all(
    session: Session,
    *,
    actor: str,
    entity: str,
    action: str,
    rows: Sequence[tuple[int, str, str, str]],
    data: dict[str, Any] | None = None,
) -> int:
    """Audit rows of one kind — ``(entity_id, from_state, to_state, reason)`` each — in one INSERT
    sent as an executemany on the session's connection, now, in the caller's transaction. Each row
    holds what ``record`` would write for it (``at`` is one moment for all); returns the count."""
    if not actor:
        raise ValueError("an audit row needs an actor / 审计记录须有操作人")
    if not rows:
        return 0
    stamped = _stamped(session, data) or {}
    at = utcnow()
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        sa.insert(table),
        [
            {
                "at": at,
                "actor": actor,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
                "data": stamped,
            }
            for entity_id, from_state, to_state, reason in rows
        ],
    )
    return len(rows)


def history(session: Session, *, entity: str, entity_id: int) -> list[AuditEvent]:
    rows = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(col(AuditEvent.id))
    )
    return list(rows)


# ---- append-only ---------------------------------------------------------------------------------

AUDIT_TABLE = "audit_event"
_CHANGING_SQL = re.compile(
    r'\b(?:update|delete\s+from|truncate(?:\s+table)?)\s+(?:only\s+)?"?audit_event\b', re.IGNORECASE
)


class AuditAppendOnly(RuntimeError):
    """A statement would change or delete audit rows: a defect of the code that sent it."""


def changes_audit(sql: str) -> bool:
    """Would this SQL statement change or remove audit rows (an UPDATE, DELETE or TRUNCATE of them)?"""
    return _CHANGING_SQL.search(sql) is not None


@sa.event.listens_for(Engine, "before_cursor_execute")
def _refuse_changes_to_audit(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """Every statement SQLAlchemy sends passes here as SQL text: the ORM's flush, bulk and Core
    statements, ``text()`` and ``exec_driver_sql`` alike."""
    if changes_audit(statement):
        raise AuditAppendOnly(
            "审计记录只增不改 / the audit log is append-only: an UPDATE or DELETE of audit_event was refused"
        )
