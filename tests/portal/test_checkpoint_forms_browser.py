"""The supervisor's 督导记录表 and the grantee's 中期报告 in a real browser (Debian's Chromium through
Playwright), on a funded competition of the example whose supervision the real stage opened, at
phone size (390 px) and on a desktop (1280 px):

- a submitted form stays submitted: a crafted ``action=draft`` POST after 提交 (with the browser's
  own cookies and CSRF token) is refused on the server, the page shows the form's own state;
- the grantee's evidence opens from the supervisor's page (thumbnails, links, its own headers),
  only through the holder's link;
- a refused post keeps the files chosen with it (pending, listed) and names each error at its field
  and in a summary that links to it, in the page's language, the page opened at the first one;
- the language switch keeps what was typed and chosen;
- the report form: activity rows added without script, 实际支出 on every budget line;
- the refusal pages speak to their reader, with the station's contact.

Screenshots are written to ``$GRANTFLOW_SHOTS`` when set (to look at them), else to the test's
temporary folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.competition.tables import Competition
from models.db import session_scope
from models.links import link_secret, sign_link
from models.supervision.evidence import evidence_of
from models.supervision.links import checkpoint_expiry, report_link, supervise_link
from models.supervision.records import progress_of, report_of
from models.supervision.tables import Checkpoint, EvidenceFile, ProgressReport, Supervisor
from portal.app import create_app
from portal.serving import serve_in_background
from tests.portal.shots import shoot
from tests.support import evidence_files as files
from tests.support.browser import DESKTOP, PHONE, browser, ergonomic_problems  # noqa: F401  (fixture)
from tests.support.grants import funded, funded_template  # noqa: F401  (fixtures)
from tests.support.supervision import VISIT_AT, open_supervision, progress_fields, record_fields

pytestmark = pytest.mark.slow
CONTACT = "江头街道社会工作服务站 林老师 0592-5512345"  # competition.contact of the example
SCREENS = pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])


@dataclass
class Served:
    base: str
    engine: object
    settings: object
    competition_id: int
    checkpoint_id: int
    grant_id: int
    other_checkpoint_id: int  # another grant's mid-term
    supervise: str  # the supervisor's link (full URL)
    report: str  # the grantee's link
    other_report: str

    def checkpoint(self, checkpoint_id: int | None = None) -> Checkpoint:
        with session_scope(self.engine) as session:  # type: ignore[arg-type]
            found = session.get(Checkpoint, checkpoint_id or self.checkpoint_id)
            assert found is not None
            return found

    def record_fields(self, **extra: str) -> dict[str, str]:
        with Session(self.engine) as session:  # type: ignore[arg-type]
            competition = session.get(Competition, self.competition_id)
            return record_fields(session, competition, code="midterm", share=0.8, **extra)

    def progress_fields(self) -> dict[str, str]:
        with Session(self.engine) as session:  # type: ignore[arg-type]
            return progress_fields(session, grant_id=self.grant_id)


@pytest.fixture
def served(funded) -> Iterator[Served]:  # noqa: F811  (the imported fixture)
    with serve_in_background(create_app(funded.settings, clock=lambda: VISIT_AT)) as base:
        settings = funded.settings.model_copy(update={"portal_url": base})
        with Session(funded.engine, expire_on_commit=False) as session:
            open_supervision(session, competition_id=funded.competition_id, settings=settings)
            session.commit()
            midterms = {
                c.grant_id: c for c in session.exec(select(Checkpoint).where(Checkpoint.code == "midterm"))
            }
            mine, other = midterms[funded.grant_ids[0]], midterms[funded.grant_ids[1]]
            links = (
                supervise_link(mine, settings),
                report_link(mine, settings),
                report_link(other, settings),
            )
        yield Served(
            base,
            funded.engine,
            funded.settings,
            funded.competition_id,
            mine.id or 0,
            funded.grant_ids[0],
            other.id or 0,
            *links,
        )


def new_page(browser: Browser, screen: dict[str, int], **options: object) -> tuple[BrowserContext, Page]:  # noqa: F811
    context = browser.new_context(
        viewport=screen,
        locale="zh-CN",
        **({"is_mobile": True, "has_touch": True} if screen == PHONE else {}),
        **options,  # type: ignore[arg-type]
    )
    return context, context.new_page()


def form_values(page: Page, form: str) -> dict[str, str]:
    """What the page's form would post now (text fields only), read from the page itself."""
    return page.evaluate(
        """(id) => Object.fromEntries([...new FormData(document.getElementById(id)).entries()]
                 .filter(([, v]) => typeof v === 'string'))""",
        form,
    )


def fill_report(page: Page, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        if page.locator(f"#{name}").count():
            page.fill(f"#{name}", value)


def fill_record(page: Page, fields: dict[str, str]) -> None:
    page.fill("#visit_date", fields["visit_date"])
    page.check("#mode-on_site")
    for name, value in fields.items():
        if name not in ("visit_date", "visit_mode") and page.locator(f"#{name}").count():
            page.fill(f"#{name}", value)


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 0
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def audit_actions(served: Served) -> list[str]:
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        return [
            e.action
            for e in session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "checkpoint", AuditEvent.entity_id == served.checkpoint_id)
                .order_by(col(AuditEvent.id))
            )
        ]


# ---- a submitted form stays submitted ------------------------------------------------------------


@SCREENS
def test_report_submitted_stays_submitted_and_shows_its_own_state(
    browser: Browser,  # noqa: F811
    served: Served,
    screen: dict[str, int],
    tmp_path: Path,
) -> None:
    fields = served.progress_fields()
    context, page = new_page(browser, screen)
    page.goto(served.report)
    expect(page.locator("#form-state")).to_have_text("尚未填写")
    expect(page.locator("#report-form fieldset.activity-row")).to_have_count(3)
    # every budget line: its name and budget, then a field labelled 实际支出
    lines = page.locator("#spending .budget-line")
    assert lines.count() >= 2
    for i in range(lines.count()):
        expect(lines.nth(i).locator("label")).to_have_text("实际支出（元）")
        expect(lines.nth(i).locator(".line-budget")).to_contain_text("预算（元）")
    # the legend is not repeated as a field's label
    expect(page.locator("#problems-changes legend")).to_have_text("问题与变更")
    fill_report(page, fields)
    page.click("#add-row")  # a fourth activity, without script; what was typed is kept
    expect(page.locator("#report-form fieldset.activity-row")).to_have_count(4)
    expect(page.locator("#act_name_2")).to_have_value(fields["act_name_2"])
    page.fill("#act_date_4", "2025-06-08")
    page.fill("#act_name_4", "端午包粽子")
    page.fill("#act_sessions_4", "1")
    page.fill("#act_people_4", "40")
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("已提交")
    expect(page.locator("#form-state")).to_have_text("已提交")  # the report's state, not the checkpoint's
    expect(page.locator("#form-status")).to_contain_text("提交修改")
    expect(page.locator("#checkpoint-state")).to_have_text("进行中")
    assert page.locator("#save-draft").count() == 0  # no button that would take the submission back
    shoot(page, f"report-submitted-{screen['width']}", tmp_path)

    # a crafted POST of a draft, with this browser's cookie and the page's own CSRF token
    crafted = {**form_values(page, "report-form"), "action": "draft", "person_times": "1"}
    answer = context.request.post(served.report, multipart=crafted, max_redirects=0)
    assert answer.status == 409 and "草稿不能替换已提交的内容" in answer.text()
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        stored = progress_of(session, checkpoint_id=served.checkpoint_id)
        assert stored is not None and not stored.draft and stored.person_times == int(fields["person_times"])
        assert len(stored.activities) == 3
    assert audit_actions(served).count("progress_saved") == 0

    # the supervisor reads a submitted report, never "still a draft"
    other, supervisor_page = new_page(browser, screen)
    supervisor_page.goto(served.supervise)
    expect(supervisor_page.locator("#grantee-state")).to_contain_text("已于")
    expect(supervisor_page.locator("#grantee-state")).not_to_contain_text("草稿")
    other.close()

    # the only change: an amended submission, audited as such
    page.reload()
    page.fill("#person_times", "333")
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("已提交")
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        stored = progress_of(session, checkpoint_id=served.checkpoint_id)
        assert stored is not None and not stored.draft and stored.person_times == 333
    assert audit_actions(served)[-1] == "progress_amended"
    context.close()


@SCREENS
def test_record_submitted_stays_submitted_against_a_crafted_draft(
    browser: Browser,  # noqa: F811
    served: Served,
    screen: dict[str, int],
    tmp_path: Path,
) -> None:
    context, page = new_page(browser, screen)
    page.goto(served.supervise)
    expect(page.locator("#form-state")).to_have_text("尚未填写")
    fill_record(page, served.record_fields())
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("已提交")
    expect(page.locator("#form-state")).to_have_text("已提交")
    expect(page.locator("#checkpoint-state")).to_have_text("督导记录已提交，待评定")
    assert page.locator("#save-draft").count() == 0
    crafted = {**form_values(page, "record-form"), "action": "draft", "activities_held": "1"}
    answer = context.request.post(served.supervise, multipart=crafted, max_redirects=0)
    assert answer.status == 409 and "草稿不能替换已提交的内容" in answer.text()
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        record = report_of(session, checkpoint_id=served.checkpoint_id)
        assert record is not None and not record.draft and record.activities_held == 6
        assert session.get(Checkpoint, served.checkpoint_id).state.value == "submitted"  # type: ignore[union-attr]
    assert "record_saved" not in audit_actions(served)
    page.reload()
    shoot(page, f"record-submitted-{screen['width']}", tmp_path)
    context.close()


# ---- evidence ------------------------------------------------------------------------------------


@SCREENS
def test_the_grantees_evidence_opens_from_the_supervisors_page(
    browser: Browser,  # noqa: F811
    served: Served,
    screen: dict[str, int],
    tmp_path: Path,
) -> None:
    photo = tmp_path / "活动照片.jpg"
    photo.write_bytes(files.photo_with_location())
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(files.small_pdf())
    context, page = new_page(browser, screen)
    page.goto(served.report)
    fill_report(page, served.progress_fields())
    page.set_input_files("#evidence-photo", str(photo))
    page.set_input_files("#evidence-receipt", str(receipt))
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("已提交")
    expect(page.locator("#stored-evidence li")).to_have_count(2)
    size = len(files.small_pdf())
    expect(page.locator("#stored-evidence")).to_contain_text(f"{size} B")  # bytes, never "0 KB"

    supervisor, view = new_page(browser, screen)
    view.goto(served.supervise)
    items = view.locator("#grantee-evidence li")
    expect(items).to_have_count(2)
    thumb = view.locator("#grantee-evidence img")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()
    view.wait_for_function("() => document.querySelector('#grantee-evidence img').naturalWidth > 0")
    assert view.evaluate("document.querySelector('#grantee-evidence img').naturalWidth") <= 320  # a thumbnail
    shoot(view, f"supervisor-evidence-{screen['width']}", tmp_path, selector="#grantee-report")
    links = {a.inner_text(): a.get_attribute("href") for a in view.locator("#grantee-evidence a.file").all()}
    assert set(links) == {"活动照片.jpg", "receipt.pdf"}
    pdf = supervisor.request.get(served.base + links["receipt.pdf"])
    assert pdf.status == 200 and pdf.body() == files.small_pdf()
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert (
        pdf.headers["content-disposition"] == "inline; filename=\"receipt.pdf\"; filename*=UTF-8''receipt.pdf"
    )
    image = supervisor.request.get(served.base + links["活动照片.jpg"])
    assert image.status == 200 and image.headers["content-type"] == "image/jpeg"
    assert "filename*=UTF-8''%E6%B4%BB%E5%8A%A8%E7%85%A7%E7%89%87.jpg" in image.headers["content-disposition"]
    view.click("#grantee-evidence a.file >> nth=0")  # it opens in the browser
    expect(view).to_have_url(re.compile(r"/evidence/\d+$"))

    # only through the holder's own link, only this checkpoint's files, no listing
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        ids = [e.id for e in evidence_of(session, checkpoint_id=served.checkpoint_id, owner="grantee")]
    other_link = served.other_report.removeprefix(served.base)
    supervise_path = served.supervise.removeprefix(served.base)
    for path, status in (
        (f"{other_link}/evidence/{ids[0]}", 404),  # another checkpoint's link
        (f"{supervise_path}/evidence/{max(ids) + 1000}", 404),
        (f"{supervise_path}/evidence/", 404),
        (f"{supervise_path}/evidence/..%2F..%2Fgrantflow.db", 404),
        (f"{supervise_path}/evidence/99999999999999999999", 404),
        ("/supervise/forged/evidence/" + str(ids[0]), 403),
        ("/uploads/", 404),
    ):
        answer = supervisor.request.get(served.base + path)
        assert answer.status == status, path
        assert answer.headers["content-type"].startswith("text/html"), path
    supervisor.close()
    context.close()


# ---- nothing typed or chosen is lost; every error at its field -------------------------------------


@SCREENS
def test_a_refused_record_keeps_its_files_and_names_each_error_at_its_field(
    browser: Browser,  # noqa: F811
    served: Served,
    screen: dict[str, int],
    tmp_path: Path,
) -> None:
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(files.photo_with_location())
    sheet = tmp_path / "签到表.pdf"
    sheet.write_bytes(files.small_pdf())
    big = tmp_path / "big-20mb.png"
    big.write_bytes(files.png_sign_in_sheet() + b"\0" * 8_100_000)
    context, page = new_page(browser, screen)
    page.goto(served.supervise)
    fill_record(page, served.record_fields(points_progress="35"))
    page.set_input_files("#evidence-photo", str(photo))
    page.set_input_files("#evidence-sign_in", [str(sheet), str(big)])
    page.click("#submit")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("活动进度（满分 30）：应在 0 到 30 之间")  # the field is named
    expect(summary).to_contain_text("签到表：文件“big-20mb.png”：文件超过 8 MB")
    expect(summary).not_to_contain_text("file “")  # the page's language only
    expect(page.locator("#error-points_progress")).to_have_text("应在 0 到 30 之间")
    expect(page.locator("#error-evidence_sign_in")).to_contain_text("big-20mb.png")
    # the page opens at the first error: its control has the focus and is on the screen
    assert page.evaluate("document.activeElement.id") == "points_progress"
    assert in_view(page, "#points_progress")
    page.click("#error-summary a[href='#evidence-sign_in']")
    assert page.evaluate("location.hash") == "#evidence-sign_in"
    # the two good files are kept for this link, listed as such; the refused one is stored nowhere
    pending = page.locator("#pending-evidence li")
    expect(pending).to_have_count(2)
    expect(page.locator("#pending-evidence")).to_contain_text("IMG_0001.jpg")
    expect(page.locator("#pending-evidence")).to_contain_text("签到表.pdf")
    expect(page.locator("#stored-evidence")).to_have_text("尚无材料。")
    shoot(page, f"record-refused-{screen['width']}", tmp_path)
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        rows = session.exec(select(EvidenceFile)).all()
        assert sorted(r.name for r in rows) == ["IMG_0001.jpg", "签到表.pdf"] and all(r.pending for r in rows)
        assert report_of(session, checkpoint_id=served.checkpoint_id) is None
    # the supervisor's pending files are not the grantee's to see
    grantee, report_page = new_page(browser, screen)
    report_page.goto(served.report)
    expect(report_page.locator("#pending-evidence")).to_have_count(0)
    grantee.close()

    page.fill("#points_progress", "24")
    page.click("#submit")
    expect(page.locator("#notice")).to_contain_text("已提交")
    expect(page.locator("#stored-evidence li")).to_have_count(2)
    expect(page.locator("#pending-evidence")).to_have_count(0)
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        record = report_of(session, checkpoint_id=served.checkpoint_id)
        stored = evidence_of(session, checkpoint_id=served.checkpoint_id, owner="supervisor")
        assert record is not None and sorted(e["id"] for e in record.evidence) == sorted(e.id for e in stored)
        assert len(stored) == 2
    context.close()


def test_a_pending_file_can_be_removed_before_it_is_saved(
    browser: Browser,  # noqa: F811
    served: Served,
    tmp_path: Path,
) -> None:
    wrong = tmp_path / "wrong.png"
    wrong.write_bytes(files.png_sign_in_sheet())
    context, page = new_page(browser, PHONE)
    page.goto(served.report)
    page.fill("#person_times", "12")
    page.fill("#act_date_1", "2025-04-20")  # a draft with a problem (an activity without its name):
    page.set_input_files("#evidence-other", str(wrong))  # refused, the file kept
    page.click("#save-draft")
    expect(page.locator("#error-act_name_1")).to_have_text("请填写活动名称")
    expect(page.locator("#pending-evidence li")).to_have_count(1)
    page.click("#pending-evidence button.drop")  # chosen by mistake: removed, nothing else changes
    expect(page.locator("#pending-evidence")).to_have_count(0)
    expect(page.locator("#person_times")).to_have_value("12")
    expect(page.locator("#act_date_1")).to_have_value("2025-04-20")
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        assert evidence_of(session, checkpoint_id=served.checkpoint_id, pending=None) == []
        assert progress_of(session, checkpoint_id=served.checkpoint_id) is None
    assert not list(served.settings.uploads_dir.rglob("*.png"))  # type: ignore[attr-defined]
    context.close()


@SCREENS
def test_the_language_switch_keeps_what_was_typed_and_chosen(
    browser: Browser,  # noqa: F811
    served: Served,
    screen: dict[str, int],
    tmp_path: Path,
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(files.photo_with_location())
    context, page = new_page(browser, screen)
    page.goto(served.report)
    page.fill("#act_date_1", "2025-04-20")
    page.fill("#act_name_1", "启动仪式")
    page.fill("#problems", "雨季影响户外活动。")
    page.set_input_files("#evidence-photo", str(photo))
    page.click("button.lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("中期报告")  # the report's own name, as configured
    expect(page.locator("#act_name_1")).to_have_value("启动仪式")
    expect(page.locator("#problems")).to_have_value("雨季影响户外活动。")
    expect(page.locator("#pending-evidence")).to_contain_text("photo.jpg")
    expect(page.locator("#form-state")).to_have_text("not filled in yet")
    shoot(page, f"report-english-{screen['width']}", tmp_path)
    page.click("button.lang-switch")  # and back
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#act_date_1")).to_have_value("2025-04-20")
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(ProgressReport)).all() == []  # the switch saved nothing of the form
    context.close()


# ---- refusal pages by role -------------------------------------------------------------------------


@SCREENS
def test_a_bad_link_is_refused_in_the_words_of_its_reader(
    browser: Browser,  # noqa: F811
    served: Served,
    screen: dict[str, int],
    tmp_path: Path,
) -> None:
    checkpoint = served.checkpoint()
    with session_scope(served.engine) as session:  # type: ignore[arg-type]
        other = session.exec(select(Supervisor).where(Supervisor.id != checkpoint.supervisor_id)).first()
        assert other is not None
    theirs = sign_link(  # genuine, but someone else's: the competition is known
        purpose="checkpoint",
        subject_id=checkpoint.id or 0,
        holder_id=other.id or 0,
        nonce=checkpoint.token_nonce,
        expires_at=checkpoint_expiry(checkpoint, served.settings),  # type: ignore[arg-type]
        secret=link_secret(served.settings),  # type: ignore[arg-type]
    )
    context, page = new_page(browser, screen)
    cases = (
        ("/supervise/" + theirs, 403, "微公益创投 · 项目督导", "督导通知邮件"),
        ("/supervise/not-a-token", 403, "微公益创投 · 项目督导", "督导通知邮件"),
        ("/report/not-a-token", 403, "微公益创投 · 项目进度报告", "进度报告通知邮件"),
        ("/review/not-a-token", 403, "微公益创投 · 专家评审", "评审邀请邮件"),
        ("/expert/not-a-token", 403, "微公益创投 · 专家评审", "评审邀请邮件"),
        ("/final-review/not-a-token", 403, "微公益创投 · 结项评审", "评审邀请邮件"),
        ("/apply/no-such-call", 404, "微公益创投 · 网上申报", "网上申报链接"),
    )
    for path, status, header, words in cases:
        answer = page.goto(served.base + path)
        assert answer is not None and answer.status == status, path
        expect(page.locator(".site-name")).to_have_text(header)
        expect(page.locator("#refused-body")).to_contain_text(words)
        expect(page.locator("#refused-contact")).to_contain_text(CONTACT)  # the station's phone
        expect(page.locator('#refused-contact a[href="tel:0592-5512345"]')).to_have_text("0592-5512345")
        if path.startswith("/supervise/"):
            expect(page.locator("#refused-body")).not_to_contain_text("评审")
        if screen == PHONE:
            assert ergonomic_problems(page) == [], path
        shoot(page, f"refused{path.split('/')[1]}-{screen['width']}", tmp_path)
    context.close()


# ---- the phone rules, measured -------------------------------------------------------------------


def test_the_checkpoint_pages_keep_the_phone_rules(
    browser: Browser,  # noqa: F811
    served: Served,
    tmp_path: Path,
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(files.photo_with_location())
    context, page = new_page(browser, PHONE)
    page.goto(served.report)
    assert ergonomic_problems(page) == [], "the blank report"
    fill_report(page, served.progress_fields())
    page.fill("#act_name_1", "")
    page.set_input_files("#evidence-photo", str(photo))
    page.click("#submit")
    expect(page.locator("#error-summary")).to_be_visible()
    assert ergonomic_problems(page) == [], "the report with an error and a pending file"
    page.fill("#act_name_1", "启动仪式")
    page.click("#submit")
    expect(page.locator("#notice")).to_be_visible()
    assert ergonomic_problems(page) == [], "the submitted report"
    shoot(page, "report-submitted-evidence-390", tmp_path)
    page.goto(served.supervise)
    assert ergonomic_problems(page) == [], "the record beside the grantee's report and evidence"
    page.select_option("#verdict", "fail")
    page.click("#submit")
    expect(page.locator("#error-summary")).to_be_visible()
    assert ergonomic_problems(page) == [], "the record with errors"
    shoot(page, "record-errors-390", tmp_path)
    for selector in ("#verdict", "#evidence-photo", "button.lang-switch"):  # the ones the issue measured
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, selector
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#verdict')).fontSize)") >= 16
    # the budget against the actual spending: no column off the screen
    spending = page.locator("#grantee-spending")
    box = spending.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    variance = spending.locator("tbody tr >> nth=0").locator("td[data-label='差额（元）']")
    cell = variance.bounding_box()  # the 差额 of a line, named beside its figure, on the screen
    assert cell is not None and cell["x"] >= 0 and cell["x"] + cell["width"] <= PHONE["width"]
    label = variance.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert "差额" in label
    context.close()
