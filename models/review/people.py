"""The people of a panel (experts here; supervisors in the supervision room) kept in step with a list.

``sync_people`` adds or updates a competition's people of one table from a list of ``Person``
(the configuration or an Excel list), matched by e-mail (case-insensitive): a new address is added,
a changed one updated, an unchanged one left alone, each change audited. People not in the list are
kept (they may hold sheets or checkpoints). Public: supervision uses it for its supervisors.

A list chosen by a person (an imported Excel list, the console's add and edit — ``by_hand``) marks
the rows it changes (``edited_at``); the configuration's list, read again by a later stage run (the
daily supervision run reads it every morning), never overwrites such a row: what a person wrote
stays. ``add_person`` and ``edit_person`` are the console's one-person changes under the same
rules; ``set_active`` deactivates or reactivates one (a deactivated person gets no new sheet or
checkpoint: the assignments read ``active``). Every change is audited with its actor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from models.audit import record
from models.competition.config import Person
from models.errors import Conflict
from models.types import utcnow

# a Person's attribute → the table's column
COLUMNS: Mapping[str, str] = {
    "name": "name",
    "phone": "phone",
    "organisation": "organisation_name",
    "community": "community",
    "expertise": "expertise",
}


def _columns(table: type[SQLModel]) -> dict[str, str]:
    return {attribute: column for attribute, column in COLUMNS.items() if column in table.model_fields}


def sync_people(
    session: Session,
    *,
    table: type[SQLModel],
    competition_id: int,
    people: Iterable[Person],
    entity: str,
    reason: str,
    actor: str,
    by_hand: bool = False,
) -> None:
    """Add or update ``table``'s rows of the competition from ``people``; audit each change.

    ``by_hand``: the list was chosen by a person — the rows it changes are marked as edited. Without
    it (the configuration), a row a person edited is left as it is.
    """
    columns = _columns(table)
    stored: dict[str, Any] = {
        row.email.casefold(): row  # type: ignore[attr-defined]
        for row in session.exec(select(table).where(table.competition_id == competition_id))  # type: ignore[attr-defined]
    }
    for person in people:
        fields = {column: getattr(person, attribute) for attribute, column in columns.items()}
        key = str(person.email).casefold()
        row: Any = stored.get(key)
        if row is None:
            row = table(competition_id=competition_id, email=str(person.email), **fields)
            stored[key] = row
            action = "create"
        elif row.edited_at is not None and not by_hand:
            continue  # a person's change stands against the configuration's list
        elif any(getattr(row, column) != value for column, value in fields.items()):
            for column, value in fields.items():
                setattr(row, column, value)
            action = "update"
        else:
            continue
        if by_hand:
            row.edited_at = utcnow()
        session.add(row)
        session.flush()
        record(
            session,
            actor=actor,
            entity=entity,
            entity_id=row.id,
            action=action,
            reason=reason,
            data={"email": row.email, **fields},
        )
    session.flush()


def _holder_of(session: Session, table: type[SQLModel], competition_id: int, email: str) -> Any:
    return session.exec(
        select(table).where(
            table.competition_id == competition_id,  # type: ignore[attr-defined]
            sa.func.lower(table.email) == email.strip().lower(),  # type: ignore[attr-defined]
        )
    ).first()


def _taken(email: str) -> Conflict:
    return Conflict(f"名单中已有电子邮箱 {email} / {email} is already on the list")


def add_person(
    session: Session, *, table: type[SQLModel], competition_id: int, person: Person, entity: str, actor: str
) -> Any:
    """Add one person to the competition's list (``Conflict`` when the address is on it already)."""
    if _holder_of(session, table, competition_id, str(person.email)) is not None:
        raise _taken(str(person.email))
    sync_people(
        session,
        table=table,
        competition_id=competition_id,
        people=[person],
        entity=entity,
        reason="在管理后台添加 / added in the console",
        actor=actor,
        by_hand=True,
    )
    return _holder_of(session, table, competition_id, str(person.email))


def edit_person(session: Session, *, row: Any, person: Person, entity: str, actor: str) -> bool:
    """Change one person's details, the address too (``Conflict`` when another person holds the new
    one); audited with what was and what is. Returns whether anything changed."""
    holder = _holder_of(session, type(row), row.competition_id, str(person.email))
    if holder is not None and holder.id != row.id:
        raise _taken(str(person.email))
    fields = {"email": str(person.email)} | {
        column: getattr(person, attribute) for attribute, column in _columns(type(row)).items()
    }
    before = {column: getattr(row, column) for column in fields}
    changed = {column: value for column, value in fields.items() if before[column] != value}
    if not changed:
        return False
    for column, value in changed.items():
        setattr(row, column, value)
    row.edited_at = utcnow()
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        entity=entity,
        entity_id=row.id,
        action="update",
        reason="在管理后台修改 / edited in the console",
        data={"before": {c: before[c] for c in changed}, "after": changed},
    )
    return True


def set_active(session: Session, *, row: Any, active: bool, entity: str, actor: str, reason: str) -> bool:
    """Deactivate (or reactivate) one person, audited with the reason; False when it already was."""
    if row.active == active:
        return False
    row.active = active
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        entity=entity,
        entity_id=row.id,
        action="activate" if active else "deactivate",
        reason=reason,
        data={"email": row.email},
    )
    return True
