"""The Jiangtou year from the console alone, in a real browser (Debian's Chromium): 管理员 creates
the competition by dropping its YAML on the page, publishes the call, uploads the intake files
several at once, runs every stage with its page and button, decides the objection chosen from a
list, drops the 签订日期.xlsx, settles the 整改 re-checks, terminates the project whose re-check
failed, and downloads the year's report — on the portal's clock moved to each stage's day of the
demo (``cli.demo``). The experts and the supervisors fill their forms through their own personal
links over HTTP, as the demo's sample people do. At the end the database holds what ``grantflow
demo`` makes of the same year (run beside it, in its own folder): the same applications in the
same states, the same documents by role and the same letters by role, but for the review
reminders the demo's schedule sends and the console does not (the console's 提醒 is by hand).

Pages new in this work are photographed at 1280 and 768 px (into ``GRANTFLOW_SCREENSHOTS`` when
set)."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from cli.demo import evaluation as E
from cli.demo import funding as F
from cli.demo import review as R
from cli.demo import selection as S
from cli.demo import setup as U
from cli.demo import supervision as V
from cli.demo.example.year import load_year
from cli.demo.people.experts import fill_sheets, open_sheet_links
from cli.demo.people.supervisors import fill_from_year
from models.accounts.users import add_user
from models.db import dispose_engines, get_engine, upgrade_database
from models.documents.tables import GeneratedDocument
from models.intake.tables import Application
from models.mail.outbox import OutboxLetter
from models.settings import get_settings
from portal.app import create_app
from portal.serving import serve_in_background
from tests.portal.admin.console_world import PASSWORDS, ROLES
from tests.support.browser import browser  # noqa: F401  (fixture)
from tests.support.factories import EXAMPLE_CONFIG

pytestmark = [pytest.mark.slow, pytest.mark.flows]
EXAMPLE = EXAMPLE_CONFIG.parent
SLUG = "jiangtou-2025"
WIDTHS = (1280, 768)
RUN_TIMEOUT = 240_000  # ms: a stage on a loaded machine


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GRANTFLOW_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo_year(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``grantflow demo`` in a folder of its own, started first: it runs while the browser works."""
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTFLOW_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo", "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[3],
    )
    process.out = out  # type: ignore[attr-defined]
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stderr:
        process.stderr.close()


def shoot(page: Page, shots: Path, name: str) -> None:
    """The page at 1280 and at 768 px; it must fit each width."""
    page.evaluate("window.scrollTo(0, 0)")  # a page opened at an anchor: from its top
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"year-{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def drop(page: Page, zone: str, files: list[tuple[str, bytes]]) -> None:
    """Drop ``files`` on the drop zone of the picker ``zone`` (its id), as a file manager does."""
    # the zone is made by dropzone.js (deferred): wait for it, as a person waits for the page
    page.locator(f'.dropzone[data-drop-for="{zone}"]').wait_for(state="attached")
    page.evaluate(
        """([zone, files]) => {
          const transfer = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name));
          }
          const target = document.querySelector(`.dropzone[data-drop-for="${zone}"]`);
          for (const kind of ['dragenter', 'dragover', 'drop']) {
            const event = {dataTransfer: transfer, bubbles: true, cancelable: true};
            target.dispatchEvent(new DragEvent(kind, event));
          }
        }""",
        [zone, [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]],
    )
    expect(page.locator(f'.dropzone[data-drop-for="{zone}"] .drop-names li')).to_have_count(len(files))


def finished(page: Page) -> str:
    """Wait on a run's page (it updates itself) until the run is done; its text."""
    expect(page.locator("#run-status")).to_have_attribute("data-state", "done", timeout=RUN_TIMEOUT)
    expect(page.locator("#notice[data-notice=started]")).to_have_count(0)  # gone once it ended
    return page.locator("#run-status").inner_text()


def run_step(page: Page, base: str, step: str) -> str:
    page.goto(f"{base}/admin/c/{SLUG}/steps/{step}")
    page.click("#run-button")
    return finished(page)


def test_the_jiangtou_year_runs_from_the_console_in_a_browser(
    browser: Browser,  # noqa: F811
    settings_env: Path,
    prefect_harness: None,
    demo_year: subprocess.Popen[bytes],
    shots: Path,
) -> None:
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    upgrade_database(engine)
    with Session(engine) as session:
        add_user(session, name="lin", role=ROLES["lin"], password=PASSWORDS["lin"], actor="admin:cli")
        session.commit()
    clock = Clock(U.SETUP_AT)
    with serve_in_background(create_app(settings, clock=clock)) as base:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/admin")
        page.fill("#name", "lin")
        page.fill("#password", PASSWORDS["lin"])
        page.click("#login")

        # 筹备: the YAML dropped on the page
        page.click("#create-link")
        drop(page, "config-file", [("competition.yaml", (EXAMPLE / "competition.yaml").read_bytes())])
        shoot(page, shots, "create-dropped")
        page.click("#create-button")
        expect(page.locator("#stage")).to_have_attribute("data-stage", "draft")

        # 征集
        clock.now = S.CALL_AT
        page.goto(f"{base}/admin/c/{SLUG}")
        page.click("#next-step-button")
        page.click("#run-button")
        finished(page)
        page.goto(f"{base}/admin/c/{SLUG}")
        expect(page.locator("#next-step-waits")).to_contain_text("2025-02-28 17:00")
        page.goto(f"{base}/admin/c/{SLUG}/steps")
        expect(page.locator('tr[data-step="screening"]')).to_have_class("refused")
        shoot(page, shots, "steps-waiting")

        # 受理: the example's files, several at once (as grantflow demo imports them)
        clock.now = S.INTAKE_AT
        page.goto(f"{base}/admin/c/{SLUG}/intake")
        files = [Path(f) for f in S.intake_files(_Run())]
        page.set_input_files("#intake-files", [str(f) for f in files])
        expect(page.locator('.dropzone[data-drop-for="intake-files"] .drop-names li')).to_have_count(
            len(files)
        )
        shoot(page, shots, "intake-chosen")
        page.click("#intake-button")
        shown = finished(page)
        assert "broken.xlsx" in shown
        assert page.locator("h2.intake-file").count() == len(files)

        # 资格审查, 专家评审
        clock.now = S.SCREENING_AT
        run_step(page, base, "screening")
        clock.now = R.OPEN_AT
        run_step(page, base, "review_open")
        competition_id = _competition_id(engine)
        links = open_sheet_links(engine, competition_id=competition_id, settings=settings)
        assert links
        clock.now = R.LATE_EXPERTS_AT
        assert fill_sheets(links, base_url=base).submitted == len(links)  # each expert's own link
        clock.now = R.CLOSE_AT
        run_step(page, base, "review_close")

        # 资助方案, 公示, 异议
        clock.now = F.DECIDE_AT
        run_step(page, base, "funding_draft")
        page.goto(f"{base}/admin/c/{SLUG}/decisions")
        for form in page.locator("form[id^=tie-]").all():  # a tie at the cut: the order as drafted
            form.locator("input[name=reason]").fill("按申报先后")
            form.locator("button").click()
        run_step(page, base, "funding_approve")
        clock.now = F.OBJECTION_AT
        page.goto(f"{base}/admin/c/{SLUG}/decisions")
        objection = page.locator("#objection-add")
        objection.locator("input[name=by]").fill("江头社区居民 陈先生")
        objection.locator("textarea[name=text]").fill("该项目的服务对象与本社区另一项目重复")
        objection.locator("button").click()
        expect(page.locator("#notice")).to_have_attribute("data-notice", "objection_added")
        clock.now = F.RESOLVED_AT
        page.goto(f"{base}/admin/c/{SLUG}/decisions")
        resolve = page.locator("form.resolve")
        resolve.locator("input[name=reason]").fill("经核实，两个项目服务对象分别为独居老人和学龄儿童，不重复")
        resolve.locator("button").click()
        expect(page.locator("#notice")).to_have_attribute("data-notice", "objection_resolved")
        clock.now = F.CLOSE_AT
        run_step(page, base, "publicity_close")

        # 协议签订: 签订日期.xlsx dropped on the page
        clock.now = datetime.combine(F.SIGNED_ON, datetime.min.time(), tzinfo=S.BEIJING).replace(hour=17)
        page.goto(f"{base}/admin/c/{SLUG}/decisions")
        refs = page.locator("#signings tr[data-ref]").evaluate_all("rows => rows.map(r => r.dataset.ref)")
        assert refs
        drop(page, "signings-file", [("签订日期.xlsx", _signings(refs))])
        shoot(page, shots, "signings-dropped")
        page.click("#signings-button")
        finished(page)

        # 督导, 中期, 整改复查 (settled from 整改与终止), 终止
        clock.now = V.OPEN_AT
        run_step(page, base, "supervision")
        fill_from_year(competition_id, recheck=False, at=V.MIDTERM_AT)
        clock.now = V.MIDTERM_AT
        settle(page, base, shots, "midterm")
        fill_from_year(competition_id, recheck=True, at=V.RECHECK_AT)
        clock.now = V.RECHECK_AT
        settle(page, base, shots, "recheck")
        clock.now = V.TERMINATE_AT
        page.goto(f"{base}/admin/c/{SLUG}/rectification")
        shoot(page, shots, "rectification")
        terminate = page.locator("a[id^=terminate-]")
        expect(terminate).to_have_count(1)
        terminate.click()
        shoot(page, shots, "terminate-confirm")
        clawback = page.locator("#money-clawback").inner_text()
        title = page.locator("#terminate-title").inner_text().partition(" ")[2]
        reason = load_year().project(title).termination or "整改复查仍不合格"
        page.fill("#terminate-reason", reason)
        page.click("#terminate-button")
        expect(page.locator("#notice")).to_have_attribute("data-notice", "terminated")
        expect(page.locator("tr.termination")).to_have_count(1)
        assert clawback.replace(" 元", "") in page.locator("tr.termination").inner_text()
        shoot(page, shots, "rectification-terminated")

        # 结项: reports, evaluation, the 结项 re-check, evaluation again
        clock.now = V.FINAL_OPEN_AT
        run_step(page, base, "supervision")
        fill_from_year(competition_id, recheck=False, at=V.FINAL_REPORTS_AT)
        clock.now = E.EVALUATION_AT
        run_step(page, base, "final_evaluation")
        clock.now = E.RECHECK_OPEN_AT
        run_step(page, base, "supervision")
        if fill_from_year(competition_id, recheck=True, at=E.RECHECK_EVALUATION_AT).records:
            clock.now = E.RECHECK_EVALUATION_AT
            run_step(page, base, "final_evaluation")

        # 年度总结报告, downloaded and opened
        clock.now = E.ANNUAL_REPORT_AT
        run_step(page, base, "annual_report")
        with page.expect_download() as download:
            page.click("#run-document")
        report = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
        assert "年度总结报告" in "\n".join(p.text for p in report.paragraphs)
        page.goto(f"{base}/admin/c/{SLUG}")
        expect(page.locator("#stage")).to_have_attribute("data-stage", "closed")
        assert not errors, errors
        context.close()

    ours = _year(engine)
    assert demo_year.wait(timeout=600) == 0, (
        demo_year.stderr.read().decode()[-2000:] if demo_year.stderr else ""
    )
    dispose_engines()
    theirs = _year(create_engine(f"sqlite:///{demo_year.out / 'grantflow.db'}"))  # type: ignore[attr-defined]
    assert ours["states"] == theirs["states"]
    assert ours["documents"] == theirs["documents"]
    reminders = theirs["letters"].pop("review_reminder", 0)
    assert reminders > 0 and "review_reminder" not in ours["letters"]
    assert ours["letters"] == theirs["letters"]


def settle(page: Page, base: str, shots: Path, name: str) -> None:
    page.goto(f"{base}/admin/c/{SLUG}/rectification")
    page.click("#outcomes-link")
    shoot(page, shots, f"outcomes-{name}")
    assert page.locator("tr.settling").count() > 0
    page.click("#run-button")
    finished(page)


class _Run:
    example = EXAMPLE


def _competition_id(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(Application.competition_id)).first() or 0


def _signings(refs: list[str]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["申报编号", "签订日期"])
    for ref in refs:
        sheet.append([ref, F.SIGNED_ON])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _year(engine) -> dict[str, Counter[str]]:  # type: ignore[no-untyped-def]
    """What a year leaves: applications by state, documents by role, letters by role."""
    with Session(engine) as session:
        return {
            "states": Counter(str(a.state) for a in session.exec(select(Application))),
            "documents": Counter(d.role for d in session.exec(select(GeneratedDocument))),
            "letters": Counter(lt.role for lt in session.exec(select(OutboxLetter))),
        }
