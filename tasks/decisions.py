"""Tasks behind the administrator's decisions (flows/decisions.py): each takes ids and plain values,
opens its own session under the competition's lock, calls one audited model function, commits."""

from __future__ import annotations

from typing import Any

from prefect import task

from models.db import lock_competition, session_scope
from models.errors import InputError, Problem
from models.funding.decision import adjust_amount, decide_tie
from models.funding.grants import grant_by_ref
from models.funding.publicity import add_objection, current_notice, resolve_objection
from models.funding.tables import Objection
from models.funding.tranches import open_gate
from models.money import MoneyError, parse_yuan
from models.settings import get_settings
from models.types import utcnow


@task(name="record-objection")
def objection_task(competition_id: int, ref: str, raised_by: str, text: str, actor: str) -> int:
    with session_scope() as session:
        lock_competition(session, competition_id)
        objection = add_objection(
            session,
            competition_id=competition_id,
            ref=ref,
            raised_by=raised_by,
            text=text,
            now=utcnow(),
            actor=actor,
        )
        return objection.id or 0


@task(name="rule-on-objection")
def ruling_task(objection_id: int, upheld: bool, reason: str, actor: str) -> dict[str, Any]:
    with session_scope() as session:
        found = session.get(Objection, objection_id)
        if found is None:
            raise InputError(
                Problem("rule-on-objection", "objection", "没有此异议", f"no objection #{objection_id}")
            )
        lock_competition(session, found.competition_id)
        objection = resolve_objection(
            session,
            objection_id=objection_id,
            upheld=upheld,
            reason=reason,
            now=utcnow(),
            actor=actor,
            documents_dir=get_settings().documents_dir,
        )
        notice = current_notice(session, competition_id=objection.competition_id)
        return {
            "objection": objection_id,
            "state": str(objection.state),
            "notice_ends_at": notice.ends_at.isoformat() if notice is not None else None,
        }


@task(name="adjust-amount")
def adjust_amount_task(
    competition_id: int, ref: str, amount_yuan: str, reason: str, actor: str
) -> dict[str, Any]:
    try:
        fen = parse_yuan(amount_yuan)
    except MoneyError as exc:
        raise InputError(Problem(f"adjust-amount {ref}", "amount_yuan", "金额无效", str(exc))) from None
    with session_scope() as session:
        lock_competition(session, competition_id)
        decision = adjust_amount(
            session, competition_id=competition_id, ref=ref, amount_fen=fen, reason=reason, actor=actor
        )
        return {"ref": ref, "amount_fen": decision.amount_fen, "explanation": decision.explanation}


@task(name="decide-tie")
def decide_tie_task(competition_id: int, refs: list[str], reason: str, actor: str) -> dict[str, Any]:
    with session_scope() as session:
        lock_competition(session, competition_id)
        decisions = decide_tie(session, competition_id=competition_id, refs=refs, reason=reason, actor=actor)
        return {"decided": [d.application_id for d in decisions]}


@task(name="gate-tranche")
def gate_tranche_task(
    competition_id: int, ref: str, gate: str, passed: bool, reason: str, actor: str
) -> dict[str, Any]:
    with session_scope() as session:
        lock_competition(session, competition_id)
        grant = grant_by_ref(session, competition_id=competition_id, ref=ref)
        tranche = open_gate(
            session, grant_id=grant.id or 0, gate=gate, passed=passed, reason=reason, actor=actor
        )
        return {"ref": ref, "gate": gate, "state": str(tranche.state), "amount_fen": tranche.amount_fen}
