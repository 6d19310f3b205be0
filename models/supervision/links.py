"""Checkpoints' personal links: the supervisor's (purpose ``checkpoint``, path /supervise) and the
grantee's (purpose ``report``, path /report), one of each per checkpoint.

The signing and reading rules are the kernel's (``models.links``); this module binds them to
``Checkpoint``: the supervisor's link is held by ``Checkpoint.supervisor_id`` with nonce
``token_nonce``; the grantee's by the grant with nonce ``report_nonce``. Re-assigning a checkpoint
to another supervisor gives it a new nonce, so the old supervisor's link stops opening.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models.funding.tables import Grant
from models.links import (
    READABLE_AFTER_DEADLINE,
    LinkRefused,
    Purpose,
    expired,
    link_secret,
    portal_link,
    read_link,
    sign_link,
)
from models.settings import Settings
from models.supervision.tables import Checkpoint


def end_of_day(day: date, timezone: str) -> datetime:
    """The last second of ``day`` in the competition's time zone (due dates are days)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(timezone))


def checkpoint_expiry(checkpoint: Checkpoint, settings: Settings) -> datetime:
    """When a checkpoint's links stop opening: its due day's end plus the read-only grace period."""
    return end_of_day(checkpoint.due_on, settings.timezone) + READABLE_AFTER_DEADLINE


def _holder(checkpoint: Checkpoint, purpose: Purpose) -> tuple[int, str]:
    if purpose == "checkpoint":
        if checkpoint.supervisor_id is None:
            raise ValueError(f"checkpoint #{checkpoint.id} has no supervisor yet")
        return checkpoint.supervisor_id, checkpoint.token_nonce
    return checkpoint.grant_id, checkpoint.report_nonce


def checkpoint_token(checkpoint: Checkpoint, settings: Settings, *, purpose: Purpose = "checkpoint") -> str:
    if checkpoint.id is None:
        raise ValueError("the checkpoint has no id yet: flush it before signing its link")
    holder, nonce = _holder(checkpoint, purpose)
    return sign_link(
        purpose=purpose,
        subject_id=checkpoint.id,
        holder_id=holder,
        nonce=nonce,
        expires_at=checkpoint_expiry(checkpoint, settings),
        secret=link_secret(settings),
    )


def supervise_link(checkpoint: Checkpoint, settings: Settings) -> str:
    """The supervisor's personal link: ``{portal_url}/supervise/{token}``."""
    return portal_link("checkpoint", checkpoint_token(checkpoint, settings), settings)


def report_link(checkpoint: Checkpoint, settings: Settings) -> str:
    """The grantee's personal link for its progress report: ``{portal_url}/report/{token}``."""
    return portal_link("report", checkpoint_token(checkpoint, settings, purpose="report"), settings)


def open_checkpoint_link(
    session: Session, *, token: str, settings: Settings, now: datetime, purpose: Purpose = "checkpoint"
) -> Checkpoint:
    """The one checkpoint ``token`` opens; ``LinkRefused`` when forged, expired, someone else's or revoked."""
    claim = read_link(token, purpose=purpose, secret=link_secret(settings), now=now)
    checkpoint = session.get(Checkpoint, claim.subject_id)
    if checkpoint is None:
        raise LinkRefused("missing", "链接对应的检查点不存在", "link refused: its checkpoint does not exist")
    holder, nonce = (
        (checkpoint.supervisor_id, checkpoint.token_nonce)
        if purpose == "checkpoint"
        else (checkpoint.grant_id, checkpoint.report_nonce)
    )
    grant = session.get(Grant, checkpoint.grant_id)
    competition_id = grant.competition_id if grant is not None else None
    if holder != claim.holder_id:
        raise LinkRefused(
            "holder",
            "此链接不属于该检查点的督导",
            "link refused: it belongs to someone else",
            competition_id=competition_id,
        )
    if not nonce or not secrets.compare_digest(nonce, claim.nonce):
        raise LinkRefused(
            "revoked",
            "链接已被撤销，请使用最新邮件中的链接",
            "link refused: it was revoked; use the link in the latest letter",
            competition_id=competition_id,
        )
    if now >= checkpoint_expiry(checkpoint, settings):  # the due day may have moved since signing
        raise expired(competition_id)
    return checkpoint
