"""Fault points of a delivery run: the named moments a crash test kills the sender at, on purpose.

A test that means to prove "a crash in this window, then a re-run, delivers each letter once" must
crash *in* that window every time, not when a timer happens to fire. The sender process the test
starts arms one point (``arm("accepted", hit=37)``); when a worker reaches that point for the 37th
time it prints ``fault <point> <letter id>`` on stdout and sends itself SIGKILL — at exactly that
moment of that letter, whatever the machine's load. Nothing arms a point in production: there
``reach`` is one comparison against ``None``.

The points, in the order a letter meets them (``tasks/mail/workers.py``):

- ``claimed``   — its ``sending`` row (Message-ID, lease) is committed; no SMTP command yet;
- ``accepted``  — the server answered 250 to DATA; ``sent`` is not committed yet (the residual
  window: a configured server will see this letter again, under the same Message-ID);
- ``committed`` — ``sent`` is committed; the connection has not carried the next message yet.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass

POINTS = ("claimed", "accepted", "committed")


@dataclass
class Armed:
    point: str
    hit: int  # strike on this arrival at the point (1 = the first)
    seen: int = 0


_armed: Armed | None = None


def arm(point: str, *, hit: int) -> None:
    """Kill this process with SIGKILL on the ``hit``-th arrival at ``point``."""
    global _armed
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; known: {', '.join(POINTS)}")
    if hit < 1:
        raise ValueError("hit counts from 1")
    _armed = Armed(point, hit)


def disarm() -> None:
    global _armed
    _armed = None


def reach(point: str, letter_id: int) -> None:
    """A worker is at ``point`` with ``letter_id``: strike here if this is the armed arrival."""
    armed = _armed
    if armed is None or armed.point != point:
        return
    armed.seen += 1
    if armed.seen == armed.hit:
        sys.stdout.write(f"fault {point} {letter_id}\n")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
