"""When a reminder is due: the configured offsets (days) before a deadline.

The review's sheets and the 结项 panel's sheets are reminded the same way: each offset's letter at
most once (its idempotency key names the offset), and a run that missed an earlier moment sends
only the reminder due now (``remind_once``).

A letter an administrator asks for (the console's "remind now", "resend the invitation") is
``write_by_hand``: the same role and context, keyed by the day it was asked for
(``by-hand-2025-03-18``) — its own letter, never one of the offsets' (which still go out on their
days), and a second click the same day queues nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from models.competition.tables import Competition
from models.mail.correspondence import write_to
from models.mail.letters import checked_address, letter_key
from models.mail.outbox import OutboxLetter, find_by_key


def due_reminder_offset(*, deadline: datetime, now: datetime, offsets: Sequence[int]) -> int | None:
    """The reminder due at ``now``: the smallest offset (in days) whose moment has passed before the
    deadline. A run that missed the 3-day moment and runs at 1 day sends only the 1-day reminder."""
    if now >= deadline:
        return None
    due = [d for d in offsets if deadline - timedelta(days=d) <= now]
    return min(due) if due else None


def remind_once(
    session: Session,
    *,
    competition: Competition,
    role: str,
    stage: str,
    email: str,
    name: str,
    subject_entity: str,
    subject_id: int,
    deadline: datetime,
    now: datetime,
    offsets: Sequence[int],
    context: Mapping[str, Any],
) -> OutboxLetter | None:
    """The ``role`` reminder due at ``now`` before ``deadline``, queued — or None when none is due
    or that offset's letter (occasion ``2d-before``) went out already."""
    offset = due_reminder_offset(deadline=deadline, now=now, offsets=offsets)
    if offset is None:
        return None
    occasion = f"{offset}d-before"
    key = letter_key(
        role=role,
        stage=stage,
        recipient_email=email,
        subject_entity=subject_entity,
        subject_id=subject_id,
        occasion=occasion,
    )
    if find_by_key(session, key=key) is not None:
        return None
    return write_to(
        session,
        competition=competition,
        role=role,
        stage=stage,
        email=email,
        name=name,
        subject_entity=subject_entity,
        subject_id=subject_id,
        occasion=occasion,
        context=context,
    )


def write_by_hand(
    session: Session,
    *,
    competition: Competition,
    role: str,
    stage: str,
    email: str,
    name: str,
    subject_entity: str,
    subject_id: int,
    day: date,
    context: Mapping[str, Any],
    occasion: str = "",
) -> tuple[OutboxLetter, bool]:
    """The ``role`` letter an administrator asked for on ``day`` (see the module docstring), and
    whether it is new (False: it was asked for already that day, the stored one is returned)."""
    occasion = f"{occasion}-by-hand-{day.isoformat()}" if occasion else f"by-hand-{day.isoformat()}"
    key = letter_key(
        role=role,
        stage=stage,
        recipient_email=checked_address(email, where=f"{role} → {name or email}"),
        subject_entity=subject_entity,
        subject_id=subject_id,
        occasion=occasion,
    )
    existing = find_by_key(session, key=key)
    if existing is not None:
        return existing, False
    letter = write_to(
        session,
        competition=competition,
        role=role,
        stage=stage,
        email=email,
        name=name,
        subject_entity=subject_entity,
        subject_id=subject_id,
        occasion=occasion,
        context=context,
    )
    return letter, True
