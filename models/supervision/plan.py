"""What a funded project promised, as intake stored it: the 活动安排 (period, content, sessions,
expected person-times), the budget lines, and the planned totals — shown beside what the grantee
and the supervisor report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from models.errors import NotFound
from models.funding.tables import Grant
from models.intake.tables import Application, BudgetLine, Organisation

_NUMBER = re.compile(r"\d[\d,]*")


def _count(text: Any) -> int:
    """The first whole number in a cell as people write it (“10场”, “1,385人次”), else 0."""
    match = _NUMBER.search(str(text or ""))
    return int(match.group().replace(",", "")) if match else 0


@dataclass(frozen=True)
class PlannedActivity:
    period: str
    content: str
    sessions: int
    participants: int


@dataclass(frozen=True)
class PlannedLine:
    budget_line_id: int
    item: str
    purpose: str
    amount_fen: int


@dataclass(frozen=True)
class ProjectPlan:
    grant_id: int
    ref: str
    title: str
    organisation: str
    amount_fen: int
    beneficiaries: int
    activities: list[PlannedActivity] = field(default_factory=list)
    budget: list[PlannedLine] = field(default_factory=list)

    @property
    def sessions(self) -> int:
        return sum(a.sessions for a in self.activities)

    @property
    def participants(self) -> int:
        return sum(a.participants for a in self.activities)


def grant_parts(session: Session, grant_id: int) -> tuple[Grant, Application, Organisation]:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"没有资助项目 #{grant_id} / no grant #{grant_id}")
    application = session.get(Application, grant.application_id)
    assert application is not None
    organisation = session.get(Organisation, application.organisation_id)
    assert organisation is not None
    return grant, application, organisation


def project_plan(session: Session, *, grant_id: int) -> ProjectPlan:
    grant, application, organisation = grant_parts(session, grant_id)
    raw = application.details.get("activities") or []
    activities = [
        PlannedActivity(
            period=str(row.get("period", "")),
            content=str(row.get("content", "")),
            sessions=_count(row.get("sessions")),
            participants=_count(row.get("participants")),
        )
        for row in raw
        if isinstance(row, dict)
    ]
    lines = session.exec(
        select(BudgetLine)
        .where(BudgetLine.application_id == application.id)
        .order_by(col(BudgetLine.position))
    )
    return ProjectPlan(
        grant_id=grant_id,
        ref=application.ref,
        title=application.title,
        organisation=organisation.name,
        amount_fen=grant.amount_fen,
        beneficiaries=application.beneficiaries,
        activities=activities,
        budget=[
            PlannedLine(budget_line_id=b.id or 0, item=b.item, purpose=b.purpose, amount_fen=b.amount_fen)
            for b in lines
        ],
    )
