"""The stage tasks' retry policy: run again after a database fault a moment cures, and only then.

A stage task is one transaction (or a few, each committed whole) and safe to run again: a second
run finds the work done (ARCHITECTURE.md). So when the database fails under it — SQLite locked by
another writer past the busy timeout, a PostgreSQL connection cut by a restart or a failover, a
serialization failure (``models.db.database_fault``) — the transaction was rolled back whole and the
task is simply run again, a few seconds later, up to three times. Any other error (a refusal, a
bug, a full disk) fails at once: running it again would change nothing.

    @task(name="screen-applications", **ON_DATABASE_FAULT)
"""

from __future__ import annotations

from typing import Any

from models.db import database_fault

RETRY_DELAYS = [2, 5, 15]  # seconds: past a PostgreSQL restart (≈ 1 s) or a stage's long transaction


def is_database_fault(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's ``retry_condition_fn``: retry only when the task failed on a database fault."""
    error = getattr(state, "data", None)
    return isinstance(error, BaseException) and database_fault(error) is not None


ON_DATABASE_FAULT: dict[str, Any] = {
    "retries": len(RETRY_DELAYS),
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_condition_fn": is_database_fault,
}
