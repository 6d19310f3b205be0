"""The expert panel's personal links: one signed link per ``PanelSheet``, for its expert only.

The signing and reading rules are the kernel's (``models.links``, purpose ``final_review``, path
/final-review), bound here as the review binds them to its sheets: the holder is the expert, the
nonce the sheet's ``token_nonce``, and the link's life the sheet's deadline in the database plus the
read-only grace (``READABLE_AFTER_DEADLINE``), read on every request.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session

from models.evaluation.tables import PanelSheet
from models.links import (
    READABLE_AFTER_DEADLINE,
    LinkRefused,
    expired,
    link_secret,
    portal_link,
    read_link,
    sign_link,
)
from models.settings import Settings


def panel_expiry(sheet: PanelSheet) -> datetime:
    """When a panel link stops opening at all: the deadline plus the read-only grace period."""
    return sheet.deadline + READABLE_AFTER_DEADLINE


def panel_token(sheet: PanelSheet, settings: Settings) -> str:
    if sheet.id is None:
        raise ValueError("the panel sheet has no id yet: flush it before signing its link")
    return sign_link(
        purpose="final_review",
        subject_id=sheet.id,
        holder_id=sheet.expert_id,
        nonce=sheet.token_nonce,
        secret=link_secret(settings),
    )


def panel_link(sheet: PanelSheet, settings: Settings) -> str:
    """The personal link a panel letter carries: ``{portal_url}/final-review/{token}``."""
    return portal_link("final_review", panel_token(sheet, settings), settings)


def open_panel_link(session: Session, *, token: str, settings: Settings, now: datetime) -> PanelSheet:
    """The one sheet ``token`` opens; ``LinkRefused`` when forged, expired, someone else's or revoked."""
    claim = read_link(token, purpose="final_review", secret=link_secret(settings), now=now)
    sheet = session.get(PanelSheet, claim.subject_id)
    if sheet is None:
        raise LinkRefused("missing", "链接对应的结项评分表不存在", "link refused: its sheet does not exist")
    if sheet.expert_id != claim.holder_id:
        raise LinkRefused("holder", "此链接不属于该评分表的专家", "link refused: it belongs to someone else")
    if not sheet.token_nonce or not secrets.compare_digest(sheet.token_nonce, claim.nonce):
        raise LinkRefused(
            "revoked",
            "链接已被撤销，请使用最新邮件中的链接",
            "link refused: it was revoked; use the link in the latest letter",
        )
    if now >= panel_expiry(sheet):
        raise expired()
    return sheet
