"""Review sheets' personal links: one signed link per assignment, for its expert only.

The signing and reading rules are the kernel's (``models.links``); this module binds them to
``ReviewAssignment``: the holder is the expert, the nonce the assignment's ``token_nonce``, and the
link's life the sheet's deadline in the database plus the read-only grace (``review_expiry``), read
on every request — a deadline extended after the invitations went out extends their links too.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session

from models.audit import record
from models.errors import NotFound
from models.links import (
    READABLE_AFTER_DEADLINE,
    LinkRefused,
    expired,
    link_secret,
    new_nonce,
    portal_link,
    read_link,
    sign_link,
)
from models.review.tables import ReviewAssignment
from models.settings import Settings


def review_expiry(assignment: ReviewAssignment) -> datetime:
    """When a review link stops opening at all: the deadline plus the read-only grace period."""
    return assignment.deadline + READABLE_AFTER_DEADLINE


def review_token(assignment: ReviewAssignment, settings: Settings) -> str:
    """The token of ``assignment``'s personal link, for its expert only."""
    if assignment.id is None:
        raise ValueError("the assignment has no id yet: flush it before signing its link")
    return sign_link(
        purpose="review",
        subject_id=assignment.id,
        holder_id=assignment.expert_id,
        nonce=assignment.token_nonce,
        secret=link_secret(settings),
    )


def review_link(assignment: ReviewAssignment, settings: Settings) -> str:
    """The personal link an invitation letter carries: ``{portal_url}/review/{token}``."""
    return portal_link("review", review_token(assignment, settings), settings)


def open_review_link(session: Session, *, token: str, settings: Settings, now: datetime) -> ReviewAssignment:
    """The one assignment ``token`` opens; ``LinkRefused`` when forged, expired, someone else's or revoked.

    Expired means past the sheet's deadline (as the database has it now) plus the read-only grace."""
    claim = read_link(token, purpose="review", secret=link_secret(settings), now=now)
    assignment = session.get(ReviewAssignment, claim.subject_id)
    if assignment is None:
        raise LinkRefused(
            "missing", "链接对应的评审任务不存在", "link refused: its review sheet does not exist"
        )
    if assignment.expert_id != claim.holder_id:
        raise LinkRefused(
            "holder", "此链接不属于该评审任务的专家", "link refused: it belongs to someone else"
        )
    if not secrets.compare_digest(assignment.token_nonce, claim.nonce):
        raise LinkRefused(
            "revoked",
            "链接已被撤销，请使用最新邮件中的链接",
            "link refused: it was revoked; use the link in the latest letter",
        )
    if now >= review_expiry(assignment):
        raise expired()
    return assignment


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
