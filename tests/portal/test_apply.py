"""The applicants' web form (网上申报) over HTTP and in a real browser: the form shows the
competition's choices, a wrong post comes back with each problem beside its field and everything
typed kept, a right one is stored exactly as an imported row (budget, audit, 受理回执 queued) and
confirmed with its 申报编号; duplicates, closed competitions, late posts, forged CSRF tokens and bots
store nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from docx import Document
from fastapi.testclient import TestClient
from httpx import Response
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col, select

from models.audit import AuditEvent
from models.call.notices import queue_call_letters
from models.competition.tables import Competition
from models.db import session_scope
from models.documents.tables import GeneratedDocument
from models.intake.fields import FIELDS
from models.intake.tables import Application, BudgetLine
from models.mail.outbox import OutboxLetter
from models.states import ApplicationState
from portal import csrf
from portal.app import create_app
from portal.apply.form import BUDGET_ROWS, FORM_KEYS, NOT_ASKED
from portal.serving import serve_in_background
from tests.portal.apply_world import (
    GOOD,
    LATE_AT,
    OPEN_AT,
    PATH,
    ApplyWorld,
    build_apply_world,
    csrf_of,
)
from tests.portal.shots import shoot
from tests.support.browser import DESKTOP, PHONE, ergonomic_problems


@pytest.fixture
def world(settings_env: Path) -> ApplyWorld:
    return build_apply_world()


def client_for(world: ApplyWorld, at: datetime = OPEN_AT) -> TestClient:
    return TestClient(create_app(world.settings, clock=lambda: at), follow_redirects=False)


@pytest.fixture
def client(world: ApplyWorld) -> Iterator[TestClient]:
    with client_for(world) as client:
        yield client


def apply(client: TestClient, data: dict[str, Any], path: str = PATH) -> Response:
    """GET the form (cookie and token), then POST ``data`` with that token."""
    return client.post(path, data={**data, "csrf_token": csrf_of(client.get(path))})


def context(response: Response) -> dict[str, Any]:
    return response.context  # type: ignore[attr-defined,no-any-return]


def template(response: Response) -> str:
    return str(response.template.name)  # type: ignore[attr-defined]


# ---- the form -----------------------------------------------------------------------------------


def test_apply_form_shows_every_intake_field_with_the_configured_choices(client: TestClient) -> None:
    page = client.get(PATH)
    assert page.status_code == 200
    assert template(page) == "apply/form.html"
    form = context(page)["form"]
    assert {f.key for f in FIELDS} == set(FORM_KEYS) | NOT_ASKED
    assert [f.key for s in form.sections for f in s.fields] == list(FORM_KEYS)
    fields = form.fields_by_key
    assert [c.value for c in fields["category"].choices] == ["elderly", "children", "public_service"]
    assert [c.label for c in fields["category"].choices] == ["一老", "一小", "公益服务"]
    assert len(fields["communities"].choices) == 11 and fields["communities"].choices[0].value == "江头"
    assert [c.label for c in fields["kind"].choices] == ["社会组织", "备案志愿服务团队", "社区社工室"]
    assert fields["title"].label == "项目名称" and fields["title"].required
    assert "2,000.00 至 8,000.00 元" in fields["amount"].hint
    assert fields["period_start"].bounds == ("2025-05-01", "2025-09-30")  # the 项目执行期
    assert len(form.budget) == BUDGET_ROWS and form.errors == {}
    assert form.deadline == "2025-02-28 17:00"
    assert page.cookies.get(csrf.COOKIE) and 'name="website"' in page.text
    english = context(client.get(f"{PATH}?lang=en"))["form"].fields_by_key
    assert english["title"].label == "Project title" and english["kind"].choices[1].label.startswith(
        "registered volunteer"
    )


def test_apply_post_stores_the_application_and_queues_its_receipt(
    client: TestClient, world: ApplyWorld
) -> None:
    answer = apply(client, GOOD)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{PATH}/done/")
    [stored] = world.applications()
    assert stored.ref == "2025-001" and stored.title == "银龄助餐·幸福食堂"
    assert stored.state is ApplicationState.submitted and stored.source == "网上申报 / web form"
    assert stored.amount_fen == 600_000 and stored.self_funded_fen == 100_000
    assert (
        stored.communities == ["江头", "吕厝"]
        and stored.category == "elderly"
        and stored.pool == "registered"
    )
    assert stored.submitted_at == OPEN_AT
    with session_scope(world.engine) as session:
        lines = session.exec(select(BudgetLine).order_by(col(BudgetLine.position))).all()
        assert [(line.item, line.unit_price_fen, line.quantity, line.amount_fen) for line in lines] == [
            ("餐费补贴", 1000, 500, 500_000),
            ("健康讲座", 50_000, 2, 100_000),
        ]
        audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "application")).one()
        assert audit.actor == "applicant:web" and audit.to_state == "submitted"
        letter = session.exec(select(OutboxLetter).where(OutboxLetter.role == "receipt")).one()
        assert letter.recipient_email == "limin@example.org" and letter.subject_id == stored.id
        assert "2025-001" in letter.body_text
        receipt = session.exec(select(GeneratedDocument).where(GeneratedDocument.role == "receipt")).one()
        assert letter.attachments == [receipt.id]
    receipt_doc = Document(world.settings.documents_dir / receipt.path)
    receipt_text = "\n".join(p.text for p in receipt_doc.paragraphs) + "\n".join(
        cell.text for table in receipt_doc.tables for row in table.rows for cell in row.cells
    )
    assert "网上申报" in receipt_text  # the 受理回执 names the channel

    done = client.get(answer.headers["location"])
    assert done.status_code == 200
    assert template(done) == "apply/done.html"
    shown = context(done)["done"]
    assert shown.ref == "2025-001" and shown.email == "limin@example.org"
    assert shown.submitted_at == "2025-02-20 10:00"
    assert "2025-001" in done.text


def test_apply_post_with_mistakes_shows_each_beside_its_field_and_keeps_what_was_typed(
    client: TestClient, world: ApplyWorld
) -> None:
    wrong = {
        **GOOD,
        "title": "",
        "amount": "9000",
        "contact_email": "limin-at-example",
        "period_end": "2025-03-01",
        "budget-1-quantity": "两次",
        "budget_rows": "8",
    }
    answer = apply(client, wrong)
    assert answer.status_code == 422
    assert template(answer) == "apply/form.html"
    form = context(answer)["form"]
    errors = form.errors
    assert set(errors) == {"title", "amount", "contact_email", "period_end", "budget"}
    assert errors["title"] == ["必填项未填写"]
    assert "超过单个项目上限 8,000.00 元" in errors["amount"][0]
    assert "邮箱“limin-at-example”格式不正确" in errors["contact_email"][0]
    assert "早于开始日期" in errors["period_end"][0]
    assert [row.errors for row in form.budget][:3] == [(), ("数量“两次”应为正整数",), ()]
    fields = form.fields_by_key
    assert fields["contact_email"].value == "limin-at-example" and fields["amount"].value == "9000"
    assert [c.value for c in fields["communities"].choices if c.checked] == ["江头", "吕厝"]
    assert [c.value for c in fields["kind"].choices if c.checked] == ["registered"]
    assert len(form.budget) == 8 and form.budget[1].values["quantity"] == "两次"
    assert 'id="error-title"' in answer.text and 'value="limin-at-example"' in answer.text
    assert world.applications() == [] and world.count(OutboxLetter) == 0

    english = apply(client, wrong, path=f"{PATH}?lang=en")
    assert context(english)["form"].errors["title"] == ["required, but empty"]


def test_apply_add_rows_posts_back_with_more_budget_lines_and_stores_nothing(
    client: TestClient, world: ApplyWorld
) -> None:
    answer = apply(client, {**GOOD, "action": "add_rows"})
    assert answer.status_code == 200 and context(answer)["notice"] == "notice.rows_added"
    form = context(answer)["form"]
    assert len(form.budget) == BUDGET_ROWS + 3 and form.errors == {}
    assert form.budget[0].values["item"] == "餐费补贴" and form.fields_by_key["title"].value == GOOD["title"]
    assert 'name="budget-7-item"' in answer.text
    assert world.applications() == []


def test_apply_activity_rows_carry_the_plan_as_a_word_form_does(
    client: TestClient, world: ApplyWorld
) -> None:
    more = apply(client, {**GOOD, "action": "add_activities"})  # three more rows, everything kept
    assert more.status_code == 200 and context(more)["notice"] == "notice.activities_added"
    form = context(more)["form"]
    assert len(form.activities) == 6 and form.activities[0].values["content"] == "启动仪式"
    assert 'name="activity-5-content"' in more.text and world.applications() == []
    data = {
        **GOOD,
        "activity_rows": "6",
        "activity-1-period": "2025年4月—9月",
        "activity-1-content": "每周三次助餐",
        "activity-1-sessions": "72",
        "activity-1-participants": "2160",
        "activity-5-content": "  结项分享会 ",  # a row with one cell: refused at its row, the cell kept
    }
    half = apply(client, data)
    assert half.status_code == 422 and world.applications() == []
    problems = context(half)["form"].errors["activities"]
    assert problems == ["6: 场次未填写", "6: 预计人次未填写"]  # at the row as numbered on the page
    assert 'id="error-activity-5"' in half.text and context(half)["form"].first_error == "activity-5-period"
    assert context(half)["form"].activities[5].values["content"] == "  结项分享会 "
    data |= {"activity-5-sessions": "1", "activity-5-participants": "40"}
    assert apply(client, data).status_code == 303
    [stored] = world.applications()
    assert stored.details["activities"] == [
        {"period": "2025年4月", "content": "启动仪式", "sessions": 1, "participants": 80},
        {"period": "2025年4月—9月", "content": "每周三次助餐", "sessions": 72, "participants": 2160},
        {"period": "", "content": "结项分享会", "sessions": 1, "participants": 40},
    ]


def test_apply_language_switch_shows_the_same_form_in_the_other_language(
    client: TestClient, world: ApplyWorld
) -> None:
    answer = apply(client, {**GOOD, "action": "show", "title": "半截标题"}, path=f"{PATH}?lang=en")
    assert answer.status_code == 200 and 'lang="en"' in answer.text
    form = context(answer)["form"]
    assert form.errors == {} and form.fields_by_key["title"].value == "半截标题"
    assert form.activities[0].values["content"] == "启动仪式"
    assert world.applications() == []


def test_apply_duplicate_says_so_and_stores_no_second_row(client: TestClient, world: ApplyWorld) -> None:
    assert apply(client, GOOD).status_code == 303
    again = apply(client, {**GOOD, "amount": "5000", "budget-1-quantity": "0", "budget-1-item": ""})
    assert again.status_code == 422  # still validated first: a wrong form is a wrong form
    twice = apply(client, GOOD)
    assert twice.status_code == 409
    assert template(twice) == "apply/form.html"
    assert "已申报过“银龄助餐·幸福食堂”（申报编号 2025-001）" in context(twice)["problem_notice"]
    assert context(twice)["form"].fields_by_key["title"].value == GOOD["title"]
    assert len(world.applications()) == 1 and world.count(OutboxLetter) == 1


def test_apply_identical_posts_at_once_store_one_application(world: ApplyWorld) -> None:
    """Racing posts of the same form: the database's unique keys refuse all but one, and the
    refused ones, tried again, are recognised as the duplicate."""
    posters = 4
    barrier = threading.Barrier(posters)

    def post_once(base: str) -> int:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
            token = csrf_of(client.get(PATH))
            barrier.wait(timeout=30)
            return client.post(PATH, data={**GOOD, "csrf_token": token}).status_code

    with (
        serve_in_background(create_app(world.settings, clock=lambda: OPEN_AT)) as base,
        ThreadPoolExecutor(posters) as pool,
    ):
        statuses = sorted(pool.map(post_once, [base] * posters))
    assert statuses == [303] + [409] * (posters - 1)
    assert len(world.applications()) == 1 and world.count(OutboxLetter) == 1


# ---- refusals -----------------------------------------------------------------------------------


def test_apply_to_a_competition_not_taking_applications_is_refused(settings_env: Path) -> None:
    world = build_apply_world(stage=None)  # 筹备 draft: the call is not published
    with client_for(world) as client:
        page = client.get(PATH)
        assert page.status_code == 409
        assert template(page) == "apply/closed.html"
        assert context(page)["closed"].reason == "not_open" and "不在征集期" in page.text
        assert "<form" not in page.text
        assert client.post(PATH, data=GOOD).status_code == 409
    assert world.applications() == []


def test_apply_after_the_deadline_is_refused_and_stores_nothing(world: ApplyWorld) -> None:
    with client_for(world) as open_client:
        token = csrf_of(open_client.get(PATH))
        cookie = open_client.cookies.get(csrf.COOKIE)
    with client_for(world, at=LATE_AT) as client:
        page = client.get(PATH)
        assert page.status_code == 409 and context(page)["closed"].reason == "deadline"
        assert "申报已于 2025年2月28日 17:00 截止" in page.text
        assert "2025-02-28 17:00" in client.get(f"{PATH}?lang=en").text
        client.cookies.set(csrf.COOKIE, cookie or "", path="/apply")
        late = client.post(PATH, data={**GOOD, "csrf_token": token})
        assert late.status_code == 409 and template(late) == "apply/closed.html"
    assert world.applications() == []


def test_apply_unknown_competition_is_a_plain_404(client: TestClient) -> None:
    for answer in (client.get("/apply/no-such-call"), client.post("/apply/no-such-call", data=GOOD)):
        assert answer.status_code == 404
        assert template(answer) == "refused.html"
        assert context(answer)["kind"] == "not_found"


def test_apply_post_without_a_valid_csrf_token_is_refused(client: TestClient, world: ApplyWorld) -> None:
    client.get(PATH)
    missing = client.post(PATH, data=GOOD)
    forged = client.post(PATH, data={**GOOD, "csrf_token": "forged.token"})
    cookie = client.cookies.get(csrf.COOKIE) or ""
    secret = world.settings.secret_key.get_secret_value()
    other_page = csrf.form_token(cookie_value=cookie, scope="apply:another-call", secret=secret)
    foreign = client.post(PATH, data={**GOOD, "csrf_token": other_page})
    for answer in (missing, forged, foreign):
        assert answer.status_code == 403
        assert context(answer)["kind"] == "csrf"
    assert world.applications() == []


def test_apply_honeypot_filled_by_a_bot_stores_nothing(client: TestClient, world: ApplyWorld) -> None:
    answer = apply(client, {**GOOD, "website": "http://spam.example"})
    assert answer.status_code == 400 and context(answer)["kind"] == "spam"
    assert world.applications() == []


def test_apply_confirmation_opens_only_with_its_signed_token(client: TestClient, world: ApplyWorld) -> None:
    location = apply(client, GOOD).headers["location"]
    token = location.rsplit("/", 1)[1]
    assert client.get(f"{PATH}/done/{token[:-2]}xx").status_code == 404
    assert client.get(f"/apply/other-call/done/{token}").status_code == 404


def test_call_letter_links_to_the_web_form_that_opens(client: TestClient, world: ApplyWorld) -> None:
    settings = world.settings.model_copy(update={"portal_url": "https://gy.example.org/"})
    with session_scope(world.engine) as session:
        competition = session.get(Competition, world.competition_id)
        assert competition is not None
        letters = queue_call_letters(session, competition=competition, attachments=[], settings=settings)
    assert letters and all(
        "也可在线申报：https://gy.example.org/apply/jiangtou-2025" in letter.body_text for letter in letters
    )
    assert all('href="https://gy.example.org/apply/jiangtou-2025"' in letter.body_html for letter in letters)
    assert client.get(PATH).status_code == 200


# ---- in a real browser, on a phone ----------------------------------------------------------------


def fill_form(page: Page, data: dict[str, Any]) -> None:
    for key in ("organisation", "contact_name", "contact_phone", "contact_email", "title", "amount"):
        page.fill(f"#field-{key}", data[key])
    page.fill("#field-summary", data["summary"])
    page.fill("#field-period_start", data["period_start"])
    page.fill("#field-period_end", data["period_end"])
    page.fill("#field-beneficiaries", data["beneficiaries"])
    for column in ("period", "content", "sessions", "participants"):
        page.fill(f"#activity-0-{column}", data[f"activity-0-{column}"])
    for index in (0, 1):
        for column in ("item", "purpose", "unit_price", "quantity"):
            page.fill(f"#budget-{index}-{column}", data[f"budget-{index}-{column}"])


@pytest.mark.slow
def test_applicant_fills_the_web_form_on_a_phone(browser: Browser, world: ApplyWorld) -> None:
    with serve_in_background(create_app(world.settings, clock=lambda: OPEN_AT)) as base:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}{PATH}")
        expect(page.locator("h1")).to_have_text("网上申报")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        page.check("input[name=kind][value=registered]")
        page.check("input[name=category][value=elderly]")
        page.check("input[name=communities][value=江头]")
        fill_form(page, {**GOOD, "amount": "9000", "contact_email": "limin-at-example", "summary": "太短"})
        page.click("#submit")
        expect(page.locator("#error-list")).to_be_visible()
        expect(page.locator("#error-amount")).to_contain_text("超过单个项目上限")
        expect(page.locator("#error-contact_email")).to_contain_text("格式不正确")
        expect(page.locator("#error-summary")).to_contain_text("不能少于20字")
        expect(page.locator("#field-contact_email")).to_have_value("limin-at-example")
        expect(page.locator("#budget-1-item")).to_have_value("健康讲座")
        expect(page.locator("input[name=communities][value=江头]")).to_be_checked()
        assert page.locator("#error-title").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert world.applications() == []

        page.click("#add-rows")
        expect(page.locator("#notice")).to_be_visible()
        expect(page.locator("#budget-7-item")).to_be_visible()
        page.fill("#field-amount", "6000")
        page.fill("#field-contact_email", "limin@example.org")
        page.fill("#field-summary", GOOD["summary"])
        page.press("#field-contact_email", "Enter")  # Enter submits; it does not add budget rows
        expect(page.locator("h1")).to_have_text("申报已提交")
        expect(page.locator("#application-ref")).to_have_text("2025-001")
        expect(page.locator("#notice")).to_contain_text("limin@example.org")
        [stored] = world.applications()
        assert stored.ref == "2025-001" and stored.communities == ["江头"]
        context.close()


@pytest.mark.slow
@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_web_form_keeps_the_plan_the_language_and_the_phone_rules(
    browser: Browser, world: ApplyWorld, screen: dict[str, int], tmp_path: Path
) -> None:
    with serve_in_background(create_app(world.settings, clock=lambda: OPEN_AT)) as base:
        mobile = {"is_mobile": True, "has_touch": True} if screen == PHONE else {}
        context = browser.new_context(viewport=screen, locale="zh-CN", **mobile)  # type: ignore[arg-type]
        page = context.new_page()
        page.goto(f"{base}{PATH}")
        if screen == PHONE:
            assert ergonomic_problems(page) == [], "the blank form"
        page.check("input[name=kind][value=registered]")
        page.check("input[name=category][value=elderly]")
        page.check("input[name=communities][value=江头]")
        fill_form(page, GOOD)
        page.fill("#activity-0-period", "2025年4月")
        page.fill("#activity-0-content", "启动仪式")
        page.click("#add-activities")  # more rows, without script; what was typed is kept
        expect(page.locator("#activity-5-content")).to_be_visible()
        expect(page.locator("#activity-0-content")).to_have_value("启动仪式")
        page.fill("#activity-5-content", "结项分享会")
        page.fill("#activity-5-sessions", "1")
        page.fill("#activity-5-participants", "40")
        page.click("button.lang-switch")  # the switch keeps everything typed and ticked
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#field-title")).to_have_value(GOOD["title"])
        expect(page.locator("#activity-5-content")).to_have_value("结项分享会")
        expect(page.locator("input[name=communities][value=江头]")).to_be_checked()
        page.fill("#field-contact_email", "limin-at-example")
        page.click("#submit")
        expect(page.locator("#error-list")).to_contain_text("Email — ")
        assert page.evaluate("document.activeElement.id") == "field-contact_email"  # opened at the error
        if screen == PHONE:
            assert ergonomic_problems(page) == [], "the form with an error"
        shoot(page, f"apply-error-{screen['width']}", tmp_path)
        page.fill("#field-contact_email", "limin@example.org")
        page.click("#submit")
        expect(page.locator("#application-ref")).to_have_text("2025-001")
        if screen == PHONE:
            assert ergonomic_problems(page) == [], "the confirmation"
        context.close()
    [stored] = world.applications()
    assert [row.get("content") for row in stored.details["activities"]] == ["启动仪式", "结项分享会"]
    with serve_in_background(create_app(world.settings, clock=lambda: LATE_AT)) as base:  # after the close
        context = browser.new_context(viewport=screen, locale="zh-CN")
        page = context.new_page()
        answer = page.goto(f"{base}{PATH}")
        assert answer is not None and answer.status == 409
        expect(page.locator("h1")).to_have_text("暂不受理网上申报")
        if screen == PHONE:
            assert ergonomic_problems(page) == [], "the closed page"
        context.close()


HOSTILE = ["²", "1" * 5000, "9" * 400, "١٢", "𝟙", "1e309", "NaN", "-0", "0x10", "\u00bd", "贰" * 3000]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: f"{v[:6]}…{len(v)}")
def test_post_hostile_value_in_every_field_is_a_page_never_a_500(world: ApplyWorld, value: str) -> None:
    """Every numeric value of the form is read by the intake's one strict rule (``whole_number``,
    ``parse_yuan``): a superscript digit or a 5,000-digit number is a problem beside its field."""
    with TestClient(
        create_app(world.settings, clock=lambda: OPEN_AT),
        follow_redirects=False,
        raise_server_exceptions=True,
    ) as client:
        page = client.get(PATH)
        data: dict[str, Any] = {key: value for key in FORM_KEYS if key not in NOT_ASKED}
        data.update(
            {
                f"budget-{i}-{c}": value
                for i in range(2)
                for c in ("item", "purpose", "unit_price", "quantity")
            }
        )
        data.update(
            budget_rows=value,
            activity_rows=value,
            communities=[value],
            action="submit",
            csrf_token=csrf_of(page),
        )
        answer = client.post(PATH, data=data)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.template.name == "apply/form.html"  # type: ignore[attr-defined]
    assert answer.context["form"].errors  # type: ignore[attr-defined]
    assert world.count(Application) == 0
