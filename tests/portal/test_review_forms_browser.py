"""The experts' pages in a real browser (Debian's Chromium through Playwright), at phone size (390 px)
and on a desktop (1280 px), on a competition in review built by the real intake and screening:

- one page per expert: the personal link lists every sheet (state, deadline, the next one to do),
  and after a submission the sheet points to the next application;
- a submitted sheet stays submitted against a crafted ``action=draft`` POST;
- every error at its field and in a summary naming it, the page opened at the first; the conflict
  declaration asks for its reason at the field and for a confirmation;
- the language switch keeps what was typed; the step in plain words; an early close shown as such;
- the phone rules (44 px targets, 16 px text, no sideways scroll) on every page of the room.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import select

from models.db import session_scope
from models.review.links import expert_link
from models.review.results import close_review
from models.review.score_sheets import save_sheet
from models.review.tables import Expert, ReviewAssignment
from models.states import AssignmentState
from portal.app import create_app
from portal.serving import serve_in_background
from tests.portal.conftest import ReviewWorld
from tests.portal.shots import shoot
from tests.support.browser import DESKTOP, PHONE, ergonomic_problems

pytestmark = pytest.mark.slow
SCREENS = pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
POINTS = {
    "need": "18",
    "design": "22.5",
    "capacity": "16",
    "budget": "12",
    "innovation": "8",
    "sustainability": "7.5",
}


@pytest.fixture
def base_url(world: ReviewWorld) -> Iterator[str]:
    with serve_in_background(create_app(world.settings)) as base:
        yield base


def new_page(browser: Browser, screen: dict[str, int]) -> tuple[BrowserContext, Page]:
    mobile = {"is_mobile": True, "has_touch": True} if screen == PHONE else {}
    context = browser.new_context(viewport=screen, locale="zh-CN", **mobile)  # type: ignore[arg-type]
    return context, context.new_page()


def expert_url(world: ReviewWorld, base: str, expert_id: int) -> str:
    with session_scope(world.engine) as session:
        expert = session.get(Expert, expert_id)
        assert expert is not None
        return expert_link(expert, world.settings.model_copy(update={"portal_url": base}))


def sheets_of(world: ReviewWorld, expert_id: int) -> list[ReviewAssignment]:
    return [s for s in world.sheets if s.expert_id == expert_id]


def fill(page: Page, points: dict[str, str], comment: str = "需求调研扎实，预算合理。") -> None:
    for code, value in points.items():
        page.fill(f"#points-{code}", value)
    page.fill("#comment", comment)


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 0
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


@SCREENS
def test_one_page_per_expert_lists_the_sheets_and_leads_to_the_next(
    browser: Browser, world: ReviewWorld, base_url: str, screen: dict[str, int], tmp_path: Path
) -> None:
    expert_id = world.sheets[0].expert_id
    own = sheets_of(world, expert_id)
    assert len(own) >= 2
    context, page = new_page(browser, screen)
    page.goto(expert_url(world, base_url, expert_id))
    expect(page.locator("h1")).to_have_text("我的评审")
    expect(page.locator("#sheets li")).to_have_count(len(own))
    expect(page.locator("#progress")).to_have_text(f"已提交 0 / {len(own)} 份")
    expect(page.locator("#sheets li[data-state=invited]")).to_have_count(len(own))
    shoot(page, f"expert-page-{screen['width']}", tmp_path)
    if screen == PHONE:
        assert ergonomic_problems(page) == []
    page.click("#next-sheet")
    first = page.locator("h1 .ref").inner_text()
    expect(page.locator("#step-need")).to_have_text("可打到 0.5 分，如 12.5 分。")  # the step in plain words
    assert "最小分值单位" not in page.content()
    fill(page, POINTS)
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("评分已提交")
    expect(page.locator("#form-status")).to_contain_text("已于")
    next_link = page.locator("#next-sheet")
    expect(next_link).to_contain_text("下一份：")
    shoot(page, f"sheet-submitted-{screen['width']}", tmp_path)
    next_link.click()
    second = page.locator("h1 .ref").inner_text()
    assert second != first
    expect(page.locator("#sheet-state")).to_have_text("待评分")
    page.click("#expert-page")  # back to the list: the first one done, the next one marked
    expect(page.locator("#progress")).to_have_text(f"已提交 1 / {len(own)} 份")
    expect(page.locator("#sheets li[data-state=submitted]")).to_contain_text(first)
    expect(page.locator("#sheets li.is-next")).to_contain_text(second)
    context.close()


@SCREENS
def test_a_submitted_sheet_stays_submitted_against_a_crafted_draft(
    browser: Browser, world: ReviewWorld, base_url: str, screen: dict[str, int]
) -> None:
    sheet = world.sheets[0]
    context, page = new_page(browser, screen)
    page.goto(base_url + world.path(sheet))
    fill(page, POINTS)
    page.click("#submit")
    expect(page.locator("#sheet-state")).to_have_text("已提交")
    assert page.locator("#save-draft").count() == 0
    form = page.evaluate(
        "() => Object.fromEntries(new FormData(document.getElementById('sheet-form')).entries())"
    )
    crafted = {**form, "action": "draft", "points.need": "2"}
    answer = context.request.post(page.url.split("?")[0], form=crafted, max_redirects=0)
    assert answer.status == 409 and "草稿不能替换已提交的内容" in answer.text()
    stored = world.sheet(sheet.id or 0)
    assert stored.state is AssignmentState.submitted
    page.reload()
    expect(page.locator("#sheet-state")).to_have_text("已提交")
    expect(page.locator("#form-status")).to_contain_text("截止")
    context.close()


@SCREENS
def test_errors_open_the_page_at_the_first_one_and_name_each_field(
    browser: Browser, world: ReviewWorld, base_url: str, screen: dict[str, int], tmp_path: Path
) -> None:
    context, page = new_page(browser, screen)
    page.goto(base_url + world.path(world.sheets[0]))
    fill(page, {**POINTS, "capacity": "21", "sustainability": "7.3"})
    page.click("#submit")
    summary = page.locator("#error-summary")
    expect(summary.locator("li")).to_have_count(2)
    expect(summary.locator("li >> nth=0")).to_contain_text("执行能力（满分 20）：")
    assert page.evaluate("document.activeElement.id") == "points-capacity"
    assert in_view(page, "#points-capacity") and in_view(page, "#error-capacity")
    expect(page.locator("#points-capacity")).to_have_value("21")  # what was typed stays
    if screen == PHONE:
        assert ergonomic_problems(page) == []
    shoot(page, f"sheet-errors-{screen['width']}", tmp_path)
    context.close()


@SCREENS
def test_a_conflict_asks_for_its_reason_at_the_field_then_for_confirmation(
    browser: Browser, world: ReviewWorld, base_url: str, screen: dict[str, int], tmp_path: Path
) -> None:
    sheet = world.sheets[0]
    context, page = new_page(browser, screen)
    page.goto(base_url + world.path(sheet))
    page.fill("#points-need", "18")
    page.click("#conflict summary")
    page.click("#declare-conflict")  # no reason: the page opens at the field, its message beside it
    expect(page.locator("#error-conflict_reason")).to_have_text("请写明回避原因")
    expect(page.locator("#error-summary")).to_contain_text("回避原因：请写明回避原因")
    assert page.evaluate("document.activeElement.id") == "conflict-reason"
    assert in_view(page, "#conflict-reason")
    expect(page.locator("#points-need")).to_have_value("18")
    page.fill("#conflict-reason", "本人曾在该机构兼职")
    page.click("#declare-conflict")  # a confirmation first: nothing declared yet
    confirm = page.locator("#conflict-confirm")
    expect(confirm).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "conflict-confirm" and in_view(
        page, "#confirm-conflict"
    )
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited
    if screen == PHONE:
        assert ergonomic_problems(page) == []
    shoot(page, f"sheet-conflict-confirm-{screen['width']}", tmp_path)
    page.click("#cancel-conflict")  # back: the page as it was, nothing declared
    expect(confirm).to_have_count(0)
    expect(page.locator("#conflict-reason")).to_have_value("本人曾在该机构兼职")
    page.click("#declare-conflict")
    page.click("#confirm-conflict")
    expect(page.locator("#notice")).to_contain_text("已记录您的回避申报")
    expect(page.locator("#sheet-state")).to_have_text("已申报回避")
    assert world.sheet(sheet.id or 0).state is AssignmentState.conflicted
    context.close()


@SCREENS
def test_the_language_switch_keeps_the_points_and_comment(
    browser: Browser, world: ReviewWorld, base_url: str, screen: dict[str, int], tmp_path: Path
) -> None:
    sheet = world.sheets[0]
    context, page = new_page(browser, screen)
    page.goto(base_url + world.path(sheet))
    page.fill("#points-need", "18")
    page.fill("#points-design", "22.5")
    page.fill("#comment", "先写一半")
    page.click("button.lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#points-need")).to_have_value("18")
    expect(page.locator("#points-design")).to_have_value("22.5")
    expect(page.locator("#comment")).to_have_value("先写一半")
    expect(page.locator("#step-need")).to_have_text("Points in steps of 0.5, e.g. 12.5.")
    expect(page.locator("#save-draft")).to_have_text("Save draft")
    shoot(page, f"sheet-english-{screen['width']}", tmp_path)
    page.reload()  # the language is remembered; nothing was saved by the switch
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited
    context.close()


@SCREENS
def test_an_early_close_shows_when_the_review_actually_closed(
    browser: Browser, world: ReviewWorld, base_url: str, screen: dict[str, int], tmp_path: Path
) -> None:
    with session_scope(world.engine) as session:  # one submitted sheet per application, then close early
        done: set[int] = set()
        for sheet in session.exec(select(ReviewAssignment).order_by(ReviewAssignment.id)):
            if sheet.application_id not in done:
                save_sheet(session, assignment_id=sheet.id or 0, points=POINTS, submit=True, actor="test")
                done.add(sheet.application_id)
        close_review(session, competition_id=world.competition_id, actor="admin:test")
    open_sheet = next(s for s in world.sheets if world.sheet(s.id or 0).state is AssignmentState.invited)
    context, page = new_page(browser, screen)
    page.goto(base_url + world.path(open_sheet))
    closed = page.locator("#closed-at").inner_text()  # the actual closing, not the planned deadline
    planned = re.search(r"提前截止，原定 (\S+ \S+)）", page.locator("#deadline .planned").inner_text())
    assert planned and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", closed) and closed < planned.group(1)
    expect(page.locator("#form-status")).to_contain_text(f"评审已于 {closed} 提前截止")
    expect(page.locator("#form-status")).to_contain_text("不计分")
    expect(page.locator("#sheet-state")).to_have_text("已截止（未提交）")
    if screen == PHONE:
        assert ergonomic_problems(page) == []
    shoot(page, f"sheet-closed-early-{screen['width']}", tmp_path)
    context.close()


def test_the_experts_pages_keep_the_phone_rules(
    browser: Browser, world: ReviewWorld, base_url: str, tmp_path: Path
) -> None:
    context, page = new_page(browser, PHONE)
    sheet = world.sheet_of("docx")  # the longest application, with its tables
    page.goto(base_url + world.path(sheet))
    page.click("#application > summary")
    assert ergonomic_problems(page) == [], "the sheet with the application open"
    shoot(page, "sheet-application-390", tmp_path)
    for selector in ("button.lang-switch", "#points-need", "#application > summary", "#part-team > summary"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, selector
    fill(page, POINTS)
    page.click("#submit")
    expect(page.locator("#notice")).to_be_visible()
    assert ergonomic_problems(page) == [], "the submitted sheet"
    page.goto(base_url + "/no-such-page")
    assert ergonomic_problems(page) == [], "not found"
    context.close()
