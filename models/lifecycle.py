"""The one writer of every state: ``set_state``.

Every mutation has one shape: check the move against the machine's table → change → flush →
audit row, all in the caller's transaction; the caller then queues the letter that tells someone
about it (``models.mail``). Nothing else assigns to a ``state`` or ``stage`` attribute.

The write is a compare-and-set: ``UPDATE … SET state = :to WHERE id = :id AND state = :from``.
When a concurrent run moved the row first, nothing is written and ``StateChanged`` says so (the
object is refreshed to what the database holds) — never a doubled audit row.

Each stateful table names its machine in a ``__machine__`` class attribute, so this kernel module
knows no stage's tables; ``models.tables.MACHINES`` lists them all.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel

from models.audit import AuditEvent, record
from models.errors import IllegalTransition, StateChanged
from models.states import Machine


class _HasId(Protocol):
    id: int | None


S = TypeVar("S", bound=StrEnum)


def machine_for(obj: object) -> Machine:
    """The machine a table declares as ``__machine__`` (a class attribute, see ``models.states``)."""
    machine = getattr(type(obj), "__machine__", None)
    if not isinstance(machine, Machine):
        raise TypeError(f"{type(obj).__name__} has no state machine")
    return machine


def allowed_moves(obj: object) -> frozenset[StrEnum]:
    machine = machine_for(obj)
    return machine.moves[getattr(obj, machine.attribute)]


def can_move(obj: object, to: StrEnum) -> bool:
    return to in allowed_moves(obj)


def _compare_and_set(
    session: Session, obj: SQLModel, attribute: str, current: StrEnum, target: StrEnum
) -> bool:
    """Write ``target`` only where the row still holds ``current``; True when it did."""
    table = type(obj)
    mapper = sa_inspect(table)
    (key,) = mapper.primary_key
    column = mapper.columns[attribute]
    result = session.execute(
        sa.update(table)
        .where(key == getattr(obj, key.key), column == current)
        .values({attribute: target})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(obj, attribute, target)
    return True


def set_state(
    session: Session,
    obj: SQLModel,
    to: StrEnum,
    *,
    actor: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Move ``obj`` to state ``to`` if its machine allows it, and audit it.

    Raises ``IllegalTransition`` (and changes nothing) for a move the table does not list, and
    ``StateChanged`` when another run moved the row since it was read (compare-and-set).
    The caller owns the transaction: commit, or roll back to undo all of it.
    """
    machine = machine_for(obj)
    current = getattr(obj, machine.attribute)
    target = type(current)(to)
    allowed = machine.moves[current]
    entity_id = getattr(obj, "id", None)
    if target not in allowed:
        raise IllegalTransition(
            machine.entity, entity_id, str(current), str(target), sorted(str(s) for s in allowed)
        )
    session.add(obj)
    session.flush()  # the object's other changes, and an id for a new row
    if not _compare_and_set(session, obj, machine.attribute, current, target):
        session.refresh(obj, [machine.attribute])
        raise StateChanged(
            machine.entity, entity_id, str(current), str(getattr(obj, machine.attribute)), str(target)
        )
    event = record(
        session,
        actor=actor,
        entity=machine.entity,
        entity_id=obj.id,  # type: ignore[attr-defined]
        action=machine.attribute,
        from_state=str(current),
        to_state=str(target),
        reason=reason,
        data=data,
    )
    return event
