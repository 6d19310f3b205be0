"""Test data built directly as rows: a competition from the bundled example, organisations and
applications in any state. Every function is keyword-only, takes a ``Session``, flushes and returns
the row; unspecified fields get plausible, unique values."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models.competition.tables import Competition
from models.intake.tables import Application, Organisation
from models.setup import create_competition
from models.states import ApplicationState, OrganisationKind

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "jiangtou-2025" / "competition.yaml"
_counter = itertools.count(1)


def example_config_text(**replacements: str) -> str:
    """The bundled 江头 configuration, with ``old=new`` text replacements (keys: the old text)."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"{old!r} is not in the example configuration"
        text = text.replace(old, new)
    return text


def make_competition(session: Session, *, text: str | None = None, actor: str = "test") -> Competition:
    """A competition from ``text`` (default: the bundled 江头街道 2025 example)."""
    return create_competition(
        session, text=text or example_config_text(), source=str(EXAMPLE_CONFIG), actor=actor
    )


def make_organisation(
    session: Session,
    *,
    name: str | None = None,
    kind: OrganisationKind = OrganisationKind.registered,
    community: str = "江头",
    **fields: Any,
) -> Organisation:
    number = next(_counter)
    organisation = Organisation(
        name=name or f"测试社会服务中心{number}",
        kind=kind,
        registration_number=fields.pop("registration_number", f"52350206TEST{number:05d}"),
        community=community,
        **fields,
    )
    session.add(organisation)
    session.flush()
    return organisation


def make_application(
    session: Session,
    *,
    competition: Competition,
    organisation: Organisation | None = None,
    ref: str | None = None,
    state: ApplicationState = ApplicationState.eligible,
    pool: str | None = None,
    category: str = "elderly",
    community: str = "江头",
    amount_fen: int = 500_000,
    submitted_at: datetime | None = None,
    **fields: Any,
) -> Application:
    """An application (default: eligible, 5,000 yuan, 一老, 江头) of a new organisation.

    The pool defaults to ``registered`` for registered organisations and ``volunteer`` otherwise,
    as in the example configuration.
    """
    number = next(_counter)
    organisation = organisation or make_organisation(session, community=community)
    assert competition.id is not None and organisation.id is not None
    if pool is None:
        pool = "registered" if organisation.kind is OrganisationKind.registered else "volunteer"
    application = Application(
        competition_id=competition.id,
        organisation_id=organisation.id,
        ref=ref or f"T{competition.year}-{number:03d}",
        title=fields.pop("title", f"测试项目{number}"),
        category=category,
        pool=pool,
        community=community,
        amount_fen=amount_fen,
        state=state,
        submitted_at=submitted_at or datetime(2025, 2, 1, 9, 0, tzinfo=UTC),
        **fields,
    )
    session.add(application)
    session.flush()
    return application
