"""Database faults while a stage runs, on real databases: the stage retries where that is safe and
finishes with its work done once, or stops with one clear line and keeps nothing half-written;
a re-run afterwards completes.

- SQLite: another writer (a stage's long transaction) holds the write lock past the busy timeout
  while screening runs; the screening task meets "database is locked", is retried, and finishes.
- PostgreSQL restarted (``pg_ctl restart -m fast``) while screening waits inside its transaction:
  the connection is cut, the task is retried on a fresh one, and screening finishes.
- PostgreSQL stopped mid-stage and not back: ``grantflow screening run`` ends with one line naming
  the fault (exit 1), nothing of the stage is kept; once the server is back the same command
  completes.

Each fault is made to strike inside the stage, not by a timer: the fault is held until the stage
is seen waiting in it (its task's retry logged; its backend waiting on the competition's lock).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlmodel import func, select

from models.db import COMPETITION_LOCK_CLASS, dispose_engines, lock_competition, session_scope
from models.documents.tables import GeneratedDocument
from models.intake.tables import Application, EligibilityCheck
from models.states import CompetitionStage
from tests.cli.test_cli import GRANTFLOW, ROOT
from tests.models.test_concurrency import SCREENING_AT, assert_each_change_once, assert_each_letter_once

pytestmark = [pytest.mark.slow, pytest.mark.flows]


def screened_once(competition_id: int, mail_dir: Path) -> None:
    """Screening's work, done exactly once: every application decided with its checks and its
    资格审查表, the stage moved once, every state change and letter once."""
    with session_scope() as session:
        applications = session.exec(select(func.count()).select_from(Application)).one()
        decided = session.exec(select(func.count(func.distinct(EligibilityCheck.application_id)))).one()
        sheets = session.exec(
            select(func.count())
            .select_from(GeneratedDocument)
            .where(GeneratedDocument.role == "eligibility_sheet")
        ).one()
        from models.competition.tables import Competition

        stage = session.get(Competition, competition_id).stage
        changes = assert_each_change_once(session)
    assert applications > 24 and decided == applications and sheets == applications
    assert stage is CompetitionStage.screening
    assert changes[("competition", "call_open→screening")] == 1
    assert (
        changes[("application", "submitted→eligible")] + changes[("application", "submitted→ineligible")]
        == applications
    )
    assert_each_letter_once(mail_dir)


class RetryLog(logging.Handler):
    """Prefect's task-run log: set ``retried`` when a task announces its first retry."""

    def __init__(self) -> None:
        super().__init__()
        self.retried = threading.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Retry 1/" in message:
            self.messages.append(message)
            self.retried.set()


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("prefect.task_runs")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def in_background(run: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(run())
        except BaseException as exc:  # the test reads it
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_locked_past_the_busy_timeout_is_retried_and_the_stage_completes(
    ready_for_screening, retry_log
):
    from flows.screening import screening

    slug, competition_id, data = ready_for_screening
    release, holding = threading.Event(), threading.Event()

    def long_transaction() -> None:  # another stage's transaction: the competition's lock, then work
        with session_scope() as session:
            lock_competition(session, competition_id)
            holding.set()
            release.wait(timeout=120)

    holder = threading.Thread(target=long_transaction)
    holder.start()
    assert holding.wait(timeout=30)
    stage, outcome = in_background(
        lambda: asyncio.run(screening(slug, as_of=SCREENING_AT, actor="admin:test"))
    )
    try:
        assert retry_log.retried.wait(timeout=120), "the screening never met the lock"
    finally:
        release.set()  # the other writer commits; the retry finds the database free
        holder.join(timeout=60)
        stage.join(timeout=300)
    assert "database is locked" in retry_log.messages[0]
    assert not isinstance(outcome[0], BaseException), outcome[0]
    assert outcome[0]["opened"] is True
    screened_once(competition_id, data / "mail")


def waiting_on_the_lock(admin_url: str, database: str, timeout: float = 120) -> None:
    """Until a backend of ``database`` waits on an advisory lock (the stage, inside its transaction)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
                " AND query LIKE %s",
                (database, "%pg_advisory_xact_lock%"),
            ).fetchone()
            if row and row[0] > 0:
                return
            time.sleep(0.05)
    raise AssertionError("the stage never reached the competition's lock")


def hold_competition_lock(url: str, competition_id: int) -> psycopg.Connection:
    """A session-level hold on the lock every stage task takes first (cut by the restart)."""
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    conn.execute("SELECT pg_advisory_lock(%s, %s)", (COMPETITION_LOCK_CLASS, competition_id))
    return conn


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_restarted_mid_stage_is_retried_and_the_stage_completes(
    ready_for_screening, retry_log, postgres, database_url
):
    from flows.screening import screening

    slug, competition_id, data = ready_for_screening
    holder = hold_competition_lock(database_url, competition_id)
    stage, outcome = in_background(
        lambda: asyncio.run(screening(slug, as_of=SCREENING_AT, actor="admin:test"))
    )
    try:
        waiting_on_the_lock(postgres.admin_url, database_url.rsplit("/", 1)[1])
        postgres.control("restart")  # cuts the stage's connection inside its transaction
    finally:
        holder.close()
        stage.join(timeout=300)
    assert retry_log.retried.is_set() and "terminating connection" in retry_log.messages[0]
    assert not isinstance(outcome[0], BaseException), outcome[0]
    screened_once(competition_id, data / "mail")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_down_mid_stage_stops_with_one_line_then_a_rerun_completes(
    ready_for_screening, postgres, database_url
):
    _slug, competition_id, data = ready_for_screening
    with session_scope() as session:
        before = session.exec(select(func.count()).select_from(EligibilityCheck)).one()
    dispose_engines()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
    environ.update(
        {"GRANTFLOW_DATA_DIR": str(data), "GRANTFLOW_DATABASE_URL": database_url, "COLUMNS": "200"}
    )
    command = [*GRANTFLOW, "screening", "run", "--as-of", SCREENING_AT.isoformat()]
    holder = hold_competition_lock(database_url, competition_id)
    cli = subprocess.Popen(
        command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        waiting_on_the_lock(postgres.admin_url, database_url.rsplit("/", 1)[1], timeout=240)
        postgres.control("stop")  # and it stays down past the task's retries
        out, err = cli.communicate(timeout=300)
    finally:
        holder.close()
        if cli.poll() is None:
            cli.kill()
        postgres.control("start")
    assert cli.returncode == 1, out + err
    said = [line for line in err.splitlines() if line.startswith("错误 / error:")]
    assert len(said) == 1 and "database unavailable" in said[0] and "nothing half-written" in said[0]
    assert "run it again" in said[0]
    with session_scope() as session:  # nothing of the stage was kept
        assert session.exec(select(func.count()).select_from(EligibilityCheck)).one() == before
    again = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    screened_once(competition_id, data / "mail")
