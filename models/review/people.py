"""The people of a panel (experts here; supervisors in the supervision room) kept in step with a list.

``sync_people`` adds or updates a competition's people of one table from a list of ``Person``
(the configuration or an Excel list), matched by e-mail (case-insensitive): a new address is added,
a changed one updated, an unchanged one left alone, each change audited. People not in the list are
kept (they may hold sheets or checkpoints). Public: supervision uses it for its supervisors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, SQLModel, select

from models.audit import record
from models.competition.config import Person

# a Person's attribute → the table's column
COLUMNS: Mapping[str, str] = {
    "name": "name",
    "phone": "phone",
    "organisation": "organisation_name",
    "community": "community",
    "expertise": "expertise",
}


def sync_people(
    session: Session,
    *,
    table: type[SQLModel],
    competition_id: int,
    people: Iterable[Person],
    entity: str,
    reason: str,
    actor: str,
) -> None:
    """Add or update ``table``'s rows of the competition from ``people``; audit each change."""
    columns = {attribute: column for attribute, column in COLUMNS.items() if column in table.model_fields}
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
        elif any(getattr(row, column) != value for column, value in fields.items()):
            for column, value in fields.items():
                setattr(row, column, value)
            action = "update"
        else:
            continue
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
