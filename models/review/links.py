"""Review sheets' personal links: one signed link per assignment, for its expert only.

The signing and reading rules are the kernel's (``models.links``); this module binds them to
``ReviewAssignment``: the holder is the expert, the nonce the assignment's ``token_nonce``, and the
link's life the sheet's deadline in the database plus the read-only grace (``review_expiry``), read
on every request — a deadline extended after the invitations went out extends their links too.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.audit import record
from models.errors import NotFound
from models.links import (
    new_nonce,
    open_sheet_link,
    portal_link,
    sheet_expiry,
    sheet_token,
)
from models.review.tables import ReviewAssignment
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
