"""发信箱, 文档, 专家与督导 and 年度 in a real browser (Debian's Chromium through Playwright) on the held
year (``pages_world``: every letter waits for release, the 结项 panel's sheets open): the way the
administrator goes through them — choose letters and release them after the confirmation, read a
letter, a stage's documents and its zip, an expert's page and "remind now", the year's figures and
charts and the export — at 1280 px and at a 768 px tablet, without sideways scrolling and with no
message on the browser's console. Every page is photographed at both widths (into
``GRANTFLOW_SCREENSHOTS`` when set, to look at)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session, col, select

from models.evaluation.tables import PanelSheet
from models.mail.outbox import OutboxLetter
from models.states import ASSIGNMENTS_OPEN, LetterState
from portal.serving import serve_in_background
from tests.portal.admin.console_world import PASSWORDS, SLUG, ConsoleWorld
from tests.portal.admin.pages_world import PagesWorld
from tests.portal.admin.test_console_browser import WIDTHS, look, open_console

pytestmark = pytest.mark.slow


@pytest.fixture
def served(pages: PagesWorld) -> Iterator[tuple[ConsoleWorld, str]]:
    with serve_in_background(pages.world.app) as base:
        yield pages.world, base


def held(world: ConsoleWorld) -> list[OutboxLetter]:
    with Session(world.engine) as session:
        return list(
            session.exec(
                select(OutboxLetter)
                .where(OutboxLetter.state == LetterState.draft)
                .order_by(col(OutboxLetter.id))
            )
        )


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_administrator_goes_through_the_outbox_documents_people_and_year(
    browser: Browser, served, shots: Path, size: str
) -> None:
    world, base = served
    messages: list[str] = []
    page = open_console(browser, base, size, messages)
    page.goto(f"{base}/admin/login")
    page.fill("#name", "lin")
    page.fill("#password", PASSWORDS["lin"])
    page.click("#login")
    expect(page.locator("#nav-outbox")).to_be_visible()
    for link in page.locator(".sidebar a").all():  # every page's link in sight, none scrolled away
        box = link.bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTHS[size]["width"], link.inner_text()

    # 发信箱: two held letters chosen, the confirmation says how many to whom, then they are queued
    waiting = held(world)
    page.click("#nav-outbox")
    expect(page.locator("#tab-draft")).to_have_attribute("data-count", str(len(waiting)))
    look(page, shots, "outbox", size)
    newest = sorted(waiting, key=lambda letter: -(letter.id or 0))[:2]
    for letter in newest:
        page.check(f"#pick-{letter.id}")
    page.click("#release-chosen")
    expect(page.locator("#confirm")).to_have_attribute("data-count", "2")
    people = len({letter.recipient_email.casefold() for letter in newest})
    expect(page.locator("#confirm-recipients tbody tr")).to_have_count(people)
    look(page, shots, "outbox-release", size)
    page.click("#confirm-submit")
    expect(page).to_have_url(re.compile(r"/outbox\?state=queued"))
    expect(page.locator("#tab-queued")).to_have_attribute("data-count", "2")
    assert len(held(world)) == len(waiting) - 2

    # a letter: its body, its HTML in a sandboxed frame, the release of this one letter
    page.click(f"#letters-table tr[data-id='{newest[0].id}'] .col-title a")
    expect(page.locator("#letter-body")).to_contain_text(newest[0].recipient_name)
    look(page, shots, "letter", size)
    page.goto(f"{base}/admin/c/{SLUG}/letters/{waiting[0].id}")
    page.click("#letter-release")
    expect(page.locator("#confirm")).to_have_attribute("data-count", "1")

    # 文档: a stage's tab, its zip streamed whole
    page.click("#nav-documents")
    page.click("#tab-funding")
    expect(page).to_have_url(re.compile(r"stage=funding"))
    count = int(page.locator("#tab-funding").get_attribute("data-count") or 0)
    assert count > 0
    expect(page.locator("#docs-count")).to_have_attribute("data-total", str(count))
    look(page, shots, "documents", size)
    with page.expect_download() as caught:
        page.click("#zip")
    archive = zipfile.ZipFile(io.BytesIO(Path(caught.value.path()).read_bytes()))
    assert archive.testzip() is None
    assert len([name for name in archive.namelist() if not name.endswith("/")]) >= count

    # 专家与督导: an expert with open panel sheets, reminded now (one letter, queued held)
    with Session(world.engine) as session:
        expert_id = session.exec(
            select(PanelSheet.expert_id)
            .where(col(PanelSheet.state).in_(ASSIGNMENTS_OPEN))
            .order_by(col(PanelSheet.id))
        ).first()
    assert expert_id is not None
    page.click("#nav-people")
    expect(page.locator("#experts-table")).to_be_visible()
    look(page, shots, "people", size)
    page.click(f"#experts-table a[href$='/people/experts/{expert_id}']")
    letters_before = page.locator("#letters-table tbody tr").count()
    page.click("#remind summary")
    look(page, shots, "person", size)
    page.click("#remind-submit")
    expect(page).to_have_url(re.compile(r"done=remind_sent"))
    expect(page.locator("#letters-table tbody tr")).to_have_count(letters_before + 1)
    page.goto(f"{base}/admin/c/{SLUG}/people")
    page.locator("#supervisors-table tbody a").first.click()
    expect(page.locator("#person-name")).not_to_be_empty()
    look(page, shots, "supervisor", size)

    # 年度: the figures, the four charts drawn, the export
    page.click("#nav-year")
    expect(page.locator("#headline")).to_be_visible()
    for chart in page.locator("#charts img").all():
        chart.scroll_into_view_if_needed()
        expect(chart).to_have_js_property("complete", True, timeout=60_000)  # drawn on first sight
        assert chart.evaluate("image => image.naturalWidth") > 0
    look(page, shots, "year", size)
    with page.expect_download() as caught:
        page.click("#export")
    assert caught.value.suggested_filename.endswith(".xlsx")
    assert openpyxl.load_workbook(io.BytesIO(Path(caught.value.path()).read_bytes())).sheetnames
    assert messages == []
