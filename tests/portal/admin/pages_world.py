"""The world of the console's outbox, documents, people and year pages: the example's year
(``tests.support.year``) run with two settings of its configuration changed as an organiser would —
``require_letter_release: true`` (every letter waits for her release) and the 结项 expert panel
(``evaluation.expert_panel``) — then the panel's sheets assigned and their invitations written as the
final evaluation's task does (``assign_panel``, ``queue_panel_invitations``). The portal's clock is
the day after (17 October 2025), the panel's sheets due on the 23rd.

Its letters go to a real SMTP server on loopback (``FaultySink``) that refuses one address with a
550, so a delivery leaves failed letters to retry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.db import dispose_engines, get_engine, upgrade_database
from models.evaluation.panel import assign_panel
from models.evaluation.panel_notices import queue_panel_invitations
from models.review.tables import Expert
from portal.app import create_app
from tasks.mail.sink import MailSink
from tests.portal.admin.console_world import ConsoleWorld, build_world
from tests.support.factories import example_config_text
from tests.support.smtp import FaultySink
from tests.support.year import evaluated_year

PANEL = '  expert_panel: {experts_per_grant: 3, weight: "0.5", due_days: 7}\n'
PANEL_AT = datetime(2025, 10, 16, 1, 0, tzinfo=UTC)  # the day after the 结项 was due
NOW = datetime(2025, 10, 17, 1, 0, tzinfo=UTC)  # the portal's clock


def held_config() -> str:
    return example_config_text(
        **{
            "  barred_years: 2\n": "  barred_years: 2\n" + PANEL,
            "require_letter_release: false": "require_letter_release: true",
        }
    )


@pytest.fixture(scope="session")
def held_year_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The held year in a SQLite file (its documents beside it), built once a session."""
    from models.settings import get_settings, override_settings, reset_settings

    folder = tmp_path_factory.mktemp("held-year")
    path = folder / "grantflow.db"
    override_settings(data_dir=folder / "data")
    try:
        engine = get_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        with Session(engine, expire_on_commit=False) as session:
            year = evaluated_year(session, config_text=held_config())
            assert assign_panel(
                session,
                competition_id=year.competition_id,
                actor="test:year",
                now=PANEL_AT,
                timezone="Asia/Shanghai",
            )
            assert queue_panel_invitations(session, competition=year.competition, settings=get_settings())
            session.commit()
        dispose_engines()
    finally:
        reset_settings()
    return path


@dataclass
class PagesWorld:
    world: ConsoleWorld
    sink: FaultySink
    refused: str  # the address the SMTP server refuses


@pytest.fixture
def pages(held_year_template: Path, tmp_path: Path, settings_env: Path) -> Iterator[PagesWorld]:
    with Session(get_engine(f"sqlite:///{held_year_template}")) as session:
        refused = session.exec(select(Expert.email).order_by(Expert.id)).first()
    dispose_engines()
    assert refused is not None
    handler = FaultySink(tmp_path / "received", faulty_share=0, reject=frozenset({refused.lower()}))
    with MailSink(handler=handler) as sink:
        world = build_world(
            held_year_template,
            tmp_path,
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_connections=1,
            smtp_timeout_seconds=10,
        )
        world.app = create_app(world.settings, clock=lambda: NOW)
        yield PagesWorld(world, handler, refused.lower())
    dispose_engines()
