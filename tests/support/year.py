"""One service year, start to end, for the evaluation's tests: ``evaluated_year(session, ...)``.

The year starts from the bundled 江头街道 example and runs the real earlier stages through their
domain functions: setup (``create_competition``), the call, intake of the example files
(applications.xlsx, the GBK .csv and the filled-in Word forms), screening, the expert review
(experts from the configuration, seeded points on every sheet, ``close_review``).

Then comes the ONE hand-made step (``_fund_and_supervise``), clearly marked: funding decisions,
grants, tranches, checkpoints and the supervisors' reports are written here as rows, because the
funding (issue 12) and supervision (issue 13) stages are being built beside this branch. At merge
the lead replaces that function with the funding and supervision flows; everything before it and
every assertion on the evaluation stays as it is.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config, list_criteria
from models.db import dispose_engines, get_engine, upgrade_database
from models.evaluation.grading import planned_delivery
from models.funding.tables import FundingDecision, Grant, Tranche
from models.intake.imports import import_applications
from models.intake.tables import Application, BudgetLine
from models.lifecycle import set_state
from models.money import split_by_percent
from models.review.results import close_review, results_of
from models.review.reviewing import assign_reviews, load_experts
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewAssignment
from models.screening.eligibility import screen_applications
from models.screening.notices import open_screening
from models.states import (
    ApplicationState,
    CheckpointState,
    CompetitionStage,
    GrantState,
    TrancheState,
)
from models.supervision.tables import Checkpoint, CheckpointReport, Supervisor
from portal.demo_experts import demo_points
from tests.support.factories import EXAMPLE_CONFIG, example_config_text

EXAMPLE = EXAMPLE_CONFIG.parent
INTAKE_AT = datetime(2025, 2, 28, 1, 0, tzinfo=UTC)
SCREENING_AT = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
REVIEW_AT = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
ACTOR = "test:year"


@dataclass
class Year:
    """What ``evaluated_year`` made: the competition and its funded projects' grants by 申报编号."""

    competition: Competition
    grants: dict[str, Grant] = field(default_factory=dict)
    final_checkpoints: dict[str, Checkpoint] = field(default_factory=dict)

    @property
    def competition_id(self) -> int:
        assert self.competition.id is not None
        return self.competition.id

    @classmethod
    def load(cls, session: Session, *, slug: str = "jiangtou-2025") -> Year:
        """The year stored in a database made by ``evaluated_year`` (a copied file, say)."""
        from models.competition.tables import get_competition

        competition = get_competition(session, slug=slug)
        year = cls(competition=competition)
        rows = session.exec(
            select(Grant, Application)
            .join(Application, col(Application.id) == col(Grant.application_id))
            .where(Grant.competition_id == competition.id)
            .order_by(col(Grant.id))
        )
        for grant, application in rows:
            year.grants[application.ref] = grant
            checkpoint = session.exec(
                select(Checkpoint).where(Checkpoint.grant_id == grant.id, Checkpoint.code == "final")
            ).first()
            if checkpoint is not None:
                year.final_checkpoints[application.ref] = checkpoint
        return year

    def refs(self) -> list[str]:
        """The funded projects' 申报编号, best-ranked first (the order of ``final_scores``)."""
        return list(self.grants)


def example_files() -> list[Path]:
    forms = sorted((EXAMPLE / "forms").glob("*.docx"))
    return [EXAMPLE / "applications.xlsx", EXAMPLE / "applications-gbk.csv", *forms]


def evaluated_year(
    session: Session,
    *,
    final_scores: Mapping[int, tuple[str, ...]] | None = None,
    config_text: str | None = None,
) -> Year:
    """The example year up to submitted 结项 reports, ready for the final evaluation.

    ``final_scores`` gives, by the funded project's position (0 = best ranked), the scores of the
    final checkpoint's reports (one per supervisor); unlisted projects get 85 and 91. By default the
    fourth-best project scores 55 and 58 (a fail).
    """
    competition = _selection(session, config_text or example_config_text())
    scores = {3: ("55", "58")} if final_scores is None else dict(final_scores)
    year = Year(competition=competition)
    _fund_and_supervise(session, year, scores)
    session.flush()
    return year


# ---- the real earlier stages ---------------------------------------------------------------------


def _selection(session: Session, text: str) -> Competition:
    from models.call.notices import open_call, write_call_documents
    from models.settings import get_settings
    from models.setup import create_competition

    competition = create_competition(session, text=text, source=str(EXAMPLE_CONFIG), actor=ACTOR)
    assert competition.id is not None
    call_at = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
    write_call_documents(session, competition=competition, now=call_at, settings=get_settings())
    open_call(session, competition=competition, now=call_at, actor=ACTOR)
    for path in example_files():
        import_applications(session, competition_id=competition.id, path=path, actor=ACTOR, now=INTAKE_AT)
    open_screening(session, competition=competition, now=SCREENING_AT, actor=ACTOR)
    screen_applications(session, competition_id=competition.id, actor=ACTOR)
    load_experts(session, competition_id=competition.id, actor=ACTOR)
    assign_reviews(session, competition_id=competition.id, actor=ACTOR)
    set_state(session, competition, CompetitionStage.review, actor=ACTOR, reason="review opens")
    criteria = {c.code: (c.max_points, c.step) for c in list_criteria(session, competition_id=competition.id)}
    sheets = session.exec(
        select(ReviewAssignment)
        .where(ReviewAssignment.competition_id == competition.id)
        .order_by(col(ReviewAssignment.id))
    )
    for sheet in list(sheets):
        assert sheet.id is not None
        points = demo_points(
            criteria, seed=2025, application_id=sheet.application_id, expert_id=sheet.expert_id
        )
        save_sheet(session, assignment_id=sheet.id, points=points, submit=True, actor=ACTOR, now=REVIEW_AT)
    close_review(session, competition_id=competition.id, actor=ACTOR)
    set_state(session, competition, CompetitionStage.funding, actor=ACTOR, reason="review closed")
    return competition


# ---- HAND-MADE: funding and supervision (replace with their flows at merge) ---------------------


def _fund_and_supervise(session: Session, year: Year, final_scores: Mapping[int, tuple[str, ...]]) -> None:
    """HAND-MADE STAND-IN for the funding (issue 12) and supervision (issue 13) stages.

    Funds each pool's best-ranked projects (aggregate ≥ funding.min_aggregate) while the pool's
    money lasts, signs every agreement, pays the first two tranches, passes the 中期评估 and leaves
    the 结项评估 ``submitted`` with one report per supervisor. Every state moves through set_state.
    """
    competition = year.competition
    assert competition.id is not None
    config = competition_config(competition)
    applications = {
        a.id: a for a in session.exec(select(Application).where(Application.competition_id == competition.id))
    }
    left = {p.code: p.amount if p.amount is not None else config.budget.pool for p in config.pools}
    funded: list[Application] = []
    for result in sorted(results_of(session, competition_id=competition.id), key=lambda r: r.rank or 999):
        application = applications[result.application_id]
        amount = min(application.amount_fen, config.budget.per_project_cap)
        chosen = result.aggregate >= config.funding.min_aggregate and left[application.pool] >= amount
        if chosen:
            left[application.pool] -= amount
            funded.append(application)
        session.add(
            FundingDecision(
                competition_id=competition.id,
                application_id=application.id,
                funded=chosen,
                amount_fen=amount if chosen else 0,
                rank=result.rank,
                pool=application.pool,
                explanation="（测试替身 / test stand-in）",
                released=True,
            )
        )
        set_state(
            session,
            application,
            ApplicationState.shortlisted if chosen else ApplicationState.not_funded,
            actor=ACTOR,
        )
    set_state(session, competition, CompetitionStage.publicity, actor=ACTOR, reason="公示 (stand-in)")
    set_state(session, competition, CompetitionStage.implementation, actor=ACTOR, reason="实施 (stand-in)")
    supervisors = list(
        session.exec(
            select(Supervisor).where(Supervisor.competition_id == competition.id).order_by(col(Supervisor.id))
        )
    )  # stored by setup from the configuration
    plans = {c.code: c for c in config.checkpoints}
    for position, application in enumerate(funded):
        set_state(session, application, ApplicationState.funded, actor=ACTOR)
        set_state(session, application, ApplicationState.active, actor=ACTOR)
        amount = min(application.amount_fen, config.budget.per_project_cap)
        grant = Grant(
            competition_id=competition.id,
            application_id=application.id,
            amount_fen=amount,
            agreement_no=f"JT2025-XY-{position + 1:03d}",
            signed_on=date(2025, 4, 10),
        )
        session.add(grant)
        session.flush()
        set_state(session, grant, GrantState.active, actor=ACTOR, reason="协议签订 (stand-in)")
        parts = split_by_percent(amount, [t.percent for t in config.tranches])
        paid = 0
        for seq, (plan, part) in enumerate(zip(config.tranches, parts, strict=True), start=1):
            tranche = Tranche(
                grant_id=grant.id,
                seq=seq,
                label=plan.label,
                percent=plan.percent,
                amount_fen=part,
                gate=plan.gate,
            )
            session.add(tranche)
            session.flush()
            if plan.gate != "final":
                set_state(session, tranche, TrancheState.due, actor=ACTOR)
                set_state(session, tranche, TrancheState.released, actor=ACTOR)
                tranche.released_on = date(2025, 4, 20) if plan.gate == "signing" else date(2025, 7, 5)
                paid += part
        lines = list(
            session.exec(
                select(BudgetLine)
                .where(BudgetLine.application_id == application.id)
                .order_by(col(BudgetLine.position))
            )
        )
        for code in ("midterm", "final"):
            checkpoint = Checkpoint(
                grant_id=grant.id, supervisor_id=supervisors[0].id, code=code, due_on=plans[code].due
            )
            session.add(checkpoint)
            session.flush()
            set_state(session, checkpoint, CheckpointState.open, actor=ACTOR)
            scores = ("80", "84") if code == "midterm" else final_scores.get(position, ("85", "91"))
            planned_sessions, planned_people = planned_delivery(application.details)
            share = Decimal("0.5") if code == "midterm" else Decimal("1")
            delivered = Decimal(1) if Decimal(scores[0]) >= 60 else Decimal("0.6")
            spent = int(Decimal(paid) * share) if code == "midterm" else paid - 1_000 * position
            for supervisor, score in zip(supervisors, scores, strict=False):
                session.add(
                    CheckpointReport(
                        checkpoint_id=checkpoint.id,
                        supervisor_id=supervisor.id,
                        activities_held=int(planned_sessions * share * delivered),
                        person_times=int(planned_people * share * delivered),
                        spent_fen=spent,
                        indicators={"spent_by_line": _spent_by_line(lines, spent)},
                        score=Decimal(score),
                        passed=Decimal(score) >= plans[code].pass_score,
                        findings=f"{supervisor.name}：台账齐全，活动按计划开展。",
                    )
                )
            set_state(session, checkpoint, CheckpointState.submitted, actor=ACTOR)
            if code == "midterm":
                set_state(session, checkpoint, CheckpointState.passed, actor=ACTOR)
            else:
                year.final_checkpoints[application.ref] = checkpoint
        year.grants[application.ref] = grant
    session.flush()


def _spent_by_line(lines: list[BudgetLine], spent: int) -> dict[str, int]:
    """The money spent, spread over the budget lines in proportion (integer fen, adds up)."""
    if not lines:
        return {}
    total = sum(line.amount_fen for line in lines) or 1
    shares = [spent * line.amount_fen // total for line in lines]
    shares[-1] += spent - sum(shares)
    return {line.item: share for line, share in zip(lines, shares, strict=True)}


# ---- fixtures (import them into a test module or conftest) --------------------------------------


@pytest.fixture(scope="session")
def year_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example year up to the submitted 结项 reports in a SQLite file, built once a session."""
    path = tmp_path_factory.mktemp("year") / "grantflow.db"
    engine = get_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    with Session(engine, expire_on_commit=False) as session:
        evaluated_year(session)
        session.commit()
    dispose_engines()
    return path


@pytest.fixture
def year_session(year_template: Path, tmp_path: Path) -> Iterator[Session]:
    """A session on a private copy of the evaluated year."""
    copy = tmp_path / "year.db"
    shutil.copy(year_template, copy)
    engine = get_engine(f"sqlite:///{copy}")
    with Session(engine, expire_on_commit=False) as session:
        yield session
    dispose_engines()


@pytest.fixture
def year(year_session: Session) -> Year:
    return Year.load(year_session)
