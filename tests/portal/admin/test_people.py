"""专家与督导 through the real app: the lists add up to the 首页's figures; an Excel list imported
all or nothing with its refused rows in a table; a person added, edited (and the configuration's
list no longer overwrites the edit), deactivated; "remind now" and "send the invitation again" as
letters of their own — on the example's year and on the held year with its 结项 panel's sheets open."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.tables import get_competition
from models.evaluation.panel_notices import queue_panel_reminders
from models.evaluation.tables import PanelSheet
from models.mail.outbox import OutboxLetter
from models.overview import sheets
from models.review.reviewing import load_experts
from models.review.tables import Expert
from models.states import LetterState
from models.supervision.tables import Supervisor
from tests.portal.admin.console_world import SLUG, ConsoleWorld, csrf_of
from tests.portal.admin.pages_world import NOW, PagesWorld

pytestmark = pytest.mark.slow

BASE = f"/admin/c/{SLUG}/people"
HEADERS = ["姓名", "电子邮箱", "电话", "单位", "社区", "专长"]


def workbook(path: Path, rows: list[list[str]], headers: list[str] = HEADERS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def post(client, path: str, data: dict[str, str], files: dict | None = None):
    token = csrf_of(client.get(BASE).text)
    return client.post(path, data={"csrf_token": token, **data}, files=files)


def audit(world: ConsoleWorld, entity: str, action: str) -> list[AuditEvent]:
    with Session(world.engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.actor == "admin:lin", AuditEvent.entity == entity, AuditEvent.action == action
                )
            )
        )


def experts(world: ConsoleWorld) -> dict[str, Expert]:
    with Session(world.engine) as session:
        return {e.email: e for e in session.exec(select(Expert))}


def test_the_lists_add_up_to_the_home_figures(console: ConsoleWorld) -> None:
    page = console.signed_in("du").get(BASE)
    assert page.status_code == 200
    with Session(console.engine) as session:
        competition = get_competition(session, slug=SLUG)
        submitted, due = sheets(session, competition.id or 0)
        people = session.exec(select(Expert)).all()
    cells = re.findall(r'data-submitted="(\d+)" data-expected="(\d+)"', page.text)
    assert len(cells) == len(people)
    assert sum(int(a) for a, _ in cells) == submitted and sum(int(b) for _, b in cells) == due
    assert f'id="people-sheets" data-in="{submitted}" data-due="{due}"' in page.text
    home = console.signed_in("du").get(f"/admin/c/{SLUG}")
    assert re.search(rf'id="count-sheets" data-value="{submitted} / {due}">\s*<a href="{BASE}"', home.text)
    assert "people-import" not in page.text  # 只读: no form


def test_an_experts_list_is_imported_all_or_nothing_with_every_refused_row_named(
    console: ConsoleWorld, tmp_path: Path
) -> None:
    client = console.signed_in("lin")
    broken = workbook(
        tmp_path / "专家名单.xlsx",
        [
            ["方晓", "fang.xiao@experts.example.org", "13800000001", "厦门理工学院", "江头", "社会工作"],
            ["何敏", "不是邮箱", "13800000002", "集美大学", "", "项目评估"],
            ["许静", "xu.jing@experts.example.org", "", "湖里区民政局", "月球", "财务"],
        ],
    )
    before = console.counts()
    refused = post(
        client,
        f"{BASE}/import",
        {"kind": "experts"},
        files={"file": ("专家名单.xlsx", broken.read_bytes(), "application/octet-stream")},
    )
    assert refused.status_code == 422
    assert console.counts() == before
    rows = re.findall(r"<tr><td class=\"nowrap\">(.*?)</td>", refused.text)
    assert rows == ["专家名单.xlsx:第3行 B列 (row 3, column B)", "专家名单.xlsx:第4行 E列 (row 4, column E)"]
    assert "不在社区列表中：月球" in refused.text

    fixed = workbook(
        tmp_path / "专家名单.xlsx",
        [
            ["方晓", "fang.xiao@experts.example.org", "13800000001", "厦门理工学院", "江头", "社会工作"],
            ["何敏", "he.min@experts.example.org", "13800000002", "集美大学", "", "项目评估"],
        ],
    )
    answer = post(
        client,
        f"{BASE}/import",
        {"kind": "experts"},
        files={"file": ("专家名单.xlsx", fixed.read_bytes(), "application/octet-stream")},
    )
    assert answer.status_code == 303 and "done=imported_experts" in answer.headers["location"]
    found = experts(console)
    assert found["fang.xiao@experts.example.org"].community == "江头"
    assert found["he.min@experts.example.org"].edited_at is not None
    assert {e.data["email"] for e in audit(console, "expert", "create")} == {
        "fang.xiao@experts.example.org",
        "he.min@experts.example.org",
    }


def test_a_supervisors_list_is_imported_as_the_command_line_imports_it(
    console: ConsoleWorld, tmp_path: Path
) -> None:
    client = console.signed_in("lin")
    path = workbook(
        tmp_path / "督导名单.xlsx",
        [["周明", "zhou.ming@sv.example.org", "13900000001", "厦门市社会工作协会", "社会工作"]],
        headers=["姓名", "电子邮箱", "电话", "单位", "专长"],
    )
    answer = post(
        client,
        f"{BASE}/import",
        {"kind": "supervisors"},
        files={"file": ("督导名单.xlsx", path.read_bytes(), "application/octet-stream")},
    )
    assert answer.status_code == 303 and "done=imported_supervisors" in answer.headers["location"]
    with Session(console.engine) as session:
        added = session.exec(select(Supervisor).where(Supervisor.email == "zhou.ming@sv.example.org")).one()
    assert added.name == "周明" and added.active
    assert [e.entity_id for e in audit(console, "supervisor", "create")] == [added.id]
    nothing = post(client, f"{BASE}/import", {"kind": "supervisors"})
    assert nothing.status_code == 422 and "请选择名单类别和 Excel 文件" in nothing.text


def test_a_person_is_added_and_edited_and_the_configuration_keeps_the_edit(console: ConsoleWorld) -> None:
    client = console.signed_in("lin")
    before = console.counts()
    wrong = post(
        client,
        f"{BASE}/add",
        {"kind": "experts", "name": "长" * 65, "email": "not-an-address", "community": "月球"},
    )
    assert wrong.status_code == 422 and console.counts() == before
    assert 'id="add-name-error"' in wrong.text and "最多 64 个字" in wrong.text
    assert 'id="add-email-error"' in wrong.text
    known = next(iter(experts(console).values()))
    taken = post(client, f"{BASE}/add", {"kind": "experts", "name": "重名", "email": known.email.upper()})
    assert taken.status_code == 422 and "名单中已有电子邮箱" in taken.text and console.counts() == before

    added = post(
        client,
        f"{BASE}/add",
        {"kind": "experts", "name": "罗佳", "email": "luo.jia@experts.example.org", "community": "江头"},
    )
    assert added.status_code == 303 and "done=added" in added.headers["location"]
    assert experts(console)["luo.jia@experts.example.org"].community == "江头"

    page = f"{BASE}/experts/{known.id}"
    fields = {
        "name": known.name,
        "email": known.email,
        "phone": "0592-5550000",
        "organisation": known.organisation_name,
        "community": known.community,
        "expertise": known.expertise,
    }
    edited = post(client, f"{page}/edit", fields)
    assert edited.status_code == 303 and "done=edited" in edited.headers["location"]
    (event,) = audit(console, "expert", "update")
    assert event.data == {"before": {"phone": known.phone}, "after": {"phone": "0592-5550000"}}
    with Session(console.engine) as session:  # the review opening again reads the configuration's list
        competition = get_competition(session, slug=SLUG)
        load_experts(session, competition_id=competition.id or 0, actor="test:config")
        session.commit()
    assert experts(console)[known.email].phone == "0592-5550000"
    unchanged = post(client, f"{page}/edit", fields)
    assert "done=unchanged" in unchanged.headers["location"]


def test_deactivation_needs_a_reason_and_is_undone_by_reactivation(pages: PagesWorld) -> None:
    world = pages.world
    client = world.signed_in("lin")
    with Session(world.engine) as session:
        panel = session.exec(select(PanelSheet).order_by(col(PanelSheet.id))).first()
        assert panel is not None
    page = f"{BASE}/experts/{panel.expert_id}"
    before = world.counts()
    refused = post(client, f"{page}/active", {"active": "0", "reason": "  "})
    assert refused.status_code == 422 and 'id="activation-refused"' in refused.text
    assert world.counts() == before

    assert (
        "done=deactivated"
        in post(client, f"{page}/active", {"active": "0", "reason": "长期出差"}).headers["location"]
    )
    with Session(world.engine) as session:
        assert session.get(Expert, panel.expert_id).active is False  # type: ignore[union-attr]
        assert session.get(PanelSheet, panel.id).state == panel.state  # type: ignore[union-attr]  (kept)
    (event,) = audit(world, "expert", "deactivate")
    assert event.entity_id == panel.expert_id and event.reason == "长期出差"
    listed = client.get(BASE).text
    assert re.search(rf'<tr data-id="{panel.expert_id}"[^>]*class="inactive"', listed)

    assert "done=activated" in post(client, f"{page}/active", {"active": "1"}).headers["location"]
    with Session(world.engine) as session:
        assert session.get(Expert, panel.expert_id).active is True  # type: ignore[union-attr]


def test_remind_now_is_a_letter_of_its_own_once_a_day(pages: PagesWorld) -> None:
    world = pages.world
    client = world.signed_in("lin")
    with Session(world.engine) as session:
        panel = session.exec(select(PanelSheet).order_by(col(PanelSheet.id))).first()
        assert panel is not None
        expert = session.get(Expert, panel.expert_id)
        assert expert is not None
    page = f"{BASE}/experts/{expert.id}"
    shown = client.get(page).text
    assert "结项评审提醒" in shown and expert.email in shown  # what it will send, before it does

    first = post(client, f"{page}/letters", {"what": "remind"})
    assert "done=remind_sent" in first.headers["location"]
    second = post(client, f"{page}/letters", {"what": "remind"})  # a second click the same day
    assert "done=remind_today" in second.headers["location"]
    reminders = letters_to(world, expert.email, "final_review_reminder")
    assert len(reminders) == 1
    (reminder,) = reminders
    assert reminder.idempotency_key.endswith(f"by-hand-{NOW.date().isoformat()}")
    assert reminder.state is LetterState.draft  # this year holds every letter for her release
    assert [e.data["letters"] for e in audit(world, "expert", "remind")] == [[reminder.id]]

    with Session(world.engine, expire_on_commit=False) as session:  # the scheduled reminder still goes out
        competition = get_competition(session, slug=SLUG)
        scheduled = queue_panel_reminders(
            session, competition=competition, settings=world.settings, now=NOW.replace(day=22)
        )
        session.commit()
    assert expert.email in {x.recipient_email for x in scheduled}
    assert len(letters_to(world, expert.email, "final_review_reminder")) == 2

    invited = post(client, f"{page}/letters", {"what": "invite"})
    assert "done=invite_sent" in invited.headers["location"]
    assert len(letters_to(world, expert.email, "final_review_invitation")) == 2  # the first one, and again


def test_a_supervisor_without_an_open_check_has_nothing_to_be_reminded_of(pages: PagesWorld) -> None:
    world = pages.world
    client = world.signed_in("lin")
    with Session(world.engine) as session:
        supervisor = session.exec(select(Supervisor).order_by(col(Supervisor.id))).first()
        assert supervisor is not None
    page = f"{BASE}/supervisors/{supervisor.id}"
    assert 'id="remind-nothing"' in client.get(page).text
    before = world.counts()
    answer = post(client, f"{page}/letters", {"what": "remind"})
    assert "done=remind_none" in answer.headers["location"]
    assert world.counts() == before
    assert (
        "done=deactivated"
        in post(client, f"{page}/active", {"active": "0", "reason": "调离"}).headers["location"]
    )


def letters_to(world: ConsoleWorld, email: str, role: str) -> list[OutboxLetter]:
    with Session(world.engine) as session:
        return list(
            session.exec(
                select(OutboxLetter).where(OutboxLetter.recipient_email == email, OutboxLetter.role == role)
            )
        )
