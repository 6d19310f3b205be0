"""What every page about a checkpoint shows: its header, the grantee's report, the plan's totals, the
evidence (each file a link through the page's own personal link, images as thumbnails), the state
of the page's own form and what happens next.

The supervisor's record and the grantee's report (this room) and the 结项 panel's sheet (the review
room, through ``__public__``) show the same facts the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.competition.config import CheckpointPlan
from models.competition.tables import Competition
from models.errors import Problem
from models.money import format_yuan
from models.states import CHECKPOINTS_OPEN, CheckpointState
from models.supervision.evidence import KINDS, evidence_of, size_text
from models.supervision.plan import ProjectPlan, project_plan
from models.supervision.records import checkpoint_context, progress_of
from models.supervision.tables import Checkpoint, Supervisor
from portal.form_errors import FieldErrors, field_errors
from portal.i18n import local_moment, translator


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
    editable: bool  # the checkpoint is open (not yet settled): its forms may still be saved


@dataclass(frozen=True)
class Evidence:
    """One file as a page lists it; ``path`` is relative to the page's own link."""

    id: int
    name: str
    kind: str
    size: str
    image: bool
    pending: bool = False

    @property
    def path(self) -> str:
        return f"evidence/{self.id}"


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
    evidence: list[Evidence] = field(default_factory=list)
    submitted_at: str = ""


@dataclass
class FormStatus:
    """The state of the page's own form (not the checkpoint's) and what happens next."""

    state: str  # none | draft | submitted
    lines: list[str]
    editable: bool  # this form may be saved now (open, and not past its time for changes)

    @property
    def submitted(self) -> bool:
        return self.state == "submitted"


def iso_day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def checkpoint_open(checkpoint: Checkpoint) -> bool:
    return checkpoint.state in CHECKPOINTS_OPEN and checkpoint.state is not CheckpointState.scheduled


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
        editable=checkpoint_open(checkpoint),
    )


def evidence_rows(
    session: Session, checkpoint_id: int, owner: str, *, pending: bool | None = False
) -> list[Evidence]:
    return [
        Evidence(
            e.id or 0, e.name, e.kind, size_text(e.size), e.media_type.startswith("image/"), pending=e.pending
        )
        for e in evidence_of(session, checkpoint_id=checkpoint_id, owner=owner, pending=pending)
    ]


def grantee_view(session: Session, checkpoint: Checkpoint, timezone: str) -> GranteeView:
    progress = progress_of(session, checkpoint_id=checkpoint.id or 0)
    evidence = evidence_rows(session, checkpoint.id or 0, "grantee")
    if progress is None:
        return GranteeView("none", evidence=evidence)
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
        evidence=evidence,
        submitted_at=local_moment(progress.submitted_at, timezone)
        if progress.submitted_at is not None and not progress.draft
        else "",
    )


def plan_totals(project: ProjectPlan) -> dict[str, str]:
    """The planned totals; a figure the 申报书 did not give is "—", never a zero promise."""
    return {
        "sessions": f"{project.sessions:,}" if project.sessions else "—",
        "participants": f"{project.participants:,}" if project.participants else "—",
        "beneficiaries": f"{project.beneficiaries:,}" if project.beneficiaries else "—",
        "amount": format_yuan(project.amount_fen),
    }


def form_status(
    checkpoint: Checkpoint,
    *,
    state: str,
    saved_at: datetime | None,
    submitted_at: datetime | None,
    amend_until: datetime,
    due: str,
    now: datetime,
    timezone: str,
    language: str,
    words: str,
    late_fails: bool = False,
) -> FormStatus:
    """The form's own state and the next step, worded by ``words`` (``status.record`` |
    ``status.report``: the keys ``<words>.none`` … in the catalogue)."""
    t = translator(language)
    open_ = checkpoint_open(checkpoint)
    amendable = now <= amend_until
    until = local_moment(amend_until, timezone)
    lines: list[str] = []
    if state == "submitted":
        lines.append(
            t(f"{words}.submitted", moment=local_moment(submitted_at, timezone) if submitted_at else "")
        )
        if open_:
            lines.append(t(f"{words}.amend", until=until) if amendable else t(f"{words}.final"))
    elif state == "draft":
        lines.append(
            t(f"{words}.draft", moment=local_moment(saved_at, timezone) if saved_at else "", due=due)
        )
    else:
        lines.append(t(f"{words}.none", due=due))
    if state != "submitted" and open_ and late_fails:
        lines.append(t(f"{words}.late_fails", due=due))
    if not open_:
        lines.append(t(f"status.checkpoint.{checkpoint.state}"))
    elif state == "submitted":
        lines.append(t(f"{words}.next"))
    editable = open_ and (state != "submitted" or amendable)
    return FormStatus(state, lines, editable)


def upload_places(language: str) -> dict[str, tuple[str, str, str]]:
    """Where an evidence problem shows: at the file input of its kind (the count at the first)."""
    t = translator(language)
    places = {
        f"evidence_{kind}": (f"evidence_{kind}", f"evidence-{kind}", t(f"sv.evidence.{kind}"))
        for kind in KINDS
    }
    places["evidence"] = ("evidence", "evidence-sign_in", t("sv.evidence"))
    return places


def checkpoint_errors(
    problems: Sequence[Problem],
    language: str,
    place: Mapping[str, tuple[str, str, str]],
    *,
    order: Sequence[str],
) -> FieldErrors:
    """The problems of a checkpoint form at their fields (evidence at its file input, naming the file)."""
    t = translator(language)
    places = {**upload_places(language), **place}
    return field_errors(
        problems,
        language,
        place=places,
        general=("form", "error-summary", t("sv.form")),
        shown_where=frozenset(places).intersection({f"evidence_{k}" for k in KINDS} | {"evidence"}),
    ).ordered([*order, *(f"evidence_{kind}" for kind in KINDS), "evidence"])
