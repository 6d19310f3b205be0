"""When a reminder is due: the configured offsets (days) before a deadline.

The review's sheets and the 结项 panel's sheets are reminded the same way: each offset's letter at
most once (its idempotency key names the offset), and a run that missed an earlier moment sends
only the reminder due now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def due_reminder_offset(*, deadline: datetime, now: datetime, offsets: Sequence[int]) -> int | None:
    """The reminder due at ``now``: the smallest offset (in days) whose moment has passed before the
    deadline. A run that missed the 3-day moment and runs at 1 day sends only the 1-day reminder."""
    if now >= deadline:
        return None
    due = [d for d in offsets if deadline - timedelta(days=d) <= now]
    return min(due) if due else None
