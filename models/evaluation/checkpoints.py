"""The 结项评估 checkpoint of a grant: its configured code (``final``), its latest round, one round."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.supervision.tables import FINAL_CHECKPOINT, Checkpoint

FINAL = FINAL_CHECKPOINT  # the configured checkpoint code of the 结项评估


def final_checkpoint(session: Session, *, grant_id: int) -> Checkpoint | None:
    """The latest round of a grant's 结项评估 checkpoint."""
    return session.exec(
        select(Checkpoint)
        .where(Checkpoint.grant_id == grant_id, Checkpoint.code == FINAL)
        .order_by(col(Checkpoint.round).desc())
        .execution_options(populate_existing=True)
    ).first()


def final_round(session: Session, *, grant_id: int, round: int) -> Checkpoint | None:
    """One round of a grant's 结项评估 checkpoint (1; 2 for the re-check after 整改)."""
    return session.exec(
        select(Checkpoint).where(
            Checkpoint.grant_id == grant_id, Checkpoint.code == FINAL, Checkpoint.round == round
        )
    ).first()
