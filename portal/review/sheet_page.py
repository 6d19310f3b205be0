"""What a review sheet page shows: the rubric with the expert's points, the comment, the errors
beside each field, and the application as its 申报书 has it (``portal.review.application_view``; the
applicant's identity hidden when the review is blind).

``sheet_page`` reads the database and returns a plain ``SheetPage``; templates only display it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.errors import Problem
from models.intake.tables import Application
from models.review.score_sheets import load_sheet
from models.review.tables import ReviewAssignment
from models.states import ASSIGNMENTS_WITHDRAWN, ApplicationState, AssignmentState
from portal.i18n import problem_text
from portal.review.application_view import ApplicationView, application_view

POINTS_PREFIX = "points."  # form field of a criterion: points.<code>


@dataclass
class CriterionRow:
    code: str
    name: str
    description: str
    max_points: str
    step: str
    weight: str = "1"
    value: str = ""
    error: str = ""

    @property
    def field_name(self) -> str:
        return POINTS_PREFIX + self.code


@dataclass
class SheetPage:
    assignment_id: int
    competition: str
    expert_name: str
    state: str
    deadline: str
    editable: bool
    withdrawn: bool
    closed: bool
    application: ApplicationView
    criteria: list[CriterionRow]
    comment: str
    total: str
    comment_error: str = ""
    conflict_reason: str = ""
    conflict_error: str = ""
    general_errors: list[str] = field(default_factory=list)

    @property
    def submitted(self) -> bool:
        """Submitted: changes are resubmitted (no draft button: a draft would withdraw it)."""
        return self.state == AssignmentState.submitted.value

    @property
    def weighted(self) -> bool:
        """Some criterion weighs other than 1 (the total is then Σ points × weight)."""
        return any(Decimal(c.weight) != 1 for c in self.criteria)


def sheet_is_editable(assignment: ReviewAssignment, application: Application, now: datetime) -> bool:
    """Open for changes: until the deadline, not withdrawn, and the application still in review
    (the same conditions under which ``save_sheet`` accepts a change)."""
    return (
        now <= assignment.deadline
        and assignment.state not in ASSIGNMENTS_WITHDRAWN
        and application.state is ApplicationState.in_review
    )


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _points_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def sheet_page(
    session: Session,
    *,
    assignment: ReviewAssignment,
    now: datetime,
    timezone: str,
    language: str,
    entered: Mapping[str, str] | None = None,
    entered_comment: str | None = None,
    entered_reason: str = "",
    problems: list[Problem] | None = None,
) -> SheetPage:
    """The page of one sheet: stored points, or what the expert just entered, with its problems."""
    assert assignment.id is not None
    sheet = load_sheet(session, assignment_id=assignment.id)
    application, expert = sheet.application, sheet.expert
    competition = session.get(Competition, assignment.competition_id)
    assert competition is not None
    blind = competition_config(competition).review.blind
    criteria = sheet.criteria
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    codes = {c.code for c in criteria}
    for problem in problems or []:
        text = problem_text(problem, language)
        if problem.field in codes or problem.field in ("comment", "conflict_reason"):
            by_field.setdefault(problem.field, []).append(text)
        else:
            general.append(text)
    rows = []
    total = Decimal(0)
    for criterion in criteria:
        points = sheet.points.get(criterion.code)
        if points is not None:
            total += points * criterion.weight
        value = (
            entered.get(criterion.code, "")
            if entered is not None
            else (_points_text(points) if points is not None else "")
        )
        rows.append(
            CriterionRow(
                code=criterion.code,
                name=criterion.name,
                description=criterion.description,
                max_points=_points_text(criterion.max_points),
                step=_points_text(criterion.step),
                weight=_points_text(criterion.weight),
                value=value,
                error="；".join(by_field.get(criterion.code, [])),
            )
        )
    editable = sheet_is_editable(assignment, application, now)
    return SheetPage(
        assignment_id=assignment.id or 0,
        competition=competition.name,
        expert_name=expert.name,
        state=str(assignment.state),
        deadline=_local(assignment.deadline, timezone),
        editable=editable,
        withdrawn=assignment.state in ASSIGNMENTS_WITHDRAWN,
        closed=now > assignment.deadline or application.state is not ApplicationState.in_review,
        application=application_view(session, application, competition, blind=blind),
        criteria=rows,
        comment=entered_comment if entered_comment is not None else assignment.comment,
        total=_points_text(total) if sheet.points else "",
        comment_error="；".join(by_field.get("comment", [])),
        conflict_reason=entered_reason,
        conflict_error="；".join(by_field.get("conflict_reason", [])),
        general_errors=general,
    )
