"""The expert panel's personal links: one signed link per ``PanelSheet``, for its expert only.

The signing and reading rules are the kernel's (``models.links``, purpose ``final_review``, path
/final-review), bound here as the review binds them to its sheets: the holder is the expert, the
nonce the sheet's ``token_nonce``, and the link's life the sheet's deadline in the database plus the
read-only grace (``READABLE_AFTER_DEADLINE``), read on every request.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.evaluation.tables import PanelSheet
from models.links import open_sheet_link, portal_link, sheet_expiry, sheet_token
from models.settings import Settings

NAMED = ("结项评分表", "panel sheet")


def panel_expiry(sheet: PanelSheet) -> datetime:
    """When a panel link stops opening at all: the deadline plus the read-only grace period."""
    return sheet_expiry(sheet)


def panel_token(sheet: PanelSheet, settings: Settings) -> str:
    return sheet_token("final_review", sheet, settings)


def panel_link(sheet: PanelSheet, settings: Settings) -> str:
    """The personal link a panel letter carries: ``{portal_url}/final-review/{token}``."""
    return portal_link("final_review", panel_token(sheet, settings), settings)


def open_panel_link(session: Session, *, token: str, settings: Settings, now: datetime) -> PanelSheet:
    """The one sheet ``token`` opens; ``LinkRefused`` when forged, expired, someone else's or revoked."""
    return open_sheet_link(
        session, PanelSheet, purpose="final_review", token=token, settings=settings, now=now, named=NAMED
    )
