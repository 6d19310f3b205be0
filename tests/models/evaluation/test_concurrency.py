"""Two runs of the final evaluation at once (PostgreSQL, row locks): every grant is settled once,
with exactly one audit row per move, and the competition enters the evaluation once; the failed
project's 整改 — one Rectification, one 整改通知, one letter — however the two runs interleave; two
runs of the expert panel's assignment make each sheet and each invitation once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlmodel import Session, func, select

from models.audit import AuditEvent
from models.db import dispose_engines, get_engine, lock_competition, upgrade_database
from models.documents.tables import GeneratedDocument
from models.evaluation.evaluating import evaluate_grants, open_evaluation
from models.mail.outbox import OutboxLetter
from models.settings import get_settings
from models.supervision.notices import queue_rectification_notices
from models.supervision.tables import Rectification
from tests.support.year import Year, evaluated_year

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_concurrent_runs_settle_each_grant_once(postgres, settings_env):
    url = postgres.create_database()
    engine = get_engine(url)
    upgrade_database(engine)
    with Session(engine, expire_on_commit=False) as session:
        evaluated_year(session)
        session.commit()
    barrier = threading.Barrier(2)
    settled: list[int] = []
    notices: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                year = Year.load(session)
                barrier.wait()
                open_evaluation(session, competition=year.competition, actor="admin:test")
                done = evaluate_grants(
                    session, competition_id=year.competition_id, actor="admin:test", on=date(2025, 10, 20)
                )
                session.commit()
                settled.append(len(done))
                barrier.wait()
                lock_competition(session, year.competition_id)  # as the flow's task does
                letters = queue_rectification_notices(
                    session, competition=year.competition, settings=get_settings()
                )
                session.commit()
                notices.append(len(letters))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures
    assert sorted(settled) == [0, 11] and sorted(notices) == [0, 1]
    with Session(engine) as session:
        count = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "final_evaluation")
        ).one()
        opened = session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "competition", AuditEvent.to_state == "evaluation")
        ).one()
        made = [
            session.exec(select(func.count()).select_from(table).where(*where)).one()
            for table, where in (
                (Rectification, ()),
                (GeneratedDocument, (GeneratedDocument.role == "rectification_notice",)),
                (OutboxLetter, (OutboxLetter.role == "rectification",)),
            )
        ]
    assert (count, opened) == (11, 1)
    assert made == [1, 1, 1]
    dispose_engines()


def test_concurrent_panel_assignments_make_each_sheet_and_letter_once(postgres):
    from datetime import UTC, datetime

    from models.evaluation.panel import assign_panel
    from models.evaluation.panel_notices import queue_panel_invitations
    from models.evaluation.tables import PanelSheet
    from tests.support.factories import example_config_text

    url = postgres.create_database()
    engine = get_engine(url)
    upgrade_database(engine)
    panel = '  expert_panel: {experts_per_grant: 3, weight: "0.5", due_days: 7}\n'
    with Session(engine, expire_on_commit=False) as session:
        evaluated_year(
            session, config_text=example_config_text(**{"  barred_years: 2\n": "  barred_years: 2\n" + panel})
        )
        session.commit()
    barrier = threading.Barrier(2)
    made: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                year = Year.load(session)
                barrier.wait()
                sheets = assign_panel(
                    session,
                    competition_id=year.competition_id,
                    actor="admin:test",
                    now=datetime(2025, 10, 16, 1, 0, tzinfo=UTC),
                    timezone="Asia/Shanghai",
                )
                queue_panel_invitations(session, competition=year.competition, settings=get_settings())
                session.commit()
                made.append(len(sheets))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures
    assert sorted(made) == [0, 33]
    with Session(engine) as session:
        sheets = session.exec(select(func.count()).select_from(PanelSheet)).one()
        letters = session.exec(
            select(func.count())
            .select_from(OutboxLetter)
            .where(OutboxLetter.role == "final_review_invitation")
        ).one()
    assert (sheets, letters) == (33, 7)
    dispose_engines()
