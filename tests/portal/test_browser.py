"""The portal end to end in a real browser (Debian's Chromium driven by Playwright, headless).

The review's invitations are queued by the review stage itself and go through the outbox to a real
SMTP server on loopback; the test pulls the one personal link out of the caught message (the
expert's own page), opens it on a phone-sized screen, follows it to the next sheet, fills the form
wrongly, sees each error beside its field, fills it right and submits. A link naming the first
expert's sheet but issued to a second expert, and an expired link, get the plain 403 page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from models.competition.tables import Competition
from models.db import session_scope
from models.links import sign_link
from models.review.links import review_link
from models.review.notices import queue_invitations
from models.review.tables import Expert, ReviewAssignment
from models.states import AssignmentState
from models.types import utcnow
from portal.app import create_app
from portal.serving import serve_in_background
from tasks.mail.delivery import SmtpServer, deliver_due
from tasks.mail.sink import EmlSink, MailSink
from tests.portal.conftest import ReviewWorld
from tests.support.browser import PHONE

pytestmark = pytest.mark.slow

LINK = re.compile(r"http://127\.0\.0\.1:\d+/[a-z-]+/[A-Za-z0-9_\-.]+")


@pytest.fixture
def base_url(world: ReviewWorld) -> Iterator[str]:
    with serve_in_background(create_app(world.settings)) as base:
        yield base


def send_invitation(
    world: ReviewWorld, sheet: ReviewAssignment, base_url: str, sink_folder: Path
) -> EmailMessage:
    """The review's invitations queued as the review stage queues them, delivered to a loopback SMTP
    server; returns the one to the expert of ``sheet``."""
    settings = world.settings.model_copy(update={"portal_url": base_url})
    with session_scope(world.engine) as session:
        expert = session.get(Expert, sheet.expert_id)
        competition = session.get(Competition, sheet.competition_id)
        assert expert is not None and competition is not None
        letters = queue_invitations(session, competition=competition, settings=settings)
        email = expert.email
    with MailSink(handler=EmlSink(sink_folder)) as sink:
        delivery = deliver_due(
            world.engine,
            SmtpServer(sink.host, sink.port, timeout=10),
            sender=settings.mail_from,
            documents_dir=settings.documents_dir,
            competition_id=world.competition_id,
        )
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
            report = pool.submit(asyncio.run, delivery).result(timeout=120)
        files = sink.handler.files()
    assert report.sent == len(letters) == len(files)
    messages = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    (message,) = [m for m in messages if email in str(m["To"])]
    assert isinstance(message, EmailMessage)
    return message


def link_in(message: EmailMessage) -> str:
    """The one link of the letter: the expert's own page (no link per sheet any more)."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = LINK.findall(body.get_content())
    assert len(found) == 1, found
    return found[0]


def fill(page: Page, points: dict[str, str], comment: str) -> None:
    for code, value in points.items():
        page.fill(f"#points-{code}", value)
    page.fill("#comment", comment)


def test_expert_scores_from_the_invitation_link_in_a_browser(
    browser: Browser, world: ReviewWorld, base_url: str, tmp_path: Path
) -> None:
    sheet = world.sheets[0]
    message = send_invitation(world, sheet, base_url, tmp_path / "mail")
    assert "评审邀请" in str(message["Subject"])
    link = link_in(message)

    assert "/expert/" in link
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(link)
    expect(page.locator("h1")).to_have_text("我的评审")
    own = world_sheets_of(world, sheet.expert_id)
    expect(page.locator("#sheets li")).to_have_count(len(own))
    first_to_do = page.locator("#next-sheet")
    expect(first_to_do).to_be_visible()
    first_to_do.click()  # the expert's next sheet: its own link
    expect(page.locator("h1")).to_contain_text("专家评分表")
    ref = page.locator("h1 .ref").inner_text()
    sheet = next(s for s in own if world.application(s)[0].ref == ref)
    expect(page.locator("#expert-name")).to_have_text(world_expert_name(world, sheet))
    expect(page.locator("label[for=points-need]")).to_contain_text("满分 20")
    expect(page.locator("#description-need")).to_contain_text("服务需求真实")
    # usable on a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    fill(
        page,
        {
            "need": "25",
            "design": "12.3",
            "capacity": "16",
            "budget": "",
            "innovation": "8",
            "sustainability": "7.5",
        },
        "先随便填一下",
    )
    page.click("#submit")
    expect(page.locator("#error-need")).to_contain_text("0 到 20")
    expect(page.locator("#error-design")).to_contain_text("0.5 分的整数倍")
    expect(page.locator("#error-budget")).to_contain_text("未评分")
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#points-need")).to_have_value("25")
    assert page.locator("#error-capacity").count() == 0
    assert world.sheet(sheet.id or 0).state is AssignmentState.invited

    fill(
        page,
        {
            "need": "18",
            "design": "22.5",
            "capacity": "16",
            "budget": "12",
            "innovation": "8",
            "sustainability": "7.5",
        },
        "需求调研扎实，预算合理。",
    )
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("评分已提交")
    expect(page.locator("#sheet-state")).to_have_text("已提交")
    expect(page.locator("#total")).to_have_text("84")
    stored = world.sheet(sheet.id or 0)
    assert stored.state is AssignmentState.submitted and stored.comment == "需求调研扎实，预算合理。"

    expect(page.locator("#next-sheet")).to_be_visible()  # and on to the next application
    page.fill("#comment", "需求调研扎实，预算合理，执行团队有经验。")  # typed, not yet resubmitted
    page.click("button.lang-switch")  # the switch keeps what was typed
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#comment")).to_have_value("需求调研扎实，预算合理，执行团队有经验。")
    expect(page.locator("#submit")).to_have_text("Submit changes")  # submitted: changes are resubmitted
    assert world.sheet(sheet.id or 0).comment == "需求调研扎实，预算合理。"  # the switch saved nothing
    context.close()


def world_sheets_of(world: ReviewWorld, expert_id: int) -> list[ReviewAssignment]:
    return [s for s in world.sheets if s.expert_id == expert_id]


def test_first_score_box_on_the_first_phone_screen_and_the_total_is_live(
    browser: Browser, world: ReviewWorld, base_url: str
) -> None:
    sheet = world.sheet_of("docx")  # the Word form: the longest application of the three
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(base_url + world.path(sheet))
    box = page.locator("#points-need").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    expect(page.locator("#total")).to_have_text("—")
    page.fill("#points-need", "18")
    expect(page.locator("#total")).to_have_text("18")
    page.fill("#points-design", "22.5")
    expect(page.locator("#total")).to_have_text("40.5")
    page.fill("#points-need", "25")  # over the maximum: no total to trust
    expect(page.locator("#total")).to_have_text("?")
    # the application is one tap away, in the 申报书's sections
    page.click("#application > summary")
    expect(page.locator("#part-need_analysis")).to_be_visible()
    expect(page.locator("#part-team")).to_contain_text("项目负责人")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_sheet_works_without_javascript(browser: Browser, world: ReviewWorld, base_url: str) -> None:
    sheet = world.sheets[0]
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + world.path(sheet))
    fill(
        page,
        {
            "need": "18",
            "design": "22.5",
            "capacity": "16",
            "budget": "12",
            "innovation": "8",
            "sustainability": "7",
        },
        "需求调研扎实。",
    )
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("评分已提交")
    expect(page.locator("#total")).to_have_text("83.5")
    expect(page.locator("#submit")).to_have_text("提交修改")
    assert page.locator("#save-draft").count() == 0
    context.close()


def world_expert_name(world: ReviewWorld, sheet: ReviewAssignment) -> str:
    with session_scope(world.engine) as session:
        expert = session.get(Expert, sheet.expert_id)
        assert expert is not None
        return expert.name


def test_second_experts_token_cannot_open_the_first_experts_sheet(
    browser: Browser, world: ReviewWorld, base_url: str
) -> None:
    first = world.sheets[0]
    second = world.other_expert_sheet(first)
    secret = world.settings.secret_key.get_secret_value()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    own = page.goto(f"{base_url}/review/{review_link(second, world.settings).rsplit('/', 1)[1]}")
    assert own is not None and own.status == 200
    expect(page.locator("#expert-name")).to_have_text(world_expert_name(world, second))
    # the second expert's identity on the first expert's sheet: a genuine signature, the wrong holder
    theirs = sign_link(
        purpose="review",
        subject_id=first.id or 0,
        holder_id=second.expert_id,
        nonce=second.token_nonce,
        expires_at=utcnow() + timedelta(days=2),
        secret=secret,
    )
    refused = page.goto(f"{base_url}/review/{theirs}")
    assert refused is not None and refused.status == 403
    expect(page.locator("h1")).to_have_text("无法打开此链接")
    assert page.locator("form").count() == 0
    # the second expert's own token with the first sheet's id spliced in: the signature breaks
    token = review_link(second, world.settings).rsplit("/", 1)[1]
    first_token = review_link(first, world.settings).rsplit("/", 1)[1]
    spliced = ".".join([first_token.split(".")[0], *token.split(".")[1:]])
    again = page.goto(f"{base_url}/review/{spliced}")
    assert again is not None and again.status == 403
    assert world.sheet(first.id or 0).state is AssignmentState.invited
    context.close()


def test_expired_token_is_refused_in_the_browser(browser: Browser, world: ReviewWorld, base_url: str) -> None:
    sheet = world.sheets[0]
    expired = sign_link(
        purpose="review",
        subject_id=sheet.id or 0,
        holder_id=sheet.expert_id,
        nonce=sheet.token_nonce,
        expires_at=utcnow() - timedelta(minutes=1),
        secret=world.settings.secret_key.get_secret_value(),
    )
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    answer = page.goto(f"{base_url}/review/{expired}")
    assert answer is not None and answer.status == 403
    expect(page.locator("h1")).to_have_text("无法打开此链接")
    context.close()
