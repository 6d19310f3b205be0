"""What a review sheet page shows: the application (identity hidden when the review is blind), the
rubric with the expert's points, the comment, and the errors beside each field.

``sheet_page`` reads the database and returns a plain ``SheetPage``; templates only display it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.competition.tables import Competition, competition_config
from models.errors import Problem
from models.intake.tables import Application, BudgetLine, Organisation
from models.money import format_yuan
from models.review.score_sheets import load_sheet
from models.review.tables import ReviewAssignment
from models.states import ASSIGNMENTS_WITHDRAWN, ORGANISATION_KIND_LABELS, ApplicationState
from portal.i18n import problem_text

POINTS_PREFIX = "points."  # form field of a criterion: points.<code>
TEXT_DETAILS = ("need", "goals", "activities", "team")
TABLE_DETAILS = ("activity_plan", "team_members")
IDENTIFYING_DETAILS = frozenset({"team_members"})  # names of people: hidden in a blind review


@dataclass
class CriterionRow:
    code: str
    name: str
    description: str
    max_points: str
    step: str
    value: str = ""
    error: str = ""

    @property
    def field_name(self) -> str:
        return POINTS_PREFIX + self.code


@dataclass
class DetailSection:
    key: str  # i18n key: detail.<name>
    text: str = ""
    items: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class ApplicationView:
    ref: str
    title: str
    category: str
    pool: str
    communities: str
    target_group: str
    beneficiaries: int
    period: str
    amount: str
    self_funded: str
    summary: str
    blind: bool
    organisation: str = ""
    organisation_kind: str = ""
    contact: str = ""
    details: list[DetailSection] = field(default_factory=list)
    budget: list[dict[str, str]] = field(default_factory=list)


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


def _details(details: Mapping[str, Any], blind: bool) -> list[DetailSection]:
    sections: list[DetailSection] = []
    for key in (*TEXT_DETAILS, *TABLE_DETAILS, "attachments"):
        value = details.get(key)
        if not value or (blind and key in IDENTIFYING_DETAILS):
            continue
        section = DetailSection(key=f"detail.{key}")
        if isinstance(value, str):
            section.text = value
        elif isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            headers: list[str] = []
            for row in value:
                headers.extend(str(k) for k in row if str(k) not in headers)
            section.headers = headers
            section.rows = [[str(row.get(h, "")) for h in headers] for row in value]
        elif isinstance(value, list):
            section.items = [str(v) for v in value]
        else:
            section.text = str(value)
        sections.append(section)
    return sections


def _application_view(
    session: Session, application: Application, competition: Competition, blind: bool
) -> ApplicationView:
    config = competition_config(competition)
    categories = {c.code: c.name for c in config.categories}
    pools = {p.code: p.name for p in config.pools}
    communities = [c for c in [application.community, *application.communities] if c]
    period = ""
    if application.period_start and application.period_end:
        period = f"{application.period_start:%Y-%m-%d} – {application.period_end:%Y-%m-%d}"
    view = ApplicationView(
        ref=application.ref,
        title=application.title,
        category=categories.get(application.category, application.category),
        pool=pools.get(application.pool, application.pool),
        communities="、".join(dict.fromkeys(communities)),
        target_group=application.target_group,
        beneficiaries=application.beneficiaries,
        period=period,
        amount=format_yuan(application.amount_fen),
        self_funded=format_yuan(application.self_funded_fen),
        summary=application.summary,
        blind=blind,
        details=_details(application.details or {}, blind),
    )
    if not blind:
        organisation = session.get(Organisation, application.organisation_id)
        if organisation is not None:
            view.organisation = organisation.name
            view.organisation_kind = ORGANISATION_KIND_LABELS.get(organisation.kind, str(organisation.kind))
        view.contact = " ".join(p for p in (application.contact_name, application.contact_phone) if p)
    lines = session.exec(
        select(BudgetLine)
        .where(BudgetLine.application_id == application.id)
        .order_by(col(BudgetLine.position))
    )
    view.budget = [
        {
            "item": line.item,
            "purpose": line.purpose,
            "unit_price": format_yuan(line.unit_price_fen),
            "quantity": str(line.quantity),
            "amount": format_yuan(line.amount_fen),
        }
        for line in lines
    ]
    return view


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
        application=_application_view(session, application, competition, blind),
        criteria=rows,
        comment=entered_comment if entered_comment is not None else assignment.comment,
        total=_points_text(total) if sheet.points else "",
        comment_error="；".join(by_field.get("comment", [])),
        conflict_reason=entered_reason,
        conflict_error="；".join(by_field.get("conflict_reason", [])),
        general_errors=general,
    )
