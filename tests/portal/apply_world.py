"""A competition taking applications for the web-form tests (the bundled 江头街道 example, 征集中),
and a correctly filled form as posted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from httpx import Response
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from models.db import get_engine, session_scope, upgrade_database
from models.intake.tables import Application
from models.lifecycle import set_state
from models.settings import Settings, get_settings
from models.states import CompetitionStage
from tests.support.factories import make_competition

BEIJING = ZoneInfo("Asia/Shanghai")
OPEN_AT = datetime(2025, 2, 20, 10, 0, tzinfo=BEIJING)  # inside the 2025 application window
LATE_AT = datetime(2025, 3, 1, 9, 0, tzinfo=BEIJING)  # after 2025-02-28 17:00
SLUG = "jiangtou-2025"
PATH = f"/apply/{SLUG}"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
GOOD: dict[str, Any] = {
    "organisation": "厦门市湖里区乐龄社会工作服务中心",
    "kind": "registered",
    "registration_number": "52350206MJ8888888X",
    "founded_on": "2019-05-20",
    "rating": "3A",
    "legal_representative": "王芳",
    "address": "厦门市湖里区江头北路1号",
    "contact_name": "李敏",
    "contact_phone": "13905920123",
    "contact_email": "limin@example.org",
    "title": "银龄助餐·幸福食堂",
    "category": "elderly",
    "communities": ["江头", "吕厝"],
    "target_group": "社区独居老人",
    "beneficiaries": "120",
    "period_start": "2025-05-01",
    "period_end": "2025-09-30",
    "amount": "6000",
    "self_funded": "1000",
    "summary": "为江头、吕厝社区独居老人提供每周三次助餐服务，并开展健康讲座和上门探访。",
    "need_analysis": "江头社区60岁以上老人约1800人，独居老人用餐困难。",
    "activity_rows": "3",
    "activity-0-period": "2025年4月",
    "activity-0-content": "启动仪式",
    "activity-0-sessions": "1",
    "activity-0-participants": "80",
    "budget_rows": "5",
    "budget-0-item": "餐费补贴",
    "budget-0-purpose": "每餐补贴10元",
    "budget-0-unit_price": "10",
    "budget-0-quantity": "500",
    "budget-1-item": "健康讲座",
    "budget-1-purpose": "讲师费",
    "budget-1-unit_price": "500",
    "budget-1-quantity": "2",
    "action": "submit",
}


@dataclass
class ApplyWorld:
    settings: Settings
    engine: Engine
    competition_id: int

    def applications(self) -> list[Application]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(Application).order_by(col(Application.id))))

    def count(self, table: type[Any]) -> int:
        with session_scope(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(table)).one())


def build_apply_world(*, stage: CompetitionStage | None = CompetitionStage.call_open) -> ApplyWorld:
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    upgrade_database(engine)
    with session_scope(engine) as session:
        competition = make_competition(session)
        if stage is not None:
            set_state(session, competition, stage, actor="test", reason="征集 / call")
        assert competition.id is not None
        competition_id = competition.id
    return ApplyWorld(settings, engine, competition_id)


def csrf_of(page: Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, "the page carries no CSRF field"
    return found.group(1)
