"""An open-model load generator of our own: requests launched on a fixed schedule, whatever the answers.

``run_open(base_url, rate=…, seconds=…, send=…)`` launches request *i* at ``start + i / rate`` (the
schedule never waits for an answer — a slow server meets the same arrival rate, as it would from
real users), each with its own timeout, and at most ``max_in_flight`` at once (past it a request is
*skipped*, not queued, so the run stays bounded in memory). It is bounded in count
(``rate × seconds``) and in time (the schedule, then at most one timeout for the last answers).

``send(client, i)`` makes request *i* and returns its outcome: ``"ok"`` or ``"ok: …"`` for an answer
the scenario expects (a duplicate refused is expected), anything else names an error kind. An
exception is an error of its kind (``timeout``, ``connect``, the exception's name). Latency is from
the scheduled moment to the answer (a late launch counts against the server, not hidden).

The accounting always holds: ``planned = sent + skipped`` and ``sent = ok + errors``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

Send = Callable[[httpx.AsyncClient, int], Awaitable[str]]


@dataclass
class Tally:
    """What one run sent and got back."""

    rate: float
    planned: int = 0
    sent: int = 0
    skipped: int = 0  # not launched: ``max_in_flight`` requests were waiting already
    ok: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # every outcome, ok or not, by kind
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)  # of the answered requests, ok or not
    by_outcome_ms: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0  # first launch to last answer (throughput is over this or the schedule, the longer)
    launch_lag_ms: float = 0.0  # the latest launch behind its schedule (the generator's own limit)

    def record(self, outcome: str, latency_ms: float | None) -> None:
        self.outcomes[outcome] += 1
        if outcome == "ok" or outcome.startswith("ok:"):
            self.ok += 1
        else:
            self.errors[outcome] += 1
        if latency_ms is not None:
            self.latencies_ms.append(latency_ms)
            self.by_outcome_ms.setdefault(outcome, []).append(latency_ms)

    def percentile(self, share: float, outcome: str | None = None) -> float | None:
        """Nearest-rank percentile of the answered requests' latency (of one outcome), in ms."""
        values = self.latencies_ms if outcome is None else self.by_outcome_ms.get(outcome, [])
        if not values:
            return None
        ordered = sorted(values)
        return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 1)

    def figures(self) -> dict[str, Any]:
        return {
            "offered_rate": self.rate,
            "planned": self.planned,
            "sent": self.sent,
            "skipped": self.skipped,
            "ok": self.ok,
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors),
            "outcomes": dict(self.outcomes),
            "p50_ms": self.percentile(0.50),
            "p99_ms": self.percentile(0.99),
            "p50_p99_by_outcome": {
                kind: [self.percentile(0.5, kind), self.percentile(0.99, kind)] for kind in self.by_outcome_ms
            },
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else None,
            "achieved_per_s": round(self.ok / max(self.seconds, self.planned / self.rate, 1e-9), 1),
            "seconds": round(self.seconds, 1),
            "launch_lag_ms": round(self.launch_lag_ms, 1),
        }


def _kind(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return type(exc).__name__


async def run_open(
    base_url: str,
    *,
    rate: float,
    seconds: float,
    send: Send,
    timeout: float = 10.0,
    max_in_flight: int = 1000,
    cookies: dict[str, str] | None = None,
) -> Tally:
    """Launch ``rate × seconds`` requests at ``rate`` a second (see the module docstring)."""
    tally = Tally(rate=rate, planned=int(rate * seconds))
    loop = asyncio.get_running_loop()
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    pending: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(
        base_url=base_url, timeout=timeout, limits=limits, cookies=cookies, follow_redirects=False
    ) as client:

        async def one(i: int, due: float) -> None:
            try:
                outcome = await asyncio.wait_for(send(client, i), timeout)
            except TimeoutError:
                tally.record("timeout", None)
            except Exception as exc:  # every failure is counted by its kind, never lost
                tally.record(_kind(exc), None)
            else:
                tally.record(outcome, (loop.time() - due) * 1000)

        start = loop.time()
        wall = time.perf_counter()
        for i in range(tally.planned):
            due = start + i / rate
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            tally.launch_lag_ms = max(tally.launch_lag_ms, (loop.time() - due) * 1000)
            if len(pending) >= max_in_flight:
                tally.skipped += 1
                continue
            tally.sent += 1
            task = asyncio.create_task(one(i, due))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:  # each has its own timeout: this waits one timeout at most
            await asyncio.wait(set(pending), timeout=timeout + 5)
        for task in list(pending):  # not answered even then: cancelled, counted
            task.cancel()
            tally.record("cancelled", None)
        tally.seconds = time.perf_counter() - wall
    return tally
