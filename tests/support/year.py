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
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from cli.demo.people.experts import demo_points, sample_habits
from models.competition.tables import Competition, competition_config, list_criteria
from models.db import dispose_engines, get_engine, upgrade_database
from models.evaluation.grading import planned_delivery
from models.funding.tables import FundingDecision, Grant
from models.intake.imports import import_applications
from models.intake.tables import Application, BudgetLine
from models.lifecycle import set_state
from models.review.results import close_review
from models.review.reviewing import assign_reviews, load_experts
from models.review.score_sheets import save_sheet
from models.review.tables import ReviewAssignment
from models.screening.eligibility import screen_applications
from models.screening.notices import open_screening
from models.states import (
    CheckpointState,
    CompetitionStage,
)
from models.supervision.tables import Checkpoint, CheckpointReport
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
            select(Grant, Application, FundingDecision)
            .join(Application, col(Application.id) == col(Grant.application_id))
            .join(FundingDecision, col(FundingDecision.application_id) == col(Grant.application_id))
            .where(Grant.competition_id == competition.id)
            .order_by(col(FundingDecision.rank), col(Grant.id))
        )
        for grant, application, _ in rows:
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
            criteria,
            seed=sample_habits().seed,
            application_id=sheet.application_id,
            expert_id=sheet.expert_id,
        )
        save_sheet(session, assignment_id=sheet.id, points=points, submit=True, actor=ACTOR, now=REVIEW_AT)
    close_review(session, competition_id=competition.id, actor=ACTOR)
    set_state(session, competition, CompetitionStage.funding, actor=ACTOR, reason="review closed")
    return competition


# ---- funding and supervision through their real model functions --------------------------------

MIDTERM_OPEN_AT = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)  # 中期评估 opens (due 30 June)
MIDTERM_AT = datetime(2025, 6, 20, 7, 0, tzinfo=UTC)  # reports and records filed, settled
FINAL_OPEN_AT = datetime(2025, 9, 16, 1, 0, tzinfo=UTC)  # 结项评估 opens (due 15 October)
FINAL_AT = datetime(2025, 10, 10, 7, 0, tzinfo=UTC)  # 结项报告 filed


def _fund_and_supervise(session: Session, year: Year, final_scores: Mapping[int, tuple[str, ...]]) -> None:
    """Funding and supervision through their real model functions, on the example's 2025 timeline.

    Funding as its flows run it (``tests.support.grants.fund``: every funded agreement signed);
    supervision as the daily flow and the portal run it: supervisors from the configuration,
    assigned; checkpoints scheduled and opened; each 中期报告 and 督导记录 saved through
    ``save_progress_report`` / ``save_record`` (what the portal calls) and settled by
    ``settle_submitted`` (the mid-term tranche released); the 结项评估 checkpoints opened and each
    结项报告 saved through ``save_progress_report``.

    HAND-MADE, the one step left: the supervisor's 结项 record (one ``CheckpointReport`` per final
    checkpoint, by its supervisor, as the table allows, the checkpoint moved to ``submitted``
    through set_state as ``save_record`` does). Why: the final evaluation reads the spending per
    budget line from ``CheckpointReport.indicators["spent_by_line"]`` (models/evaluation/
    spending.py), which ``save_record`` never writes (it stores the rubric's points there; the
    per-line spending is in the grantee's ``ProgressReport.spending``) — a record saved by the real
    code would reconcile every line at 0. The score of that record is the first of
    ``final_scores[position]``.
    """
    from models.settings import get_settings
    from models.supervision.outcomes import settle_submitted
    from models.supervision.records import save_record
    from models.supervision.schedule import checkpoints_of
    from tests.support.grants import fund
    from tests.support.supervision import open_supervision, progress_fields, record_fields

    competition = year.competition
    assert competition.id is not None
    settings = get_settings()
    config = competition_config(competition)
    fund(session, competition, top=None, documents_dir=settings.documents_dir)
    open_supervision(session, competition_id=competition.id, settings=settings, now=MIDTERM_OPEN_AT)
    grants = {g.id: g for g in session.exec(select(Grant).where(Grant.competition_id == competition.id))}
    midterms = [c for c in checkpoints_of(session, competition_id=competition.id) if c.code == "midterm"]
    for checkpoint in midterms:
        assert checkpoint.id is not None and checkpoint.state is CheckpointState.open
        _file(session, checkpoint, progress_fields(session, grant_id=checkpoint.grant_id), at=MIDTERM_AT)
        save_record(
            session,
            checkpoint_id=checkpoint.id,
            fields=record_fields(session, competition, code="midterm", share=0.82),
            submit=True,
            actor=f"supervisor:{checkpoint.supervisor_id}",
            now=MIDTERM_AT,
        )
    settled = settle_submitted(
        session, competition_id=competition.id, actor=ACTOR, now=MIDTERM_AT, timezone=settings.timezone
    )
    assert settled and all(s.passed for s in settled)
    open_supervision(session, competition_id=competition.id, settings=settings, now=FINAL_OPEN_AT)
    ranked = {
        d.application_id: d.rank or 999
        for d in session.exec(select(FundingDecision).where(FundingDecision.competition_id == competition.id))
    }
    order = sorted(grants.values(), key=lambda g: (ranked[g.application_id], g.id or 0))
    plan = config.checkpoint("final")
    assert plan is not None
    for position, grant in enumerate(order):
        application = session.get(Application, grant.application_id)
        assert application is not None and grant.id is not None
        checkpoint = session.exec(
            select(Checkpoint).where(Checkpoint.grant_id == grant.id, Checkpoint.code == "final")
        ).one()
        assert checkpoint.state is CheckpointState.open
        _file(session, checkpoint, progress_fields(session, grant_id=grant.id), at=FINAL_AT)
        score = Decimal(final_scores.get(position, ("85", "91"))[0])
        lines = list(
            session.exec(
                select(BudgetLine)
                .where(BudgetLine.application_id == application.id)
                .order_by(col(BudgetLine.position))
            )
        )
        spent = grant.amount_fen - 1_000 * position  # nearly all of it: 10 yuan less a rank down
        planned_sessions, planned_people = planned_delivery(application.details)
        delivered = Decimal(1) if score >= plan.pass_score else Decimal("0.6")
        assert checkpoint.supervisor_id is not None
        session.add(
            CheckpointReport(
                checkpoint_id=checkpoint.id or 0,
                supervisor_id=checkpoint.supervisor_id,
                visit_date=FINAL_AT.date(),
                visit_mode="on_site",
                activities_held=int(planned_sessions * delivered),
                person_times=int(planned_people * delivered),
                spent_fen=spent,
                indicators={"spent_by_line": _spent_by_line(lines, spent)},
                score=score,
                computed_passed=score >= plan.pass_score,
                passed=score >= plan.pass_score,
                findings="台账齐全，活动按计划开展。",
                draft=False,
                submitted_at=FINAL_AT,
                updated_at=FINAL_AT,
            )
        )
        session.flush()
        set_state(
            session, checkpoint, CheckpointState.submitted, actor=ACTOR, reason="督导已提交 / submitted"
        )
        year.grants[application.ref] = grant
        year.final_checkpoints[application.ref] = checkpoint
    session.flush()


def _file(session: Session, checkpoint: Checkpoint, fields: dict[str, str], *, at: datetime) -> None:
    """The grantee's report of a checkpoint, submitted as the portal saves it."""
    from models.supervision.records import save_progress_report

    save_progress_report(
        session, checkpoint_id=checkpoint.id or 0, fields=fields, submit=True, actor="grantee", now=at
    )


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
    from models.settings import override_settings, reset_settings

    folder = tmp_path_factory.mktemp("year")
    path = folder / "grantflow.db"
    override_settings(data_dir=folder / "data")  # its documents go beside it, never into the checkout
    try:
        engine = get_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        with Session(engine, expire_on_commit=False) as session:
            evaluated_year(session)
            session.commit()
        dispose_engines()
    finally:
        reset_settings()
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
