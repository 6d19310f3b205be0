"""Two runs of the same stage at once (a double click, a retry, two workers), on SQLite and on
PostgreSQL: each stage flow runs twice in two threads released together. Neither run may fail, the
audit trail records every state change once, and every letter is queued and sent once.

The competition lock (``models.db.lock_competition``) serialises the stage tasks; the
compare-and-set in ``set_state`` refuses a move another run made meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from models.audit import AuditEvent
from models.db import default_engine, lock_competition, session_scope, upgrade_database
from models.errors import NotFound, StateChanged
from models.intake.tables import Application
from models.lifecycle import set_state
from models.mail.outbox import OutboxLetter
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewAssignment, ReviewResult
from models.settings import reset_settings
from models.states import CompetitionStage
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import make_competition
from tests.support.mailbox import messages

BEIJING = ZoneInfo("Asia/Shanghai")
CALL_AT = datetime(2025, 1, 6, 9, 0, tzinfo=BEIJING)
INTAKE_AT = datetime(2025, 2, 28, 12, 0, tzinfo=BEIJING)
SCREENING_AT = datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING)
FILES = [str(EXAMPLE_DIR / "applications.xlsx"), str(EXAMPLE_DIR / "applications-gbk.csv")]


@pytest.fixture
def data_on(database_url: str, settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The settings point at ``database_url`` (a fresh SQLite file or PostgreSQL database)."""
    settings_env.mkdir(parents=True, exist_ok=True)  # as `grantflow init` leaves it
    monkeypatch.setenv("GRANTFLOW_DATABASE_URL", database_url)
    reset_settings()
    upgrade_database(default_engine())
    return settings_env


def twice(run: Callable[[], Any]) -> list[Any]:
    """``run`` in two threads released at the same moment; both results (an error fails the test)."""
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = run()
        except BaseException as exc:  # reported below, with its traceback
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise errors[0]
    return results


def state_changes(session: Session) -> list[tuple[str, int, str, str, str]]:
    events = session.exec(select(AuditEvent).where(AuditEvent.from_state != "")).all()
    return [(e.entity, e.entity_id, e.action, e.from_state, e.to_state) for e in events]


def assert_each_change_once(session: Session) -> Counter[tuple[str, str]]:
    changes = state_changes(session)
    doubled = [change for change, n in Counter(changes).items() if n > 1]
    assert doubled == [], f"state changes audited twice: {doubled[:5]}"
    return Counter((entity, f"{before}→{after}") for entity, _id, _a, before, after in changes)


def assert_each_letter_once(mail_dir: Path) -> int:
    with session_scope() as session:
        letters = session.exec(select(OutboxLetter)).all()
    ids = [str(m["Message-ID"]) for m in messages(mail_dir)]
    assert len(ids) == len(set(ids)) == len(letters)
    return len(letters)


def count(model: type, **where: Any) -> int:
    with session_scope() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.exec(query).one())


@pytest.mark.slow
@pytest.mark.flows
def test_every_stage_run_twice_at_once_does_its_work_once(prefect_harness, data_on):
    from flows.call import publish_call
    from flows.intake import intake
    from flows.review import close_review, open_review, review_reminders
    from flows.screening import screening

    with session_scope() as session:
        slug = make_competition(session).slug
    mail_dir = data_on / "mail"

    call = twice(lambda: asyncio.run(publish_call(slug, as_of=CALL_AT, actor="admin:test")))
    assert sorted(r["opened"] for r in call) == [False, True]
    with session_scope() as session:
        assert assert_each_change_once(session)[("competition", "draft→call_open")] == 1
    call_letters = assert_each_letter_once(mail_dir)
    assert call_letters > 0

    imported = twice(lambda: asyncio.run(intake(slug, files=FILES, as_of=INTAKE_AT, actor="admin:test")))
    accepted = sorted(sum(len(f["accepted"]) for f in r["files"]) for r in imported)
    assert accepted[0] == 0 and accepted[1] == count(Application) > 24
    assert all(f["error"] is None for r in imported for f in r["files"])
    with session_scope() as session:
        assert_each_change_once(session)
    assert assert_each_letter_once(mail_dir) == call_letters + count(Application)

    screened = twice(lambda: asyncio.run(screening(slug, as_of=SCREENING_AT, actor="admin:test")))
    assert sorted(r["opened"] for r in screened) == [False, True]
    with session_scope() as session:
        changes = assert_each_change_once(session)
    applications = count(Application)
    assert (
        changes[("application", "submitted→eligible")] + changes[("application", "submitted→ineligible")]
        == applications
    )
    assert changes[("competition", "call_open→screening")] == 1
    assert assert_each_letter_once(mail_dir) == call_letters + 2 * applications

    opened = twice(lambda: asyncio.run(open_review(slug, actor="admin:test")))
    sheets = count(ReviewAssignment)
    assert sorted(r["sheets"] for r in opened) == [0, sheets] and sheets > 0
    with session_scope() as session:
        changes = assert_each_change_once(session)
    assert changes[("competition", "screening→review")] == 1
    invitations = sorted(r["invitations"] for r in opened)
    assert invitations[0] == 0 and invitations[1] > 0
    letters = assert_each_letter_once(mail_dir)

    with session_scope() as session:
        deadline = session.exec(select(ReviewAssignment)).first().deadline
    reminded = twice(lambda: asyncio.run(review_reminders(slug, as_of=deadline - timedelta(days=2))))
    assert sorted(r["reminders"] for r in reminded) == [0, invitations[1]]
    letters = assert_each_letter_once(mail_dir)

    with session_scope() as session:
        for n, sheet in enumerate(session.exec(select(ReviewAssignment).order_by(ReviewAssignment.id))):
            base = Decimal(10 + n % 7)
            save_sheet(
                session,
                assignment_id=sheet.id,
                submit=True,
                actor=f"expert:{sheet.expert_id}",
                points={
                    "need": base,
                    "design": base + 4,
                    "capacity": base,
                    "budget": Decimal(10),
                    "innovation": Decimal(7),
                    "sustainability": Decimal(6),
                },
                comment="评审意见",
                now=deadline - timedelta(hours=2),
            )
    closed = twice(lambda: close_review(slug, actor="admin:test", as_of=deadline + timedelta(hours=1)))
    results = count(ReviewResult)
    assert [r["results"] for r in closed] == [results, results] and results > 0
    with session_scope() as session:
        changes = assert_each_change_once(session)
    assert changes[("competition", "review→funding")] == 1
    assert assert_each_letter_once(mail_dir) == letters


def test_set_state_refuses_a_move_made_meanwhile(sqlite_engine, settings_env):
    """The compare-and-set: a second session that read the old stage cannot move it again."""
    with Session(sqlite_engine, expire_on_commit=False) as session:
        competition = make_competition(session)
        session.commit()
    with Session(sqlite_engine) as first, Session(sqlite_engine) as second:
        mine = first.get(type(competition), competition.id)
        theirs = second.get(type(competition), competition.id)
        set_state(second, theirs, CompetitionStage.call_open, actor="other-run")
        second.commit()
        with pytest.raises(StateChanged, match="another run meanwhile") as refused:
            set_state(first, mine, CompetitionStage.call_open, actor="this-run")
        assert refused.value.current == "call_open" and mine.stage is CompetitionStage.call_open
        first.rollback()
    with Session(sqlite_engine) as session:
        assert [c[3:] for c in state_changes(session)] == [("draft", "call_open")]


def test_lock_competition_names_a_missing_competition(session):
    with pytest.raises(NotFound, match="#999"):
        lock_competition(session, 999)
    session.rollback()
