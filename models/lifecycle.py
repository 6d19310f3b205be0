"""The one writer of every state: ``set_state``.

Every mutation has one shape: check the move against the machine's table → change → flush →
audit row → (optionally) queue the letter that tells someone about it, all in the caller's
transaction. Nothing else assigns to a ``state`` or ``stage`` attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlmodel import Session, SQLModel

from models.application import Application
from models.audit import AuditEvent, record
from models.competition import Competition
from models.errors import IllegalTransition
from models.funding import Grant, Tranche
from models.outbox import OutboxLetter, queue_letter
from models.review import ReviewAssignment
from models.states import (
    APPLICATION_MOVES,
    ASSIGNMENT_MOVES,
    CHECKPOINT_MOVES,
    COMPETITION_MOVES,
    GRANT_MOVES,
    LETTER_MOVES,
    TRANCHE_MOVES,
)
from models.supervision import Checkpoint


@dataclass(frozen=True)
class Machine:
    entity: str  # the audit name of the table
    attribute: str  # "state" or "stage"
    moves: Mapping[Any, frozenset[Any]]


MACHINES: Mapping[type[SQLModel], Machine] = {
    Competition: Machine("competition", "stage", COMPETITION_MOVES),
    Application: Machine("application", "state", APPLICATION_MOVES),
    ReviewAssignment: Machine("assignment", "state", ASSIGNMENT_MOVES),
    Grant: Machine("grant", "state", GRANT_MOVES),
    Tranche: Machine("tranche", "state", TRANCHE_MOVES),
    Checkpoint: Machine("checkpoint", "state", CHECKPOINT_MOVES),
    OutboxLetter: Machine("letter", "state", LETTER_MOVES),
}


class _HasId(Protocol):
    id: int | None


S = TypeVar("S", bound=StrEnum)


def machine_for(obj: object) -> Machine:
    try:
        return MACHINES[type(obj)]  # type: ignore[index]
    except KeyError:
        raise TypeError(f"{type(obj).__name__} has no state machine") from None


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
    letter: OutboxLetter | None = None,
) -> AuditEvent:
    """Move ``obj`` to state ``to`` if its machine allows it; audit it; queue ``letter`` if given.

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
    if letter is not None:
        queue_letter(session, letter)
    return event
