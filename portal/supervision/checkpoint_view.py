"""What every page about a checkpoint shows: its header, the grantee's report, the plan's totals.

The supervisor's record and the grantee's report (this room) and the 结项 panel's sheet (the review
room, through ``__public__``) show the same facts the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from models.competition.config import CheckpointPlan
from models.competition.tables import Competition
from models.errors import Problem
from models.money import format_yuan
from models.states import CHECKPOINTS_OPEN, CheckpointState
from models.supervision.evidence import evidence_of
from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.records import checkpoint_context, progress_of
from models.supervision.tables import Checkpoint, Supervisor


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


def iso_day(value: Any) -> str:
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
        due=iso_day(checkpoint.due_on),
        report_due=iso_day(checkpoint.report_due_on),
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
