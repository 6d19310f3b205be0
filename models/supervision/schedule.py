"""When checkpoints happen: scheduling them for running grants, opening them (links go out), and
what is overdue. Each function is safe to re-run: it only adds what is missing.

- ``schedule_checkpoints``: every configured checkpoint, round 1, for each running grant with a
  supervisor; due on the configured day or ``due_after_signing_days`` after signing (a grant not
  yet signed waits). The grantee's report is due ``report_days_before`` earlier.
- ``open_checkpoints``: a scheduled checkpoint opens ``opens_days_before`` its due day: it gets its
  two link nonces (supervisor's, grantee's) and moves scheduled → open.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from models.audit import record
from models.funding.tables import Grant
from models.lifecycle import set_state
from models.links import new_nonce
from models.states import CheckpointState
from models.supervision.records import checkpoint_context
from models.supervision.supervisors import competition_and_config, lead_supervisor, running_grants
from models.supervision.tables import Checkpoint


def checkpoints_of(
    session: Session, *, competition_id: int, states: frozenset[CheckpointState] | None = None
) -> list[Checkpoint]:
    query = (
        select(Checkpoint)
        .join(Grant, col(Grant.id) == col(Checkpoint.grant_id))
        .where(Grant.competition_id == competition_id)
    )
    if states is not None:
        query = query.where(col(Checkpoint.state).in_(states))
    return list(session.exec(query.order_by(col(Checkpoint.due_on), col(Checkpoint.id))))


def new_checkpoint(
    session: Session,
    *,
    grant_id: int,
    code: str,
    round: int,
    due_on: date,
    report_due_on: date,
    supervisor_id: int | None,
    actor: str,
    reason: str,
) -> Checkpoint:
    checkpoint = Checkpoint(
        grant_id=grant_id,
        code=code,
        round=round,
        due_on=due_on,
        report_due_on=report_due_on,
        supervisor_id=supervisor_id,
    )
    session.add(checkpoint)
    session.flush()
    assert checkpoint.id is not None
    record(
        session,
        actor=actor,
        entity="checkpoint",
        entity_id=checkpoint.id,
        action="create",
        to_state=str(checkpoint.state),
        reason=reason,
        data={"grant_id": grant_id, "code": code, "round": round, "due_on": due_on.isoformat()},
    )
    return checkpoint


def schedule_checkpoints(session: Session, *, competition_id: int, actor: str) -> list[Checkpoint]:
    """Round-1 checkpoints for every running grant that lacks them; see the module docstring."""
    _, config = competition_and_config(session, competition_id)
    created = []
    for grant, _, _ in running_grants(session, competition_id=competition_id):
        assert grant.id is not None
        lead = lead_supervisor(session, grant_id=grant.id)
        if lead is None:
            continue
        have = {
            c.code
            for c in session.exec(
                select(Checkpoint).where(Checkpoint.grant_id == grant.id, Checkpoint.round == 1)
            )
        }
        for plan in config.checkpoints:
            due = plan.due_for(grant.signed_on)
            if plan.code in have or due is None:
                continue
            created.append(
                new_checkpoint(
                    session,
                    grant_id=grant.id,
                    code=plan.code,
                    round=1,
                    due_on=due,
                    report_due_on=due - timedelta(days=plan.report_days_before),
                    supervisor_id=lead.id,
                    actor=actor,
                    reason=f"按配置排期：{plan.name} / scheduled: {plan.code}",
                )
            )
    return created


def open_checkpoints(session: Session, *, competition_id: int, today: date, actor: str) -> list[Checkpoint]:
    """Open every scheduled checkpoint whose opening day has come (its links can now be sent)."""
    opened = []
    for checkpoint in checkpoints_of(
        session, competition_id=competition_id, states=frozenset({CheckpointState.scheduled})
    ):
        _, _, plan, _ = checkpoint_context(session, checkpoint.id or 0)
        if (
            today < checkpoint.due_on - timedelta(days=plan.opens_days_before)
            or checkpoint.supervisor_id is None
        ):
            continue
        checkpoint.token_nonce = checkpoint.token_nonce or new_nonce()
        checkpoint.report_nonce = checkpoint.report_nonce or new_nonce()
        set_state(session, checkpoint, CheckpointState.open, actor=actor, reason="检查点开放填报 / opened")
        opened.append(checkpoint)
    return opened
