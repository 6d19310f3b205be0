"""Expert review in the database: experts, assignment, conflicts and declines, open sheets.

Keyword-only functions taking a ``Session``; the caller owns the transaction (commit, or roll back
to undo all). Score sheets live in ``models.review.score_sheets``; closing the review and its report in
``models.review.results``. The rules themselves are pure: ``models.review.assignment``.

- ``load_experts``: from the configuration's ``experts`` or an .xlsx sheet; upserted by email.
- ``assign_reviews``: every eligible / in-review application gets k experts (balanced loads,
  exclusions honoured, deterministic for the configured seed); new sheets are ``invited`` and the
  applications move eligible → in_review. Re-running adds only what is missing.
- ``decline`` / ``declare_conflict`` / ``record_conflict``: withdraw a sheet and invite a
  replacement with the smallest load; when nobody is left the withdrawal still stands and the
  result says why no replacement was found (also written to the application's audit trail).
- ``unfinished_assignments``: the open sheets, for reminders.

Long by design: experts, assignment, declines and conflicts share one rule for choosing a
replacement and must change together.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.audit import AuditEvent, effective_at, record
from models.competition.config import CompetitionConfig, Person
from models.competition.tables import Competition, competition_config
from models.errors import AccessDenied, Conflict, NotFound
from models.intake.tables import Application, Organisation
from models.lifecycle import set_state
from models.review.assignment import (
    Candidate,
    Exclusions,
    InfeasibleAssignment,
    Pair,
    Reviewer,
    assign,
    replacement_for,
)
from models.review.people import sync_people
from models.review.tables import ConflictDeclaration, Expert, ReviewAssignment
from models.review.workbook import read_experts
from models.states import (
    APPLICATIONS_REVIEWABLE,
    ASSIGNMENTS_OPEN,
    ASSIGNMENTS_WITHDRAWN,
    ApplicationState,
    AssignmentState,
)
from models.types import utcnow

_BEIJING = ZoneInfo("Asia/Shanghai")


def competition_and_config(session: Session, competition_id: int) -> tuple[Competition, CompetitionConfig]:
    competition = session.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"没有竞赛 #{competition_id} / no competition #{competition_id}")
    return competition, competition_config(competition)


def get_assignment(session: Session, assignment_id: int) -> ReviewAssignment:
    assignment = session.get(ReviewAssignment, assignment_id)
    if assignment is None:
        raise NotFound(f"没有评分表 #{assignment_id} / no score sheet #{assignment_id}")
    return assignment


# ---- experts ------------------------------------------------------------------------------------


def load_experts(
    session: Session,
    *,
    competition_id: int,
    actor: str,
    path: Path | str | None = None,
    people: Sequence[Person] | None = None,
) -> list[Expert]:
    """Add or update the competition's experts (matched by email) from ``path`` (.xlsx with the
    headers 姓名/电子邮箱/电话/单位/社区/专长), from ``people``, or else from the configuration.

    Experts not listed are kept (they may hold sheets). Returns every expert of the competition.
    """
    _, config = competition_and_config(session, competition_id)
    if path is not None:
        people = read_experts(path, communities=config.communities)
    elif people is None:
        people = config.experts
    source = str(path) if path is not None else "配置 / configuration"
    sync_people(
        session,
        table=Expert,
        competition_id=competition_id,
        people=people,
        entity="expert",
        reason=f"专家名单 / experts from {source}",
        actor=actor,
        by_hand=path is not None,
    )
    return list(
        session.exec(select(Expert).where(Expert.competition_id == competition_id).order_by(col(Expert.id)))
    )


# ---- assignment ---------------------------------------------------------------------------------


def candidate(application: Application, organisation: Organisation) -> Candidate:
    assert application.id is not None
    return Candidate(
        id=application.id,
        ref=application.ref,
        organisation=organisation.name,
        communities=frozenset(c for c in [application.community, *application.communities] if c),
    )


def reviewer(expert: Expert) -> Reviewer:
    assert expert.id is not None
    return Reviewer(
        id=expert.id, name=expert.name, organisation=expert.organisation_name, community=expert.community
    )


def exclusions(session: Session, config: CompetitionConfig, *, competition_id: int) -> Exclusions:
    """The configured exclusion rules with every declared conflict and withdrawn sheet."""
    declared = {
        Pair(c.application_id, c.expert_id)
        for c in session.exec(
            select(ConflictDeclaration)
            .join(Expert, col(Expert.id) == col(ConflictDeclaration.expert_id))
            .where(Expert.competition_id == competition_id)
        )
    }
    declared |= {
        Pair(a.application_id, a.expert_id)
        for a in _assignments(session, competition_id)
        if a.state in ASSIGNMENTS_WITHDRAWN
    }
    return Exclusions(
        same_organisation=config.review.exclude_same_organisation,
        same_community=config.review.exclude_same_community,
        declared=frozenset(declared),
    )


def _assignments(session: Session, competition_id: int) -> list[ReviewAssignment]:
    return list(
        session.exec(
            select(ReviewAssignment)
            .where(ReviewAssignment.competition_id == competition_id)
            .order_by(col(ReviewAssignment.id))
        )
    )


def _experts(session: Session, competition_id: int) -> list[Expert]:
    """The experts who may get a sheet: the competition's, not deactivated."""
    return list(
        session.exec(select(Expert).where(Expert.competition_id == competition_id, col(Expert.active)))
    )


def new_assignment(
    session: Session,
    *,
    competition_id: int,
    application_id: int,
    expert_id: int,
    deadline: datetime,
    actor: str,
    reason: str,
    source: str = "portal",
) -> ReviewAssignment:
    """A new ``invited`` sheet with a fresh link nonce, audited."""
    assignment = ReviewAssignment(
        competition_id=competition_id,
        application_id=application_id,
        expert_id=expert_id,
        deadline=deadline,
        token_nonce=secrets.token_urlsafe(24),
        source=source,
    )
    session.add(assignment)
    session.flush()
    assert assignment.id is not None
    record(
        session,
        actor=actor,
        entity="assignment",
        entity_id=assignment.id,
        action="create",
        to_state=str(assignment.state),
        reason=reason,
        data={"application_id": application_id, "expert_id": expert_id},
    )
    return assignment


@dataclass(frozen=True)
class AssignmentRun:
    created: list[ReviewAssignment]
    moved: list[int]  # applications moved eligible → in_review


def assign_reviews(
    session: Session, *, competition_id: int, actor: str, deadline: datetime | None = None
) -> AssignmentRun:
    """Give every eligible or in-review application its k experts; see the module docstring.

    ``deadline`` defaults to the configured ``deadlines.review_close``. Raises
    ``InfeasibleAssignment`` (nothing stored) when some application cannot get k experts.
    """
    _, config = competition_and_config(session, competition_id)
    rules = config.review
    rows = list(
        session.exec(
            select(Application, Organisation)
            .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
            .where(
                Application.competition_id == competition_id,
                col(Application.state).in_(APPLICATIONS_REVIEWABLE),
            )
            .order_by(col(Application.id))
        )
    )
    app_ids = {a.id for a, _ in rows}
    held = [
        Pair(a.application_id, a.expert_id)
        for a in _assignments(session, competition_id)
        if a.state not in ASSIGNMENTS_WITHDRAWN
    ]
    pairs = assign(
        applications=[candidate(a, o) for a, o in rows],
        experts=[reviewer(e) for e in _experts(session, competition_id)],
        k=rules.experts_per_application,
        seed=rules.assignment_seed,
        rules=exclusions(session, config, competition_id=competition_id),
        existing=[p for p in held if p.application_id in app_ids],
    )
    due = deadline or config.deadlines.review_close
    seed = rules.assignment_seed
    created = [
        new_assignment(
            session,
            competition_id=competition_id,
            application_id=p.application_id,
            expert_id=p.expert_id,
            deadline=due,
            actor=actor,
            reason=f"自动分配（种子 {seed}） / assigned (seed {seed})",
        )
        for p in pairs
    ]
    moved = []
    for application, _ in rows:
        if application.state is ApplicationState.eligible:
            set_state(
                session,
                application,
                ApplicationState.in_review,
                actor=actor,
                reason="已分配评审专家 / experts assigned",
            )
            assert application.id is not None
            moved.append(application.id)
    session.flush()
    return AssignmentRun(created=created, moved=moved)


# ---- declines and conflicts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Withdrawal:
    """A sheet withdrawn (declined or conflicted) and the sheet that replaces it, if any."""

    withdrawn: ReviewAssignment
    replacement: ReviewAssignment | None
    problem: str = ""  # why there is no replacement (zh / en)


def _replace(session: Session, withdrawn: ReviewAssignment, *, actor: str) -> Withdrawal:
    application = session.get(Application, withdrawn.application_id)
    assert application is not None and application.id is not None
    if application.state is not ApplicationState.in_review:
        problem = "该申报不在评审中，不再替换专家 / the application is not in review: no replacement"
        return Withdrawal(withdrawn, None, problem)
    _, config = competition_and_config(session, withdrawn.competition_id)
    organisation = session.get(Organisation, application.organisation_id)
    assert organisation is not None
    everything = _assignments(session, withdrawn.competition_id)
    loads = Counter(a.expert_id for a in everything if a.state not in ASSIGNMENTS_WITHDRAWN)
    try:
        expert_id = replacement_for(
            application=candidate(application, organisation),
            experts=[reviewer(e) for e in _experts(session, withdrawn.competition_id)],
            held={a.expert_id for a in everything if a.application_id == application.id},
            loads=loads,
            seed=config.review.assignment_seed,
            rules=exclusions(session, config, competition_id=withdrawn.competition_id),
        )
    except InfeasibleAssignment as exc:
        record(
            session,
            actor=actor,
            entity="application",
            entity_id=application.id,
            action="no_replacement",
            reason=str(exc),
            data={"assignment_id": withdrawn.id},
        )
        return Withdrawal(withdrawn, None, str(exc))
    replacement = new_assignment(
        session,
        competition_id=withdrawn.competition_id,
        application_id=application.id,
        expert_id=expert_id,
        deadline=withdrawn.deadline,
        actor=actor,
        reason=f"替换评分表 #{withdrawn.id} / replaces sheet #{withdrawn.id}",
    )
    return Withdrawal(withdrawn, replacement)


def decline(session: Session, *, assignment_id: int, reason: str, actor: str) -> Withdrawal:
    """The expert declines an open sheet (谢绝); a replacement is invited."""
    assignment = get_assignment(session, assignment_id)
    set_state(session, assignment, AssignmentState.declined, actor=actor, reason=reason)
    return _replace(session, assignment, actor=actor)


def refuse_after_deadline(assignment: ReviewAssignment, now: datetime) -> None:
    """``AccessDenied`` once the sheet's deadline (in the database) has passed."""
    if now > assignment.deadline:
        local = assignment.deadline.astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M")
        raise AccessDenied(f"评审已于 {local}（北京时间）截止 / the review closed at {local} (Beijing time)")


def review_closed_at(session: Session, *, application_id: int) -> datetime | None:
    """When the review of an application actually closed (``close_review`` moved it out of 评审中,
    at the run's moment); None while it is still in review. Its sheets show this, not the planned
    deadline, when the review closed early."""
    event = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "application",
            AuditEvent.entity_id == application_id,
            AuditEvent.from_state == ApplicationState.in_review.value,
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    return effective_at(event) if event is not None else None


def declare_conflict(
    session: Session, *, assignment_id: int, reason: str, actor: str, now: datetime | None = None
) -> Withdrawal:
    """The expert declares a conflict of interest on an open sheet (申报回避); it is recorded, the
    sheet withdrawn and a replacement invited.

    Refused, changing nothing: after the sheet's deadline (``AccessDenied``), once the
    application's review is closed, on a submitted sheet (its scores count: the organiser decides)
    and on a sheet already withdrawn (``Conflict``)."""
    assignment = get_assignment(session, assignment_id)
    check_conflict_allowed(session, assignment=assignment, now=now or utcnow())
    set_state(session, assignment, AssignmentState.conflicted, actor=actor, reason=reason)
    _declaration(
        session, expert_id=assignment.expert_id, application_id=assignment.application_id, reason=reason
    )
    return _replace(session, assignment, actor=actor)


def check_conflict_allowed(session: Session, *, assignment: ReviewAssignment, now: datetime) -> None:
    """Return quietly when a conflict may be declared on the sheet now (the portal asks before it
    shows the confirmation); otherwise the refusal ``declare_conflict`` would raise."""
    refuse_after_deadline(assignment, now)
    application = session.get(Application, assignment.application_id)
    assert application is not None
    if application.state is not ApplicationState.in_review:
        raise Conflict(
            f"申报 {application.ref} 的评审已结束，不能再申报回避 / "
            f"the review of {application.ref} is closed: a conflict can no longer be declared"
        )
    if assignment.state is AssignmentState.submitted:
        raise Conflict(
            "该评分表已提交，不能再申报回避；如存在利益冲突，请联系组织方 / "
            "this sheet is submitted: a conflict can no longer be declared here; please contact the organiser"
        )
    if assignment.state in ASSIGNMENTS_WITHDRAWN:
        raise Conflict(
            "该评分表已撤回（谢绝或回避） / this sheet was already withdrawn (declined or conflicted)"
        )


def _declaration(
    session: Session, *, expert_id: int, application_id: int, reason: str
) -> ConflictDeclaration:
    found = session.exec(
        select(ConflictDeclaration).where(
            ConflictDeclaration.expert_id == expert_id, ConflictDeclaration.application_id == application_id
        )
    ).first()
    if found is None:
        found = ConflictDeclaration(expert_id=expert_id, application_id=application_id, reason=reason)
        session.add(found)
        session.flush()
    return found


def record_conflict(
    session: Session,
    *,
    expert_id: int,
    application_id: int,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> Withdrawal | None:
    """A conflict declared before (or outside) the portal: the pair is never assigned; an open sheet
    for it is withdrawn and replaced (returned). A submitted sheet cannot be withdrawn (``Conflict``,
    nothing recorded)."""
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound(f"没有专家 #{expert_id} / no expert #{expert_id}")
    sheet = session.exec(
        select(ReviewAssignment).where(
            ReviewAssignment.expert_id == expert_id, ReviewAssignment.application_id == application_id
        )
    ).first()
    if sheet is not None and sheet.state is AssignmentState.submitted:
        raise Conflict(
            f"专家 {expert.name} 已提交该申报的评分表，不能改为回避 / "
            f"{expert.name} has submitted a sheet for this application: it cannot be withdrawn"
        )
    _declaration(session, expert_id=expert_id, application_id=application_id, reason=reason)
    record(
        session,
        actor=actor,
        entity="expert",
        entity_id=expert_id,
        action="conflict",
        reason=reason,
        data={"application_id": application_id},
    )
    if sheet is None or sheet.state in ASSIGNMENTS_WITHDRAWN:
        return None
    assert sheet.id is not None
    return declare_conflict(session, assignment_id=sheet.id, reason=reason, actor=actor, now=now)


def deactivate_expert(session: Session, *, expert_id: int, actor: str, reason: str) -> list[Withdrawal]:
    """Deactivate an expert (audited): no new sheet from now on, and each sheet still open on an
    application in review is declined for them and given to a replacement, as when an expert
    declines (``decline``). Submitted sheets count as they are; panel sheets already made stay.
    Returns the withdrawals (none when the expert was inactive already)."""
    from models.review.people import set_active

    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound(f"没有专家 #{expert_id} / no expert #{expert_id}")
    if not set_active(session, row=expert, active=False, entity="expert", actor=actor, reason=reason):
        return []
    mine = [
        s
        for s in unfinished_assignments(session, competition_id=expert.competition_id)
        if s.expert.id == expert_id
    ]
    return [
        decline(
            session,
            assignment_id=s.assignment.id or 0,
            reason=f"专家已停用 / expert deactivated: {reason}",
            actor=actor,
        )
        for s in mine
    ]


# ---- reminders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenSheet:
    assignment: ReviewAssignment
    expert: Expert
    application: Application


def unfinished_assignments(session: Session, *, competition_id: int) -> list[OpenSheet]:
    """Sheets still invited or in draft on applications in review, by expert then 申报编号."""
    rows = session.exec(
        select(ReviewAssignment, Expert, Application)
        .join(Expert, col(Expert.id) == col(ReviewAssignment.expert_id))
        .join(Application, col(Application.id) == col(ReviewAssignment.application_id))
        .where(
            ReviewAssignment.competition_id == competition_id,
            col(ReviewAssignment.state).in_(ASSIGNMENTS_OPEN),
            Application.state == ApplicationState.in_review,
        )
        .order_by(col(Expert.id), col(Application.ref))
    )
    return [OpenSheet(a, e, app) for a, e, app in rows]
