"""专家与督导: the competition's experts and supervisors, each one's work and where it stands — the
console's people page and each person's page.

- ``expert_rows``: every expert with their review sheets by state (submitted, open, overdue — open
  past its deadline —, withdrawn: declined or conflicted) and their 结项 panel sheets (submitted,
  open); three GROUP BY queries for the whole list, never one per expert.
- ``supervisor_rows``: every supervisor with the grants they follow (lead or second) and the
  checkpoints they fill by state (to fill, overdue — open past its day —, submitted, settled).
- ``expert_work`` / ``supervisor_work``: one person's sheets, panel sheets or checkpoints, with the
  project of each, and every letter written to them.

The 首页's "sheets in / due" and checkpoint counts come from ``models.overview``; the list's totals
add up to them (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.archive import Project
from models.competition.config import CompetitionConfig
from models.errors import NotFound
from models.evaluation.tables import PanelSheet
from models.funding.tables import Grant
from models.intake.tables import Application
from models.mail.outbox import OutboxLetter
from models.review.tables import Expert, ReviewAssignment
from models.states import (
    ASSIGNMENTS_OPEN,
    ASSIGNMENTS_WITHDRAWN,
    CHECKPOINTS_SETTLED,
    ApplicationState,
    AssignmentState,
    CheckpointState,
)
from models.supervision.tables import Checkpoint, CheckpointReport, GrantSupervisor, Supervisor

TO_FILL = frozenset({CheckpointState.scheduled, CheckpointState.open})


@dataclass
class ExpertRow:
    expert: Expert
    submitted: int = 0
    open: int = 0
    overdue: int = 0  # open past the sheet's deadline
    withdrawn: int = 0  # declined or conflicted
    panel_submitted: int = 0
    panel_open: int = 0

    @property
    def expected(self) -> int:
        """Sheets that count towards the 首页's "due": every one not withdrawn."""
        return self.submitted + self.open

    @property
    def panel(self) -> int:
        return self.panel_submitted + self.panel_open


@dataclass
class SupervisorRow:
    supervisor: Supervisor
    grants: int = 0  # grants followed
    leads: int = 0  # of which as the lead, who fills the checkpoints
    to_fill: int = 0  # checkpoints scheduled or open
    overdue: int = 0  # open past their day
    submitted: int = 0
    settled: int = 0


def expert_rows(session: Session, *, competition_id: int, now: datetime) -> list[ExpertRow]:
    """Every expert of the competition with the state of their sheets, active ones first."""
    experts = session.exec(
        select(Expert)
        .where(Expert.competition_id == competition_id)
        .order_by(col(Expert.active).desc(), col(Expert.id))
    )
    rows = {e.id: ExpertRow(e) for e in experts}
    overdue = sa.case((col(ReviewAssignment.deadline) < now, 1), else_=0)
    for expert_id, state, late, count in session.exec(
        select(ReviewAssignment.expert_id, ReviewAssignment.state, overdue, func.count())
        .where(ReviewAssignment.competition_id == competition_id)
        .group_by(col(ReviewAssignment.expert_id), col(ReviewAssignment.state), overdue)
    ):
        row = rows.get(expert_id)
        if row is None:
            continue
        if state is AssignmentState.submitted:
            row.submitted += count
        elif state in ASSIGNMENTS_WITHDRAWN:
            row.withdrawn += count
        else:
            row.open += count
            row.overdue += count if late else 0
    for expert_id, state, count in session.exec(
        select(PanelSheet.expert_id, PanelSheet.state, func.count())
        .where(PanelSheet.competition_id == competition_id)
        .group_by(col(PanelSheet.expert_id), col(PanelSheet.state))
    ):
        row = rows.get(expert_id)
        if row is None:
            continue
        if state is AssignmentState.submitted:
            row.panel_submitted += count
        elif state in ASSIGNMENTS_OPEN:
            row.panel_open += count
    return list(rows.values())


def supervisor_rows(session: Session, *, competition_id: int, today: date) -> list[SupervisorRow]:
    """Every supervisor of the competition with their grants and checkpoints, active ones first."""
    supervisors = session.exec(
        select(Supervisor)
        .where(Supervisor.competition_id == competition_id)
        .order_by(col(Supervisor.active).desc(), col(Supervisor.id))
    )
    rows = {s.id: SupervisorRow(s) for s in supervisors}
    for supervisor_id, position, count in session.exec(
        select(GrantSupervisor.supervisor_id, GrantSupervisor.position, func.count())
        .join(Grant, col(Grant.id) == col(GrantSupervisor.grant_id))
        .where(Grant.competition_id == competition_id)
        .group_by(col(GrantSupervisor.supervisor_id), col(GrantSupervisor.position))
    ):
        row = rows.get(supervisor_id)
        if row is not None:
            row.grants += count
            row.leads += count if position == 1 else 0
    late = sa.case((col(Checkpoint.due_on) < today, 1), else_=0)
    for holder, state, is_late, count in session.exec(
        select(Checkpoint.supervisor_id, Checkpoint.state, late, func.count())
        .join(Grant, col(Grant.id) == col(Checkpoint.grant_id))
        .where(Grant.competition_id == competition_id, col(Checkpoint.supervisor_id).is_not(None))
        .group_by(col(Checkpoint.supervisor_id), col(Checkpoint.state), late)
    ):
        row = rows.get(holder)
        if row is None:
            continue
        if state in TO_FILL:
            row.to_fill += count
            row.overdue += count if is_late and state is CheckpointState.open else 0
        elif state is CheckpointState.submitted:
            row.submitted += count
        elif state in CHECKPOINTS_SETTLED:
            row.settled += count
    return list(rows.values())


# ---- one person --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetLine:
    sheet: ReviewAssignment | PanelSheet
    project: Project
    in_review: bool = True  # its application is still in review (a reminder can still help)


@dataclass(frozen=True)
class CheckpointLine:
    checkpoint: Checkpoint
    name: str  # the configured checkpoint's name, with its round
    project: Project
    record: CheckpointReport | None


@dataclass
class ExpertWork:
    expert: Expert
    sheets: list[SheetLine] = field(default_factory=list)
    panel: list[SheetLine] = field(default_factory=list)
    letters: list[OutboxLetter] = field(default_factory=list)

    @property
    def open_sheets(self) -> list[SheetLine]:
        return [s for s in self.sheets if s.sheet.state in ASSIGNMENTS_OPEN]

    @property
    def unfinished(self) -> list[SheetLine]:
        """The open sheets a reminder lists: on applications still in review."""
        return [s for s in self.open_sheets if s.in_review]

    @property
    def open_panel(self) -> list[SheetLine]:
        return [s for s in self.panel if s.sheet.state in ASSIGNMENTS_OPEN]


@dataclass
class SupervisorWork:
    supervisor: Supervisor
    checkpoints: list[CheckpointLine] = field(default_factory=list)
    grants: list[tuple[Project, int]] = field(default_factory=list)  # (project, position)
    letters: list[OutboxLetter] = field(default_factory=list)

    def open_checkpoints(self, today: date) -> list[CheckpointLine]:
        """The open checkpoints whose record is still to come, due today or later (a reminder's)."""
        return [
            line
            for line in self.checkpoints
            if line.checkpoint.state is CheckpointState.open
            and (line.record is None or line.record.draft)
            and line.checkpoint.due_on >= today
        ]

    @property
    def requested(self) -> list[CheckpointLine]:
        """The open checkpoints with a link (an invitation's)."""
        return [
            line
            for line in self.checkpoints
            if line.checkpoint.state is CheckpointState.open and line.checkpoint.token_nonce
        ]


def _projects_of_grants(session: Session, grant_ids: set[int]) -> dict[int, Project]:
    if not grant_ids:
        return {}
    rows = session.exec(
        select(Grant.id, Application)
        .join(Application, col(Application.id) == col(Grant.application_id))
        .where(col(Grant.id).in_(grant_ids))
    )
    return {g: Project(a.id or 0, a.ref, a.title) for g, a in rows if g is not None}


def expert_in(session: Session, *, competition_id: int, expert_id: int) -> Expert:
    """The expert ``expert_id`` of the competition; ``NotFound`` for any other."""
    expert = session.get(Expert, expert_id)
    if expert is None or expert.competition_id != competition_id:
        raise NotFound(f"没有专家 #{expert_id} / no expert #{expert_id} here")
    return expert


def supervisor_in(session: Session, *, competition_id: int, supervisor_id: int) -> Supervisor:
    """The supervisor ``supervisor_id`` of the competition; ``NotFound`` for any other."""
    supervisor = session.get(Supervisor, supervisor_id)
    if supervisor is None or supervisor.competition_id != competition_id:
        raise NotFound(f"没有督导 #{supervisor_id} / no supervisor #{supervisor_id} here")
    return supervisor


def _letters(session: Session, competition_id: int, email: str, about: Any) -> list[OutboxLetter]:
    return list(
        session.exec(
            select(OutboxLetter)
            .where(
                OutboxLetter.competition_id == competition_id,
                sa.func.lower(OutboxLetter.recipient_email) == email.strip().lower(),
                about,
            )
            .order_by(col(OutboxLetter.id).desc())
        )
    )


def expert_work(session: Session, *, competition_id: int, expert_id: int) -> ExpertWork:
    """One expert: every review sheet and panel sheet with its project, and the letters to them."""
    expert = expert_in(session, competition_id=competition_id, expert_id=expert_id)
    work = ExpertWork(expert)
    for sheet, application in session.exec(
        select(ReviewAssignment, Application)
        .join(Application, col(Application.id) == col(ReviewAssignment.application_id))
        .where(ReviewAssignment.expert_id == expert_id)
        .order_by(col(Application.ref), col(ReviewAssignment.id))
    ):
        project = Project(application.id or 0, application.ref, application.title)
        work.sheets.append(SheetLine(sheet, project, application.state is ApplicationState.in_review))
    panel = list(
        session.exec(select(PanelSheet).where(PanelSheet.expert_id == expert_id).order_by(col(PanelSheet.id)))
    )
    projects = _projects_of_grants(session, {s.grant_id for s in panel})
    work.panel = [SheetLine(s, projects[s.grant_id]) for s in panel if s.grant_id in projects]
    work.letters = _letters(
        session,
        competition_id,
        expert.email,
        sa.and_(col(OutboxLetter.subject_entity) == "expert", col(OutboxLetter.subject_id) == expert_id),
    )
    return work


def supervisor_work(
    session: Session, *, competition_id: int, supervisor_id: int, config: CompetitionConfig
) -> SupervisorWork:
    """One supervisor: the grants they follow, the checkpoints of those grants they fill (with the
    record's state), and the letters to them about those checkpoints."""
    supervisor = supervisor_in(session, competition_id=competition_id, supervisor_id=supervisor_id)
    work = SupervisorWork(supervisor)
    links = list(session.exec(select(GrantSupervisor).where(GrantSupervisor.supervisor_id == supervisor_id)))
    checkpoints = list(
        session.exec(
            select(Checkpoint)
            .where(Checkpoint.supervisor_id == supervisor_id)
            .order_by(col(Checkpoint.due_on), col(Checkpoint.id))
        )
    )
    projects = _projects_of_grants(session, {g.grant_id for g in links} | {c.grant_id for c in checkpoints})
    work.grants = sorted(
        ((projects[g.grant_id], g.position) for g in links if g.grant_id in projects),
        key=lambda item: item[0].ref,
    )
    records = {
        r.checkpoint_id: r
        for r in session.exec(
            select(CheckpointReport).where(
                col(CheckpointReport.checkpoint_id).in_([c.id for c in checkpoints])
            )
        )
    }
    names = {plan.code: plan.name for plan in config.checkpoints}
    work.checkpoints = [
        CheckpointLine(
            checkpoint=c,
            name=names.get(c.code, c.code) + (f"（第{c.round}轮）" if c.round > 1 else ""),
            project=projects[c.grant_id],
            record=records.get(c.id or 0),
        )
        for c in checkpoints
        if c.grant_id in projects
    ]
    work.letters = _letters(
        session,
        competition_id,
        supervisor.email,
        col(OutboxLetter.stage) == "supervision",
    )
    return work
