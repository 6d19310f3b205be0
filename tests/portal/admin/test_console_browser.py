"""The console in a real browser (Debian's Chromium through Playwright) on the example's year:
signing in, the 首页, the 申报一览 (filter, sort, page, export, the remembered filter) and an
application's page — at 1280 px and at a 768 px tablet, without sideways scrolling, with no
message on the browser's console (a script or style the CSP refused would show there). Every page
is photographed at both widths (into ``GRANTFLOW_SCREENSHOTS`` when set, to look at)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, func, select

from models.funding.tables import Grant
from models.intake.tables import Application
from portal.serving import serve_in_background
from tests.portal.admin.console_world import PASSWORDS, SLUG, ConsoleWorld

pytestmark = pytest.mark.slow

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


@pytest.fixture
def served(console: ConsoleWorld) -> Iterator[tuple[ConsoleWorld, str]]:
    with serve_in_background(console.app) as base:
        yield console, base


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GRANTFLOW_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_console(browser: Browser, base: str, size: str, messages: list[str]) -> Page:
    context = browser.new_context(viewport=WIDTHS[size], locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return page


def look(page: Page, shots: Path, name: str, size: str) -> None:
    """Photograph the page and check that it fits its width."""
    page.screenshot(path=str(shots / f"{name}-{WIDTHS[size]['width']}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[size]["width"], name


def sign_in(page: Page, base: str, shots: Path, size: str, messages: list[str]) -> None:
    page.goto(f"{base}/admin/c/{SLUG}/applications")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.fill("#name", "lin")
    page.fill("#password", "not-the-password")
    page.click("#login")
    expect(page.locator("#login-message")).to_contain_text("用户名或密码不正确")
    look(page, shots, "login", size)
    page.fill("#password", PASSWORDS["lin"])
    page.click("#login")
    expect(page.locator("h1")).to_contain_text("申报一览")  # back where she was going
    messages.clear()  # the refused sign-in's 401 is logged by the browser; nothing may follow it


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_administrator_reads_the_year_in_the_console(
    browser: Browser, served, shots: Path, size: str
) -> None:
    world, base = served
    messages: list[str] = []
    page = open_console(browser, base, size, messages)
    sign_in(page, base, shots, size, messages)
    with Session(world.engine) as session:
        total = session.exec(select(func.count()).select_from(Application)).one()
        funded = session.exec(select(func.count()).select_from(Grant)).one()
        largest = session.exec(select(func.max(Application.amount_fen))).one()

    # 首页: the figures link to the list behind them
    page.click("#nav-home")
    expect(page.locator("#stage")).to_have_text("项目实施")
    expect(page.locator("#count-received")).to_have_attribute("data-value", str(total))
    expect(page.locator("#next-step")).to_have_attribute("data-step", "final_evaluation")
    expect(page.locator("#timeline tr[aria-current=step]")).to_have_attribute("data-stage", "implementation")
    look(page, shots, "home", size)
    page.click("#count-funded a")
    expect(page.locator("#roster-count")).to_have_attribute("data-total", str(funded))
    expect(page.locator("#standing")).to_have_value("funded")

    # 申报一览: filter (htmx replaces the list and the address follows), sort, page
    page.goto(f"{base}/admin/c/{SLUG}/applications?clear=1")
    expect(page.locator("#roster-count")).to_have_attribute("data-total", str(total))
    page.select_option("#standing", "eligible")
    expect(page).to_have_url(re.compile(r"standing=eligible"))
    eligible = int(page.locator("#roster-count").get_attribute("data-total") or 0)
    assert 0 < eligible < total
    page.fill("#q", "社区")
    expect(page).to_have_url(re.compile(r"q=%E7%A4%BE%E5%8C%BA"))
    assert all("社区" in (row.inner_text()) for row in page.locator("#roster-table tbody tr").all())
    page.goto(f"{base}/admin/c/{SLUG}/applications?clear=1")
    page.select_option("#per_page", "25")
    expect(page).to_have_url(re.compile(r"per_page=25"))
    expect(page.locator("#page-current")).to_have_attribute("data-page", "1")
    page.click("#sort-amount")
    expect(page.locator("#roster-table th.col-amount")).to_have_attribute("aria-sort", "ascending")
    page.click("#sort-amount")  # a second click sorts the other way
    expect(page.locator("#roster-table th.col-amount")).to_have_attribute("aria-sort", "descending")
    first_amount = page.locator("#roster-table tbody tr").first.locator(".col-amount").inner_text()
    assert first_amount == f"{largest / 100:,.2f}"
    page.click("#page-next")
    expect(page.locator("#page-current")).to_have_attribute("data-page", "2")
    expect(page.locator("#roster-table tbody tr")).to_have_count(total - 25)
    look(page, shots, "applications", size)

    # the export holds the whole view, every page of it
    with page.expect_download() as caught:
        page.click("#export")
    assert caught.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(caught.value.path()).read_bytes()))
    assert workbook["申报一览"].max_row == total + 1

    # the last view is remembered: the list opened again without parameters shows it
    page.click("#nav-applications")
    expect(page.locator("#remembered")).to_be_visible()
    expect(page.locator("#page-current")).to_have_attribute("data-page", "2")

    # an application's page: every stage of a funded project
    with Session(world.engine) as session:
        grant = session.exec(select(Grant).order_by(col(Grant.id))).first()
        assert grant is not None
        application = session.get(Application, grant.application_id)
        assert application is not None
    page.goto(f"{base}/admin/c/{SLUG}/applications?q={application.ref}")
    page.click(f"#roster-table tr[data-ref='{application.ref}'] .col-ref a")
    expect(page.locator("#app-ref")).to_have_text(application.ref)
    expect(page.locator("#grant-amount")).to_have_text(f"{grant.amount_fen / 100:,.2f}")
    expect(page.locator("#tranches tbody tr")).to_have_count(3)
    expect(page.locator("#review tr.dropped")).to_have_count(2)
    page.click("#form summary")
    expect(page.locator("#form-summary")).to_be_visible()
    look(page, shots, "application", size)
    with page.expect_download() as caught:
        page.locator("#documents a.file").first.click()
    assert caught.value.suggested_filename.endswith(".docx")
    page.locator("#letters tbody a").first.click()
    expect(page.locator("#letter-body")).not_to_be_empty()
    look(page, shots, "letter", size)

    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/admin/login$"))
    assert [m for m in messages if not m.startswith(("log:", "info:", "debug:"))] == []


def test_the_screening_override_is_one_form_on_the_page(browser: Browser, served, shots: Path) -> None:
    world, base = served
    messages: list[str] = []
    page = open_console(browser, base, "desktop", messages)
    sign_in(page, base, shots, "desktop", messages)
    with Session(world.engine) as session:
        refused = session.exec(select(Application).where(Application.state == "ineligible")).first()
        assert refused is not None
    page.goto(f"{base}/admin/c/{SLUG}/applications/{refused.id}")
    failing = page.locator("#screening tr[data-passed=false]").first
    rule = failing.get_attribute("data-rule")
    page.click("#override summary")
    page.select_option("#override-rule", rule)
    page.check("#override-pass")
    page.click("#override-submit")  # no reason: refused beside the form, nothing changed
    expect(page.locator("#override-error")).to_contain_text("改判须填写理由")
    look(page, shots, "application-override-refused", "desktop")
    assert messages == [
        "error: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    messages.clear()
    page.fill("#override-reason", "经核实，该单位已于2025年2月取得备案，材料补交齐全。")
    page.click("#override-submit")
    expect(page.locator("#notice")).to_contain_text("已改判")
    expect(page.locator(f"#screening tr[data-rule='{rule}']")).to_have_attribute("data-passed", "true")
    expect(page.locator(f"#screening tr[data-rule='{rule}'] .override-note")).to_contain_text("admin:lin")
    assert [m for m in messages if not m.startswith(("log:", "info:", "debug:"))] == []
