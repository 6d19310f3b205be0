"""The final evaluation on the example year: grades, the final tranche, rectification, termination,
the competition's close, re-runs, and the barred list that screening consults the next year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, func, select

from models.audit import AuditEvent
from models.competition.tables import Competition, competition_config
from models.evaluation.barred import barred_organisations
from models.evaluation.evaluating import close_competition, evaluate_grants, final_checkpoint, open_evaluation
from models.evaluation.grading import Outcome
from models.evaluation.tables import FinalEvaluation
from models.funding.tables import Grant, Tranche
from models.intake.tables import Application, Organisation
from models.lifecycle import set_state
from models.screening.eligibility import check_application
from models.states import (
    ApplicationState,
    CheckpointState,
    CompetitionStage,
    GrantState,
    TrancheState,
)
from models.supervision.tables import CheckpointReport
from tests.support.year import Year

ON = date(2025, 10, 20)
ACTOR = "admin:test"


def _evaluate(session: Session, year: Year, on: date = ON) -> dict[str, Outcome]:
    open_evaluation(session, competition=year.competition, actor=ACTOR)
    settled = evaluate_grants(session, competition_id=year.competition_id, actor=ACTOR, on=on)
    by_grant = {g.id: ref for ref, g in year.grants.items()}
    return {by_grant[s.grant_id]: s.outcome for s in settled}


def _final_tranche(session: Session, grant: Grant) -> Tranche:
    return session.exec(select(Tranche).where(Tranche.grant_id == grant.id, Tranche.gate == "final")).one()


def _configure(session: Session, year: Year, old: str, new: str) -> None:
    competition = year.competition
    assert old in competition.config_yaml
    competition.config_yaml = competition.config_yaml.replace(old, new)
    session.add(competition)
    session.flush()


def _second_round(session: Session, year: Year, ref: str, score: str) -> None:
    """The supervisor's report of the 整改 re-check (one per checkpoint, by its supervisor; a stand-in
    for the supervision stage, see tests/support/year.py)."""
    checkpoint = final_checkpoint(session, grant_id=year.grants[ref].id)
    assert checkpoint is not None and checkpoint.round == 2 and checkpoint.state is CheckpointState.scheduled
    set_state(session, checkpoint, CheckpointState.open, actor=ACTOR)
    session.add(
        CheckpointReport(
            checkpoint_id=checkpoint.id,
            supervisor_id=checkpoint.supervisor_id,
            activities_held=10,
            person_times=100,
            spent_fen=year.grants[ref].amount_fen,  # the whole grant spent: the final tranche in full
            score=Decimal(score),
            passed=Decimal(score) >= 60,
            findings="整改到位",
        )
    )
    set_state(session, checkpoint, CheckpointState.submitted, actor=ACTOR)


def test_pass_releases_the_final_tranche_and_completes(year_session, year):
    outcomes = _evaluate(year_session, year)
    refs = year.refs()
    assert len(outcomes) == len(refs) == 11
    failing = refs[3]
    assert outcomes[failing] is Outcome.rectification
    assert all(outcomes[r] is Outcome.released for r in refs if r != failing)
    best = year.grants[refs[0]]
    evaluation = year_session.exec(select(FinalEvaluation).where(FinalEvaluation.grant_id == best.id)).one()
    assert (evaluation.score, evaluation.grade, evaluation.passed, evaluation.round) == (
        Decimal("85.00"),  # the one 结项 record (one supervisor per grant)
        "良好",
        True,
        1,
    )
    assert best.state is GrantState.completed
    assert year_session.get(Application, best.application_id).state is ApplicationState.completed
    tranche = _final_tranche(year_session, best)
    assert (tranche.state, tranche.released_on) == (TrancheState.released, ON)
    # the failing project: rectifying, its final tranche withheld, a second round scheduled
    grant = year.grants[failing]
    assert grant.state is GrantState.rectifying
    assert _final_tranche(year_session, grant).state is TrancheState.withheld
    second = final_checkpoint(year_session, grant_id=grant.id)
    assert (second.round, second.due_on) == (2, date(2025, 10, 30))  # rectification_days: 10
    assert not close_competition(year_session, competition=year.competition, actor=ACTOR)


def test_rerun_changes_nothing_and_writes_no_audit_row(year_session, year):
    _evaluate(year_session, year)
    year_session.commit()
    audit = year_session.exec(select(func.count()).select_from(AuditEvent)).one()
    assert _evaluate(year_session, year) == {}
    assert year_session.exec(select(func.count()).select_from(AuditEvent)).one() == audit


def test_rectified_project_passes_second_round_and_the_competition_closes(year_session, year):
    _evaluate(year_session, year)
    failing = year.refs()[3]
    _second_round(year_session, year, failing, "74")
    assert _evaluate(year_session, year, date(2025, 10, 31)) == {failing: Outcome.released}
    grant = year.grants[failing]
    assert grant.state is GrantState.completed
    evaluation = year_session.exec(select(FinalEvaluation).where(FinalEvaluation.grant_id == grant.id)).one()
    assert (evaluation.round, evaluation.score, evaluation.grade) == (2, Decimal("74.00"), "合格")
    assert _final_tranche(year_session, grant).state is TrancheState.released
    assert close_competition(year_session, competition=year.competition, actor=ACTOR)
    assert year_session.get(Competition, year.competition_id).stage is CompetitionStage.closed


def test_second_fail_terminates_cancels_unpaid_and_bars_for_the_configured_years(year_session, year):
    _evaluate(year_session, year)
    failing = year.refs()[3]
    _second_round(year_session, year, failing, "51")
    assert _evaluate(year_session, year, date(2025, 10, 31)) == {failing: Outcome.terminated}
    grant = year.grants[failing]
    assert grant.state is GrantState.terminated
    assert year_session.get(Application, grant.application_id).state is ApplicationState.terminated
    assert _final_tranche(year_session, grant).state is TrancheState.cancelled
    assert close_competition(year_session, competition=year.competition, actor=ACTOR)
    organisation = year_session.exec(
        select(Organisation).join(Application).where(Application.id == grant.application_id)
    ).one()
    barred = barred_organisations(year_session, year=2026)
    assert [(b.name, b.until_year) for b in barred] == [(organisation.name, 2027)]
    assert "终止" in barred[0].reason_zh
    assert barred_organisations(year_session, year=2025) == []  # not the year it happened
    assert barred_organisations(year_session, year=2028) == []  # barred_years: 2
    # screening the next year consults the list (passed in: screening imports no later stage)
    application = year_session.get(Application, grant.application_id)
    config = competition_config(year.competition)
    results = {r.rule: r for r in check_application(application, organisation, config=config, barred=barred)}
    assert (
        not results["barred"].passed and "2027年（含）以前不得申报，2028年起可再申报" in results["barred"].zh
    )
    clean = {r.rule: r for r in check_application(application, organisation, config=config)}
    assert clean["barred"].passed


def test_terminate_rule_ends_the_grant_at_the_first_fail(year_session, year):
    _configure(year_session, year, "on_fail: rectify_once", "on_fail: terminate")
    failing = year.refs()[3]
    assert _evaluate(year_session, year)[failing] is Outcome.terminated
    tranches = year_session.exec(select(Tranche).where(Tranche.grant_id == year.grants[failing].id)).all()
    assert sorted(t.state for t in tranches) == [
        TrancheState.cancelled,
        TrancheState.released,
        TrancheState.released,
    ]
    assert close_competition(year_session, competition=year.competition, actor=ACTOR)


def test_withhold_rule_completes_without_the_final_tranche_and_bars(year_session, year):
    _configure(year_session, year, "on_fail: rectify_once", "on_fail: withhold")
    failing = year.refs()[3]
    assert _evaluate(year_session, year)[failing] is Outcome.withheld
    grant = year.grants[failing]
    assert grant.state is GrantState.completed
    assert _final_tranche(year_session, grant).state is TrancheState.withheld
    (barred,) = barred_organisations(year_session, year=2027)
    assert barred.reason_en.endswith("barred through 2027; may apply again from 2028")


def test_missing_report_past_due_counts_as_failing(year_session, year):
    ref = year.refs()[0]
    checkpoint = final_checkpoint(year_session, grant_id=year.grants[ref].id)
    for report in year_session.exec(
        select(CheckpointReport).where(CheckpointReport.checkpoint_id == checkpoint.id)
    ):
        year_session.delete(report)
    set_state(year_session, checkpoint, CheckpointState.open, actor=ACTOR)  # submitted → open (reopened)
    assert ref not in _evaluate(year_session, year, date(2025, 10, 15))  # not yet past due
    assert _evaluate(year_session, year, date(2025, 10, 16))[ref] is Outcome.rectification
    evaluation = year_session.exec(
        select(FinalEvaluation).where(FinalEvaluation.grant_id == year.grants[ref].id)
    ).one()
    assert (evaluation.score, evaluation.grade) == (Decimal("0.00"), "不合格")
