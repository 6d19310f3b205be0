"""The supervisor's record in a real browser at phone size (Debian's Chromium through Playwright):
a refused upload shows its message beside the field and keeps what was typed; a genuine photo is
uploaded with the submitted record and listed on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from models.competition.tables import Competition
from models.supervision.evidence import evidence_of
from models.supervision.links import supervise_link
from models.supervision.records import report_of
from models.supervision.tables import Checkpoint
from portal.app import create_app
from portal.serving import serve_in_background
from tests.support import evidence_files as files
from tests.support.browser import PHONE, browser  # noqa: F401  (the shared Chromium fixture)
from tests.support.grants import funded, funded_template  # noqa: F401  (fixtures)
from tests.support.supervision import VISIT_AT, open_supervision, record_fields

pytestmark = pytest.mark.slow


@pytest.fixture
def served(funded) -> Iterator[tuple[object, str, int]]:  # noqa: F811  (the imported fixture)
    with serve_in_background(create_app(funded.settings, clock=lambda: VISIT_AT)) as base:
        settings = funded.settings.model_copy(update={"portal_url": base})
        with Session(funded.engine, expire_on_commit=False) as session:
            open_supervision(session, competition_id=funded.competition_id, settings=settings)
            session.commit()
            checkpoint = session.exec(
                select(Checkpoint).where(
                    Checkpoint.grant_id == funded.grant_ids[0], Checkpoint.code == "midterm"
                )
            ).one()
            link = supervise_link(checkpoint, settings)
        yield funded, link, checkpoint.id


def test_supervisor_fills_the_record_on_a_phone_with_an_upload(
    browser: Browser,  # noqa: F811  (the imported fixture)
    served,
    tmp_path: Path,
) -> None:
    world, link, checkpoint_id = served
    with Session(world.engine) as session:
        fields = record_fields(
            session, session.get(Competition, world.competition_id), code="midterm", share=0.8
        )
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(files.windows_executable())
    good = tmp_path / "活动照片.jpg"
    good.write_bytes(files.photo_with_location())

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(link)
    expect(page.locator("h1")).to_have_text("督导记录表")
    expect(page.locator("#plan")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scroll

    page.fill("#visit_date", fields["visit_date"])
    page.check("#mode-on_site")
    for name in ("activities_held", "person_times", "beneficiaries", "spent", "findings"):
        page.fill(f"#{name}", fields[name])
    for name, value in fields.items():
        if name.startswith(("points_", "comment_")):
            page.fill(f"#{name}", value)
    page.set_input_files("#evidence-photo", str(bad))
    page.click("#submit")
    expect(page.locator("#error-summary")).to_contain_text("photo.jpg")
    expect(page.locator("#error-summary")).to_contain_text("不是 PDF、JPEG 或 PNG")
    expect(page.locator("#activities_held")).to_have_value(fields["activities_held"])

    page.set_input_files("#evidence-photo", str(good))
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("已提交")
    expect(page.locator("#form-state")).to_have_text("已提交")  # the record's own state
    expect(page.locator("#stored-evidence")).to_contain_text("活动照片.jpg")
    context.close()

    with Session(world.engine) as session:
        record = report_of(session, checkpoint_id=checkpoint_id)
        assert record is not None and not record.draft
        (stored,) = evidence_of(session, checkpoint_id=checkpoint_id, owner="supervisor")
        assert stored.name == "活动照片.jpg" and stored.media_type == "image/jpeg"
