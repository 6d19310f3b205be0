"""What a review sheet page shows: the sheet's own state and what happens next, the rubric with the
expert's points, the comment, each error beside its field and in a summary, the conflict
declaration (with its confirmation step), and the application as its 申报书 has it
(``portal.review.application_view``; the applicant's identity hidden when the review is blind).

``sheet_page`` reads the database and returns a plain ``SheetPage``; templates only display it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.errors import Problem
from models.review.reviewing import review_closed_at
from models.review.score_sheets import load_sheet, sheet_is_editable
from models.review.tables import ReviewAssignment
from models.states import ASSIGNMENTS_WITHDRAWN, ApplicationState, AssignmentState
from portal.form_errors import FieldErrors, field_errors
from portal.i18n import local_moment, translator
from portal.review.application_view import ApplicationView, application_view
from portal.review.expert_page import SheetLine, shown_state

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

    @property
    def field_name(self) -> str:
        return POINTS_PREFIX + self.code

    @property
    def step_words(self) -> tuple[str, dict[str, str]]:
        """How the page says the step in plain words: (i18n key, its values)."""
        step = Decimal(self.step)
        if step == 1:
            return "criterion.step.whole", {}
        if step < 1:
            return "criterion.step.fraction", {"step": self.step, "example": _points_text(Decimal(12) + step)}
        return "criterion.step.multiple", {"step": self.step}


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
    status: list[str]  # the sheet's state and what happens next, in the page's language
    errors: FieldErrors = field(default_factory=FieldErrors)
    closed_at: str = ""  # when the review actually closed, if before the deadline
    conflict_reason: str = ""
    confirm_conflict: bool = False  # the declaration asked for: the page asks to confirm it
    next_sheet: SheetLine | None = None  # the expert's next sheet to do (after a submission)
    expert_url: str = ""  # the expert's own page: every sheet

    @property
    def submitted(self) -> bool:
        """Submitted: changes are resubmitted (no draft button: a draft never replaces it)."""
        return self.state == AssignmentState.submitted.value

    @property
    def shown_state(self) -> str:
        return shown_state(self.state, editable=self.editable)

    @property
    def weighted(self) -> bool:
        """Some criterion weighs other than 1 (the total is then Σ points × weight)."""
        return any(Decimal(c.weight) != 1 for c in self.criteria)


def _points_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _status(
    assignment: ReviewAssignment,
    *,
    editable: bool,
    deadline: str,
    closed_at: str,
    timezone: str,
    language: str,
) -> list[str]:
    t = translator(language)
    state = assignment.state
    if state in ASSIGNMENTS_WITHDRAWN:
        return [t("status.sheet.withdrawn")]
    if not editable:
        closed = t("status.sheet.closed_at", moment=closed_at) if closed_at else t("status.sheet.closed")
        if state is AssignmentState.submitted:
            return [closed, t("status.sheet.counted")]
        return [closed, t("status.sheet.not_counted")]
    if state is AssignmentState.submitted:
        moment = local_moment(assignment.submitted_at, timezone) if assignment.submitted_at else ""
        return [t("status.sheet.submitted", moment=moment), t("status.sheet.amend", deadline=deadline)]
    if state is AssignmentState.draft:
        return [t("status.sheet.draft", deadline=deadline)]
    return [t("status.sheet.invited", deadline=deadline)]


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
    confirm_conflict: bool = False,
) -> SheetPage:
    """The page of one sheet: stored points, or what the expert just entered, with its problems."""
    assert assignment.id is not None
    t = translator(language)
    sheet = load_sheet(session, assignment_id=assignment.id)
    application, expert = sheet.application, sheet.expert
    competition = session.get(Competition, assignment.competition_id)
    assert competition is not None
    blind = competition_config(competition).review.blind
    criteria = sheet.criteria
    place = {
        c.code: (c.code, f"points-{c.code}", f"{c.name}（{t('criterion.max')} {_points_text(c.max_points)}）")
        for c in criteria
    }
    place["comment"] = ("comment", "comment", t("comment"))
    place["conflict_reason"] = ("conflict_reason", "conflict-reason", t("conflict.reason"))
    errors = field_errors(
        problems or [], language, place=place, general=("sheet", "sheet-form", t("sheet_title"))
    ).ordered([*place])
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
            )
        )
    editable = sheet_is_editable(assignment, application, now)
    closed_at = review_closed_at(session, application_id=application.id or 0)
    early = closed_at is not None and closed_at < assignment.deadline
    deadline = local_moment(assignment.deadline, timezone)
    closed_text = local_moment(closed_at, timezone) if early and closed_at is not None else ""
    return SheetPage(
        assignment_id=assignment.id or 0,
        competition=competition.name,
        expert_name=expert.name,
        state=str(assignment.state),
        deadline=deadline,
        editable=editable,
        withdrawn=assignment.state in ASSIGNMENTS_WITHDRAWN,
        closed=now > assignment.deadline or application.state is not ApplicationState.in_review,
        application=application_view(session, application, competition, blind=blind),
        criteria=rows,
        comment=entered_comment if entered_comment is not None else assignment.comment,
        total=_points_text(total) if sheet.points else "",
        status=_status(
            assignment,
            editable=editable,
            deadline=deadline,
            closed_at=closed_text,
            timezone=timezone,
            language=language,
        ),
        errors=errors,
        closed_at=closed_text,
        conflict_reason=entered_reason,
        confirm_conflict=confirm_conflict and editable and not errors,
    )
