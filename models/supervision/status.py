"""Where supervision stands (``grantflow supervision status``): every grant with its supervisors,
checkpoints (state, due days, score, outcome, reports), rectifications, tranches and termination."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from models.funding.tables import Grant, Tranche
from models.money import format_yuan
from models.supervision.plan import grant_parts
from models.supervision.records import progress_of, report_of
from models.supervision.supervisors import grant_supervisors
from models.supervision.tables import Checkpoint, GrantTermination, Rectification

LABELS = {
    "awarded": "已立项",
    "active": "实施中",
    "rectifying": "整改中",
    "completed": "已结项",
    "terminated": "已终止",
    "planned": "计划中",
    "due": "待拨付",
    "released": "已拨付",
    "withheld": "暂缓拨付",
    "cancelled": "已取消",
    "scheduled": "已排期",
    "open": "填报中",
    "submitted": "督导已提交",
    "passed": "通过",
    "failed": "未通过",
    "waived": "免检",
    "lapsed": "逾期未整改",
}


def _label(state: object) -> str:
    return LABELS.get(str(state), str(state))


def supervision_status(session: Session, *, competition_id: int) -> list[dict[str, Any]]:
    """One entry per grant of the competition, by 申报编号."""
    entries = []
    for grant in session.exec(select(Grant).where(Grant.competition_id == competition_id)):
        assert grant.id is not None
        _, application, organisation = grant_parts(session, grant.id)
        checkpoints = []
        for checkpoint in session.exec(
            select(Checkpoint)
            .where(Checkpoint.grant_id == grant.id)
            .order_by(col(Checkpoint.due_on), col(Checkpoint.round))
        ):
            record = report_of(session, checkpoint_id=checkpoint.id or 0)
            progress = progress_of(session, checkpoint_id=checkpoint.id or 0)
            checkpoints.append(
                {
                    "id": checkpoint.id,
                    "code": checkpoint.code,
                    "round": checkpoint.round,
                    "due_on": checkpoint.due_on.isoformat(),
                    "report_due_on": checkpoint.report_due_on.isoformat()
                    if checkpoint.report_due_on
                    else None,
                    "state": str(checkpoint.state),
                    "state_label": _label(checkpoint.state),
                    "score": str(checkpoint.score) if checkpoint.score is not None else None,
                    "outcome": checkpoint.outcome_reason,
                    "record": None if record is None else ("draft" if record.draft else "submitted"),
                    "progress_report": None
                    if progress is None
                    else ("draft" if progress.draft else "submitted"),
                }
            )
        tranches = [
            {
                "seq": t.seq,
                "label": t.label,
                "gate": t.gate,
                "amount_fen": t.amount_fen,
                "amount_yuan": format_yuan(t.amount_fen),
                "paid_fen": t.paid_fen,
                "reduced_fen": t.reduced_fen,
                "state": str(t.state),
                "state_label": "据实结算核减"
                if t.reduced_fen and t.reduced_fen == t.amount_fen
                else _label(t.state),
                "released_on": t.released_on.isoformat() if t.released_on else None,
            }
            for t in session.exec(
                select(Tranche).where(Tranche.grant_id == grant.id).order_by(col(Tranche.seq))
            )
        ]
        rectifications = [
            {
                "id": r.id,
                "checkpoint_id": r.checkpoint_id,
                "recheck_id": r.recheck_id,
                "deadline": r.deadline.isoformat(),
                "state": str(r.state),
                "state_label": _label(r.state),
                "items": r.items,
            }
            for r in session.exec(
                select(Rectification)
                .where(Rectification.grant_id == grant.id)
                .order_by(col(Rectification.id))
            )
        ]
        termination = session.exec(
            select(GrantTermination).where(GrantTermination.grant_id == grant.id)
        ).first()
        entries.append(
            {
                "grant_id": grant.id,
                "ref": application.ref,
                "title": application.title,
                "organisation": organisation.name,
                "amount_fen": grant.amount_fen,
                "amount_yuan": format_yuan(grant.amount_fen),
                "state": str(grant.state),
                "state_label": _label(grant.state),
                "supervisors": [
                    {"id": s.id, "name": s.name, "email": s.email}
                    for s in grant_supervisors(session, grant_id=grant.id)
                ],
                "checkpoints": checkpoints,
                "rectifications": rectifications,
                "tranches": tranches,
                "termination": None
                if termination is None
                else {
                    "reason": termination.reason,
                    "released_fen": termination.released_fen,
                    "accepted_spend_fen": termination.accepted_spend_fen,
                    "clawback_fen": termination.clawback_fen,
                    "clawback_yuan": format_yuan(termination.clawback_fen),
                    "cancelled_fen": termination.cancelled_fen,
                },
            }
        )
    return sorted(entries, key=lambda e: e["ref"])
