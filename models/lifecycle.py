"""The one writer of every state: ``set_state``.

Every mutation has one shape: check the move against the machine's table → change → flush →
audit row, all in the caller's transaction; the caller then queues the letter that tells someone
about it (``models.mail``). Nothing else assigns to a ``state`` or ``stage`` attribute.

Each stateful table names its machine in a ``__machine__`` class attribute, so this kernel module
knows no stage's tables; ``models.tables.MACHINES`` lists them all.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlmodel import Session, SQLModel

from models.audit import AuditEvent, record
from models.errors import IllegalTransition
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

    Raises ``IllegalTransition`` (and changes nothing) for a move the table does not list.
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
    setattr(obj, machine.attribute, target)
    session.add(obj)
    session.flush()
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
