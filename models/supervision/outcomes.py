"""What a checkpoint's result does to the grant: the tranche gate, 整改 rectification, termination.

- ``settle_checkpoint``: a submitted checkpoint passes or fails by the supervisor's verdict; a
  grantee report missing by its due day fails it when the plan says ``missing_report_fails``.
  *Pass*: the tranche gated on the checkpoint's code is released; a passed re-check closes the
  rectification and the grant is active again. *Fail*: that tranche is withheld with the reason; on
  round 1 a rectification opens (deadline ``rectification_days`` ahead, items from the record) with
  a round-2 re-check due on the deadline, and the grant moves to rectifying; a failed re-check
  fails the rectification (the administrator may now terminate).
- ``mark_overdue``: an open checkpoint past its due day with the grantee's report missing fails when
  ``missing_report_fails``; without the supervisor's record it is marked overdue (audited once).
  A rectification whose deadline passed without the grantee's re-check report lapses. The
  结项评估 is left to the final evaluation (``models.evaluation``), which counts a missing report
  as failing and settles the rectification it opened.
- ``open_rectification`` / ``close_rectification``: the one opener and closer of a 整改, for
  every checkpoint (the final evaluation uses them for a failed 结项 too).
- ``terminate_grant``: only after a failed or lapsed rectification; ``end_grant`` (also the
  final evaluation's, for a 结项 that terminates) cancels every unreleased tranche, waives the
  unsettled checkpoints and settles the money once: the claw-back is the money paid minus the
  spending the supervisors accepted (the latest submitted record), never below zero.

Every move goes through ``set_state`` (audited); the letters and documents that tell people follow
from ``models.supervision.notices`` (keyed, so exactly once).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models.audit import AuditEvent, record
from models.bilingual import Bilingual, chinese
from models.documents.engine.cn_format import cn_day
from models.errors import Conflict, InputError, NotFound, Problem
from models.funding.tables import Grant, Tranche
from models.funding.tranches import open_gate
from models.intake.tables import Application
from models.lifecycle import can_move, set_state
from models.states import (
    CHECKPOINTS_OPEN,
    RECTIFICATIONS_TERMINABLE,
    ApplicationState,
    CheckpointState,
    GrantState,
    RectificationState,
    TrancheState,
)
from models.supervision.records import checkpoint_context, progress_of, report_of, report_on_time
from models.supervision.schedule import checkpoints_of, new_checkpoint
from models.supervision.tables import (
    FINAL_CHECKPOINT,
    Checkpoint,
    CheckpointReport,
    GrantTermination,
    Rectification,
)


@dataclass(frozen=True)
class Outcome:
    checkpoint_id: int
    passed: bool
    reason: str
    rectification_id: int | None = None


# ---- the tranche gate ------------------------------------------------------------------------
# The funding stage's one door for a checkpoint's outcome: released with its 拨款通知 and letter, or
# withheld with the reason (``models.funding.tranches.open_gate``).


def _gate_tranche(
    session: Session, *, grant_id: int, gate: str, passed: bool, reason: str, actor: str, today: date
) -> list[Tranche]:
    """Release (``passed``) or withhold the grant's tranche gated on ``gate``; returns those moved."""
    tranche = session.exec(select(Tranche).where(Tranche.grant_id == grant_id, Tranche.gate == gate)).first()
    if tranche is None:
        return []
    before = tranche.state
    open_gate(session, grant_id=grant_id, gate=gate, passed=passed, reason=reason, actor=actor, on=today)
    return [tranche] if tranche.state is not before else []


# ---- grant and application together ------------------------------------------------------------


def _move_grant(session: Session, grant: Grant, to: GrantState, *, actor: str, reason: str) -> None:
    if grant.state is not to:
        set_state(session, grant, to, actor=actor, reason=reason)
    application = session.get(Application, grant.application_id)
    target = ApplicationState(str(to))
    if application is not None and application.state is not target and can_move(application, target):
        set_state(session, application, target, actor=actor, reason=reason)


def rectification_for(session: Session, *, checkpoint: Checkpoint) -> Rectification | None:
    """The rectification a checkpoint opened (round 1) or re-checks (round 2)."""
    column = Rectification.checkpoint_id if checkpoint.round == 1 else Rectification.recheck_id
    return session.exec(select(Rectification).where(column == checkpoint.id)).first()


def rectification_items(reports: Iterable[CheckpointReport | None], reason: str) -> list[str]:
    """What to fix: each report's 整改要求 (else its findings), one item a line, in report order,
    without repeats; the reason itself when the reports name nothing."""
    lines: list[str] = []
    for report in reports:
        if report is not None:
            lines += [ln.strip(" -•·\t") for ln in (report.rectify or report.findings).splitlines()]
    return list(dict.fromkeys(ln for ln in lines if ln)) or [chinese(reason)]


def open_rectification(
    session: Session,
    *,
    checkpoint: Checkpoint,
    grant: Grant,
    days: int,
    items: list[str],
    reason: str,
    actor: str,
    today: date,
    opened_at: datetime,
) -> Rectification:
    """整改 after a failed round-1 ``checkpoint``: the rectification (deadline ``days`` after
    ``today``, ``items`` to fix), its re-check (round 2, due on the deadline) and the grant (with
    its application) rectifying. The one opener for every checkpoint — the 中期评估 here, the
    结项评估 in ``models.evaluation`` — so the 整改通知 and its letter follow from
    ``models.supervision.notices`` for both. Returns the existing one when it is open already."""
    existing = rectification_for(session, checkpoint=checkpoint)
    if existing is not None:
        return existing
    deadline = today + timedelta(days=days)
    recheck = new_checkpoint(
        session,
        grant_id=grant.id or 0,
        code=checkpoint.code,
        round=checkpoint.round + 1,
        due_on=deadline,
        report_due_on=deadline,
        supervisor_id=checkpoint.supervisor_id,
        actor=actor,
        reason=f"整改复查 / re-check after rectification (checkpoint #{checkpoint.id})",
    )
    rectification = Rectification(
        grant_id=grant.id or 0,
        checkpoint_id=checkpoint.id or 0,
        recheck_id=recheck.id,
        deadline=deadline,
        items=items,
        opened_at=opened_at,
    )
    session.add(rectification)
    session.flush()
    record(
        session,
        actor=actor,
        entity="rectification",
        entity_id=rectification.id or 0,
        action="create",
        to_state=str(rectification.state),
        reason=reason,
        data={"checkpoint_id": checkpoint.id, "recheck_id": recheck.id, "deadline": deadline.isoformat()},
    )
    _move_grant(session, grant, GrantState.rectifying, actor=actor, reason=f"整改 / rectification: {reason}")
    return rectification


def _conclude(
    session: Session,
    checkpoint: Checkpoint,
    *,
    passed: bool,
    reason: str,
    actor: str,
    now: datetime,
    today: date,
) -> Outcome:
    _, grant, plan, _ = checkpoint_context(session, checkpoint.id or 0)
    checkpoint.outcome_reason = reason
    checkpoint.settled_at = now
    set_state(
        session,
        checkpoint,
        CheckpointState.passed if passed else CheckpointState.failed,
        actor=actor,
        reason=reason,
    )
    verdict = Bilingual(
        f"{plan.name}{'通过' if passed else '未通过'}：", f"{'passed' if passed else 'failed'}: "
    )
    gate_reason = str(verdict + Bilingual.parse(reason))
    _gate_tranche(
        session,
        grant_id=grant.id or 0,
        gate=checkpoint.code,
        passed=passed,
        reason=gate_reason,
        actor=actor,
        today=today,
    )
    rectification = rectification_for(session, checkpoint=checkpoint)
    if checkpoint.round > 1 and rectification is not None:
        closed = close_rectification(
            session, checkpoint=checkpoint, passed=passed, reason=reason, actor=actor
        )
        if closed is not None and passed and grant.state is GrantState.rectifying:
            _move_grant(
                session, grant, GrantState.active, actor=actor, reason="整改复查通过 / re-check passed"
            )
    elif not passed and checkpoint.round == 1 and rectification is None:
        rectification = open_rectification(
            session,
            checkpoint=checkpoint,
            grant=grant,
            days=plan.rectification_days,
            items=rectification_items([report_of(session, checkpoint_id=checkpoint.id or 0)], reason),
            reason=reason,
            actor=actor,
            today=today,
            opened_at=now,
        )
    return Outcome(checkpoint.id or 0, passed, reason, rectification.id if rectification else None)


def close_rectification(
    session: Session, *, checkpoint: Checkpoint, passed: bool, reason: str, actor: str, lapsed: bool = False
) -> Rectification | None:
    """The re-check ``checkpoint`` settles its open rectification: passed, failed, or ``lapsed``
    (no report by the deadline); None when it re-checks none, or that one is settled already."""
    rectification = rectification_for(session, checkpoint=checkpoint)
    if checkpoint.round == 1 or rectification is None or rectification.state is not RectificationState.open:
        return None
    if lapsed:
        target = RectificationState.lapsed
    else:
        target = RectificationState.passed if passed else RectificationState.failed
    set_state(session, rectification, target, actor=actor, reason=reason)
    return rectification


def locked(session: Session, checkpoint_id: int) -> Checkpoint | None:
    """The checkpoint row, locked for this transaction and read afresh (PostgreSQL ``FOR UPDATE``;
    SQLite has one writer, and a stale reader fails to write): a concurrent run of the same step
    waits, then sees the state the first one left and does nothing."""
    return session.exec(
        select(Checkpoint)
        .where(Checkpoint.id == checkpoint_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def settle_checkpoint(
    session: Session, *, checkpoint_id: int, actor: str, now: datetime, timezone: str
) -> Outcome | None:
    """Pass or fail a submitted checkpoint (None when it is not waiting to be settled)."""
    if locked(session, checkpoint_id) is None:
        return None
    checkpoint, _, plan, _ = checkpoint_context(session, checkpoint_id)
    if checkpoint.state is not CheckpointState.submitted:
        return None
    report = report_of(session, checkpoint_id=checkpoint_id)
    if report is None or report.draft:
        return None
    checkpoint.score = report.score
    passed = report.passed
    mark = plan.pass_score
    parts = [
        Bilingual(f"督导评分{report.score}分（合格分{mark}分）", f"scored {report.score} (pass mark {mark})")
    ]
    if report.override_reason:
        why = report.override_reason
        parts.append(Bilingual(f"督导改判：{why}", f"overridden: {why}"))
    progress = progress_of(session, checkpoint_id=checkpoint_id)
    if plan.missing_report_fails and not report_on_time(checkpoint, progress, timezone=timezone):
        passed = False
        parts.insert(
            0, Bilingual(f"未按期提交{plan.report_name}", "the grantee's report was not submitted on time")
        )
    reason = str(Bilingual.join(parts))
    from zoneinfo import ZoneInfo

    return _conclude(
        session,
        checkpoint,
        passed=passed,
        reason=reason,
        actor=actor,
        now=now,
        today=now.astimezone(ZoneInfo(timezone)).date(),
    )


def settle_submitted(
    session: Session, *, competition_id: int, actor: str, now: datetime, timezone: str
) -> list[Outcome]:
    """Settle every submitted checkpoint of the competition (the portal's follow-up), except the
    结项评估: the final evaluation (models.evaluation) settles that one."""
    outcomes = []
    for checkpoint in checkpoints_of(
        session, competition_id=competition_id, states=frozenset({CheckpointState.submitted})
    ):
        if checkpoint.code == FINAL_CHECKPOINT:
            continue  # the final evaluation settles the 结项评估
        outcome = settle_checkpoint(
            session, checkpoint_id=checkpoint.id or 0, actor=actor, now=now, timezone=timezone
        )
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _audited_once(session: Session, *, entity: str, entity_id: int, action: str) -> bool:
    return (
        session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == entity, AuditEvent.entity_id == entity_id, AuditEvent.action == action
            )
        ).first()
        is not None
    )


def mark_overdue(
    session: Session, *, competition_id: int, actor: str, now: datetime, timezone: str
) -> dict[str, list[int]]:
    """Overdue checkpoints and lapsed rectifications; see the module docstring. Returns the ids."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(timezone)).date()
    result: dict[str, list[int]] = {"failed": [], "overdue": [], "report_missing": [], "lapsed": []}
    for listed in checkpoints_of(
        session, competition_id=competition_id, states=frozenset({CheckpointState.open})
    ):
        checkpoint = locked(session, listed.id or 0)
        if checkpoint is None or checkpoint.state is not CheckpointState.open:
            continue  # a concurrent run settled it meanwhile
        cid = checkpoint.id or 0
        _, _, plan, _ = checkpoint_context(session, cid)
        progress = progress_of(session, checkpoint_id=cid)
        report_due = checkpoint.report_due_on or checkpoint.due_on
        missing = today > report_due and not report_on_time(checkpoint, progress, timezone=timezone)
        if missing and not _audited_once(
            session, entity="checkpoint", entity_id=cid, action="report_missing"
        ):
            record(
                session,
                actor=actor,
                entity="checkpoint",
                entity_id=cid,
                action="report_missing",
                reason=f"{plan.report_name}逾期未提交（应于{cn_day(report_due)}前） / "
                f"the grantee's report is late (due {report_due})",
            )
            result["report_missing"].append(cid)
        if today <= checkpoint.due_on:
            continue
        final = checkpoint.code == FINAL_CHECKPOINT  # the final evaluation settles it, report or not
        rectification = rectification_for(session, checkpoint=checkpoint)
        if (
            not final
            and checkpoint.round > 1
            and rectification is not None
            and not report_on_time(checkpoint, progress, timezone=timezone)
        ):
            reason = (
                f"整改期限{cn_day(rectification.deadline)}已过，未提交整改报告 / "
                f"rectification deadline {rectification.deadline} missed"
            )
            checkpoint.outcome_reason, checkpoint.settled_at = reason, now
            set_state(session, checkpoint, CheckpointState.failed, actor=actor, reason=reason)
            set_state(session, rectification, RectificationState.lapsed, actor=actor, reason=reason)
            result["lapsed"].append(rectification.id or 0)
            continue
        if (
            not final
            and plan.missing_report_fails
            and not report_on_time(checkpoint, progress, timezone=timezone)
        ):
            reason = f"未按期提交{plan.report_name}，视为不合格 / no report by the due day counts as failing"
            _conclude(session, checkpoint, passed=False, reason=reason, actor=actor, now=now, today=today)
            result["failed"].append(cid)
        elif not _audited_once(session, entity="checkpoint", entity_id=cid, action="overdue"):
            record(
                session,
                actor=actor,
                entity="checkpoint",
                entity_id=cid,
                action="overdue",
                reason=(
                    f"督导记录逾期未提交（应于{cn_day(checkpoint.due_on)}提交） / "
                    f"the supervisor's record is overdue (due {checkpoint.due_on})"
                ),
            )
            result["overdue"].append(cid)
    return result


# ---- termination ---------------------------------------------------------------------------------


def accepted_spend(session: Session, *, grant_id: int) -> int:
    """The spending the supervisors accepted: the latest submitted record's money spent so far."""
    rows = session.exec(
        select(CheckpointReport)
        .join(Checkpoint, col(Checkpoint.id) == col(CheckpointReport.checkpoint_id))
        .where(Checkpoint.grant_id == grant_id, col(CheckpointReport.draft).is_(False))
        .order_by(col(CheckpointReport.submitted_at).desc(), col(CheckpointReport.id).desc())
    ).first()
    return rows.spent_fen if rows is not None else 0


@dataclass(frozen=True)
class TerminationMoney:
    """What a termination settles, in fen: paid so far, the spending accepted, the claw-back
    (paid beyond the accepted spending, never below zero) and the unpaid tranches it cancels."""

    released_fen: int
    accepted_spend_fen: int
    clawback_fen: int
    cancelled_fen: int


def termination_money(
    session: Session, *, grant_id: int, accepted_fen: int | None = None
) -> TerminationMoney:
    """The money a termination of the grant settles, as things stand — the one computation of
    ``end_grant`` (which stores it), and what the console shows before the administrator confirms."""
    tranches = session.exec(select(Tranche).where(Tranche.grant_id == grant_id)).all()
    released = sum(t.paid_fen for t in tranches if t.state is TrancheState.released)
    cancelled = sum(
        t.amount_fen
        for t in tranches
        if t.state in (TrancheState.planned, TrancheState.due, TrancheState.withheld)
    )
    spend = accepted_spend(session, grant_id=grant_id) if accepted_fen is None else accepted_fen
    return TerminationMoney(released, spend, max(0, released - spend), cancelled)


def terminable_grants(session: Session, *, competition_id: int) -> list[tuple[Grant, Rectification]]:
    """The competition's grants an administrator may terminate now (a failed or lapsed 整改, not
    terminated yet), each with its rectification; by grant."""
    rows = session.exec(
        select(Grant, Rectification)
        .join(Rectification, col(Rectification.grant_id) == col(Grant.id))
        .where(
            Grant.competition_id == competition_id,
            Grant.state != GrantState.terminated,
            col(Rectification.state).in_(RECTIFICATIONS_TERMINABLE),
        )
        .order_by(col(Grant.id), col(Rectification.id))
    ).all()
    found: dict[int, tuple[Grant, Rectification]] = {}
    for grant, rectification in rows:
        found.setdefault(grant.id or 0, (grant, rectification))
    return list(found.values())


def terminate_grant(
    session: Session, *, grant_id: int, reason: str, actor: str, now: datetime
) -> GrantTermination:
    """End a grant early (audited); see the module docstring. Refused unless a rectification failed
    or lapsed; terminating twice returns the first termination."""
    reason = reason.strip()
    if not reason:
        raise InputError(Problem("", "reason", "请写明终止理由", "give the reason for the termination"))
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"没有资助项目 #{grant_id} / no grant #{grant_id}")
    done = session.exec(select(GrantTermination).where(GrantTermination.grant_id == grant_id)).first()
    if done is not None:
        return done
    grounds = session.exec(
        select(Rectification).where(
            Rectification.grant_id == grant_id, col(Rectification.state).in_(RECTIFICATIONS_TERMINABLE)
        )
    ).first()
    if grounds is None:
        raise Conflict(
            "只有整改复查不通过或逾期未整改的项目才能终止 / a grant can be terminated only after a failed "
            "re-check or a missed rectification deadline"
        )
    return end_grant(
        session, grant=grant, reason=reason, actor=actor, now=now, data={"rectification_id": grounds.id}
    )


def end_grant(
    session: Session,
    *,
    grant: Grant,
    reason: str,
    actor: str,
    now: datetime,
    data: dict[str, Any] | None = None,
    accepted_fen: int | None = None,
) -> GrantTermination:
    """The termination itself, for every way a grant ends early (an administrator after a failed
    or lapsed 整改, or a failed 结项 that terminates): every unpaid tranche cancelled, the open
    checkpoints waived, the grant and its application terminated, and the money settled once —
    the claw-back is what was paid beyond the spending the supervisors accepted (the latest
    submitted record, or ``accepted_fen``: what the deciding round accepted), never below zero.
    Audited; a second call returns the first termination."""
    assert grant.id is not None
    done = session.exec(select(GrantTermination).where(GrantTermination.grant_id == grant.id)).first()
    if done is not None:
        return done
    money = termination_money(session, grant_id=grant.id, accepted_fen=accepted_fen)
    released, spend, cancelled = money.released_fen, money.accepted_spend_fen, money.cancelled_fen
    tranches = list(
        session.exec(select(Tranche).where(Tranche.grant_id == grant.id).order_by(col(Tranche.seq)))
    )
    for tranche in tranches:
        if tranche.state in (TrancheState.planned, TrancheState.due, TrancheState.withheld):
            set_state(
                session,
                tranche,
                TrancheState.cancelled,
                actor=actor,
                reason=f"项目终止 / terminated: {reason}",
            )
    for checkpoint in session.exec(
        select(Checkpoint).where(Checkpoint.grant_id == grant.id, col(Checkpoint.state).in_(CHECKPOINTS_OPEN))
    ):
        if can_move(checkpoint, CheckpointState.waived):
            set_state(
                session, checkpoint, CheckpointState.waived, actor=actor, reason="项目终止 / terminated"
            )
    termination = GrantTermination(
        grant_id=grant.id,
        reason=reason,
        released_fen=released,
        accepted_spend_fen=spend,
        clawback_fen=money.clawback_fen,
        cancelled_fen=cancelled,
        actor=actor,
        terminated_at=now,
    )
    session.add(termination)
    _move_grant(session, grant, GrantState.terminated, actor=actor, reason=reason)
    session.flush()
    record(
        session,
        actor=actor,
        entity="grant",
        entity_id=grant.id,
        action="terminated",
        reason=reason,
        data={
            "released_fen": released,
            "accepted_spend_fen": spend,
            "clawback_fen": termination.clawback_fen,
            "cancelled_fen": cancelled,
            **(data or {}),
        },
    )
    return termination
