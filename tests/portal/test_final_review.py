"""The expert panel's 结项 sheet through the real portal app: the link from the letter, the page
(plan vs delivered, findings, the weights), CSRF, a bad score refused at its field in both
languages, a draft, a submission that the final evaluation then counts; and the page at phone size
in Chromium."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from prefect.events.worker import EventsWorker
from sqlmodel import Session, select

from models.db import dispose_engines, get_engine
from models.evaluation.evaluating import evaluate_grants, open_evaluation
from models.evaluation.panel import assign_panel
from models.evaluation.panel_links import panel_token
from models.evaluation.panel_notices import queue_panel_invitations
from models.evaluation.tables import FinalEvaluation, PanelSheet
from models.mail.outbox import OutboxLetter
from models.settings import Settings, get_settings
from models.states import AssignmentState
from portal.app import create_app
from portal.events import PANEL_COMPLETE
from portal.serving import serve_in_background
from tests.portal.shots import shoot
from tests.portal.test_events import asserting_events  # noqa: F401  (fixture)
from tests.support.browser import DESKTOP, PHONE, browser, ergonomic_problems  # noqa: F401  (fixture)
from tests.support.year import Year, year_template  # noqa: F401  (fixture)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ASSIGNED_AT = datetime(2025, 10, 16, 1, 0, tzinfo=UTC)
NOW = datetime(2025, 10, 18, 2, 0, tzinfo=UTC)
PANEL = '  expert_panel: {experts_per_grant: 3, weight: "0.5", due_days: 7}\n'


@dataclass
class PanelWorld:
    settings: Settings
    engine: object
    year: Year
    sheet_ids: list[int]  # the best-ranked project's three sheets

    def sheet(self, index: int = 0) -> PanelSheet:
        with Session(self.engine) as session:  # type: ignore[arg-type]
            found = session.get(PanelSheet, self.sheet_ids[index])
            assert found is not None
            return found

    def path(self, index: int = 0) -> str:
        return f"/final-review/{panel_token(self.sheet(index), self.settings)}"


@pytest.fixture
def panel_world(year_template: Path, tmp_path: Path, settings_env: Path) -> Iterator[PanelWorld]:  # noqa: F811
    copy = tmp_path / "year.db"
    shutil.copy(year_template, copy)
    settings = get_settings().model_copy(update={"database_url": f"sqlite:///{copy}"})
    engine = get_engine(settings.effective_database_url)
    with Session(engine, expire_on_commit=False) as session:
        year = Year.load(session)
        competition = year.competition
        competition.config_yaml = competition.config_yaml.replace(
            "  barred_years: 2\n", "  barred_years: 2\n" + PANEL
        )
        session.add(competition)
        assign_panel(
            session,
            competition_id=year.competition_id,
            actor="admin",
            now=ASSIGNED_AT,
            timezone=settings.timezone,
        )
        queue_panel_invitations(session, competition=competition, settings=settings)
        session.commit()
        best = year.final_checkpoints[year.refs()[0]]
        ids = list(
            session.exec(
                select(PanelSheet.id).where(PanelSheet.checkpoint_id == best.id).order_by(PanelSheet.id)
            )
        )
    yield PanelWorld(settings, engine, year, ids)
    dispose_engines()


def client_at(world: PanelWorld, moment: datetime = NOW) -> TestClient:
    return TestClient(create_app(world.settings, clock=lambda: moment), follow_redirects=False)


def _csrf(text: str) -> str:
    found = CSRF.search(text)
    assert found, text[:300]
    return found.group(1)


def test_the_letter_s_link_opens_the_sheet_with_plan_delivery_and_findings(panel_world):
    sheet = panel_world.sheet()
    with Session(panel_world.engine) as session:  # type: ignore[arg-type]
        letters = session.exec(select(OutboxLetter).where(OutboxLetter.role == "final_review_invitation"))
        (letter,) = [x for x in letters if sheet.id in x.extra["panel_sheets"]]
    links = re.findall(r"http://\S+/final-review/\S+", letter.body_text)
    assert len(links) == len(letter.extra["panel_sheets"]) >= 1  # one link per sheet
    client = client_at(panel_world)
    pages = [client.get(x.removeprefix(panel_world.settings.portal_url.rstrip("/"))) for x in links]
    assert all(p.status_code == 200 for p in pages)
    (page,) = [p for p in pages if p.context["page"].ref == panel_world.year.refs()[0]]  # type: ignore[attr-defined]
    assert page.template.name == "review/final_review_sheet.html"  # type: ignore[attr-defined]
    view = page.context["page"]  # type: ignore[attr-defined]
    assert view.editable and view.state == "invited"
    assert [d.name for d in view.delivered] == [
        "fr.delivered.activities",
        "fr.delivered.people",
        "fr.delivered.spent",
    ]
    # the best project's 申报书 (a CSV row) planned 23 sessions and 690 person-times in its 活动计划, all
    # delivered, and it spent the whole grant by the 结项 (its final tranche is then settled on that
    # spending)
    assert [(d.planned, d.rate) for d in view.delivered[:2]] == [("23", "100%"), ("690", "100%")]
    assert view.delivered[2].rate == "100%"
    assert view.findings and view.findings[0].text == "台账齐全，活动按计划开展。"
    assert (view.share, view.rest, view.top) == ("50", "50", "100")
    for words in ("结项专家评分表", "完成情况", "计划（申报书）", "督导意见", "专家组评分占结项得分的 50%"):
        assert words in page.text
    assert page.headers["cache-control"] == "no-store"


def test_a_post_without_the_form_token_is_refused(panel_world):
    client = client_at(panel_world)
    client.get(panel_world.path())
    response = client.post(panel_world.path(), data={"action": "submit", "score": "88"})
    assert response.status_code == 403
    assert panel_world.sheet().state is AssignmentState.invited


def test_a_bad_score_is_refused_at_its_field_and_nothing_is_stored(panel_world):
    client = client_at(panel_world)
    path = panel_world.path()
    token = _csrf(client.get(path).text)
    response = client.post(
        path, data={"csrf_token": token, "action": "submit", "score": "120", "comment": "很好"}
    )
    assert response.status_code == 422
    assert 'id="error-score"' in response.text and "评分须在 0 到 100 之间" in response.text
    assert 'value="120"' in response.text and "很好" in response.text  # what was typed stays
    english = client.post(path + "?lang=en", data={"csrf_token": token, "action": "submit", "score": "八十"})
    assert english.status_code == 422 and "the score must be a number" in english.text
    sheet = panel_world.sheet()
    assert (sheet.state, sheet.score) == (AssignmentState.invited, None)


def test_a_draft_then_a_submission_is_what_the_final_evaluation_counts(panel_world):
    client = client_at(panel_world)
    path = panel_world.path()
    token = _csrf(client.get(path).text)
    draft = client.post(path, data={"csrf_token": token, "action": "draft", "score": "70"})
    assert draft.status_code == 303 and draft.headers["location"].endswith("?done=draft")
    assert panel_world.sheet().state is AssignmentState.draft
    submitted = client.post(
        path, data={"csrf_token": token, "action": "submit", "score": "88.5", "comment": "成效明显"}
    )
    assert submitted.status_code == 303
    again = client.get(submitted.headers["location"])
    assert "评分已提交" in again.text and 'value="88.5"' in again.text
    for index in (1, 2):  # the other two experts, each through their own link
        other = panel_world.path(index)
        client.post(
            other, data={"csrf_token": _csrf(client.get(other).text), "action": "submit", "score": "80"}
        )
    with Session(panel_world.engine, expire_on_commit=False) as session:  # type: ignore[arg-type]
        year = Year.load(session)
        open_evaluation(session, competition=year.competition, actor="admin")
        settled = evaluate_grants(
            session, competition_id=year.competition_id, actor="admin", on=date(2025, 10, 18)
        )
        assert [s.grant_id for s in settled] == [year.grants[year.refs()[0]].id]  # the others wait
        evaluation = session.exec(
            select(FinalEvaluation).where(FinalEvaluation.grant_id == settled[0].grant_id)
        ).one()
        assert (evaluation.panel_score, evaluation.score) == (  # (88.5 + 80 + 80) / 3 = 82.83
            Decimal("82.83"),
            Decimal("83.92"),  # 85 × 0.5 + 82.83 × 0.5 = 83.915
        )
        session.commit()
    closed = client_at(panel_world).get(path)
    assert closed.context["page"].editable is False and "本表只读" in closed.text  # type: ignore[attr-defined]
    late = client_at(panel_world).post(path, data={"csrf_token": token, "action": "submit", "score": "99"})
    assert late.status_code in (403, 409)


def test_a_forged_or_expired_link_is_refused(panel_world):
    path = panel_world.path()
    assert client_at(panel_world).get(path[:-3] + "abc").status_code == 403
    assert client_at(panel_world, NOW + timedelta(days=40)).get(path).status_code == 403


@pytest.mark.slow
def test_the_sheet_on_a_phone(browser: Browser, panel_world, tmp_path: Path) -> None:  # noqa: F811
    with serve_in_background(create_app(panel_world.settings, clock=lambda: NOW)) as base:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        page = context.new_page()
        page.goto(base + panel_world.path())
        expect(page.locator("h1")).to_have_text("结项专家评分表")
        page.fill("#score", "105")
        page.click("#submit")
        expect(page.locator("#error-score")).to_contain_text("评分须在 0 到 100 之间")
        page.screenshot(path=str(tmp_path / "final-review-error.png"), full_page=True)
        page.fill("#score", "91")
        page.fill("#comment", "服务对象满意度高，台账规范。")
        page.click("#submit")
        expect(page.locator("#notice")).to_contain_text("评分已提交")
        page.screenshot(path=str(tmp_path / "final-review-phone.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing wider than the phone
        context.close()
    assert panel_world.sheet().score is not None


def test_the_last_sheet_of_a_panel_emits_the_event_the_final_evaluation_runs_on(
    panel_world,
    asserting_events,  # noqa: F811  (the imported fixture)
):
    client = client_at(panel_world)
    for index in range(3):
        path = panel_world.path(index)
        response = client.post(
            path, data={"csrf_token": _csrf(client.get(path).text), "action": "submit", "score": "75"}
        )
        assert response.status_code == 303
    EventsWorker.drain_all()
    events = [e for c in asserting_events.all for e in c.events if e.event == PANEL_COMPLETE]
    sheet = panel_world.sheet()
    assert [e.resource.id for e in events] == [f"grantflow.checkpoint.{sheet.checkpoint_id}"]  # once
    assert events[0].resource["grantflow.competition.slug"] == "jiangtou-2025"


def _evidence(world: PanelWorld, checkpoint_id: int, owner: str, name: str, data: bytes) -> int:
    """A file stored as the portal stores one posted with a form (checked, cleaned, by sha256)."""
    from models.supervision.evidence import Upload, check_uploads, store_evidence

    with Session(world.engine) as session:  # type: ignore[arg-type]
        rules = competition_rules(session, world.year.competition_id)
        (row,) = store_evidence(
            session,
            checkpoint_id=checkpoint_id,
            owner=owner,
            files=check_uploads(
                [Upload(name, data, kind="photo" if name.endswith("jpg") else "receipt")], rules
            ),
            uploads_dir=world.settings.uploads_dir,
            folder="jiangtou-2025",
            actor=f"{owner}:test",
            written=[],
        )
        session.commit()
        return row.id or 0


def competition_rules(session: Session, competition_id: int):  # type: ignore[no-untyped-def]
    from models.competition.tables import Competition, competition_config

    competition = session.get(Competition, competition_id)
    assert competition is not None
    return competition_config(competition).supervision.uploads


@pytest.mark.slow
@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_panel_sheet_opens_the_evidence_and_stays_submitted(
    browser: Browser,  # noqa: F811
    panel_world,
    screen: dict[str, int],
    tmp_path: Path,
) -> None:
    from tests.support import evidence_files as files

    sheet = panel_world.sheet()
    other = next(c for ref, c in panel_world.year.final_checkpoints.items() if c.id != sheet.checkpoint_id)
    photo = _evidence(
        panel_world, sheet.checkpoint_id, "grantee", "活动照片.jpg", files.photo_with_location()
    )
    receipt = _evidence(panel_world, sheet.checkpoint_id, "supervisor", "督导记录.pdf", files.small_pdf())
    foreign = _evidence(
        panel_world, other.id or 0, "grantee", "other.jpg", files.photo_with_location((800, 600))
    )
    with serve_in_background(create_app(panel_world.settings, clock=lambda: NOW)) as base:
        mobile = {"is_mobile": True, "has_touch": True} if screen == PHONE else {}
        context = browser.new_context(viewport=screen, locale="zh-CN", **mobile)  # type: ignore[arg-type]
        page = context.new_page()
        path = panel_world.path()
        page.goto(base + path)
        expect(page.locator("#grantee-evidence img")).to_have_count(1)
        page.locator("#grantee-evidence img").scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('#grantee-evidence img').naturalWidth > 0")
        expect(page.locator("#supervisor-evidence")).to_contain_text("督导记录.pdf")
        expect(page.locator("#supervisor-evidence")).to_contain_text(f"{len(files.small_pdf())} B")
        for evidence_id, media_type in ((photo, "image/jpeg"), (receipt, "application/pdf")):
            answer = context.request.get(f"{base}{path}/evidence/{evidence_id}")
            assert answer.status == 200 and answer.headers["content-type"] == media_type
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["content-disposition"].startswith("inline; filename=")
        assert context.request.get(f"{base}{path}/evidence/{foreign}").status == 404  # another project's
        if screen == PHONE:
            assert ergonomic_problems(page) == []
        page.fill("#score", "88")
        page.fill("#comment", "台账规范。")
        page.click("button.lang-switch")  # the switch keeps what was typed
        expect(page.locator("#score")).to_have_value("88")
        expect(page.locator("#comment")).to_have_value("台账规范。")
        page.click("#submit")
        expect(page.locator("#notice")).to_contain_text("Score submitted")
        expect(page.locator("#sheet-state")).to_have_text("submitted")
        assert page.locator("#save-draft").count() == 0
        shoot(page, f"final-review-submitted-{screen['width']}", tmp_path)
        form = page.evaluate(
            "() => Object.fromEntries(new FormData(document.getElementById('panel-form')).entries())"
        )
        crafted = context.request.post(
            base + path, form={**form, "action": "draft", "score": "10"}, max_redirects=0
        )
        assert crafted.status == 409
        context.close()
    stored = panel_world.sheet()
    assert stored.state is AssignmentState.submitted and stored.score == Decimal("88")
