"""An expert's 结项评分表: one score (0 … the rubric's total) and a comment, saved or submitted.

``save_panel_sheet`` is what the portal calls. It checks the score as the expert typed it (a plain
number, full-width digits read as plain ones, at most two decimals, within 0 … total) and the
comment's length — every problem at once, each naming its field (``score``, ``comment``) — then
refuses a change after the deadline or once the grant's round has been evaluated (``Conflict``,
bilingual), and moves the sheet through ``set_state`` (audited): invited/draft → draft | submitted,
submitted → submitted (a submitted sheet may be amended until the deadline, as a review sheet may;
a draft never replaces it — ``models.submission``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from models.competition.tables import Competition, competition_config
from models.errors import Conflict, InputError, NotFound, Problem
from models.evaluation.panel_links import NAMED
from models.evaluation.tables import PanelSheet
from models.lifecycle import set_state
from models.review.aggregation import plain_number
from models.states import AssignmentState, CheckpointState
from models.submission import next_submission
from models.supervision.tables import Checkpoint

MAX_COMMENT = 2000


@dataclass(frozen=True)
class SheetRules:
    top: Decimal  # the highest score: the rubric's total (the grade bands' scale)


def sheet_rules(session: Session, sheet: PanelSheet) -> SheetRules:
    competition = session.get(Competition, sheet.competition_id)
    assert competition is not None
    return SheetRules(top=competition_config(competition).rubric.total)


def parse_score(text: str, *, top: Decimal) -> Decimal:
    """The score as typed; ``InputError`` at field ``score`` when it is not one."""
    typed = unicodedata.normalize("NFKC", text or "").strip()
    if not typed:
        raise InputError(Problem("", "score", "请填写评分", "enter a score"))
    try:
        value = Decimal(typed)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise InputError(
            Problem("", "score", f"评分须为数字：{typed}", f"the score must be a number: {typed}")
        )
    if value < 0 or value > top:
        raise InputError(
            Problem("", "score", f"评分须在 0 到 {top} 之间", f"the score must be between 0 and {top}")
        )
    if value != value.quantize(Decimal("0.01")):
        raise InputError(Problem("", "score", "评分最多两位小数", "the score has at most two decimals"))
    return plain_number(value)


def _check_comment(comment: str) -> str:
    if len(comment) > MAX_COMMENT:
        raise InputError(
            Problem(
                "",
                "comment",
                f"评审意见不超过 {MAX_COMMENT} 字",
                f"the comment exceeds {MAX_COMMENT} characters",
            )
        )
    return comment.strip()


def sheet_is_editable(session: Session, sheet: PanelSheet, now: datetime) -> bool:
    """Open for changes: until the deadline, and the grant's round not yet evaluated."""
    checkpoint = session.get(Checkpoint, sheet.checkpoint_id)
    return (
        now <= sheet.deadline
        and checkpoint is not None
        and checkpoint.state is CheckpointState.submitted
        and sheet.state in (AssignmentState.invited, AssignmentState.draft, AssignmentState.submitted)
    )


def save_panel_sheet(
    session: Session,
    *,
    sheet_id: int,
    score: str,
    comment: str = "",
    submit: bool,
    actor: str,
    now: datetime,
) -> PanelSheet:
    """Store the expert's score and comment, as a draft or submitted (see the module docstring)."""
    sheet = session.get(PanelSheet, sheet_id)
    if sheet is None:
        raise NotFound(f"没有结项评分表 #{sheet_id} / no panel sheet #{sheet_id}")
    rules = sheet_rules(session, sheet)
    problems: list[Problem] = []
    value: Decimal | None = None
    try:
        value = parse_score(score, top=rules.top) if (submit or (score or "").strip()) else None
    except InputError as exc:
        problems += exc.problems
    try:
        comment = _check_comment(comment or "")
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    if not sheet_is_editable(session, sheet, now):
        raise Conflict(
            "结项评分已截止或该项目已完成评估，不能再修改 / the panel's sheet is closed: "
            "past its deadline, or the grant has been evaluated"
        )
    submission = next_submission(  # a submitted sheet stays submitted (models.submission)
        submitted=sheet.state is AssignmentState.submitted,
        submit=submit,
        amendable=True,  # until the deadline, refused above
        form=NAMED,
    )
    sheet.score, sheet.comment = value, comment
    target = AssignmentState.submitted if submit else AssignmentState.draft
    if submit:
        sheet.submitted_at = now
    set_state(
        session,
        sheet,
        target,
        actor=actor,
        reason=f"结项专家评分表：{submission.reason}",
        data={"score": str(value) if value is not None else "", "submission": str(submission)},
    )
    return sheet
