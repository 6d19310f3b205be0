"""The console's 首页: where a competition stands, read from every stage — one function per figure.

    stage_timeline   each stage with the day it was planned (the configuration) and the day it began
                     (``models.competition.stages``), the current one marked, the dates due within it
    counts           received, eligible, funded (``models.roster``: the same query as the list each
                     links to), sheets in / due, checkpoints due / overdue, letters queued / held /
                     failed
    needs_attention  what waits for the administrator: a tie at the cut, an open objection, overdue
                     sheets and records, failed or held letters, agreements near or past their
                     sign-by day, a decision pending (the draft to approve, a tranche to pay, a grant
                     whose 整改 failed)

Every query counts or lists rows of one competition; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from models.competition.config import CompetitionConfig
from models.competition.stages import stages_began
from models.competition.tables import Competition
from models.documents.engine.cn_format import local_date
from models.evaluation.tables import PanelSheet
from models.funding.decision import open_objections
from models.funding.tables import FundingDecision, Grant, Tranche
from models.intake.tables import Application
from models.mailroom import letter_counts
from models.review.tables import ReviewAssignment
from models.roster import RosterQuery, count_applications
from models.states import (
    ASSIGNMENTS_OPEN,
    ASSIGNMENTS_WITHDRAWN,
    RECTIFICATIONS_TERMINABLE,
    AssignmentState,
    CheckpointState,
    CompetitionStage,
    GrantState,
    TrancheState,
)
from models.supervision.tables import Checkpoint, Rectification

SIGN_BY_SOON = timedelta(days=7)  # an agreement this close to its sign-by day needs her
TIMELINE = (
    CompetitionStage.draft,
    CompetitionStage.call_open,
    CompetitionStage.screening,
    CompetitionStage.review,
    CompetitionStage.funding,
    CompetitionStage.publicity,
    CompetitionStage.implementation,
    CompetitionStage.evaluation,
    CompetitionStage.closed,
)


# ---- the timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    label: str  # Chinese, as the configuration names it
    on: date


@dataclass(frozen=True)
class StageRow:
    stage: CompetitionStage
    planned: date | None  # when the configuration has it begin
    began: date | None  # when it began (its run's effective moment)
    state: str  # done | current | upcoming
    due: tuple[Due, ...] = ()  # the configured dates that fall within it


def _planned(config: CompetitionConfig) -> dict[CompetitionStage, date]:
    deadlines = config.deadlines
    planned = {
        CompetitionStage.call_open: deadlines.call_published,
        CompetitionStage.screening: deadlines.applications_close.date(),
        CompetitionStage.review: deadlines.screening_by,
        CompetitionStage.funding: deadlines.review_close.date(),
        CompetitionStage.closed: config.competition.service_period.end,
    }
    final = config.checkpoint("final")
    if final is not None and final.due is not None:
        planned[CompetitionStage.evaluation] = final.due
    return planned


def _dues(config: CompetitionConfig) -> dict[CompetitionStage, list[Due]]:
    deadlines = config.deadlines
    dues: dict[CompetitionStage, list[Due]] = {
        CompetitionStage.call_open: [Due("申报截止", deadlines.applications_close.date())],
        CompetitionStage.screening: [Due("资格审查结果通知", deadlines.screening_by)],
        CompetitionStage.review: [Due("评审截止", deadlines.review_close.date())],
        CompetitionStage.implementation: [],
    }
    if deadlines.agreements_by is not None:
        dues[CompetitionStage.implementation].append(Due("协议签订截止", deadlines.agreements_by))
    for plan in config.checkpoints:
        if plan.due is not None and plan.code != "final":
            dues[CompetitionStage.implementation].append(Due(plan.name, plan.due))
    return dues


def stage_timeline(
    session: Session, competition: Competition, config: CompetitionConfig, *, timezone: str
) -> list[StageRow]:
    """The competition's stages in order: planned and actual start, done / current / upcoming."""
    began = stages_began(session, competition)
    planned, dues = _planned(config), _dues(config)
    current = competition.stage
    position = TIMELINE.index(current) if current in TIMELINE else len(TIMELINE)
    if current is CompetitionStage.closed:
        position = len(TIMELINE)  # the last stage is an end: every stage is done
    rows = []
    for index, stage in enumerate(TIMELINE):
        state = "done" if index < position else "current" if index == position else "upcoming"
        moment = began.get(stage)
        rows.append(
            StageRow(
                stage=stage,
                planned=planned.get(stage),
                began=local_date(moment, timezone) if moment is not None else None,
                state=state,
                due=tuple(sorted(dues.get(stage, []), key=lambda d: d.on)),
            )
        )
    return rows


# ---- the counts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    received: int
    eligible: int
    funded: int
    sheets_in: int
    sheets_due: int
    checkpoints_due: int
    checkpoints_overdue: int
    letters_queued: int
    letters_held: int
    letters_failed: int


def received(session: Session, competition_id: int) -> int:
    return count_applications(session, competition_id=competition_id)


def eligible(session: Session, competition_id: int) -> int:
    return count_applications(session, competition_id=competition_id, query=RosterQuery(standing="eligible"))


def funded(session: Session, competition_id: int) -> int:
    return count_applications(session, competition_id=competition_id, query=RosterQuery(standing="funded"))


def sheets(session: Session, competition_id: int) -> tuple[int, int]:
    """The review's score sheets: (submitted, expected) — declined and conflicted ones not expected."""
    by_state = dict(
        session.exec(
            select(ReviewAssignment.state, func.count())
            .where(ReviewAssignment.competition_id == competition_id)
            .group_by(col(ReviewAssignment.state))
        ).all()
    )
    expected = sum(n for state, n in by_state.items() if state not in ASSIGNMENTS_WITHDRAWN)
    return by_state.get(AssignmentState.submitted, 0), expected


def _open_checkpoints(competition_id: int) -> object:
    return (
        select(Checkpoint)
        .join(Grant, col(Grant.id) == col(Checkpoint.grant_id))
        .where(Grant.competition_id == competition_id, Checkpoint.state == CheckpointState.open)
    )


def checkpoints(session: Session, competition_id: int, *, today: date) -> tuple[int, int]:
    """Open checkpoints awaiting the supervisor's record: (due on or after today, past their due day)."""
    rows = session.exec(_open_checkpoints(competition_id)).all()  # type: ignore[call-overload]
    overdue = sum(1 for c in rows if c.due_on < today)
    return len(rows) - overdue, overdue


def letters(session: Session, competition_id: int) -> tuple[int, int, int]:
    """The outbox: (queued or being sent, held for release, failed) — the 发信箱's own counts."""
    by_state = letter_counts(session, competition_id=competition_id)
    return by_state["queued"], by_state["draft"], by_state["failed"]


def counts(session: Session, competition_id: int, *, today: date) -> Counts:
    sheets_in, sheets_due = sheets(session, competition_id)
    due, overdue = checkpoints(session, competition_id, today=today)
    queued, held, failed = letters(session, competition_id)
    return Counts(
        received=received(session, competition_id),
        eligible=eligible(session, competition_id),
        funded=funded(session, competition_id),
        sheets_in=sheets_in,
        sheets_due=sheets_due,
        checkpoints_due=due,
        checkpoints_overdue=overdue,
        letters_queued=queued,
        letters_held=held,
        letters_failed=failed,
    )


# ---- what needs her --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    application_id: int
    ref: str
    note: str = ""  # a date or a figure beside the 申报编号


@dataclass(frozen=True)
class Attention:
    key: str  # tie | objection | sheets_overdue | panel_overdue | records_overdue | letters_failed |
    #           letters_held | sign_by | draft_pending | approval_pending | payments_due | terminable
    count: int
    items: tuple[Item, ...] = field(
        default_factory=tuple
    )  # the applications concerned, when it is about some


def _refs(session: Session, application_ids: Sequence[int]) -> dict[int, str]:
    if not application_ids:
        return {}
    rows = session.exec(
        select(Application.id, Application.ref).where(col(Application.id).in_(application_ids))
    )
    return {int(i or 0): ref for i, ref in rows}


def _items(session: Session, notes: dict[int, str]) -> tuple[Item, ...]:
    refs = _refs(session, list(notes))
    return tuple(sorted((Item(i, refs.get(i, str(i)), notes[i]) for i in notes), key=lambda item: item.ref))


def needs_attention(
    session: Session, competition: Competition, config: CompetitionConfig, *, now: datetime, timezone: str
) -> list[Attention]:
    """What waits for the administrator, most pressing first (see the module docstring)."""
    competition_id = competition.id or 0
    today = local_date(now, timezone)
    found: list[Attention] = []

    def add(key: str, notes: dict[int, str] | None = None, count: int | None = None) -> None:
        items = _items(session, notes) if notes else ()
        total = count if count is not None else len(items)
        if total:
            found.append(Attention(key, total, items))

    decisions = list(
        session.exec(select(FundingDecision).where(FundingDecision.competition_id == competition_id))
    )
    if competition.stage is CompetitionStage.funding:
        add("tie", {d.application_id: "" for d in decisions if d.tie_open})
    add("objection", {o.application_id: "" for o in open_objections(session, competition_id=competition_id)})
    if competition.stage is CompetitionStage.review:
        overdue_sheets = session.exec(
            select(ReviewAssignment).where(
                ReviewAssignment.competition_id == competition_id,
                col(ReviewAssignment.state).in_(list(ASSIGNMENTS_OPEN)),
                col(ReviewAssignment.deadline) < now,
            )
        ).all()
        add("sheets_overdue", count=len(overdue_sheets))
    panel_overdue = session.exec(
        select(func.count())
        .select_from(PanelSheet)
        .where(
            PanelSheet.competition_id == competition_id,
            col(PanelSheet.state).in_(list(ASSIGNMENTS_OPEN)),
            col(PanelSheet.due_on) < today,
        )
    ).one()
    add("panel_overdue", count=int(panel_overdue))
    grants = {g.id: g for g in session.exec(select(Grant).where(Grant.competition_id == competition_id))}
    overdue_records = [
        c
        for c in session.exec(_open_checkpoints(competition_id)).all()  # type: ignore[call-overload]
        if c.due_on < today
    ]
    add(
        "records_overdue",
        {
            grants[c.grant_id].application_id: f"{c.due_on:%Y-%m-%d}"
            for c in overdue_records
            if c.grant_id in grants
        },
    )
    _, held, failed = letters(session, competition_id)
    add("letters_failed", count=failed)
    add("letters_held", count=held)
    sign_by_default = config.deadlines.agreements_by
    unsigned: dict[int, str] = {}
    for grant in grants.values():
        if grant.state is not GrantState.awarded:
            continue
        sign_by = grant.sign_by or sign_by_default
        if sign_by is not None and sign_by - today <= SIGN_BY_SOON:
            unsigned[grant.application_id] = f"{sign_by:%Y-%m-%d}"
    add("sign_by", unsigned)
    if competition.stage is CompetitionStage.funding:
        if not decisions:
            add("draft_pending", count=1)
        elif not any(d.tie_open for d in decisions):
            add("approval_pending", count=1)
    due_tranches = session.exec(
        select(Tranche).where(
            col(Tranche.grant_id).in_([g for g in grants if g is not None]), Tranche.state == TrancheState.due
        )
    ).all()
    add(
        "payments_due",
        {grants[t.grant_id].application_id: t.label for t in due_tranches if t.grant_id in grants},
    )
    terminable = session.exec(
        select(Rectification).where(
            col(Rectification.grant_id).in_([g for g in grants if g is not None]),
            col(Rectification.state).in_(list(RECTIFICATIONS_TERMINABLE)),
        )
    ).all()
    add(
        "terminable",
        {
            grants[r.grant_id].application_id: ""
            for r in terminable
            if r.grant_id in grants
            and grants[r.grant_id].state not in (GrantState.terminated, GrantState.completed)
        },
    )
    return found
