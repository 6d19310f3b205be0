"""The year's first stages from the console alone, on the example's dates: the YAML uploaded, the
call published, the example's files imported several at once (the broken sheet's rows refused with
each problem at its field), the screening, the review opened — each through its page and button,
as the CLI runs them (the same flows), on the portal's clock moved to each stage's day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from models.accounts.users import add_user
from models.db import dispose_engines, get_engine, upgrade_database
from models.documents.tables import GeneratedDocument
from models.intake.tables import Application
from models.review.tables import ReviewAssignment
from models.settings import get_settings
from models.states import ApplicationState, RunState
from models.steps.runs import ConsoleRun
from portal.app import create_app
from tests.portal.admin.console_world import PASSWORDS, ROLES, csrf_of, run_ended, sign_in
from tests.support.factories import EXAMPLE_CONFIG

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
BEIJING = ZoneInfo("Asia/Shanghai")
EXAMPLE = EXAMPLE_CONFIG.parent
SLUG = "jiangtou-2025"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 2, 9, 0, tzinfo=BEIJING)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def desk(settings_env: Path) -> Iterator[tuple[TestClient, Clock]]:
    engine = get_engine(get_settings().effective_database_url)
    upgrade_database(engine)
    with Session(engine) as session:
        add_user(session, name="lin", role=ROLES["lin"], password=PASSWORDS["lin"], actor="admin:cli")
        session.commit()
    clock = Clock()
    client = TestClient(
        create_app(get_settings(), clock=clock), base_url="http://testserver", follow_redirects=False
    )
    assert sign_in(client, "lin", PASSWORDS["lin"]).status_code == 303
    yield client, clock
    dispose_engines()


def ended(client: TestClient, location: str) -> ConsoleRun:
    run_id = int(location.partition("?")[0].rsplit("/", 1)[1])
    return run_ended(get_engine(get_settings().effective_database_url), run_id)


def run_step(client: TestClient, step: str) -> ConsoleRun:
    page = client.get(f"/admin/c/{SLUG}/steps/{step}")
    assert 'id="run-button"' in page.text, page.text
    answer = client.post(f"/admin/c/{SLUG}/steps/{step}", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    run = ended(client, answer.headers["location"])
    assert run.state is RunState.done, run.message
    return run


def test_the_years_first_stages_run_from_the_console_alone(desk: tuple[TestClient, Clock]) -> None:
    client, clock = desk
    empty = client.get("/admin")
    assert 'id="create-link"' in empty.text
    form = client.get("/admin/new")
    created = client.post(
        "/admin/new",
        data={"csrf_token": csrf_of(form.text)},
        files={
            "config_file": (
                "competition.yaml",
                (EXAMPLE / "competition.yaml").read_bytes(),
                "application/yaml",
            )
        },
    )
    assert created.status_code == 303 and created.headers["location"].startswith(f"/admin/c/{SLUG}")

    # files before the call is published: refused on the page naming the stage, nothing imported
    page = client.get(f"/admin/c/{SLUG}/intake")
    early = client.post(
        f"/admin/c/{SLUG}/intake",
        data={"csrf_token": csrf_of(page.text)},
        files=[("files", ("applications.xlsx", (EXAMPLE / "applications.xlsx").read_bytes(), "x"))],
    )
    assert early.status_code == 409 and "“筹备”阶段" in early.text and "Traceback" not in early.text
    with Session(get_engine(get_settings().effective_database_url)) as session:
        assert session.exec(select(func.count()).select_from(Application)).one() == 0
        assert session.exec(select(func.count()).select_from(ConsoleRun)).one() == 0

    clock.now = datetime(2025, 1, 6, 9, 0, tzinfo=BEIJING)
    home = client.get(f"/admin/c/{SLUG}")
    assert f'href="/admin/c/{SLUG}/steps/publish_call"' in home.text  # the next step's button
    run_step(client, "publish_call")
    # the call is open: screening waits for the applications' deadline, and says so (not "ready")
    steps = client.get(f"/admin/c/{SLUG}/steps").text
    row = steps.partition('data-step="screening"')[2].partition("</tr>")[0]
    assert row.startswith(' class="refused"')
    assert "2025-02-28 17:00 起可以运行" in row and "申报尚未截止" in row
    home = client.get(f"/admin/c/{SLUG}").text
    assert 'id="next-step-waits" data-step="screening"' in home and "2025-02-28 17:00" in home

    clock.now = datetime(2025, 2, 28, 12, 0, tzinfo=BEIJING)
    files = [
        EXAMPLE / "applications.xlsx",
        EXAMPLE / "broken.xlsx",
        *sorted((EXAMPLE / "forms").glob("*.docx")),
    ]
    page = client.get(f"/admin/c/{SLUG}/intake")
    answer = client.post(
        f"/admin/c/{SLUG}/intake",
        data={"csrf_token": csrf_of(page.text)},
        files=[("files", (path.name, path.read_bytes(), "application/octet-stream")) for path in files],
    )
    assert answer.status_code == 303, answer.text
    run = ended(client, answer.headers["location"])
    assert run.state is RunState.done, run.message
    shown = client.get(answer.headers["location"].partition("?")[0]).text
    assert 'data-file="broken.xlsx"' in shown
    assert shown.count('class="problem"') >= 20  # the broken sheet's rows, each problem at its field

    clock.now = datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING)
    run_step(client, "screening")
    run_step(client, "review_open")

    # a roadshow's paper sheets without the rubric's columns: one sentence, nothing imported
    book = openpyxl.Workbook()
    book.active.append(["评审专家", "申报编号", "需求分析"])
    sheet_file = BytesIO()
    book.save(sheet_file)
    decisions = client.get(f"/admin/c/{SLUG}/decisions")
    assert 'id="sheets-form"' in decisions.text
    refused = client.post(
        f"/admin/c/{SLUG}/decisions/sheets",
        data={"csrf_token": csrf_of(decisions.text)},
        files={"sheets": ("路演.xlsx", sheet_file.getvalue(), "application/octet-stream")},
    )
    assert refused.status_code == 409 and "Traceback" not in refused.text

    engine = get_engine(get_settings().effective_database_url)
    with Session(engine) as session:
        eligible = session.exec(
            select(func.count())
            .select_from(Application)
            .where(Application.state == ApplicationState.in_review)
        ).one()
        sheets = session.exec(select(func.count()).select_from(ReviewAssignment)).one()
        documents = session.exec(select(func.count()).select_from(GeneratedDocument)).one()
        runs = session.exec(select(ConsoleRun).order_by(col(ConsoleRun.id))).all()
    assert eligible > 0 and sheets >= eligible and documents > 0
    assert [r.step for r in runs] == ["publish_call", "intake", "screening", "review_open"]
    assert {r.actor for r in runs} == {"admin:lin"}
