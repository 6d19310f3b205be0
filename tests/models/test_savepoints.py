"""A savepoint stays inside its caller's transaction: what it wrote goes when the caller rolls back.

Found by the hostile corpus (issue 22): on SQLite, ``session.begin_nested()`` as a transaction's first
write ran outside any transaction (pysqlite opens one lazily, before the first INSERT/UPDATE/DELETE),
so its RELEASE committed — an import the CLI then refused, or a letter queued for a decision that
failed, stayed in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models.intake.imports import import_applications
from models.intake.tables import Application
from models.mail.outbox import OutboxLetter, queue_letter
from tests.conftest import EXAMPLE_DIR
from tests.models.mail.test_outbox import letter
from tests.support.factories import make_competition


def _count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_an_import_rolled_back_by_its_caller_leaves_no_application(engine: Engine) -> None:
    with Session(engine) as session:
        competition = make_competition(session)
        session.commit()
        competition_id = competition.id
    with Session(engine) as session:
        report = import_applications(
            session,
            competition_id=competition_id or 0,
            path=EXAMPLE_DIR / "applications.xlsx",
            actor="test",
            now=datetime(2025, 2, 20, 2, 0, tzinfo=UTC),
        )
        assert report.accepted
        session.rollback()
    assert _count(engine, Application) == 0


def test_a_letter_queued_first_in_a_transaction_goes_with_its_rollback(engine: Engine) -> None:
    with Session(engine) as session:
        queue_letter(session, letter(1))
        session.rollback()
    assert _count(engine, OutboxLetter) == 0
    with Session(engine) as session:
        queue_letter(session, letter(1))
        session.commit()
    assert _count(engine, OutboxLetter) == 1
