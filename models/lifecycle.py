"""The one writer of every state: ``set_state``.

Every mutation has one shape: check the move against the machine's table → change → flush →
audit row, all in the caller's transaction; the caller then queues the letter that tells someone
about it (``models.mail``). Nothing else assigns to a ``state`` or ``stage`` attribute.

The write is a compare-and-set: ``UPDATE … SET state = :to WHERE id = :id AND state = :from``.
When a concurrent run moved the row first, nothing is written and ``StateChanged`` says so (the
object is refreshed to what the database holds) — never a doubled audit row.

``set_states`` is the same for many rows of one table at once — the sender's claims and 250s: every
move checked first (one illegal move → ``IllegalTransition``, nothing changed), then one
compare-and-set ``UPDATE … WHERE id IN (…) AND state = :from RETURNING id`` per distinct from-state,
the winners' other changes flushed, and one audit INSERT (an executemany) with a row for each winner
equal to the one ``set_state`` writes. A row another run moved meanwhile is not moved, not audited,
and left out of the answer (its unsaved changes dropped) — the caller sees which by the answer.

Each stateful table names its machine in a ``__machine__`` class attribute, so this kernel module
knows no stage's tables; ``models.tables.MACHINES`` lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel

from models.audit import AuditEvent, record, record_all
from models.errors import IllegalTransition, StateChanged
from models.states import Machine


class _HasId(Protocol):
    id: int | None


S = TypeVar("S", bound=StrEnum)
Row = TypeVar("Row", bound=SQLModel)


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
    current, target = _checked(machine, obj, to)
    entity_id = getattr(obj, "id", None)
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


def _checked(machine: Machine, obj: object, to: StrEnum) -> tuple[StrEnum, StrEnum]:
    """(current, target) of a move the machine allows; ``IllegalTransition`` otherwise."""
    current = getattr(obj, machine.attribute)
    target = type(current)(to)
    allowed = machine.moves[current]
    if target not in allowed:
        raise IllegalTransition(
            machine.entity,
            getattr(obj, "id", None),
            str(current),
            str(target),
            sorted(str(s) for s in allowed),
        )
    return current, target


def set_states(
    session: Session,
    objs: Sequence[Row],
    to: StrEnum,
    *,
    actor: str,
    reason: str | Sequence[str] = "",
    data: dict[str, Any] | None = None,
) -> list[Row]:
    """``set_state`` for many rows of one table, in a few statements (see the module docstring).

    ``reason`` is one text for all, or one per object. Raises ``IllegalTransition`` (and changes
    nothing) when the machine forbids the move for any of them. Returns the objects moved, in the
    order given; an object whose row another run moved since it was read is left out, its unsaved
    changes dropped and its attributes refreshed from the database. The caller owns the transaction.
    """
    if not objs:
        return []
    reasons = [reason] * len(objs) if isinstance(reason, str) else list(reason)
    if len(reasons) != len(objs):
        raise ValueError(f"{len(objs)} objects but {len(reasons)} reasons")
    table = type(objs[0])
    if any(type(obj) is not table for obj in objs):
        raise TypeError("set_states moves rows of one table at a time")
    machine = machine_for(objs[0])
    if len({id(obj) for obj in objs}) != len(objs):
        raise ValueError(f"{machine.entity}: the same row twice in one batch")
    moves = [_checked(machine, obj, to) for obj in objs]  # every move checked before any write
    session.add_all(objs)
    new = [obj for obj in objs if sa_inspect(obj).key is None]
    if new:
        session.flush(objects=new)  # an id for a new row (no other run can have moved it)
    mapper = sa_inspect(table)
    (key,) = mapper.primary_key
    column = mapper.columns[machine.attribute]
    ids = [getattr(obj, key.key) for obj in objs]  # distinct: one session holds one object a row
    target = moves[0][1]  # the same for all: one machine, one enum
    won: set[Any] = set()
    for current in dict.fromkeys(current for current, _ in moves):  # distinct from-states, in order
        group = [row_id for row_id, (c, _) in zip(ids, moves, strict=True) if c == current]
        # Core on the session's connection: no autoflush, so a row that loses keeps nothing of this call
        result = session.connection().execute(
            sa.update(mapper.local_table)
            .where(key.in_(group), column == current)
            .values({column.name: target})
            .returning(key)
        )
        won.update(result.scalars())
    winners: list[Row] = []
    audit: list[tuple[int, str, str, str]] = []
    for obj, row_id, (current, _), why in zip(objs, ids, moves, reasons, strict=True):
        if row_id in won:
            set_committed_value(obj, machine.attribute, target)
            winners.append(obj)
            audit.append((row_id, str(current), str(target), why))
    losers = [obj for obj, row_id in zip(objs, ids, strict=True) if row_id not in won]
    for obj in losers:
        session.expire(obj)  # drops its unsaved changes: the row is another run's now
    for obj in losers:
        session.refresh(obj)
    session.flush()  # the winners' other changes
    record_all(session, actor=actor, entity=machine.entity, action=machine.attribute, rows=audit, data=data)
    return winners
