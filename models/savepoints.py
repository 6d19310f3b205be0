"""Savepoints that stay inside the caller's transaction, on SQLite as on PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def savepoint(session: Session) -> Any:
    """``session.begin_nested()`` that stays inside the caller's transaction on SQLite too.

    pysqlite opens its transaction lazily, just before the first INSERT/UPDATE/DELETE; a SAVEPOINT
    issued before any write runs outside a transaction, and its RELEASE then commits — the caller's
    later rollback could not undo what the savepoint wrote (a refused import, a letter queued for a
    decision that failed). Here the transaction is opened first (a deferred BEGIN, what pysqlite
    itself would issue), so RELEASE only merges the savepoint into it."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN")
    return session.begin_nested()
