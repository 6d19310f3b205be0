"""运行 (the stages): every stage of the year as a button, behind a page that says what it will do.

    GET  /admin/c/{slug}/steps                  every stage: may it run now, and its last run
    GET  /admin/c/{slug}/steps/{step}           the confirmation: what it acts on, the papers it
                                                writes, the letters (how many, to whom); or the one
                                                sentence why it may not run now
    POST /admin/c/{slug}/steps/{step}           start it (管理员): a console run, then its page;
                                                one under way already → that run's page
    GET  /admin/c/{slug}/runs/{run_id}          a run: its state (polled by htmx while it runs),
                                                its sentence, what it wrote, its Prefect run

A stage runs the SAME flow with the same parameters as its ``grantflow`` command, checked first
the same way: the stage order (``models.stage_order``) and the stage's own precondition (the
call's date, the screening's deadline, an approvable decision, a notice that may close). Where it
runs and how it ends: ``portal.admin.runner``; the one-at-a-time guard: ``models.steps.runs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import Response
from sqlmodel import Session

from models.call.notices import ensure_call_may_open
from models.competition.tables import Competition, competition_config
from models.errors import GrantflowError, NotFound
from models.funding.decision import check_may_approve
from models.funding.publicity import current_notice, why_notice_stays_open
from models.screening.notices import check_screening_may_run
from models.stage_order import RUNS, StageRun, stage_refusal
from models.states import RUN_LABELS, CompetitionStage, RunState
from models.steps.preview import preview
from models.steps.runs import RunUnderWay, active_run, open_run, run_in, runs_of, written_by
from portal.admin.console import Call, Console, Nav
from portal.admin.runner import Job, start

NAV = Nav("steps", "steps", 15)
Check = Callable[[Session, Competition, datetime], None]


def _call_check(session: Session, competition: Competition, now: datetime) -> None:
    ensure_call_may_open(competition, now=now)


def _screening_check(session: Session, competition: Competition, now: datetime) -> None:
    check_screening_may_run(competition, now=now)


def _approve_check(session: Session, competition: Competition, now: datetime) -> None:
    if competition.stage is CompetitionStage.funding:  # approved already: the run shows the notice
        check_may_approve(session, competition_id=competition.id or 0)


def _close_check(session: Session, competition: Competition, now: datetime) -> None:
    if competition.stage is CompetitionStage.publicity:  # closed already: the run finishes the letters
        refusal = why_notice_stays_open(session, competition_id=competition.id or 0, now=now)
        if refusal is not None:
            raise refusal


@dataclass(frozen=True)
class Step:
    """A stage as the console runs it: its flow, the parameters its command passes, its check."""

    run: StageRun
    flow: str  # module:function
    deployment: str  # flow-name/deployment-name (deployments/prefect.yaml)
    parameters: Callable[[str, str, datetime], dict[str, Any]]  # (slug, actor, now) → the flow's
    check: Check | None = None


def _slug_actor_as_of(slug: str, actor: str, now: datetime) -> dict[str, Any]:
    return {"slug": slug, "actor": actor, "as_of": now}


STEPS: Mapping[str, Step] = {
    step.run.value: step
    for step in (
        Step(StageRun.publish_call, "flows.call:publish_call", "call/call", _slug_actor_as_of, _call_check),
        Step(
            StageRun.screening,
            "flows.screening:screening",
            "screening/screening",
            _slug_actor_as_of,
            _screening_check,
        ),
        Step(
            StageRun.review_open,
            "flows.review:open_review",
            "review-open/review-open",
            lambda slug, actor, now: {"slug": slug, "actor": actor},
        ),
        Step(
            StageRun.review_close, "flows.review:close_review", "review-close/review-close", _slug_actor_as_of
        ),
        Step(
            StageRun.funding_draft,
            "flows.funding:funding_draft",
            "funding-draft/funding-draft",
            lambda slug, actor, now: {"slug": slug, "actor": actor},
        ),
        Step(
            StageRun.funding_approve,
            "flows.funding:funding_approve",
            "funding-approve/funding-approve",
            _slug_actor_as_of,
            _approve_check,
        ),
        Step(
            StageRun.publicity_close,
            "flows.publicity:publicity_close",
            "publicity-close/publicity-close",
            _slug_actor_as_of,
            _close_check,
        ),
        Step(
            StageRun.grants_lapse,
            "flows.grants:agreements_lapse",
            "agreements-lapse/agreements-lapse",
            _slug_actor_as_of,
        ),
        Step(
            StageRun.supervision,
            "flows.supervision:supervision",
            "supervision/supervision",
            _slug_actor_as_of,
        ),
        Step(
            StageRun.final_evaluation,
            "flows.evaluation:final_evaluation",
            "final-evaluation/final-evaluation",
            _slug_actor_as_of,
        ),
        Step(
            StageRun.annual_report,
            "flows.evaluation:annual_report",
            "annual-report/annual-report",
            lambda slug, actor, now: {"slug": slug, "as_of": now},
        ),
    )
}


def step_of(key: str) -> Step:
    step = STEPS.get(key)
    if step is None:
        raise NotFound(f"没有步骤 {key} / no step {key!r}")
    return step


def refusal_of(
    session: Session, competition: Competition, step: Step, now: datetime
) -> GrantflowError | None:
    """Why ``step`` may not run now — the stage order, then its own check; None when it may."""
    refused = stage_refusal(step.run, slug=competition.slug, stage=competition.stage)
    if refused is not None:
        return refused
    if step.check is not None:
        try:
            step.check(session, competition, now)
        except GrantflowError as exc:
            return exc
    return None


def available_from(
    session: Session, competition: Competition, step: Step, now: datetime, timezone: str
) -> datetime | None:
    """When a step that waits for a date may run — the call's day, the applications' deadline, the
    end of the 公示 — while the competition is in the stage before it and that moment is still ahead;
    None otherwise (it may run, or waits for something other than the clock)."""
    deadlines = competition_config(competition).deadlines
    when: datetime | None = None
    if step.run is StageRun.publish_call and competition.stage is CompetitionStage.draft:
        when = datetime.combine(deadlines.call_published, time(0, 0), tzinfo=ZoneInfo(timezone))
    elif step.run is StageRun.screening and competition.stage is CompetitionStage.call_open:
        when = deadlines.applications_close
    elif step.run is StageRun.publicity_close and competition.stage is CompetitionStage.publicity:
        notice = current_notice(session, competition_id=competition.id or 0)
        when = notice.ends_at if notice is not None else None
    return when if when is not None and now < when else None


@dataclass(frozen=True)
class StepRow:
    key: str
    zh: str
    en: str
    refusal: str  # "" when it may run
    last: Any  # its newest console run, or None
    waits_until: datetime | None = None  # the moment it may run, when it waits for a date


def run_label(state: RunState) -> tuple[str, str]:
    return RUN_LABELS[state]


def register(console: Console) -> None:
    def context(call: Call, session: Session, competition: Competition) -> dict[str, Any]:
        return {"run_label": run_label, "slug": competition.slug}

    @console.page("/admin/c/{slug}/steps", nav=NAV)
    def steps(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            runs = runs_of(session, competition_id=competition.id or 0)
            rows = []
            for key, step in STEPS.items():
                refusal = refusal_of(session, competition, step, call.now)
                last = next((run for run in runs if run.step == key), None)
                needs = RUNS[step.run]
                waits = available_from(session, competition, step, call.now, call.settings.timezone)
                rows.append(StepRow(key, needs.zh, needs.en, str(refusal or ""), last, waits))
            page = {"rows": rows, "runs": runs[:20], **context(call, session, competition)}
        return call.render("admin/steps.html", page, competition=competition)

    @console.page("/admin/c/{slug}/steps/{step}")
    def confirm(call: Call) -> Response:
        step = step_of(call.param("step"))
        with call.session() as session:
            competition = call.competition(session)
            refusal = refusal_of(session, competition, step, call.now)
            under_way = active_run(session, slug=competition.slug, step=step.run.value)
            page = {
                "key": step.run.value,
                "needs": RUNS[step.run],
                "preview": preview(session, competition, step.run),
                "refusal": str(refusal or ""),
                "waits_until": available_from(session, competition, step, call.now, call.settings.timezone),
                "under_way": under_way,
                "now": call.now,
                **context(call, session, competition),
            }
        return call.render("admin/step.html", page, competition=competition)

    @console.action("/admin/c/{slug}/steps/{step}")
    def run_step(call: Call) -> Response:
        step = step_of(call.param("step"))
        now = call.now
        with call.session() as session:
            competition = call.competition(session)
            refusal = refusal_of(session, competition, step, now)
            if refusal is not None:
                raise refusal
            parameters = step.parameters(competition.slug, call.actor, now)
            try:
                run = open_run(
                    session,
                    step=step.run.value,
                    slug=competition.slug,
                    competition_id=competition.id,
                    actor=call.actor,
                    as_of=now,
                    parameters={
                        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in parameters.items()
                    },
                )
            except RunUnderWay as under_way:
                return call.redirect(
                    f"/admin/c/{competition.slug}/runs/{under_way.run_id}", notice="under_way"
                )
            run_id, slug = run.id or 0, competition.slug
        start(console.site, run_id, Job(step.flow, parameters, step.deployment))
        return call.redirect(f"/admin/c/{slug}/runs/{run_id}", notice="started")

    @console.page("/admin/c/{slug}/runs/{run_id:int}")
    def run_page(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            run = run_in(
                session, competition_id=competition.id, slug=competition.slug, run_id=call.param("run_id")
            )
            written = written_by(session, run, competition_id=competition.id)
            needs = RUNS.get(StageRun(run.step)) if run.step in {r.value for r in StageRun} else None
            page = {"run": run, "written": written, "needs": needs, **context(call, session, competition)}
        return call.render("admin/run.html", page, competition=competition)
