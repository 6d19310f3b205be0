"""What a funded project promised, as intake stored it: the 活动安排 (period, content, sessions,
expected person-times; read by ``models.intake.plan``), the budget lines, and the planned totals —
shown beside what the grantee and the supervisor report."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from models.errors import NotFound
from models.funding.tables import Grant
from models.intake.plan import ActivityPlan, PlannedActivity, application_plan
from models.intake.tables import Application, BudgetLine, Organisation


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
    plan: ActivityPlan = field(default_factory=ActivityPlan)
    budget: list[PlannedLine] = field(default_factory=list)

    @property
    def activities(self) -> tuple[PlannedActivity, ...]:
        return self.plan.activities

    @property
    def sessions(self) -> int:
        return self.plan.sessions

    @property
    def participants(self) -> int:
        return self.plan.participants


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
        plan=application_plan(application),
        budget=[
            PlannedLine(budget_line_id=b.id or 0, item=b.item, purpose=b.purpose, amount_fen=b.amount_fen)
            for b in lines
        ],
    )
