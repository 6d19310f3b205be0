"""Two follow-ups settling the same submitted checkpoint at once on PostgreSQL: one settles it, the
other waits on the row lock and finds nothing to do — one rectification, one audit row per move,
one letter."""

from __future__ import annotations

import threading
from datetime import UTC

import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.db import dispose_engines, get_engine, upgrade_database
from models.mail.outbox import OutboxLetter
from models.settings import get_settings
from models.supervision.notices import queue_outcome_letters
from models.supervision.outcomes import settle_submitted
from models.supervision.records import save_progress_report, save_record
from models.supervision.tables import Checkpoint, Rectification
from tests.support.grants import funded_competition
from tests.support.supervision import VISIT_AT, open_supervision, progress_fields, record_fields

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_concurrent_follow_ups_settle_a_checkpoint_once(postgres, settings_env):
    engine = get_engine(postgres.create_database())
    upgrade_database(engine)
    settings = get_settings()
    with Session(engine, expire_on_commit=False) as session:
        funded = funded_competition(session, top=1)
        open_supervision(session, competition_id=funded.competition_id, settings=settings)
        competition = session.get(Competition, funded.competition_id)
        checkpoint = session.exec(select(Checkpoint).where(Checkpoint.code == "midterm")).one()
        save_progress_report(
            session,
            checkpoint_id=checkpoint.id,
            fields=progress_fields(session, grant_id=checkpoint.grant_id),
            submit=True,
            actor="g",
            now=VISIT_AT,
        )
        save_record(
            session,
            checkpoint_id=checkpoint.id,
            fields=record_fields(session, competition, code="midterm", share=0.3, rectify="补齐台账"),
            submit=True,
            actor="s",
            now=VISIT_AT,
        )
        session.commit()

    barrier = threading.Barrier(2)
    results: list[object] = []

    def follow_up() -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            settled = settle_submitted(
                session,
                competition_id=funded.competition_id,
                actor="flow",
                now=VISIT_AT,
                timezone=settings.timezone,
            )
            found = session.get(Competition, funded.competition_id)
            queue_outcome_letters(session, competition=found, settings=settings, now=VISIT_AT.astimezone(UTC))
            session.commit()
            results.append(len(settled))

    threads = [threading.Thread(target=follow_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [0, 1]
    with Session(engine) as session:
        assert len(session.exec(select(Rectification)).all()) == 1
        moves = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "checkpoint",
                AuditEvent.entity_id == checkpoint.id,
                AuditEvent.to_state == "failed",
            )
        ).all()
        assert len(moves) == 1
        assert len(session.exec(select(OutboxLetter).where(OutboxLetter.role == "rectification")).all()) == 1
    dispose_engines()
