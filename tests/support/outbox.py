"""Letters in the outbox, queued the way production queues them (``compose_letter``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from models.db import session_scope
from models.mail.letters import LETTERS, compose_letter


def queue_receipts(engine: Engine, count: int, *, start: int = 0, **extra: Any) -> list[int]:
    """``count`` receipt letters to user<i>@example.org (i from ``start``); returns their ids."""
    ids = []
    with session_scope(engine) as session:
        for i in range(start, start + count):
            letter = compose_letter(
                session,
                role="receipt",
                stage="intake",
                recipient_email=f"user{i}@example.org",
                recipient_name=f"申报单位{i}号",
                context=LETTERS.get("receipt").keys,
                subject_entity="application",
                subject_id=i,
                **extra,
            )
            ids.append(letter.id)
    return ids
