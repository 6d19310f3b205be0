"""Score sheets (专家评分表): the portal's form and the paper sheets of a roadshow (路演).

- ``save_sheet``: one score per criterion within 0 … max on its step, and a comment; ``submit=False``
  saves a draft (scores may be missing), ``submit=True`` demands every criterion. Points are stored
  normalised (``1E+1`` → 10, ``-0`` → 0, ``8.50`` → 8.5). A submitted sheet can be changed and
  resubmitted until its deadline, never silently withdrawn (``models.submission``: a draft save on
  it is refused, ``Conflict``, nothing changed; a resubmission is audited as amended); after the
  deadline the sheet is refused (``AccessDenied``). Every change of points or comment leaves an
  audit row (``action="score"``, before and after), every change of state one through ``set_state``.
- ``import_paper_sheets``: an .xlsx with one row per expert × application — columns 专家 (or 评审专家:
  name or email), 申报编号, one column per criterion (its name or code), 评语 — through the same
  validation. The whole file is checked first and nothing is written unless every row is right;
  every problem names the file, the row and the column. A row for an expert without a sheet on that
  application creates one (the roadshow's panel may differ from the assignment) unless a
  conflict rule excludes the pair. The administrator imports after the roadshow, so the sheets'
  deadline does not apply; an application whose review is closed is refused.

Long by design: the portal's sheet, its reading and the paper-sheet import share one validation of a
sheet and must not drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, col, select

from models.audit import record
from models.competition.tables import RubricCriterion, list_criteria
from models.errors import AccessDenied, Conflict, InputError, Problem
from models.intake.tables import Application, Organisation
from models.lifecycle import set_state
from models.review.aggregation import check_points, plain_number
from models.review.assignment import EXCLUSION_LABELS, Exclusions, exclusion_reason
from models.review.reviewing import (
    candidate,
    competition_and_config,
    exclusions,
    get_assignment,
    new_assignment,
    refuse_after_deadline,
    reviewer,
)
from models.review.tables import Expert, ReviewAssignment, Score
from models.review.workbook import Table, cell_text, normalise_label, read_table
from models.states import ASSIGNMENTS_WITHDRAWN, ApplicationState, AssignmentState
from models.submission import Submission, next_submission
from models.types import utcnow

MAX_COMMENT = 5000
SHEET_NAMED = ("评分表", "score sheet")


@dataclass(frozen=True)
class Sheet:
    """Everything the portal shows on one sheet."""

    assignment: ReviewAssignment
    expert: Expert
    application: Application
    criteria: list[RubricCriterion]
    points: dict[str, Decimal]  # criterion code -> points saved so far


def _points(session: Session, assignment_id: int) -> dict[int, Score]:
    scores = session.exec(select(Score).where(Score.assignment_id == assignment_id))
    return {s.criterion_id: s for s in scores}


def sheet_points(session: Session, *, assignment_id: int) -> dict[str, Decimal]:
    """The points saved on a sheet, by criterion code."""
    assignment = get_assignment(session, assignment_id)
    by_id = {c.id: c.code for c in list_criteria(session, competition_id=assignment.competition_id)}
    return {by_id[cid]: s.points for cid, s in _points(session, assignment_id).items()}


def load_sheet(session: Session, *, assignment_id: int) -> Sheet:
    assignment = get_assignment(session, assignment_id)
    expert = session.get(Expert, assignment.expert_id)
    application = session.get(Application, assignment.application_id)
    assert expert is not None and application is not None
    return Sheet(
        assignment=assignment,
        expert=expert,
        application=application,
        criteria=list_criteria(session, competition_id=assignment.competition_id),
        points=sheet_points(session, assignment_id=assignment_id),
    )


def _checked(
    values: Mapping[str, object], comment: str, criteria: list[RubricCriterion], *, where: str, submit: bool
) -> dict[str, Decimal]:
    problems: list[Problem] = []
    points: dict[str, Decimal] = {}
    try:
        points = check_points(values, criteria, where=where, require_all=submit)
    except InputError as exc:
        problems.extend(exc.problems)
    if len(comment) > MAX_COMMENT:
        problems.append(
            Problem(
                where,
                "comment",
                f"评语不超过 {MAX_COMMENT} 字（现 {len(comment)} 字）",
                f"the comment exceeds {MAX_COMMENT} characters ({len(comment)})",
            )
        )
    if problems:
        raise InputError(problems)
    return {code: normalised(value) for code, value in points.items()}


def normalised(points: Decimal) -> Decimal:
    """The points as a person reads them: no exponent, no trailing zeros, no negative zero."""
    value = points.normalize() + Decimal(0)  # + 0 turns -0 into 0
    return Decimal(format(value, "f"))


def sheet_is_editable(assignment: ReviewAssignment, application: Application, now: datetime) -> bool:
    """Open for changes: until the deadline, not withdrawn, and the application still in review
    (the conditions under which ``save_sheet`` accepts a change)."""
    return (
        now <= assignment.deadline
        and assignment.state not in ASSIGNMENTS_WITHDRAWN
        and application.state is ApplicationState.in_review
    )


def _writable(assignment: ReviewAssignment, application: Application) -> None:
    if assignment.state in ASSIGNMENTS_WITHDRAWN:
        raise AccessDenied("该评分表已撤回（谢绝或回避） / this sheet was withdrawn (declined or conflicted)")
    if application.state is not ApplicationState.in_review:
        raise Conflict(f"申报 {application.ref} 的评审已结束 / the review of {application.ref} is closed")


def _write(
    session: Session,
    assignment: ReviewAssignment,
    points: dict[str, Decimal],
    comment: str,
    *,
    submit: bool,
    actor: str,
    now: datetime,
    criteria: list[RubricCriterion],
    source: str | None = None,
    submission: Submission | None = None,
) -> ReviewAssignment:
    """Store validated points and comment; audit what changed; move the sheet's state."""
    assert assignment.id is not None
    by_code = {c.code: c for c in criteria}
    stored = _points(session, assignment.id)
    code_of = {c.id: c.code for c in criteria}
    before = {code_of[cid]: s.points for cid, s in stored.items() if cid in code_of}
    for code, value in points.items():
        criterion_id = by_code[code].id
        assert criterion_id is not None
        score = stored.pop(criterion_id, None)
        if score is None:
            session.add(Score(assignment_id=assignment.id, criterion_id=criterion_id, points=value))
        elif score.points != value:
            score.points = value
            session.add(score)
    for leftover in stored.values():  # a draft saved without a criterion it had before
        session.delete(leftover)
    changed = before != points or comment != assignment.comment
    if changed:
        record(
            session,
            actor=actor,
            entity="assignment",
            entity_id=assignment.id,
            action="score",
            reason=_score_reason(submit, submission),
            data={
                "before": {k: str(v) for k, v in before.items()},
                "after": {k: str(v) for k, v in points.items()},
                "comment_before": assignment.comment,
                "comment_after": comment,
                "source": source or assignment.source,
                "submission": str(submission or ("submitted" if submit else "draft")),
            },
        )
    assignment.comment = comment
    if source is not None:
        assignment.source = source
    target = AssignmentState.submitted if submit else AssignmentState.draft
    if submit and (changed or assignment.state is not target):
        assignment.submitted_at = now
    if assignment.state is not target:
        set_state(
            session,
            assignment,
            target,
            actor=actor,
            reason="提交评分表 / sheet submitted" if submit else "暂存评分表 / draft saved",
        )
    session.add(assignment)
    session.flush()
    return assignment


def _score_reason(submit: bool, submission: Submission | None) -> str:
    if submission is Submission.amended:
        return "修改已提交的评分 / submitted scores amended"
    return "提交评分 / scores submitted" if submit else "暂存评分 / draft saved"


def save_sheet(
    session: Session,
    *,
    assignment_id: int,
    points: Mapping[str, str | Decimal | int | None],
    comment: str = "",
    submit: bool,
    actor: str,
    now: datetime | None = None,
) -> ReviewAssignment:
    """Save (``submit=False``) or submit a sheet from the portal; see the module docstring.

    Raises ``InputError`` listing every problem (field = criterion code, or ``comment``),
    ``AccessDenied`` after the deadline or on a withdrawn sheet, ``Conflict`` once the review is
    closed or for a draft of a submitted sheet. Nothing is changed when it raises.
    """
    assignment = get_assignment(session, assignment_id)
    now = now or utcnow()
    refuse_after_deadline(assignment, now)
    application = session.get(Application, assignment.application_id)
    assert application is not None
    _writable(assignment, application)
    submission = next_submission(  # a submitted sheet stays submitted (models.submission)
        submitted=assignment.state is AssignmentState.submitted,
        submit=submit,
        amendable=True,  # until the deadline, refused above
        form=SHEET_NAMED,
    )
    criteria = list_criteria(session, competition_id=assignment.competition_id)
    comment = comment.strip()
    checked = _checked(points, comment, criteria, where=f"评分表 #{assignment_id}", submit=submit)
    return _write(
        session,
        assignment,
        checked,
        comment,
        submit=submit,
        actor=actor,
        now=now,
        criteria=criteria,
        submission=submission,
    )


# ---- paper sheets -------------------------------------------------------------------------------

_EXPERT_LABELS = ("专家", "评审专家", "专家姓名")
_REF_LABEL = "申报编号"
_COMMENT_LABELS = ("评语", "评审意见")


@dataclass
class _Row:
    number: int
    expert: Expert
    application: Application
    points: dict[str, Decimal]
    comment: str


def _columns(table: Table, criteria: list[RubricCriterion]) -> tuple[str, dict[str, str], str | None]:
    """(expert column, criterion code -> column label, comment column) or InputError."""
    expert_label = next((lab for lab in _EXPERT_LABELS if lab in table.columns), None)
    by_criterion = {}
    missing = [] if expert_label else ["专家"]
    if _REF_LABEL not in table.columns:
        missing.append(_REF_LABEL)
    for criterion in criteria:
        labels = (normalise_label(criterion.name), criterion.code)
        label = next((lab for lab in labels if lab in table.columns), None)
        if label is None:
            missing.append(criterion.name)
        else:
            by_criterion[criterion.code] = label
    if missing:
        raise InputError(
            Problem(
                table.where(table.header_row),
                "、".join(missing),
                "表头缺少必需的列",
                f"required columns are missing: {', '.join(missing)}",
            )
        )
    comment_label = next((lab for lab in _COMMENT_LABELS if lab in table.columns), None)
    return expert_label or "专家", by_criterion, comment_label


def _find_expert(experts: list[Expert], text: str) -> tuple[Expert | None, tuple[str, str]]:
    key = text.casefold()
    found = [e for e in experts if e.email.casefold() == key]
    found = found or [e for e in experts if e.name.strip() == text]
    if len(found) == 1:
        return found[0], ("", "")
    if not text:
        return None, ("未填写专家", "no expert given")
    if not found:
        return None, (f"找不到专家 {text}", f"no expert {text!r}")
    return None, (f"有多位专家叫 {text}，请填电子邮箱", f"several experts are called {text}: give the email")


@dataclass
class _Context:
    table: Table
    criteria: list[RubricCriterion]
    expert_label: str
    by_criterion: dict[str, str]
    comment_label: str | None
    experts: list[Expert]
    applications: dict[str, Application]
    sheets: dict[tuple[int, int], ReviewAssignment]
    rules: Exclusions
    seen: dict[tuple[int, int], int]


def _read_row(
    session: Session, ctx: _Context, number: int, cells: list[object]
) -> tuple[_Row | None, list[Problem]]:
    table = ctx.table
    problems: list[Problem] = []

    def problem(label: str, zh: str, en: str) -> None:
        problems.append(Problem(table.where(number, label), label, zh, en))

    expert, why = _find_expert(ctx.experts, cell_text(table.value(cells, ctx.expert_label)))
    if expert is None:
        problem(ctx.expert_label, *why)
    ref = cell_text(table.value(cells, _REF_LABEL))
    application = ctx.applications.get(ref)
    if application is None:
        problem(
            _REF_LABEL,
            f"找不到申报编号 {ref}" if ref else "未填写申报编号",
            f"no application {ref!r}" if ref else "no reference given",
        )
    elif application.state not in (ApplicationState.eligible, ApplicationState.in_review):
        problem(
            _REF_LABEL,
            f"申报 {ref} 不在评审中（{application.state}）",
            f"application {ref} is not open for review ({application.state})",
        )
    values = {code: table.value(cells, label) for code, label in ctx.by_criterion.items()}
    comment = cell_text(table.value(cells, ctx.comment_label)) if ctx.comment_label else ""
    points: dict[str, Decimal] = {}
    try:
        points = _checked(values, comment, ctx.criteria, where="", submit=True)
    except InputError as exc:
        for p in exc.problems:
            problem(ctx.by_criterion.get(p.field, ctx.comment_label or p.field), p.zh, p.en)
    if problems or expert is None or application is None:
        return None, problems
    assert expert.id is not None and application.id is not None
    pair = (expert.id, application.id)
    sheet = ctx.sheets.get(pair)
    organisation = session.get(Organisation, application.organisation_id)
    assert organisation is not None
    excluded = exclusion_reason(candidate(application, organisation), reviewer(expert), ctx.rules)
    if pair in ctx.seen:
        problem(ctx.expert_label, f"与第{ctx.seen[pair]}行重复", f"repeats row {ctx.seen[pair]}")
    elif sheet is not None and sheet.state in ASSIGNMENTS_WITHDRAWN:
        problem(ctx.expert_label, "该专家已谢绝或回避此申报", "the expert declined or withdrew from it")
    elif sheet is None and excluded is not None:
        zh, en = EXCLUSION_LABELS[excluded]
        problem(ctx.expert_label, f"须回避：{zh}", f"excluded: {en}")
    ctx.seen.setdefault(pair, number)
    if problems:
        return None, problems
    return _Row(number, expert, application, points, comment), []


def import_paper_sheets(
    session: Session, *, competition_id: int, path: Path | str, actor: str, now: datetime | None = None
) -> list[ReviewAssignment]:
    """Import a roadshow's paper sheets (submitted); all or nothing. Returns the sheets written."""
    _, config = competition_and_config(session, competition_id)
    criteria = list_criteria(session, competition_id=competition_id)
    table = read_table(path, markers=(_REF_LABEL,))
    expert_label, by_criterion, comment_label = _columns(table, criteria)
    in_competition = Application.competition_id == competition_id
    all_sheets = sheets_of(session, competition_id=competition_id)
    ctx = _Context(
        table=table,
        criteria=criteria,
        expert_label=expert_label,
        by_criterion=by_criterion,
        comment_label=comment_label,
        experts=list(session.exec(select(Expert).where(Expert.competition_id == competition_id))),
        applications={a.ref: a for a in session.exec(select(Application).where(in_competition))},
        sheets={(a.expert_id, a.application_id): a for a in all_sheets},
        rules=exclusions(session, config, competition_id=competition_id),
        seen={},
    )
    problems: list[Problem] = []
    rows: list[_Row] = []
    for number, cells in table.rows:
        row, row_problems = _read_row(session, ctx, number, cells)
        problems.extend(row_problems)
        if row is not None:
            row.points = {code: plain_number(value) for code, value in row.points.items()}  # 1E+1 → 10
            rows.append(row)
    if problems:
        raise InputError(problems)
    return _store_paper(
        session,
        table,
        rows,
        ctx.sheets,
        actor=actor,
        now=now or utcnow(),
        criteria=criteria,
        deadline=config.deadlines.review_close,
    )


def _store_paper(
    session: Session,
    table: Table,
    rows: list[_Row],
    sheets: dict[tuple[int, int], ReviewAssignment],
    *,
    actor: str,
    now: datetime,
    criteria: list[RubricCriterion],
    deadline: datetime,
) -> list[ReviewAssignment]:
    written = []
    for row in rows:
        application = row.application
        assert application.id is not None and row.expert.id is not None
        if application.state is ApplicationState.eligible:
            set_state(
                session,
                application,
                ApplicationState.in_review,
                actor=actor,
                reason=f"路演纸质评分表 / paper sheets {table.file}",
            )
        source = f"{table.file}:第{row.number}行"
        sheet = sheets.get((row.expert.id, application.id))
        if sheet is None:
            sheet = new_assignment(
                session,
                competition_id=application.competition_id,
                application_id=application.id,
                expert_id=row.expert.id,
                deadline=deadline,
                actor=actor,
                source=source,
                reason=f"路演纸质评分表 / paper sheet {source}",
            )
            sheets[(row.expert.id, application.id)] = sheet
        _writable(sheet, application)
        written.append(
            _write(
                session,
                sheet,
                row.points,
                row.comment,
                submit=True,
                actor=actor,
                now=now,
                criteria=criteria,
                source=source,
            )
        )
    return written


def sheets_of(session: Session, *, competition_id: int) -> list[ReviewAssignment]:
    """Every sheet of a competition, by application and expert."""
    return list(
        session.exec(
            select(ReviewAssignment)
            .where(ReviewAssignment.competition_id == competition_id)
            .order_by(col(ReviewAssignment.application_id), col(ReviewAssignment.expert_id))
        )
    )
