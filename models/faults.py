"""Fault points: the named moments a crash test kills a process at, on purpose.

A test that means to prove "a crash in this window, then a re-run, does the work once" must crash
*in* that window every time, not when a timer happens to fire. The process the test starts arms
one point (``arm("accepted", hit=37)``); when the code reaches that point for the 37th time it
prints ``fault <point> <what>`` on stdout and sends itself SIGKILL — at exactly that moment,
whatever the machine's load. Nothing arms a point in production: there ``reach`` is one comparison
against ``None``.

The points of a letter, in the order it meets them (``tasks/mail/workers.py``):

- ``claimed``   — its ``sending`` row (Message-ID, lease) is committed; no SMTP command yet;
- ``accepted``  — the server answered 250 to DATA; ``sent`` is not committed yet (the residual
  window: a configured server will see this letter again, under the same Message-ID);
- ``committed`` — ``sent`` is committed; the connection has not carried the next message yet.

The points of every stage's work (``models/db.py``, ``models/documents/registry.py``):

- ``document``  — a document's file is on disk, its row not yet committed;
- ``before-commit`` — a transaction's work is flushed, ``COMMIT`` not yet sent;
- ``after-commit``  — a transaction is committed; the stage goes on to its next one.

A point may be armed with another strike than our own death (``arm(..., strike=...)``): the
outage tests stop the SMTP server or the PostgreSQL server there, and the stage goes on without it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

LETTER_POINTS = ("claimed", "accepted", "committed")
WORK_POINTS = ("document", "before-commit", "after-commit")
POINTS = LETTER_POINTS + WORK_POINTS


@dataclass
class Armed:
    point: str
    hit: int  # strike on this arrival at the point (1 = the first)
    strike: Callable[[], None] | None = None  # None: SIGKILL this process
    seen: int = 0


_armed: Armed | None = None
_counted: Counter[str] | None = None


def arm(point: str, *, hit: int, strike: Callable[[], None] | None = None) -> None:
    """Kill this process with SIGKILL on the ``hit``-th arrival at ``point`` — or call ``strike``
    there instead (once), and go on."""
    global _armed
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; known: {', '.join(POINTS)}")
    if hit < 1:
        raise ValueError("hit counts from 1")
    _armed = Armed(point, hit, strike)


def disarm() -> None:
    """No point armed, no arrival counted."""
    global _armed, _counted
    _armed, _counted = None, None


def count() -> Counter[str]:
    """Start counting arrivals at every point (a census run: where could a kill land?)."""
    global _counted
    _counted = Counter()
    return _counted


def reach(point: str, what: object) -> None:
    """The code is at ``point`` with ``what`` (a letter id, a path): strike if this is the armed arrival."""
    if _counted is not None:
        _counted[point] += 1
    armed = _armed
    if armed is None or armed.point != point:
        return
    armed.seen += 1
    if armed.seen == armed.hit:
        sys.stdout.write(f"fault {point} {what}\n")
        sys.stdout.flush()
        if armed.strike is not None:
            armed.strike()
            return
        os.kill(os.getpid(), signal.SIGKILL)
