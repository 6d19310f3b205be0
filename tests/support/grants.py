"""Funded projects for the supervision tests, made by the real earlier stages.

``funded_competition`` starts from the bundled 江头街道 example: setup (the real configuration) →
the call → intake of the example files (the Excel sheet and every Word 申报书) → screening → review
(the configured experts, their sheets saved through ``save_sheet`` — what the portal calls) →
``close_review``. Then the real funding stage (``fund``): the decision drafted by the configured
allocation and approved, the 公示 published and closed after its window, the grants awarded and
the ``top`` best-ranked agreements signed (the signing tranche released with its 拨款通知 and
letter, delivered as the grants-sign flow does), on the example's 2025 timeline
(cli/demo/funding.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.call.notices import open_call, write_call_documents
from models.competition.tables import Competition
from models.db import dispose_engines, get_engine, upgrade_database
from models.funding.decision import approve_decision, decisions_of, draft_decision
from models.funding.grants import award_grants, record_signing
from models.funding.publicity import close_publicity, publish_notice
from models.funding.tables import grants_of
from models.intake.imports import import_applications
from models.intake.tables import Application
from models.lifecycle import set_state
from models.review.results import close_review
from models.review.reviewing import assign_reviews, load_experts
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewAssignment
from models.screening.eligibility import screen_applications
from models.screening.notices import open_screening
from models.settings import Settings, get_settings
from models.setup import create_competition
from models.states import CompetitionStage
from tasks.mail.delivery import deliver_configured
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import EXAMPLE_CONFIG, example_config_text

BEIJING = ZoneInfo("Asia/Shanghai")
CALL_AT = datetime(2025, 1, 6, 9, 0, tzinfo=BEIJING)
INTAKE_AT = datetime(2025, 2, 28, 12, 0, tzinfo=BEIJING)
SCREEN_AT = datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING)
SCORE_AT = datetime(2025, 3, 14, 20, 0, tzinfo=BEIJING)
CLOSE_AT = datetime(2025, 3, 21, 17, 30, tzinfo=BEIJING)
DECIDE_AT = datetime(2025, 3, 24, 9, 0, tzinfo=BEIJING)  # drafted, approved, 公示 to 28 March 17:30
PUBLICITY_CLOSE_AT = datetime(2025, 3, 31, 9, 5, tzinfo=BEIJING)
SIGNED_ON = date(2025, 4, 8)
ACTOR = "admin:test"
CRITERIA = {"need": 20, "design": 25, "capacity": 20, "budget": 15, "innovation": 10, "sustainability": 10}


@dataclass(frozen=True)
class Funded:
    competition_id: int
    slug: str
    grant_ids: list[int]  # best rank first


def _points(application: Application, expert_id: int) -> dict[str, str]:
    """An expert's points: a stable draw per (application, expert), the Word 申报书 (with their 执行团队
    and every section filled) scored higher, so the best-ranked projects are the Word forms."""
    digest = hashlib.sha256(f"{application.ref}:{expert_id}".encode()).digest()
    bonus = 0.85 if application.source.endswith(".docx") else 0.6
    return {
        code: str(Decimal(round(top * min(1.0, bonus + digest[i] / 2550) * 2)) / 2)
        for i, (code, top) in enumerate(CRITERIA.items())
    }


def fund(session: Session, competition: Competition, *, top: int | None, documents_dir: Path) -> list[int]:
    """The real funding stage, in the order its flows call it, on the example's 2025 timeline.

    funding-draft (``draft_decision``) → funding-approve (``approve_decision``, ``publish_notice``)
    → publicity-close after the 5 working days (``close_publicity``, ``award_grants``) →
    grants-sign (``record_signing``: the signing tranche is released with its 拨款通知). The
    allocation decides which projects are funded and with how much; the agreements of the ``top``
    best-ranked of them (all when ``top`` is None) are signed (the others stay 已立项待签约 /
    awarded, before their ``agreements_by`` date). Returns the signed grants' ids, best rank first."""
    assert competition.id is not None
    draft_decision(session, competition_id=competition.id, actor=ACTOR)
    assert approve_decision(session, competition_id=competition.id, actor=ACTOR)
    publish_notice(
        session, competition_id=competition.id, now=DECIDE_AT, actor=ACTOR, documents_dir=documents_dir
    )
    assert close_publicity(session, competition_id=competition.id, now=PUBLICITY_CLOSE_AT, actor=ACTOR)
    award_grants(session, competition_id=competition.id, actor=ACTOR)
    grants = {g.application_id: g for g in grants_of(session, competition_id=competition.id)}
    funded = [
        d
        for d in decisions_of(session, competition_id=competition.id)
        if d.funded and d.application_id in grants
    ]
    funded.sort(key=lambda d: (d.rank if d.rank is not None else 10**6, d.application_id))
    signed = []
    for decision in funded[:top] if top is not None else funded:
        grant = record_signing(
            session,
            grant_id=grants[decision.application_id].id or 0,
            on=SIGNED_ON,
            actor=ACTOR,
            documents_dir=documents_dir,
        )
        signed.append(grant.id or 0)
    assert top is None or len(signed) == top, f"funded {len(funded)} projects, fewer than {top}"
    session.flush()
    return signed


def funded_competition(
    session: Session, *, top: int = 3, text: str | None = None, settings: Settings | None = None
) -> Funded:
    """A competition of the example with its ``top`` best-ranked funded projects signed and active.

    Documents go under ``settings`` (default: the current settings)' documents folder."""
    documents_dir = (settings or get_settings()).documents_dir
    competition = create_competition(
        session, text=text or example_config_text(), source=str(EXAMPLE_CONFIG), actor=ACTOR
    )
    assert competition.id is not None
    write_call_documents(session, competition=competition, now=CALL_AT, settings=settings or get_settings())
    open_call(session, competition=competition, now=CALL_AT, actor=ACTOR)
    files = [EXAMPLE_DIR / "applications.xlsx", *sorted((EXAMPLE_DIR / "forms").glob("*.docx"))]
    for path in files:
        import_applications(session, competition_id=competition.id, path=path, actor=ACTOR, now=INTAKE_AT)
    open_screening(session, competition=competition, now=SCREEN_AT, actor=ACTOR)
    screen_applications(session, competition_id=competition.id, actor=ACTOR)
    load_experts(session, competition_id=competition.id, actor=ACTOR)
    assign_reviews(session, competition_id=competition.id, actor=ACTOR)
    set_state(session, competition, CompetitionStage.review, actor=ACTOR, reason="评审 / review")
    sheets = session.exec(
        select(ReviewAssignment).where(ReviewAssignment.competition_id == competition.id)
    ).all()
    for sheet in sheets:
        application = session.get(Application, sheet.application_id)
        assert application is not None
        save_sheet(
            session,
            assignment_id=sheet.id or 0,
            points=_points(application, sheet.expert_id),
            submit=True,
            actor=f"expert:{sheet.expert_id}",
            now=SCORE_AT,
        )
    close_review(session, competition_id=competition.id, actor=ACTOR)
    set_state(session, competition, CompetitionStage.funding, actor=ACTOR, reason="评审结束 / review closed")
    grants = fund(session, competition, top=top, documents_dir=documents_dir)
    return Funded(competition.id, competition.slug, grants)


# ---- fixtures: the funded competition is built once per test session and copied per test ----------


@pytest.fixture(scope="session")
def funded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Funded]:
    """A data folder (database and documents) holding ``funded_competition(top=3)``, built once
    (it takes ~20 s); the funding letters are delivered into its ``mail/`` as grants-sign does."""
    data = tmp_path_factory.mktemp("funded") / "data"
    settings = get_settings().model_copy(update={"data_dir": data, "smtp_host": None})
    data.mkdir(parents=True)
    engine = get_engine(f"sqlite:///{data / 'grantflow.db'}")
    upgrade_database(engine)
    with Session(engine, expire_on_commit=False) as session:
        funded = funded_competition(session, settings=settings)
        session.commit()
    report = asyncio.run(
        deliver_configured(competition_id=funded.competition_id, settings=settings, engine=engine)
    )
    assert not report.failed and not report.waiting
    engine.dispose()
    return data, funded


@pytest.fixture
def funded(funded_template: tuple[Path, Funded], settings_env: Path) -> Iterator[FundedWorld]:
    """A private copy of the funded competition's data folder, where the settings point; its
    mailbox (``mail/``) starts empty: the funding letters were delivered before the test began."""
    template, funded = funded_template
    shutil.copytree(template, settings_env, dirs_exist_ok=True, ignore=shutil.ignore_patterns("mail"))
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    yield FundedWorld(settings=settings, engine=engine, data=settings_env, **vars(funded))
    dispose_engines()


@dataclass(frozen=True)
class FundedWorld(Funded):
    settings: Settings
    engine: Engine
    data: Path
