"""整改与终止 (rectification and termination): what the re-checks found, and ending a grant.

    GET  /admin/c/{slug}/rectification                      every 整改 with its re-check, the
                                                            grants that may be terminated, the
                                                            terminations done (with their money)
    GET  /admin/c/{slug}/rectification/outcomes             the confirmation: each submitted
                                                            checkpoint, its verdict, what follows
    POST /admin/c/{slug}/rectification/outcomes             判定结果 (管理员): the checkpoint
                                                            follow-up flow, as ``grantflow
                                                            supervision follow-up`` runs it
    GET  /admin/c/{slug}/rectification/terminate/{grant_id} the confirmation: the money a
                                                            termination settles, the 终止通知 and
                                                            its letter to the grantee
    POST /admin/c/{slug}/rectification/terminate/{grant_id} 终止 (管理员): ``terminate_grant`` and
                                                            the 终止通知, as ``grantflow grants
                                                            terminate`` does

The money on the confirmation is ``models.supervision.outcomes.termination_money`` — the same
computation ``terminate_grant`` stores; after it, the page shows the stored termination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response
from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.db import lock_competition
from models.errors import Conflict, InputError, NotFound, Problem
from models.funding.tables import Grant
from models.intake.tables import Application
from models.stage_order import StageRun, stage_refusal
from models.states import RECTIFICATIONS_TERMINABLE, CheckpointState
from models.steps.runs import RunUnderWay, open_run
from models.supervision.notices import queue_outcome_letters
from models.supervision.outcomes import (
    TerminationMoney,
    terminable_grants,
    terminate_grant,
    termination_money,
)
from models.supervision.plan import grant_parts
from models.supervision.records import report_of
from models.supervision.tables import Checkpoint, GrantTermination, Rectification
from portal.admin.console import Call, Console, Nav
from portal.admin.runner import Job, start

NAV = Nav("rectification", "rectification", 17)
FOLLOW_UP = "checkpoint_follow_up"  # the console run's step key (models.steps.runs)


@dataclass(frozen=True)
class Settling:
    """A submitted checkpoint the follow-up will settle, and what its verdict brings."""

    ref: str
    title: str
    checkpoint: str  # its configured name (复查 for a re-check)
    round: int
    score: str
    passed: bool
    email: str


@dataclass(frozen=True)
class RectificationRow:
    ref: str
    title: str
    application_id: int
    rectification: Rectification
    checkpoint: str
    recheck_state: str  # the re-check checkpoint's state, "" before it is scheduled


@dataclass(frozen=True)
class Terminable:
    grant: Grant
    application: Application
    rectification: Rectification
    money: TerminationMoney


def _names(competition: Competition) -> dict[str, str]:
    return {plan.code: plan.name for plan in competition_config(competition).checkpoints}


def _label(names: dict[str, str], checkpoint: Checkpoint) -> str:
    name = names.get(checkpoint.code, checkpoint.code)
    return f"{name}（整改复查）" if checkpoint.round > 1 else name


def settling(session: Session, competition: Competition) -> list[Settling]:
    """The competition's submitted checkpoints, each with its supervisor's verdict."""
    names = _names(competition)
    rows = session.exec(
        select(Checkpoint, Grant)
        .join(Grant, col(Grant.id) == col(Checkpoint.grant_id))
        .where(Grant.competition_id == competition.id, Checkpoint.state == CheckpointState.submitted)
        .order_by(col(Checkpoint.id))
    ).all()
    found = []
    for checkpoint, grant in rows:
        _, application, _ = grant_parts(session, grant.id or 0)
        report = report_of(session, checkpoint_id=checkpoint.id or 0)
        found.append(
            Settling(
                application.ref,
                application.title,
                _label(names, checkpoint),
                checkpoint.round,
                str(report.score) if report is not None else "",
                bool(report is not None and report.passed),
                application.contact_email,
            )
        )
    return found


def rectifications(session: Session, competition: Competition) -> list[RectificationRow]:
    names = _names(competition)
    rows = session.exec(
        select(Rectification, Grant, Application, Checkpoint)
        .join(Grant, col(Grant.id) == col(Rectification.grant_id))
        .join(Application, col(Application.id) == col(Grant.application_id))
        .join(Checkpoint, col(Checkpoint.id) == col(Rectification.checkpoint_id))
        .where(Grant.competition_id == competition.id)
        .order_by(col(Application.ref), col(Rectification.id))
    ).all()
    found = []
    for rectification, _grant, application, checkpoint in rows:
        recheck = session.get(Checkpoint, rectification.recheck_id) if rectification.recheck_id else None
        found.append(
            RectificationRow(
                application.ref,
                application.title,
                application.id or 0,
                rectification,
                _label(names, checkpoint),
                str(recheck.state) if recheck is not None else "",
            )
        )
    return found


def _terminable(session: Session, competition_id: int, grant_id: int) -> Terminable:
    """The grant ``grant_id`` of this competition when it may be terminated now, or why not."""
    for grant, rectification in terminable_grants(session, competition_id=competition_id):
        if grant.id == grant_id:
            _, application, _ = grant_parts(session, grant_id)
            return Terminable(
                grant, application, rectification, termination_money(session, grant_id=grant_id)
            )
    grant = session.get(Grant, grant_id)
    if grant is None or grant.competition_id != competition_id:
        raise NotFound(f"没有资助项目 #{grant_id} / no grant #{grant_id}")
    if session.exec(select(GrantTermination).where(GrantTermination.grant_id == grant_id)).first():
        raise Conflict("该项目已终止 / this grant is terminated already")
    raise Conflict(
        "只有整改复查不通过或逾期未整改的项目才能终止 / a grant can be terminated only after a failed "
        "re-check or a missed rectification deadline"
    )


def terminations(session: Session, competition_id: int) -> list[tuple[GrantTermination, Application]]:
    rows = session.exec(
        select(GrantTermination, Application)
        .join(Grant, col(Grant.id) == col(GrantTermination.grant_id))
        .join(Application, col(Application.id) == col(Grant.application_id))
        .where(Grant.competition_id == competition_id)
        .order_by(col(GrantTermination.id))
    ).all()
    return [(termination, application) for termination, application in rows]


def register(console: Console) -> None:
    def base(competition: Competition) -> str:
        return f"/admin/c/{competition.slug}/rectification"

    @console.page("/admin/c/{slug}/rectification", nav=NAV)
    def overview(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            cid = competition.id or 0
            page: dict[str, Any] = {
                "slug": competition.slug,
                "rows": rectifications(session, competition),
                "settling": settling(session, competition),
                "terminable": [
                    _terminable(session, cid, grant.id or 0)
                    for grant, _ in terminable_grants(session, competition_id=cid)
                ],
                "terminations": terminations(session, cid),
                "terminable_states": {str(state) for state in RECTIFICATIONS_TERMINABLE},
            }
        return call.render("admin/rectification.html", page, competition=competition)

    @console.page("/admin/c/{slug}/rectification/outcomes")
    def outcomes_confirm(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            refusal = stage_refusal(StageRun.supervision, slug=competition.slug, stage=competition.stage)
            page = {
                "slug": competition.slug,
                "settling": settling(session, competition),
                "refusal": str(refusal or ""),
            }
        return call.render("admin/rectification_outcomes.html", page, competition=competition)

    @console.action("/admin/c/{slug}/rectification/outcomes")
    def outcomes_run(call: Call) -> Response:
        now = call.now
        with call.session() as session:
            competition = call.competition(session)
            refused = stage_refusal(StageRun.supervision, slug=competition.slug, stage=competition.stage)
            if refused is not None:
                raise refused
            parameters = {"slug": competition.slug, "actor": call.actor, "as_of": now}
            try:
                run = open_run(
                    session,
                    step=FOLLOW_UP,
                    slug=competition.slug,
                    competition_id=competition.id,
                    actor=call.actor,
                    as_of=now,
                    parameters={"slug": competition.slug, "actor": call.actor, "as_of": now.isoformat()},
                )
            except RunUnderWay as under_way:
                return call.redirect(
                    f"/admin/c/{competition.slug}/runs/{under_way.run_id}", notice="under_way"
                )
            run_id, slug = run.id or 0, competition.slug
        job = Job(
            "flows.supervision:checkpoint_follow_up", parameters, "checkpoint-follow-up/checkpoint-follow-up"
        )
        start(console.site, run_id, job)
        return call.redirect(f"/admin/c/{slug}/runs/{run_id}", notice="started")

    @console.page("/admin/c/{slug}/rectification/terminate/{grant_id:int}")
    def terminate_confirm(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            grant_id = call.param("grant_id")
            try:  # a grant that may not be terminated: the page says why (the post refuses it)
                found: Terminable | None = _terminable(session, competition.id or 0, grant_id)
                refusal = ""
            except Conflict as exc:
                found, refusal = None, str(exc)
            _, application, _ = grant_parts(session, grant_id)
            page = {"slug": competition.slug, "found": found, "refusal": refusal, "application": application}
        return call.render("admin/terminate.html", page, competition=competition)

    @console.action("/admin/c/{slug}/rectification/terminate/{grant_id:int}")
    def terminate(call: Call) -> Response:
        now = call.now
        with call.session() as session:
            competition = call.competition(session)
            lock_competition(session, competition.id or 0)
            found = _terminable(session, competition.id or 0, call.param("grant_id"))  # 404 first
            reason = call.fields.get("reason", "").strip()
            if not reason:
                raise InputError(Problem("终止 / termination", "reason", "请写明终止理由", "give the reason"))
            terminate_grant(session, grant_id=found.grant.id or 0, reason=reason, actor=call.actor, now=now)
            queue_outcome_letters(session, competition=competition, settings=call.settings, now=now)
        return call.redirect(f"{base(competition)}#terminations", notice="terminated")
