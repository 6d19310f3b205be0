"""When each stage of a competition began: the moment its move took effect — the ``as_of`` the
stage ran with (``models.audit.effective_at``), else when the move was written — so a year replayed
as of its own dates (the demo's 2025) reads as that year, not as the day it ran. The 年度总结报告's
timeline and the console's 首页 both read it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from models.audit import AuditEvent, effective_at
from models.competition.tables import Competition
from models.states import CompetitionStage


def stages_began(session: Session, competition: Competition) -> dict[CompetitionStage, datetime]:
    """Each stage the competition reached, with the moment it first began (筹备: its creation)."""
    began: dict[CompetitionStage, datetime] = {CompetitionStage.draft: competition.created_at}
    events = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "competition",
            AuditEvent.entity_id == competition.id,
            col(AuditEvent.action).in_(("create", "stage")),
        )
        .order_by(col(AuditEvent.id))
    )
    for event in events:
        if event.action == "create":
            began[CompetitionStage.draft] = effective_at(event)
        elif event.to_state in CompetitionStage.__members__:
            began.setdefault(CompetitionStage(event.to_state), effective_at(event))
    return began
