"""The supervisor's record (督导记录表) on a personal link, without HTTP: show it, and act on a post.

Each request opens its own session through the link (``open_checkpoint_link``), so a refused link
raises ``LinkRefused`` before anything is read. A post stores the uploads and the record in one
transaction (``portal.uploads.save_with_evidence`` → ``save_record``): ``InputError`` comes back as
the same page with what was typed and each problem beside its field (422), nothing stored; a
refusal of the domain (checkpoint closed) as the read-only page with the reason (409). A stored
submission emits the Prefect event that runs the checkpoint follow-up.

The page shows the plan from the application (活动安排, budget) beside the grantee's own report,
then the form: visit, figures, the rubric, findings, what to rectify, the verdict, the evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlmodel import Session

from models.competition.config import CheckpointPlan
from models.competition.tables import Competition
from models.errors import Problem
from models.money import format_yuan
from models.states import CHECKPOINTS_OPEN, CheckpointState
from models.supervision.evidence import evidence_of
from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.records import (
    COMMENT,
    POINTS,
    checkpoint_context,
    progress_of,
    report_of,
    save_record,
)
from models.supervision.tables import Checkpoint, Supervisor
from portal.checkpoint_forms import CheckpointForm, Posted, handle_form_post, show_form
from portal.events import SubmittedRecord, emit_record_submitted

RECORD_FIELDS = (
    "visit_date",
    "visit_mode",
    "activities_held",
    "person_times",
    "beneficiaries",
    "spent",
    "findings",
    "rectify",
    "verdict",
    "override_reason",
)


@dataclass
class Indicator:
    code: str
    name: str
    description: str
    max_points: str
    step: str
    points: str
    comment: str
    error: str = ""

    @property
    def field_name(self) -> str:
        return POINTS + self.code

    @property
    def comment_name(self) -> str:
        return COMMENT + self.code


@dataclass
class Header:
    competition: str
    checkpoint: str
    recheck: bool
    ref: str
    title: str
    organisation: str
    supervisor: str
    due: str
    report_due: str
    state: str
    editable: bool


@dataclass
class GranteeView:
    """The grantee's progress report as the supervisor (and the grantee) sees it."""

    state: str  # none | draft | submitted
    activities: list[dict[str, Any]] = field(default_factory=list)
    person_times: int = 0
    beneficiaries: int = 0
    spending: list[dict[str, str]] = field(default_factory=list)
    problems: str = ""
    changes: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RecordPage:
    header: Header
    plan: ProjectPlan
    plan_totals: dict[str, str]
    grantee: GranteeView
    values: dict[str, str]
    indicators: list[Indicator]
    total: str
    pass_mark: str
    evidence: list[dict[str, str]]
    upload_mb: str
    upload_count: int
    errors: dict[str, str]
    general_errors: list[str]


@dataclass
class RecordOutcome:
    page: RecordPage | None
    status: int = 200
    notice: str | None = None
    problem_notice: str = ""
    redirect_notice: str | None = None


def _day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def header(session: Session, checkpoint: Checkpoint, plan: CheckpointPlan) -> Header:
    _, grant, _, _ = checkpoint_context(session, checkpoint.id or 0)
    competition = session.get(Competition, grant.competition_id)
    project = project_plan(session, grant_id=grant.id or 0)
    supervisor = session.get(Supervisor, checkpoint.supervisor_id) if checkpoint.supervisor_id else None
    return Header(
        competition=competition.name if competition else "",
        checkpoint=plan.name,
        recheck=checkpoint.round > 1,
        ref=project.ref,
        title=project.title,
        organisation=project.organisation,
        supervisor=supervisor.name if supervisor else "",
        due=_day(checkpoint.due_on),
        report_due=_day(checkpoint.report_due_on),
        state=str(checkpoint.state),
        editable=checkpoint.state in CHECKPOINTS_OPEN and checkpoint.state is not CheckpointState.scheduled,
    )


def evidence_rows(session: Session, checkpoint_id: int, owner: str) -> list[dict[str, str]]:
    return [
        {"id": str(e.id), "name": e.name, "kind": e.kind, "size": f"{e.size / 1000:.0f} KB"}
        for e in evidence_of(session, checkpoint_id=checkpoint_id, owner=owner)
    ]


def grantee_view(session: Session, checkpoint: Checkpoint) -> GranteeView:
    progress = progress_of(session, checkpoint_id=checkpoint.id or 0)
    if progress is None:
        return GranteeView("none", evidence=evidence_rows(session, checkpoint.id or 0, "grantee"))
    return GranteeView(
        state="draft" if progress.draft else "submitted",
        activities=progress.activities,
        person_times=progress.person_times,
        beneficiaries=progress.beneficiaries,
        spending=[
            {
                "id": str(s["budget_line_id"]),
                "item": s["item"],
                "budget": format_yuan(int(s["budget_fen"])),
                "actual": format_yuan(int(s["actual_fen"])),
                "variance": format_yuan(int(s["variance_fen"])),
                "actual_raw": f"{int(s['actual_fen']) / 100:.2f}",
            }
            for s in progress.spending
        ],
        problems=progress.problems,
        changes=progress.changes,
        evidence=evidence_rows(session, checkpoint.id or 0, "grantee"),
    )


def plan_totals(project: ProjectPlan) -> dict[str, str]:
    """The planned totals; a figure the 申报书 did not give is "—", never a zero promise."""
    return {
        "sessions": f"{project.sessions:,}" if project.sessions else "—",
        "participants": f"{project.participants:,}" if project.participants else "—",
        "beneficiaries": f"{project.beneficiaries:,}" if project.beneficiaries else "—",
        "amount": format_yuan(project.amount_fen),
    }


def problems_by_field(problems: Sequence[Problem], language: str) -> tuple[dict[str, str], list[str]]:
    by_field: dict[str, str] = {}
    general = []
    for problem in problems:
        text = problem.en if language == "en" else problem.zh
        if problem.field and problem.field != "evidence":
            by_field.setdefault(problem.field, text)
        else:
            general.append(f"{problem.where}：{text}" if problem.where else text)
    return by_field, general


def record_page(
    session: Session,
    *,
    checkpoint: Checkpoint,
    language: str,
    entered: Mapping[str, str] | None = None,
    problems: Sequence[Problem] = (),
) -> RecordPage:
    _, grant, plan, config = checkpoint_context(session, checkpoint.id or 0)
    record = report_of(session, checkpoint_id=checkpoint.id or 0)
    if entered is not None:
        values = {name: entered.get(name, "") for name in RECORD_FIELDS}
    elif record is not None:
        values = {
            "visit_date": _day(record.visit_date),
            "visit_mode": record.visit_mode,
            "activities_held": str(record.activities_held),
            "person_times": str(record.person_times),
            "beneficiaries": str(record.beneficiaries),
            "spent": f"{record.spent_fen / 100:.2f}" if record.spent_fen else "",
            "findings": record.findings,
            "rectify": record.rectify,
            "verdict": ""
            if record.passed == record.computed_passed
            else ("pass" if record.passed else "fail"),
            "override_reason": record.override_reason,
        }
    else:
        values = {name: "" for name in RECORD_FIELDS}
    errors, general = problems_by_field(problems, language)
    stored = record.indicators if record is not None else {}
    indicators = []
    for item in plan.rubric:
        kept = stored.get(item.code, {}) if isinstance(stored.get(item.code), dict) else {}
        indicators.append(
            Indicator(
                code=item.code,
                name=item.name,
                description=item.description,
                max_points=str(item.max_points),
                step=str(item.step),
                points=entered.get(POINTS + item.code, "")
                if entered is not None
                else str(kept.get("points", "")),
                comment=entered.get(COMMENT + item.code, "")
                if entered is not None
                else str(kept.get("comment", "")),
                error=errors.get(POINTS + item.code, ""),
            )
        )
    project = project_plan(session, grant_id=grant.id or 0)
    return RecordPage(
        header=header(session, checkpoint, plan),
        plan=project,
        plan_totals=plan_totals(project),
        grantee=grantee_view(session, checkpoint),
        values=values,
        indicators=indicators,
        total=str(record.score) if record is not None and entered is None else "",
        pass_mark=str(plan.pass_score),
        evidence=evidence_rows(session, checkpoint.id or 0, "supervisor"),
        upload_mb=f"{config.supervision.uploads.max_bytes / 1_000_000:g}",
        upload_count=config.supervision.uploads.max_files,
        errors=errors,
        general_errors=general,
    )


def _save_record(posted: Posted, evidence_ids: list[int]) -> object:
    return save_record(
        posted.session,
        checkpoint_id=posted.checkpoint.id or 0,
        fields=posted.fields,
        submit=posted.submit,
        actor=posted.actor,
        now=posted.now,
        evidence_ids=evidence_ids,
    )


def _record_submitted(posted: Posted) -> Callable[[], object]:
    """The Prefect event of a submitted record, sent once the record is committed."""
    submitted = SubmittedRecord(
        posted.checkpoint.id or 0,
        posted.competition.id or 0,
        posted.grant.id or 0,
        posted.checkpoint.supervisor_id or 0,
        posted.competition.slug,
    )
    return lambda: emit_record_submitted(submitted)


RECORD_FORM = CheckpointForm(
    purpose="checkpoint",
    owner="supervisor",
    page=record_page,
    actor=lambda checkpoint, _grant: f"supervisor:{checkpoint.supervisor_id}",
    save=_save_record,
    on_submit=_record_submitted,
)
show_record = partial(show_form, RECORD_FORM)
handle_record_post = partial(handle_form_post, RECORD_FORM)
