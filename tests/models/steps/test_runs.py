"""Console runs: one queued or running run per competition and step, its moves audited, and a run
whose portal stopped under it settled as failed by the next start of that step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from models.audit import AuditEvent
from models.states import RunState
from models.steps.runs import INTERRUPTED, LEASE, RunUnderWay, begin, finish, open_run, settle_stale
from models.types import utcnow


def start(session: Session, step: str = "screening"):
    return open_run(
        session, step=step, slug="jt-2025", competition_id=None, actor="admin:lin", as_of=None, parameters={}
    )


def test_a_step_under_way_is_not_started_again_until_it_ends(session: Session) -> None:
    first = start(session)
    with pytest.raises(RunUnderWay) as refused:
        start(session)
    assert refused.value.run_id == first.id
    assert "此步骤已在进行中" in str(refused.value)
    other = start(session, step="review_open")  # another step is not held up
    begin(session, run_id=first.id or 0, now=utcnow())
    finish(session, run_id=first.id or 0, state=RunState.done, now=utcnow(), result={"sheets": 3})
    again = start(session)
    assert again.id not in (first.id, other.id) and first.active_key is None
    moves = session.exec(select(AuditEvent).where(AuditEvent.entity == "console_run")).all()
    assert {e.actor for e in moves} == {"admin:lin"}
    assert len([e for e in moves if e.entity_id == first.id]) == 3  # started, running, done


def test_a_finished_run_is_not_finished_twice(session: Session) -> None:
    run = start(session)
    assert finish(session, run_id=run.id or 0, state=RunState.refused, now=utcnow(), message="不能 / cannot")
    assert finish(session, run_id=run.id or 0, state=RunState.done, now=utcnow()) is None
    assert run.state is RunState.refused


def test_a_run_whose_lease_ran_out_is_settled_as_failed_by_the_next_start(session: Session) -> None:
    stopped = start(session)
    begin(session, run_id=stopped.id or 0, now=utcnow() - 2 * LEASE)
    assert settle_stale(session, now=utcnow() - LEASE * 3 / 2) == []  # its lease held then
    fresh = start(session)  # the lease ran out: the portal stopped under it
    assert stopped.state is RunState.failed and stopped.message == INTERRUPTED
    assert fresh.state is RunState.queued


def test_a_running_lease_renewed_keeps_its_run(session: Session) -> None:
    from models.steps.runs import renew

    run = start(session)
    begin(session, run_id=run.id or 0, now=utcnow() - 2 * LEASE)
    renew(session, run_ids=[run.id or 0], now=utcnow())
    session.refresh(run)
    assert run.lease_until is not None and run.lease_until > utcnow() + LEASE - timedelta(seconds=5)
    with pytest.raises(RunUnderWay):
        start(session)
