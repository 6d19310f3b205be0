"""Applicants and their applications: organisation, application, budget lines, eligibility checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.money import format_yuan
from models.states import APPLICATION_MOVES, STATE_LABELS, ApplicationState, Machine, OrganisationKind
from models.types import UtcDateTime, enum_column, utcnow


class Organisation(SQLModel, table=True):
    """An applicant: a registered 社会组织, a 备案 volunteer team or a community 社工室."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    kind: OrganisationKind = Field(sa_type=enum_column(OrganisationKind))
    registration_number: str = Field(default="", max_length=64)  # 统一社会信用代码 / 登记证号 / 备案号
    founded_on: date | None = None
    rating: str = Field(default="", max_length=64)  # 年检结论 / 评估等级
    legal_representative: str = Field(default="", max_length=64)
    community: str = Field(default="", max_length=32)
    address: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Application(SQLModel, table=True):
    """One project proposal (申报书) in one competition."""

    __tablename__ = "application"
    __machine__: ClassVar[Machine] = Machine("application", "state", APPLICATION_MOVES)
    __table_args__ = (
        sa.UniqueConstraint("competition_id", "organisation_id", "title", name="uq_application_org_title"),
        sa.UniqueConstraint("competition_id", "ref", name="uq_application_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    competition_id: int = Field(foreign_key="competition.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    ref: str = Field(max_length=40)  # 申报编号: applicant-supplied or JT2025-001
    title: str = Field(max_length=200)
    category: str = Field(max_length=40)  # 一老 / 一小 / 公益服务 (configured codes)
    pool: str = Field(max_length=40)  # registered / volunteer (configured codes)
    community: str = Field(max_length=32)  # 服务社区 (the main one)
    communities: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # every community served
    target_group: str = Field(default="", max_length=200)  # 服务对象
    beneficiaries: int = 0  # 直接受益人数
    period_start: date | None = None
    period_end: date | None = None
    amount_fen: int = Field(sa_type=sa.BigInteger)  # 申请金额
    self_funded_fen: int = Field(default=0, sa_type=sa.BigInteger)  # 自筹 / 配套
    contact_name: str = Field(default="", max_length=64)
    contact_phone: str = Field(default="", max_length=32)
    contact_email: str = Field(default="", max_length=254)
    summary: str = Field(default="", sa_type=sa.Text)  # 项目简介
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # 需求、目标、活动安排、团队…
    state: ApplicationState = Field(default=ApplicationState.submitted, sa_type=enum_column(ApplicationState))
    source: str = Field(default="", max_length=500)  # file and row / web form
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class BudgetLine(SQLModel, table=True):
    """One line of 预算明细: 科目, 用途, 单价 × 数量 = 金额."""

    __tablename__ = "budget_line"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    position: int
    item: str = Field(max_length=100)
    purpose: str = Field(default="", max_length=300)
    unit_price_fen: int = Field(sa_type=sa.BigInteger)
    quantity: int
    amount_fen: int = Field(sa_type=sa.BigInteger)


class EligibilityCheck(SQLModel, table=True):
    """The result of one eligibility rule for one application, with its reason (资格审查表)."""

    __tablename__ = "eligibility_check"
    __table_args__ = (sa.UniqueConstraint("application_id", "rule"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    rule: str = Field(max_length=60)
    passed: bool
    reason: str = Field(default="", sa_type=sa.Text)
    overridden_by: str = Field(default="", max_length=100)
    override_reason: str = Field(default="", sa_type=sa.Text)
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


def application_standing(session: Session, *, competition_id: int) -> list[dict[str, Any]]:
    """Where every application of a competition stands (``grantflow status``)."""
    rows = session.exec(
        select(Application, Organisation)
        .join(Organisation, col(Organisation.id) == col(Application.organisation_id))
        .where(Application.competition_id == competition_id)
        .order_by(col(Application.ref))
    )
    return [
        {
            "id": app.id,
            "ref": app.ref,
            "title": app.title,
            "organisation": org.name,
            "organisation_kind": str(org.kind),
            "pool": app.pool,
            "category": app.category,
            "community": app.community,
            "amount_fen": app.amount_fen,
            "amount_yuan": format_yuan(app.amount_fen),
            "state": str(app.state),
            "state_label": STATE_LABELS.get(app.state, str(app.state)),
        }
        for app, org in rows
    ]
