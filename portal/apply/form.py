"""What the web form (网上申报) shows, and what a posted form is as a ``RawRow``.

``Entered`` is what the applicant typed (kept as typed, so that nothing is lost on an error or when
the page changes language); ``raw_row`` turns it into the row ``models.intake.validation.validate_row``
checks, exactly as a file would give it: the values, the budget lines and the activity plan
(``RawRow.activity_plan``: 时间 / 活动内容 / 场次 / 预计人次 as ``period`` / ``content`` / ``sessions`` /
``participants``, the keys the Word 申报书's reader gives); ``apply_page`` builds the page: the
competition's facts, the fields in three sections (choices from the competition's configuration),
the activity rows, the budget lines, and each problem beside its field (budget problems beside
their line) and in the summary, the first one focused. Templates only display an ``ApplyPage``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from models.competition.tables import Competition, competition_config
from models.errors import Problem
from models.intake.fields import BY_KEY, FIELDS, RawActivity, RawBudgetLine, RawRow
from models.intake.values import whole_number
from models.intake.web import WEB_FORM, activity_line_where, budget_line_where
from models.money import format_yuan
from portal.i18n import DEFAULT_LANGUAGE, MESSAGES, problem_text, translator

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "organisation",
        (
            "organisation",
            "kind",
            "registration_number",
            "founded_on",
            "rating",
            "legal_representative",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
        ),
    ),
    (
        "project",
        (
            "title",
            "category",
            "communities",
            "target_group",
            "beneficiaries",
            "period_start",
            "period_end",
            "amount",
            "self_funded",
        ),
    ),
    (
        "content",
        (
            "summary",
            "need_analysis",
            "objectives",
            "outcomes",
            "team",
            "risks",
            "sustainability",
            "community_opinion",
            "attachments",
        ),
    ),
)
FORM_KEYS = tuple(key for _, keys in SECTIONS for key in keys)
# Not on the web form: the 申报编号 is given on submission; 项目周期 is asked as its two dates; the
# 活动安排 and the budget as rows of their own.
NOT_ASKED = frozenset({"ref", "period", "budget", "activities"})
SHOWN_WITH = {"period": "period_start"}  # a problem of this field is shown beside that one
BUDGET_COLUMNS = ("item", "purpose", "unit_price", "quantity")
BUDGET_ROWS, ADD_ROWS, MAX_BUDGET_ROWS = 5, 3, 60
ACTIVITY_COLUMNS = ("period", "content", "sessions", "participants")  # as the Word 申报书's reader keys them
ACTIVITY_ROWS, MAX_ACTIVITY_ROWS = 3, 40
HONEYPOT = "website"

_INPUTS = {
    "kind": "radio",
    "category": "radio",
    "communities": "checkboxes",
    "contact_email": "email",
    "contact_phone": "tel",
    "period_start": "date",
    "period_end": "date",
    **dict.fromkeys(
        (
            "summary",
            "need_analysis",
            "objectives",
            "outcomes",
            "team",
            "risks",
            "sustainability",
        ),
        "textarea",
    ),
}
_INPUT_MODES = {"beneficiaries": "numeric", "amount": "decimal", "self_funded": "decimal"}
_AUTOCOMPLETE = {
    "organisation": "organization",
    "address": "street-address",
    "contact_name": "name",
    "contact_phone": "tel",
    "contact_email": "email",
}
_LABEL_KEYS = {f.label: f.key for f in FIELDS}


@dataclass
class Entered:
    """The form as the applicant typed it."""

    values: dict[str, str] = field(default_factory=dict)
    communities: list[str] = field(default_factory=list)
    budget: list[dict[str, str]] = field(default_factory=list)
    activities: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def blank(cls) -> Entered:
        return cls(
            budget=_blank(BUDGET_COLUMNS, BUDGET_ROWS),
            activities=_blank(ACTIVITY_COLUMNS, ACTIVITY_ROWS),
        )

    @classmethod
    def from_form(cls, fields: Mapping[str, str], communities: Sequence[str]) -> Entered:
        return cls(
            values={key: fields.get(key, "") for key in FORM_KEYS if key != "communities"},
            communities=[c for c in communities if c],
            budget=_rows(fields, "budget", BUDGET_COLUMNS, default=BUDGET_ROWS, most=MAX_BUDGET_ROWS),
            activities=_rows(
                fields, "activity", ACTIVITY_COLUMNS, default=ACTIVITY_ROWS, most=MAX_ACTIVITY_ROWS
            ),
        )

    def with_more_rows(self) -> Entered:
        """Three more budget lines (as many as the limit leaves room for)."""
        extra = _blank(BUDGET_COLUMNS, min(ADD_ROWS, max(MAX_BUDGET_ROWS - len(self.budget), 0)))
        return Entered(
            dict(self.values), list(self.communities), [*self.budget, *extra], list(self.activities)
        )

    def with_more_activities(self) -> Entered:
        """Three more activity rows (as many as the limit leaves room for)."""
        extra = _blank(ACTIVITY_COLUMNS, min(ADD_ROWS, max(MAX_ACTIVITY_ROWS - len(self.activities), 0)))
        return Entered(
            dict(self.values), list(self.communities), list(self.budget), [*self.activities, *extra]
        )


def _blank(columns: Sequence[str], count: int) -> list[dict[str, str]]:
    return [dict.fromkeys(columns, "") for _ in range(count)]


def _rows(
    fields: Mapping[str, str], name: str, columns: Sequence[str], *, default: int, most: int
) -> list[dict[str, str]]:
    """The posted rows ``<name>-<i>-<column>``; their count from ``<name>_rows``, read strictly."""
    posted = whole_number(fields.get(f"{name}_rows"))  # the intake's one strict reading of a count
    count = min(max(posted if posted is not None else default, 1), most)
    return [{column: fields.get(f"{name}-{i}-{column}", "") for column in columns} for i in range(count)]


def raw_row(entered: Entered) -> RawRow:
    """The application as a row of the intake: ``where`` is the web form, blank budget lines dropped."""
    values: dict[str, object] = {key: entered.values.get(key, "") for key in FORM_KEYS}
    values["communities"] = "、".join(entered.communities)
    return RawRow(
        where=WEB_FORM,
        values=values,
        budget=[
            RawBudgetLine(budget_line_where(number), dict(line))
            for number, line in enumerate(entered.budget, start=1)
            if any(value.strip() for value in line.values())
        ],
        activity_plan=[  # the filled cells of each row not left empty, as the Word reader keeps them
            RawActivity(
                activity_line_where(number),
                {key: value.strip() for key, value in row.items() if value.strip()},
            )
            for number, row in enumerate(entered.activities, start=1)
            if any(value.strip() for value in row.values())
        ],
    )


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    description: str = ""
    checked: bool = False


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    input: str  # text | textarea | email | tel | date | radio | checkboxes
    value: str
    required: bool
    hint: str = ""
    errors: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    inputmode: str = ""
    autocomplete: str = "off"
    bounds: tuple[str, str] = ("", "")  # a date's min and max


@dataclass(frozen=True)
class BudgetRow:
    index: int  # 0-based: the form names its inputs budget-<index>-<column>
    values: Mapping[str, str]
    errors: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        return self.index + 1


@dataclass(frozen=True)
class FormSection:
    key: str  # i18n: section.<key>
    fields: tuple[FormField, ...]


@dataclass
class ApplyPage:
    slug: str
    competition: str
    deadline: str
    amount_range: str
    service_period: str
    contact: str
    sections: list[FormSection]
    budget: list[BudgetRow]
    activities: list[BudgetRow] = field(default_factory=list)  # rows: activity-<index>-<column>
    budget_errors: list[str] = field(default_factory=list)
    activity_errors: list[str] = field(default_factory=list)
    general_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, list[str]]:
        """Every field's problems by key (``budget`` holds the budget's, lines included)."""
        found = {f.key: list(f.errors) for s in self.sections for f in s.fields if f.errors}
        rows = [f"{row.number}: {e}" for row in self.activities for e in row.errors]
        if self.activity_errors or rows:
            found["activities"] = [*self.activity_errors, *rows]
        lines = [f"{row.number}: {e}" for row in self.budget for e in row.errors]
        if self.budget_errors or lines:
            found["budget"] = [*self.budget_errors, *lines]
        return found

    @property
    def first_error(self) -> str:
        """The id of the first control to fix, in page order (the page opens there: autofocus)."""
        for section in self.sections:
            for f in section.fields:
                if f.errors:
                    return f"field-{f.key}-0" if f.input in ("radio", "checkboxes") else f"field-{f.key}"
        if self.activity_errors:
            return "activity-0-period"
        activity = next((row for row in self.activities if row.errors), None)
        if activity is not None:
            return f"activity-{activity.index}-period"
        if self.budget_errors:
            return "budget-0-item"
        row = next((row for row in self.budget if row.errors), None)
        return f"budget-{row.index}-item" if row is not None else ""

    @property
    def fields_by_key(self) -> dict[str, FormField]:
        return {f.key: f for s in self.sections for f in s.fields}


def _problems_by_place(
    problems: Sequence[Problem], language: str, budget_count: int, activity_count: int
) -> tuple[dict[str, list[str]], dict[int, list[str]], dict[int, list[str]], list[str]]:
    """Each problem in the reader's language, by field key, by budget line, by activity row, or general."""
    lines = {budget_line_where(n): n - 1 for n in range(1, budget_count + 1)}
    rows = {activity_line_where(n): n - 1 for n in range(1, activity_count + 1)}
    by_key: dict[str, list[str]] = {}
    by_line: dict[int, list[str]] = {}
    by_row: dict[int, list[str]] = {}
    general: list[str] = []
    for problem in problems:
        text = problem_text(problem, language)
        key = _LABEL_KEYS.get(problem.field)
        if key == "budget" and problem.where in lines:
            by_line.setdefault(lines[problem.where], []).append(text)
        elif key == "activities" and problem.where in rows:
            by_row.setdefault(rows[problem.where], []).append(text)
        elif key is not None:
            by_key.setdefault(SHOWN_WITH.get(key, key), []).append(text)
        else:
            general.append(f"{problem.field}: {text}" if problem.field and language != "en" else text)
    return by_key, by_line, by_row, general


def apply_page(
    competition: Competition,
    *,
    entered: Entered,
    problems: Sequence[Problem] = (),
    language: str,
    timezone: str,
) -> ApplyPage:
    """The form of ``competition`` with what was ``entered`` and each of ``problems`` beside its field."""
    config = competition_config(competition)
    t = translator(language)
    service = config.competition.projects_run  # 项目执行期 (the service period unless configured)
    low, cap = format_yuan(config.budget.per_project_min), format_yuan(config.budget.per_project_cap)
    service_bounds = (service.start.isoformat(), service.end.isoformat())
    hint_values = {"low": low, "cap": cap, "start": service_bounds[0], "end": service_bounds[1]}
    by_key, by_line, by_row, general = _problems_by_place(
        problems, language, len(entered.budget), len(entered.activities)
    )
    kinds = [
        Choice(kind.value, t(f"kind.{kind.value}"), checked=entered.values.get("kind") == kind.value)
        for kind in config.eligibility.organisation_kinds
        if config.pool_for(kind) is not None
    ]
    categories = [
        Choice(c.code, c.name, c.description, checked=entered.values.get("category") == c.code)
        for c in config.categories
    ]
    communities = [Choice(c, c, checked=c in entered.communities) for c in config.communities]
    choices = {"kind": kinds, "category": categories, "communities": communities}

    def form_field(key: str) -> FormField:
        hint_key = f"hint.{key}"
        required = BY_KEY[key].required or key in ("period_start", "period_end")
        return FormField(
            key=key,
            label=t(f"field.{key}"),
            input=_INPUTS.get(key, "text"),
            value=entered.values.get(key, ""),
            required=required,
            hint=t(hint_key, **hint_values) if hint_key in MESSAGES[DEFAULT_LANGUAGE] else "",
            errors=tuple(by_key.get(key, ())),
            choices=tuple(choices.get(key, ())),
            inputmode=_INPUT_MODES.get(key, ""),
            autocomplete=_AUTOCOMPLETE.get(key, "off"),
            bounds=service_bounds if key.startswith("period") else ("", ""),
        )

    close = config.deadlines.applications_close.astimezone(ZoneInfo(timezone))
    return ApplyPage(
        slug=competition.slug,
        competition=competition.name,
        deadline=f"{close:%Y-%m-%d %H:%M}",
        amount_range=t("apply.amount_range_value", low=low, cap=cap),
        service_period=f"{service.start.isoformat()} – {service.end.isoformat()}",
        contact=config.competition.contact,
        sections=[FormSection(name, tuple(form_field(k) for k in keys)) for name, keys in SECTIONS],
        budget=[BudgetRow(i, dict(line), tuple(by_line.get(i, ()))) for i, line in enumerate(entered.budget)],
        activities=[
            BudgetRow(i, dict(row), tuple(by_row.get(i, ()))) for i, row in enumerate(entered.activities)
        ],
        budget_errors=by_key.get("budget", []),
        activity_errors=by_key.get("activities", []),
        general_errors=general,
    )
