"""Funded projects for the supervision tests, made by the real earlier stages.

``funded_competition`` starts from the bundled 江头街道 example: setup (the real configuration) →
the call → intake of the example files (the Excel sheet and every Word 申报书) → screening → review
(the configured experts, their sheets saved through ``save_sheet`` — what the portal calls) →
``close_review``. Then it funds the best-ranked applications.

FUNDING-MERGE: funding is the only hand-made step — Grant and Tranche rows (tranches from the
configured plan, the signing tranche released) and the application / competition moves up to
"active" / "implementation". Replace ``_fund`` with the funding flow once issue 12 is merged.
"""

from __future__ import annotations

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
from sqlmodel import Session, col, select

from models.call.notices import open_call
from models.competition.tables import Competition, competition_config
from models.db import dispose_engines, get_engine, upgrade_database
from models.funding.tables import Grant, Tranche
from models.intake.imports import import_applications
from models.intake.tables import Application
from models.lifecycle import set_state
from models.money import split_by_percent
from models.review.results import close_review
from models.review.reviewing import assign_reviews, load_experts
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewAssignment, ReviewResult
from models.screening.eligibility import screen_applications
from models.screening.notices import open_screening
from models.settings import Settings, get_settings
from models.setup import create_competition
from models.states import ApplicationState, CompetitionStage, GrantState, TrancheState
from tests.conftest import EXAMPLE_DIR
from tests.support.factories import EXAMPLE_CONFIG, example_config_text

BEIJING = ZoneInfo("Asia/Shanghai")
CALL_AT = datetime(2025, 1, 6, 9, 0, tzinfo=BEIJING)
INTAKE_AT = datetime(2025, 2, 28, 12, 0, tzinfo=BEIJING)
SCREEN_AT = datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING)
SCORE_AT = datetime(2025, 3, 14, 20, 0, tzinfo=BEIJING)
CLOSE_AT = datetime(2025, 3, 21, 17, 30, tzinfo=BEIJING)
SIGNED_ON = date(2025, 4, 10)
ACTOR = "admin:test"
CRITERIA = {"need": 20, "design": 25, "capacity": 20, "budget": 15, "innovation": 10, "sustainability": 10}


@dataclass(frozen=True)
class Funded:
    competition_id: int
    slug: str
    grant_ids: list[int]  # best rank first


def _points(application: Application, expert_id: int) -> dict[str, str]:
    """An expert's points: a stable draw per (application, expert), Word 申报书 (with an 活动安排)
    scored higher, so the funded projects have a plan to supervise against."""
    digest = hashlib.sha256(f"{application.ref}:{expert_id}".encode()).digest()
    bonus = 0.85 if application.details.get("activities") else 0.6
    return {
        code: str(Decimal(round(top * min(1.0, bonus + digest[i] / 2550) * 2)) / 2)
        for i, (code, top) in enumerate(CRITERIA.items())
    }


def _fund(session: Session, competition: Competition, ranked: list[ReviewResult], top: int) -> list[int]:
    """FUNDING-MERGE: the hand-made funding step (see the module docstring)."""
    config = competition_config(competition)
    for stage in (CompetitionStage.publicity, CompetitionStage.implementation):
        set_state(session, competition, stage, actor=ACTOR, reason="测试：立项 / test funding")
    grants = []
    for result in ranked[:top]:
        application = session.get(Application, result.application_id)
        assert application is not None
        for state in (ApplicationState.shortlisted, ApplicationState.funded, ApplicationState.active):
            set_state(session, application, state, actor=ACTOR, reason="测试：立项 / test funding")
        grant = Grant(
            competition_id=competition.id or 0,
            application_id=application.id or 0,
            amount_fen=application.amount_fen,
            agreement_no=f"{application.ref}-XY",
            signed_on=SIGNED_ON,
        )
        session.add(grant)
        session.flush()
        set_state(session, grant, GrantState.active, actor=ACTOR, reason="协议已签 / signed")
        amounts = split_by_percent(grant.amount_fen, [t.percent for t in config.tranches])
        for seq, (plan, amount) in enumerate(zip(config.tranches, amounts, strict=True), start=1):
            tranche = Tranche(
                grant_id=grant.id or 0,
                seq=seq,
                label=plan.label,
                percent=plan.percent,
                amount_fen=amount,
                gate=plan.gate,
            )
            session.add(tranche)
            session.flush()
            if plan.gate == "signing":
                set_state(session, tranche, TrancheState.due, actor=ACTOR, reason="签约 / signed")
                tranche.released_on = SIGNED_ON
                set_state(session, tranche, TrancheState.released, actor=ACTOR, reason="首期拨付 / paid")
        grants.append(grant.id or 0)
    session.flush()
    return grants


def funded_competition(session: Session, *, top: int = 3, text: str | None = None) -> Funded:
    """A competition of the example with its ``top`` best-ranked projects funded and active."""
    competition = create_competition(
        session, text=text or example_config_text(), source=str(EXAMPLE_CONFIG), actor=ACTOR
    )
    assert competition.id is not None
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
    ranked = list(
        session.exec(
            select(ReviewResult)
            .join(Application, col(Application.id) == col(ReviewResult.application_id))
            .where(Application.competition_id == competition.id, col(ReviewResult.rank).is_not(None))
            .order_by(col(ReviewResult.rank))
        )
    )
    grants = _fund(session, competition, ranked, top)
    return Funded(competition.id, competition.slug, grants)


# ---- fixtures: the funded competition is built once per test session and copied per test ----------


@pytest.fixture(scope="session")
def funded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Funded]:
    """A SQLite file holding ``funded_competition(top=3)``, built once (it takes ~20 s)."""
    path = tmp_path_factory.mktemp("funded") / "grantflow.db"
    engine = get_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    with Session(engine, expire_on_commit=False) as session:
        funded = funded_competition(session)
        session.commit()
    engine.dispose()
    return path, funded


@pytest.fixture
def funded(funded_template: tuple[Path, Funded], settings_env: Path) -> Iterator[FundedWorld]:
    """A private copy of the funded competition, in the database the settings point at."""
    template, funded = funded_template
    settings_env.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, settings_env / "grantflow.db")
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    yield FundedWorld(settings=settings, engine=engine, data=settings_env, **vars(funded))
    dispose_engines()


@dataclass(frozen=True)
class FundedWorld(Funded):
    settings: Settings
    engine: Engine
    data: Path
