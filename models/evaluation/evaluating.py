"""结项 Final evaluation of every running grant, and the competition's close.

``evaluate_grants`` takes each running grant whose final checkpoint (code ``final``, its latest
round) has its reports in — or is past due without them, which counts as failing — computes the
final score and grade (``grading``), stores the ``FinalEvaluation`` and calls ``settle``. With an
expert panel configured (``evaluation.expert_panel``, ``models.evaluation.panel``), a grant whose
reports are in waits until its panel's sheets are all submitted or their due day has passed (the
missing ones then do not count); its score then combines both parts by the panel's weight.

``settle`` is the one function that turns a result into its decision and moves the states, each
through ``set_state`` (audited): the checkpoint (passed / failed, with its score and reason), the
final tranche, the grant and its application (completed; rectifying; terminated). A pass settles
the final tranche and the balance together by the configured ``settlement.rule``
(``models.funding.tranches.net_settlement``: the final tranche pays what the verified spending
exceeds the tranches paid before, at most its planned amount; what they paid beyond the spending
is to be returned) through the funding stage's one door, ``open_gate`` (拨款通知 and letter, or
the tranche settled off to nothing). A fail withholds the final tranche; a termination goes
through supervision's ``end_grant`` (unpaid tranches cancelled, claw-back, 终止通知). A failed 结项 under
``rectify_once`` opens supervision's one 整改 (``models.supervision.outcomes.open_rectification``:
the Rectification with its deadline and the supervisors' findings to fix, the round-2 re-check,
the grant rectifying); its 整改通知 and letter go out with the result letters. The re-check's
result settles that rectification (passed; failed; lapsed without a report).

Safe to re-run: a checkpoint already passed or failed is settled, and is left alone; the grant row
is locked (``FOR UPDATE`` on PostgreSQL; SQLite has one writer) and its checkpoint read again, so a
concurrent run of the same stage waits and then finds nothing left to do. ``close_competition``
moves the competition to ``closed`` once every grant is completed or terminated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from models.audit import effective_now, record
from models.bilingual import Bilingual
from models.competition.config import CheckpointPlan, CompetitionConfig
from models.competition.tables import Competition, competition_config
from models.errors import ConfigError, NotFound, Problem
from models.evaluation.checkpoints import FINAL, final_checkpoint
from models.evaluation.grading import OUTCOME_LABELS, FinalScore, Outcome, decide, final_score
from models.evaluation.panel import PanelStatus, panel_status
from models.evaluation.tables import FinalEvaluation
from models.funding.money import net_settlement
from models.funding.tables import Grant, Tranche
from models.funding.tranches import open_gate
from models.intake.tables import Application
from models.lifecycle import set_state
from models.states import (
    GRANTS_RUNNING,
    ApplicationState,
    CheckpointState,
    CompetitionStage,
    GrantState,
    TrancheState,
)
from models.supervision.outcomes import (
    close_rectification,
    end_grant,
    open_rectification,
    rectification_items,
)
from models.supervision.tables import Checkpoint, CheckpointReport
from models.types import utcnow

STAGE = "evaluation"
GRANTS_CLOSED = frozenset({GrantState.completed, GrantState.terminated})


@dataclass(frozen=True)
class Settled:
    grant_id: int
    evaluation_id: int
    round: int
    score: str
    grade: str
    outcome: Outcome


def final_plan(config: CompetitionConfig, *, source: str) -> CheckpointPlan:
    plan = next((c for c in config.checkpoints if c.code == FINAL), None)
    if plan is None:
        raise ConfigError(
            Problem(source, "checkpoints", "未配置结项评估（code: final）", "no checkpoint with code 'final'")
        )
    return plan


def _locked(session: Session, competition: Competition) -> Competition:
    """The competition row, locked for this transaction and read afresh (a concurrent run waits)."""
    return session.exec(
        select(Competition)
        .where(Competition.id == competition.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def open_evaluation(session: Session, *, competition: Competition, actor: str) -> bool:
    """项目实施 → 结项评估; False when the competition is there already (or past it)."""
    competition = _locked(session, competition)
    if competition.stage is not CompetitionStage.implementation:
        return False
    set_state(
        session, competition, CompetitionStage.evaluation, actor=actor, reason="结项评估 / final evaluation"
    )
    return True


def finals_ready(session: Session, *, competition_id: int, on: date) -> int:
    """How many running grants a final-evaluation run would act on ``on`` this day (the lifecycle
    asks): those ``evaluate_grants`` would evaluate, and — with an expert panel — those whose
    reports are in and whose panel is still to be assigned; a grant waiting for its panel's sheets
    does not count."""
    competition = session.get(Competition, competition_id)
    panel = competition_config(competition).evaluation.expert_panel if competition else None
    grant_ids = session.exec(
        select(Grant.id).where(Grant.competition_id == competition_id, col(Grant.state).in_(GRANTS_RUNNING))
    ).all()
    count = 0
    for grant_id in grant_ids:
        checkpoint = final_checkpoint(session, grant_id=grant_id or 0)
        if not _ready(checkpoint, on):
            continue
        assert checkpoint is not None
        if panel is not None and checkpoint.state is CheckpointState.submitted:
            status = panel_status(session, checkpoint_id=checkpoint.id or 0, on=on)
            if status.sheets and not status.ready:
                continue
        count += 1
    return count


def _reports(session: Session, checkpoint_id: int) -> list[CheckpointReport]:
    return list(
        session.exec(
            select(CheckpointReport)
            .where(CheckpointReport.checkpoint_id == checkpoint_id)
            .order_by(col(CheckpointReport.submitted_at), col(CheckpointReport.id))
        )
    )


def _ready(checkpoint: Checkpoint | None, on: date) -> bool:
    if checkpoint is None:
        return False
    if checkpoint.state is CheckpointState.submitted:
        return True
    return checkpoint.state is CheckpointState.open and checkpoint.due_on < on  # no report in time


def evaluate_grants(session: Session, *, competition_id: int, actor: str, on: date) -> list[Settled]:
    """Evaluate every running grant whose 结项 is in (see the module docstring); the caller commits."""
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    config = competition_config(competition)
    plan = final_plan(config, source=competition.config_source or competition.slug)
    grant_ids = session.exec(
        select(Grant.id)
        .where(Grant.competition_id == competition_id, col(Grant.state).in_(GRANTS_RUNNING))
        .order_by(col(Grant.id))
    ).all()
    settled = []
    for grant_id in grant_ids:
        grant = session.exec(
            select(Grant)
            .where(Grant.id == grant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        assert grant.id is not None
        checkpoint = final_checkpoint(session, grant_id=grant.id)
        if grant.state not in GRANTS_RUNNING or not _ready(checkpoint, on):
            continue
        assert checkpoint is not None and checkpoint.id is not None
        panel: PanelStatus | None = None
        if config.evaluation.expert_panel is not None and checkpoint.state is CheckpointState.submitted:
            panel = panel_status(session, checkpoint_id=checkpoint.id, on=on)
            if not panel.ready:
                continue  # the panel's sheets are not all in, and their due day has not passed
        reports = _reports(session, checkpoint.id)
        scores = {r.supervisor_id: r.score for r in reports}
        result = final_score(
            scores,
            config=config,
            pass_score=plan.pass_score,
            panel=panel.scores if panel is not None else None,
        )
        evaluation = _store(session, grant, checkpoint, reports, result, panel)
        outcome = settle(
            session,
            grant=grant,
            checkpoint=checkpoint,
            result=result,
            actor=actor,
            on=on,
            config=config,
            spent_fen=evaluation.spent_fen,
        )
        evaluation.outcome = str(outcome)
        session.add(evaluation)
        session.flush()
        assert evaluation.id is not None
        settled.append(
            Settled(grant.id, evaluation.id, checkpoint.round, str(result.score), result.grade, outcome)
        )
    return settled


def _store(
    session: Session,
    grant: Grant,
    checkpoint: Checkpoint,
    reports: list[CheckpointReport],
    result: FinalScore,
    panel: PanelStatus | None = None,
) -> FinalEvaluation:
    """The grant's FinalEvaluation row, made or replaced by this round's result."""
    assert grant.id is not None
    evaluation = session.exec(select(FinalEvaluation).where(FinalEvaluation.grant_id == grant.id)).first()
    latest = reports[-1] if reports else None
    if evaluation is None:
        evaluation = FinalEvaluation(grant_id=grant.id, score=result.score, grade=result.grade)
    evaluation.score, evaluation.grade, evaluation.passed = result.score, result.grade, result.passed
    evaluation.round = checkpoint.round
    evaluation.activities_held = latest.activities_held if latest else 0
    evaluation.person_times = latest.person_times if latest else 0
    evaluation.spent_fen = latest.spent_fen if latest else 0
    evaluation.summary = "\n".join(r.findings for r in reports if r.findings) or (
        "未在期限内提交结项评估报告 / no final report by the deadline" if not reports else ""
    )
    evaluation.supervisor_score = result.supervisor_score
    evaluation.panel_score = result.panel_score
    evaluation.panel_weight = result.panel_weight
    evaluation.panel_counted = len(result.panel_experts)
    evaluation.panel_assigned = panel.assigned if panel is not None else 0
    evaluation.evaluated_at = utcnow()
    session.add(evaluation)
    session.flush()
    return evaluation


def release_final_tranche(
    session: Session, tranche: Tranche, *, actor: str, on: date, reason: str, amount_fen: int
) -> None:
    """Open the final tranche's gate through the funding stage's one door, paying what the
    settlement gives (拨款通知 and its letter; nothing paid: the tranche settled off)."""
    open_gate(
        session,
        grant_id=tranche.grant_id,
        gate=tranche.gate,
        passed=True,
        reason=reason,
        actor=actor,
        on=on,
        amount_fen=amount_fen,
    )


def settle(
    session: Session,
    *,
    grant: Grant,
    checkpoint: Checkpoint,
    result: FinalScore,
    actor: str,
    on: date,
    config: CompetitionConfig | None = None,
    spent_fen: int | None = None,
) -> Outcome:
    """The decision for one final result, and every state it moves (see the module docstring).
    ``spent_fen``: the verified spending of this round (default: the grant's FinalEvaluation's)."""
    assert grant.id is not None
    competition = session.get(Competition, grant.competition_id)
    application = session.get(Application, grant.application_id)
    assert competition is not None and application is not None
    config = config or competition_config(competition)
    outcome = decide(result.passed, rule=config.evaluation.on_fail, round_=checkpoint.round)
    zh, en = OUTCOME_LABELS[outcome]
    which = "结项评估" if checkpoint.round == 1 else f"整改后结项复评（第{checkpoint.round}轮）"
    why = str(
        Bilingual(
            f"{which}得分{result.score}分（{result.grade}），{zh}",
            f"round {checkpoint.round} {result.score} ({result.grade}): {en}",
        )
    )
    tranches = list(
        session.exec(select(Tranche).where(Tranche.grant_id == grant.id).order_by(col(Tranche.seq)))
    )
    final_tranche = next((t for t in tranches if t.gate == checkpoint.code), None)
    if spent_fen is None:
        stored = session.exec(select(FinalEvaluation).where(FinalEvaluation.grant_id == grant.id)).first()
        spent_fen = stored.spent_fen if stored is not None else 0
    checkpoint.score, checkpoint.outcome_reason = result.score, why
    checkpoint.settled_at = effective_now(session)
    set_state(
        session,
        checkpoint,
        CheckpointState.passed if result.passed else CheckpointState.failed,
        actor=actor,
        reason=why,
    )
    if checkpoint.round > 1:  # the 整改 re-check settles the rectification it checks
        lapsed = not result.passed and not _reports(session, checkpoint.id or 0)
        close_rectification(
            session, checkpoint=checkpoint, passed=result.passed, reason=why, actor=actor, lapsed=lapsed
        )
    if outcome in (Outcome.released, Outcome.withheld):
        if outcome is Outcome.released and final_tranche is not None:
            paid_before = sum(
                t.paid_fen for t in tranches if t.state is TrancheState.released and t is not final_tranche
            )
            settlement = net_settlement(
                planned_fen=final_tranche.amount_fen,
                paid_before_fen=paid_before,
                spent_fen=spent_fen,
                rule=config.settlement.rule,
            )
            release_final_tranche(
                session, final_tranche, actor=actor, on=on, reason=why, amount_fen=settlement.pay_fen
            )
        elif final_tranche is not None and final_tranche.state is TrancheState.planned:
            set_state(session, final_tranche, TrancheState.withheld, actor=actor, reason=why)
        for target in (GrantState.active, GrantState.completed):
            if grant.state is not target and target in _moves(grant):
                set_state(session, grant, target, actor=actor, reason=why)
        for app_target in (ApplicationState.active, ApplicationState.completed):
            if application.state is not app_target and app_target in _moves(application):
                set_state(session, application, app_target, actor=actor, reason=why)
    elif outcome is Outcome.rectification:
        # supervision's one 整改: a Rectification (deadline, what to fix), the round-2 re-check,
        # grant and application rectifying; its 整改通知 and letter follow (queue_rectification_notices)
        if final_tranche is not None and final_tranche.state is TrancheState.planned:
            set_state(session, final_tranche, TrancheState.withheld, actor=actor, reason=why)
        assert checkpoint.settled_at is not None
        open_rectification(
            session,
            checkpoint=checkpoint,
            grant=grant,
            days=final_plan(config, source=competition.slug).rectification_days,
            items=rectification_items(_reports(session, checkpoint.id or 0), why),
            reason=why,
            actor=actor,
            today=on,
            opened_at=checkpoint.settled_at,
        )
    else:  # the termination and its money, once: supervision's end_grant (终止通知 follows)
        end_grant(
            session,
            grant=grant,
            reason=why,
            actor=actor,
            now=checkpoint.settled_at or effective_now(session),
            data={"checkpoint_id": checkpoint.id},
            accepted_fen=spent_fen,
        )
    record(
        session,
        actor=actor,
        entity="grant",
        entity_id=grant.id,
        action="final_evaluation",
        reason=why,
        data={
            "round": checkpoint.round,
            "score": str(result.score),
            "grade": result.grade,
            "outcome": str(outcome),
        },
    )
    session.flush()
    return outcome


def _moves(obj: object) -> frozenset[object]:
    from models.lifecycle import allowed_moves

    return frozenset(allowed_moves(obj))


def close_competition(session: Session, *, competition: Competition, actor: str) -> bool:
    """结项评估 → 已结束 once every grant is completed or terminated; False otherwise."""
    competition = _locked(session, competition)
    if competition.stage is not CompetitionStage.evaluation:
        return False
    states = session.exec(select(Grant.state).where(Grant.competition_id == competition.id)).all()
    if any(state not in GRANTS_CLOSED for state in states):
        return False
    set_state(
        session,
        competition,
        CompetitionStage.closed,
        actor=actor,
        reason=f"全部{len(states)}个项目已结项或终止 / every grant completed or terminated",
    )
    return True
