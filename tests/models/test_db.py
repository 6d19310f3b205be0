"""The data layer on SQLite and PostgreSQL: migrations equal the models, an upgrade keeps data,
exact types round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from models.competition.tables import Competition, RubricCriterion
from models.db import current_revision, get_engine, head_revision, upgrade_database
from models.setup import create_competition
from tests.conftest import EXAMPLE_DIR


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_upgrade_from_first_revision_keeps_data(database_url):
    engine = get_engine(database_url)
    upgrade_database(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO competition (slug, name, organiser, year, stage, budget_fen, pool_fen,"
                " config_yaml, config_sha256, config_source, created_at, updated_at)"
                " VALUES ('old-2024', '旧竞赛', '江头街道', 2024, 'closed', 20000000, 5000000,"
                " 'x: 1', 'abc', 'old.yaml', :t, :t)"
            ),
            {"t": datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None)},
        )
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    with Session(engine) as session:
        old = session.exec(select(Competition).where(Competition.slug == "old-2024")).one()
        assert (old.name, old.budget_fen, str(old.stage)) == ("旧竞赛", 20_000_000, "closed")
    upgrade_database(engine)  # idempotent
    engine.dispose()


def test_exact_types_round_trip(session):
    text = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")
    competition = create_competition(session, text=text, source="competition.yaml", actor="test")
    session.commit()
    session.expire_all()
    criteria = session.exec(select(RubricCriterion).order_by(RubricCriterion.position)).all()
    assert [c.max_points for c in criteria] == [
        Decimal(20),
        Decimal(25),
        Decimal(20),
        Decimal(15),
        Decimal(10),
        Decimal(10),
    ]
    assert all(isinstance(c.weight, Decimal) for c in criteria)
    stored = session.get(Competition, competition.id)
    assert stored.created_at.tzinfo is not None
    assert abs(stored.created_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_naive_datetime_refused(session):
    text = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")
    competition = create_competition(session, text=text, source="competition.yaml", actor="test")
    competition.updated_at = datetime(2025, 1, 1)  # naive
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        session.commit()


def test_local_time_stored_as_utc(session):
    text = (EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8")
    competition = create_competition(session, text=text, source="competition.yaml", actor="test")
    competition.updated_at = datetime(2025, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    session.commit()
    session.expire_all()
    assert session.get(Competition, competition.id).updated_at == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
