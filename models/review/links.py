"""Review sheets' personal links: one signed link per assignment, for its expert only, and one link
per expert to the list of their sheets.

The signing and reading rules are the kernel's (``models.links``); this module binds them to
``ReviewAssignment``: the holder is the expert, the nonce the assignment's ``token_nonce``, and the
link's life the sheet's deadline in the database plus the read-only grace (``review_expiry``), read
on every request — a deadline extended after the invitations went out extends their links too.

The expert's own link (purpose ``expert``, ``/expert/{token}``) opens the list of every sheet of that
expert — the review's and the 结项 panel's — each with its own link; held by the expert, nonce
``Expert.token_nonce``, alive while one of those sheets' links is (``expert_expiry``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlmodel import Session, col, func, select

from models.audit import record
from models.errors import NotFound
from models.links import (
    READABLE_AFTER_DEADLINE,
    LinkRefused,
    check_holder,
    expired,
    link_secret,
    new_nonce,
    open_sheet_link,
    portal_link,
    read_link,
    sheet_expiry,
    sheet_token,
    sign_link,
)
from models.review.tables import Expert, ReviewAssignment
from models.settings import Settings

NAMED = ("评审任务", "review sheet")


def review_expiry(assignment: ReviewAssignment) -> datetime:
    """When a review link stops opening at all: the deadline plus the read-only grace period."""
    return sheet_expiry(assignment)


def review_token(assignment: ReviewAssignment, settings: Settings) -> str:
    """The token of ``assignment``'s personal link, for its expert only."""
    return sheet_token("review", assignment, settings)


def review_link(assignment: ReviewAssignment, settings: Settings) -> str:
    """The personal link an invitation letter carries: ``{portal_url}/review/{token}``."""
    return portal_link("review", review_token(assignment, settings), settings)


def open_review_link(session: Session, *, token: str, settings: Settings, now: datetime) -> ReviewAssignment:
    """The one assignment ``token`` opens; ``LinkRefused`` when forged, expired, someone else's or revoked.

    Expired means past the sheet's deadline (as the database has it now) plus the read-only grace."""
    return open_sheet_link(
        session, ReviewAssignment, purpose="review", token=token, settings=settings, now=now, named=NAMED
    )


def rotate_review_link(
    session: Session, *, assignment_id: int, actor: str, reason: str = ""
) -> ReviewAssignment:
    """Revoke an assignment's link by giving it a new nonce (audited); sign a new link afterwards."""
    assignment = session.get(ReviewAssignment, assignment_id)
    if assignment is None:
        raise NotFound(f"评审任务 #{assignment_id} 不存在 / no review assignment #{assignment_id}")
    assignment.token_nonce = new_nonce()
    session.add(assignment)
    session.flush()
    record(
        session,
        actor=actor,
        entity="assignment",
        entity_id=assignment_id,
        action="link_rotated",
        reason=reason or "撤销旧链接 / old link revoked",
    )
    return assignment


# ---- the expert's own page: the list of their sheets ---------------------------------------------


def expert_expiry(session: Session, expert: Expert, *, later: Iterable[datetime] = ()) -> datetime | None:
    """When the expert's own link stops opening: the latest expiry of their sheets (``later``: the
    deadlines of a later stage's sheets of theirs, the 结项 panel's, passed in by the caller); None
    while they have no sheet."""
    review = session.exec(
        select(func.max(ReviewAssignment.deadline)).where(col(ReviewAssignment.expert_id) == expert.id)
    ).one()
    deadlines = [moment for moment in (review, *later) if moment is not None]
    if not deadlines:
        return None
    return max(deadlines) + READABLE_AFTER_DEADLINE


def expert_token(expert: Expert, settings: Settings) -> str:
    """The token of the expert's own link (the list of their sheets)."""
    if expert.id is None:
        raise ValueError("the expert has no id yet: flush it before signing their link")
    return sign_link(
        purpose="expert",
        subject_id=expert.id,
        holder_id=expert.id,
        nonce=expert.token_nonce,
        secret=link_secret(settings),
    )


def expert_link(expert: Expert, settings: Settings) -> str:
    """The link an invitation letter carries: ``{portal_url}/expert/{token}``."""
    return portal_link("expert", expert_token(expert, settings), settings)


def open_expert_link(
    session: Session,
    *,
    token: str,
    settings: Settings,
    now: datetime,
    later: Callable[[int], Iterable[datetime]] = lambda _expert_id: (),
) -> Expert:
    """The expert ``token`` belongs to; ``LinkRefused`` when forged, revoked, or past every sheet
    (``later``: an expert's id → the deadlines of a later stage's sheets of theirs, as
    ``expert_expiry`` takes them)."""
    claim = read_link(token, purpose="expert", secret=link_secret(settings), now=now)
    expert = session.get(Expert, claim.subject_id)
    if expert is None:
        raise LinkRefused("missing", "链接对应的专家不存在", "link refused: its expert does not exist")
    check_holder(expert.competition_id, expert.id or 0, expert.token_nonce, claim, named="评审页面")
    until = expert_expiry(session, expert, later=later(expert.id or 0))
    if until is None or now >= until:
        raise expired(expert.competition_id)
    return expert
