"""A competition in review for the portal tests: two applications, five experts each (the bundled
江头街道 example), sheets due in a week, in the SQLite database the settings point at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models.db import get_engine, session_scope, upgrade_database
from models.intake.tables import BudgetLine
from models.review.links import review_token
from models.review.reviewing import assign_reviews
from models.review.tables import ReviewAssignment
from models.settings import Settings, get_settings
from models.types import utcnow
from portal.app import create_app
from tests.support.browser import browser  # noqa: F401  (the shared Chromium fixture)
from tests.support.factories import example_config_text, make_application, make_competition

DETAILS = {
    "need": "江头社区60岁以上老人约1800人，独居老人用餐困难。",
    "goals": "为120名独居老人提供每周三次助餐服务。",
    "activities": "助餐、探访、健康讲座。",
    "activity_plan": [{"时间": "2025年4月", "活动内容": "启动仪式", "场次": "1", "预计人次": "80"}],
    "team": "项目主管1名，社工2名，志愿者20名。",
    "team_members": [{"姓名": "张晓燕", "职务": "项目主管"}],
    "attachments": ["登记证书", "年检报告"],
}


@dataclass
class ReviewWorld:
    settings: Settings
    engine: Engine
    competition_id: int
    sheets: list[ReviewAssignment]  # every sheet, by id (detached copies)

    def path(self, sheet: ReviewAssignment) -> str:
        return f"/review/{review_token(sheet, self.settings)}"

    def sheet(self, sheet_id: int) -> ReviewAssignment:
        with session_scope(self.engine) as session:
            found = session.get(ReviewAssignment, sheet_id)
            assert found is not None
            return found

    def other_expert_sheet(self, sheet: ReviewAssignment) -> ReviewAssignment:
        return next(s for s in self.sheets if s.expert_id != sheet.expert_id)


def build_world(*, blind: bool = False, deadline_in: timedelta = timedelta(days=7)) -> ReviewWorld:
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    upgrade_database(engine)
    text = example_config_text(**({"blind: false": "blind: true"} if blind else {}))
    with session_scope(engine) as session:
        competition = make_competition(session, text=text)
        assert competition.id is not None
        titles = ["银龄助餐·幸福食堂", "四点半课堂·科普小达人"]
        for number, (title, category) in enumerate(
            zip(titles, ["elderly", "children"], strict=True), start=1
        ):
            application = make_application(
                session,
                competition=competition,
                ref=f"JT2025-00{number}",
                title=title,
                category=category,
                summary="面向社区居民的微公益服务项目，" * 3,
                target_group="社区独居老人与儿童",
                beneficiaries=120,
                details=DETAILS,
                contact_name="李敏",
                contact_phone="13900000000",
                contact_email="limin@example.org",
            )
            session.add(
                BudgetLine(
                    application_id=application.id or 0,
                    position=1,
                    item="餐费补贴",
                    purpose="每餐补贴",
                    unit_price_fen=1000,
                    quantity=300,
                    amount_fen=300_000,
                )
            )
        assign_reviews(session, competition_id=competition.id, actor="test", deadline=utcnow() + deadline_in)
        competition_id = competition.id
    with session_scope(engine) as session:
        sheets = list(session.exec(select(ReviewAssignment).order_by(col(ReviewAssignment.id))))
    return ReviewWorld(settings=settings, engine=engine, competition_id=competition_id, sheets=sheets)


@pytest.fixture
def world(settings_env: Path) -> ReviewWorld:
    return build_world()


@pytest.fixture
def portal(world: ReviewWorld) -> FastAPI:
    return create_app(world.settings)


@pytest.fixture
def client(portal: FastAPI) -> Iterator[TestClient]:
    with TestClient(portal, follow_redirects=False) as client:
        yield client
