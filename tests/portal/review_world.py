"""A competition in review for the portal tests, built the way the product builds one: the bundled
江头街道 example's files go through the real intake — the first application of the Excel summary
(with its budget lines), a filled-in Word 申报书 (with its activity and team tables), and one
application typed into the applicants' web form over HTTP — then the real screening and the real
assignment (five experts each, sheets due in a week), in the SQLite database the settings point at.

Building it takes a few seconds, so it is built once per kind (open or blind review) in a session
folder and each test gets a copy of that database file.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models.competition.tables import Competition
from models.db import dispose_engines, get_engine, session_scope, upgrade_database
from models.intake.imports import import_applications
from models.intake.tables import Application, Organisation
from models.lifecycle import set_state
from models.review.links import review_token
from models.review.reviewing import assign_reviews
from models.review.tables import ReviewAssignment
from models.screening.eligibility import screen_applications
from models.screening.notices import open_screening
from models.settings import Settings, get_settings
from models.states import CompetitionStage
from models.types import utcnow
from portal.app import create_app
from tests.conftest import EXAMPLE_DIR
from tests.portal.apply_world import GOOD, OPEN_AT, PATH, csrf_of
from tests.support.factories import example_config_text, make_competition

WORD_FORM = EXAMPLE_DIR / "forms" / "申报书-04-厦门市湖里区童心社会工作服务中心.docx"
SCREENING_AT = datetime.fromisoformat("2025-03-03T09:00:00+08:00")
# every field of the web form filled, as an applicant would
WEB_FORM: dict[str, Any] = {
    **GOOD,
    "organisation": "厦门市湖里区康乐社会工作服务中心",
    "registration_number": "52350206MJ8888888E",
    "legal_representative": "王芳",
    "address": "厦门市湖里区江头北路1号",
    "title": "幸福食堂·江头助餐点",
    "objectives": "为120名独居老人提供每周三次助餐服务，满意度达到90%。",
    # 活动安排 as rows of the form's activity table (time, content, sessions, participants)
    "activity_rows": "3",
    "activity-0-period": "2025年5月",
    "activity-0-content": "启动仪式",
    "activity-0-sessions": "1",
    "activity-0-participants": "80",
    "activity-1-period": "2025年5月—9月",
    "activity-1-content": "每周三次助餐",
    "activity-1-sessions": "72",
    "activity-1-participants": "2160",
    "outcomes": "服务老人120人、2,240人次；以满意度问卷和回访记录评估。",
    "team": "项目主管王芳（中级社工师），社工李敏，志愿者20名。",
    "risks": "志愿者流失：建立积分激励；食品安全：与持证餐厅合作。",
    "sustainability": "项目结束后由社区敬老餐厅和志愿队继续运营。",
    "community_opinion": "同意申报。江头社区居民委员会。",
    "attachments": "登记证书、年检报告",
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

    def application(self, sheet: ReviewAssignment) -> tuple[Application, Organisation]:
        with session_scope(self.engine) as session:
            application = session.get(Application, sheet.application_id)
            assert application is not None
            organisation = session.get(Organisation, application.organisation_id)
            assert organisation is not None
            return application, organisation

    def sheet_of(self, source: str) -> ReviewAssignment:
        """The first sheet of the application that came from ``source`` (xlsx | docx | web)."""
        for sheet in self.sheets:
            application, _ = self.application(sheet)
            if _source_kind(application.source) == source:
                return sheet
        raise AssertionError(f"no application from {source}")


def _source_kind(source: str) -> str:
    if ".xlsx" in source:
        return "xlsx"
    if ".docx" in source:
        return "docx"
    return "web"


def first_spreadsheet_application(folder: Path) -> Path:
    """The example's summary workbook cut to its first application and that application's budget
    lines (the rows keep their cells exactly as in the example)."""
    book = openpyxl.load_workbook(EXAMPLE_DIR / "applications.xlsx")
    applications, budget = book["申报信息"], book["预算明细"]
    title = applications.cell(row=2, column=2).value
    applications.delete_rows(3, applications.max_row)
    for number in range(budget.max_row, 1, -1):
        if budget.cell(row=number, column=2).value != title:
            budget.delete_rows(number)
    path = folder / "applications-first.xlsx"
    book.save(path)
    return path


def submit_on_the_web(settings: Settings) -> None:
    """One application typed into the applicants' web form, while the call is open."""
    with TestClient(create_app(settings, clock=lambda: OPEN_AT), follow_redirects=False) as client:
        data = {**WEB_FORM, "csrf_token": csrf_of(client.get(PATH))}
        answer = client.post(PATH, data=data)
        assert answer.status_code == 303, answer.text


def _build(settings: Settings, engine: Engine, *, blind: bool, deadline_in: timedelta, folder: Path) -> int:
    text = example_config_text(**({"blind: false": "blind: true"} if blind else {}))
    with session_scope(engine) as session:
        competition = make_competition(session, text=text)
        set_state(session, competition, CompetitionStage.call_open, actor="test", reason="征集 / call")
        assert competition.id is not None
        competition_id = competition.id
    for path in (first_spreadsheet_application(folder), WORD_FORM):
        with session_scope(engine) as session:
            report = import_applications(
                session, competition_id=competition_id, path=path, actor="admin:test", now=OPEN_AT
            )
            assert len(report.accepted) == 1, report
    submit_on_the_web(settings)
    with session_scope(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition is not None
        open_screening(session, competition=competition, now=SCREENING_AT, actor="admin:test")
        outcomes = screen_applications(session, competition_id=competition_id, actor="admin:test")
        assert [o.passed for o in outcomes] == [True, True, True], outcomes
        assign_reviews(session, competition_id=competition_id, actor="test", deadline=utcnow() + deadline_in)
    return competition_id


_BUILT: dict[tuple[bool, timedelta], tuple[Path, int]] = {}


def build_world(*, blind: bool = False, deadline_in: timedelta = timedelta(days=7)) -> ReviewWorld:
    """The world in the database the current settings point at (a copy of one built once)."""
    settings = get_settings()
    database = settings.data_dir / "grantflow.db"
    key = (blind, deadline_in)
    if key not in _BUILT:  # built in a folder of its own, beside this test's data folder
        folder = Path(settings.data_dir).parent / f"world-{'blind' if blind else 'open'}"
        own = settings.model_copy(update={"data_dir": folder / "data"})
        own.data_dir.mkdir(parents=True, exist_ok=True)
        engine = get_engine(own.effective_database_url)
        upgrade_database(engine)
        competition_id = _build(own, engine, blind=blind, deadline_in=deadline_in, folder=folder)
        dispose_engines()
        _BUILT[key] = (own.data_dir / "grantflow.db", competition_id)
    template, competition_id = _BUILT[key]
    database.parent.mkdir(parents=True, exist_ok=True)
    dispose_engines()
    shutil.copy(template, database)
    engine = get_engine(settings.effective_database_url)
    with session_scope(engine) as session:
        sheets = list(session.exec(select(ReviewAssignment).order_by(col(ReviewAssignment.id))))
    return ReviewWorld(settings=settings, engine=engine, competition_id=competition_id, sheets=sheets)
