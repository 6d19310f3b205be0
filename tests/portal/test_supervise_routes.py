"""The supervisor's record and the grantee's report over HTTP (TestClient): link rules, CSRF,
uploads stored with the form or not at all, read-only once the checkpoint is settled."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from models.competition.tables import Competition
from models.db import session_scope
from models.links import link_secret, sign_link
from models.settings import Settings
from models.states import CheckpointState
from models.supervision.evidence import evidence_of
from models.supervision.links import checkpoint_expiry, checkpoint_token
from models.supervision.outcomes import settle_submitted
from models.supervision.records import progress_of, report_of
from models.supervision.tables import Checkpoint, EvidenceFile, Supervisor
from portal.app import create_app
from tests.support import evidence_files as files
from tests.support.grants import funded, funded_template  # noqa: F401  (fixtures)
from tests.support.supervision import VISIT_AT, open_supervision, progress_fields, record_fields

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class SuperviseWorld:
    settings: Settings
    engine: object
    competition_id: int
    checkpoint_id: int
    grant_id: int
    paths: dict[str, str] = field(default_factory=dict)

    def checkpoint(self) -> Checkpoint:
        with session_scope(self.engine) as session:
            found = session.get(Checkpoint, self.checkpoint_id)
            assert found is not None
            return found

    def path(self, purpose: str = "checkpoint") -> str:
        """The personal link's path (signed once: a signature carries its time)."""
        if purpose not in self.paths:
            token = checkpoint_token(self.checkpoint(), self.settings, purpose=purpose)  # type: ignore[arg-type]
            self.paths[purpose] = f"/{'supervise' if purpose == 'checkpoint' else 'report'}/{token}"
        return self.paths[purpose]


@pytest.fixture
def sv_world(funded) -> SuperviseWorld:  # noqa: F811  (the imported fixture)
    with Session(funded.engine, expire_on_commit=False) as session:
        open_supervision(session, competition_id=funded.competition_id, settings=funded.settings)
        session.commit()
        checkpoint = session.exec(
            select(Checkpoint).where(Checkpoint.grant_id == funded.grant_ids[0], Checkpoint.code == "midterm")
        ).one()
    return SuperviseWorld(
        funded.settings, funded.engine, funded.competition_id, checkpoint.id, funded.grant_ids[0]
    )


def client_at(world: SuperviseWorld, moment: datetime = VISIT_AT) -> TestClient:
    return TestClient(create_app(world.settings, clock=lambda: moment), follow_redirects=False)


def csrf_of(page: Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def _record_form(world: SuperviseWorld, **extra: str) -> dict[str, str]:
    with Session(world.engine) as session:
        competition = session.get(Competition, world.competition_id)
        return record_fields(session, competition, code="midterm", share=0.8, **extra)


def _uploads_written(world: SuperviseWorld) -> list[Path]:
    root = world.settings.uploads_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_record_page_shows_plan_and_grantee_report_and_saves_with_an_upload(sv_world):
    with client_at(sv_world) as client:
        page = client.get(sv_world.path("report"))
        assert page.status_code == 200 and "report-form" in page.text
        fields = {"csrf_token": csrf_of(page), "action": "submit"}
        with Session(sv_world.engine) as session:
            fields |= progress_fields(session, grant_id=sv_world.grant_id)
        sheet = ("签到表.png", files.png_sign_in_sheet(), "image/png")
        done = client.post(sv_world.path("report"), data=fields, files={"evidence_sign_in": sheet})
        assert done.status_code == 303, done.text[:2000]

        page = client.get(sv_world.path())
        assert page.status_code == 200
        assert 'id="plan"' in page.text and "启动仪式" in page.text and "签到表.png" in page.text
        fields = {"csrf_token": csrf_of(page), "action": "submit", **_record_form(sv_world)}
        photo = ("IMG_0001.jpg", files.photo_with_location(), "image/jpeg")
        done = client.post(sv_world.path(), data=fields, files={"evidence_photo": photo})
        assert done.status_code == 303 and done.headers["location"].endswith("?done=submitted")
        shown = client.get(done.headers["location"])
        assert 'data-notice="sv.notice.submitted"' in shown.text and "IMG_0001.jpg" in shown.text
    with session_scope(sv_world.engine) as session:
        record = report_of(session, checkpoint_id=sv_world.checkpoint_id)
        assert record is not None and not record.draft and record.spent_fen == 215_050
        (evidence,) = evidence_of(session, checkpoint_id=sv_world.checkpoint_id, owner="supervisor")
        assert record.evidence == [{"id": evidence.id}] and evidence.kind == "photo"
        assert session.get(Checkpoint, sv_world.checkpoint_id).state is CheckpointState.submitted
        assert progress_of(session, checkpoint_id=sv_world.checkpoint_id).draft is False
    stored = sv_world.settings.uploads_dir / evidence.path
    assert stored.is_file() and stored.name == f"{evidence.sha256}.jpg"
    assert stored.resolve().is_relative_to(sv_world.settings.uploads_dir.resolve())


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.jpg", files.windows_executable()),
        ("photo.jpg", files.html_page()),
        ("receipt.pdf", files.zip_archive()),
        ("../../x.jpg", files.png_sign_in_sheet()),
        ("bomb.png", files.decompression_bomb()),
    ],
)
def test_refused_upload_stores_nothing_of_the_submission(sv_world, name, data):
    before = _uploads_written(sv_world)
    with client_at(sv_world) as client:
        page = client.get(sv_world.path())
        fields = {"csrf_token": csrf_of(page), "action": "submit", **_record_form(sv_world)}
        good = ("ok.png", files.png_sign_in_sheet(), "image/png")
        bad = (name, data, "image/jpeg")
        answer = client.post(
            sv_world.path(), data=fields, files=[("evidence_sign_in", good), ("evidence_photo", bad)]
        )
    assert answer.status_code == 422
    shown = name.split("/")[-1]
    # the refused file is named at its own file input and in the summary, in the page's language only
    assert re.search(rf'id="error-evidence_photo">文件“[^”]*{re.escape(shown)}”：', answer.text), answer.text
    assert 'href="#evidence-photo"' in answer.text and " / file “" not in answer.text
    assert 'value="6"' in answer.text  # what was typed comes back
    with session_scope(sv_world.engine) as session:
        assert report_of(session, checkpoint_id=sv_world.checkpoint_id) is None
        assert session.get(Checkpoint, sv_world.checkpoint_id).state is CheckpointState.open
        # the refused file is stored nowhere; the good one chosen with it is kept for this link only
        (kept,) = session.exec(select(EvidenceFile)).all()
        assert kept.name == "ok.png" and kept.pending and kept.owner == "supervisor"
    assert 'id="pending-evidence"' in answer.text and "ok.png" in answer.text
    written = [p for p in _uploads_written(sv_world) if p not in before]
    assert [p.name for p in written] == [f"{kept.sha256}.png"]
    assert not (sv_world.settings.data_dir.parent / "x.jpg").exists()


def test_oversized_upload_refused_naming_the_file(sv_world):
    # the example allows 8 MB a file (supervision.uploads.max_bytes: 8000000)
    with client_at(sv_world) as client:
        page = client.get(sv_world.path())
        fields = {"csrf_token": csrf_of(page), "action": "draft", **_record_form(sv_world)}
        huge = ("huge.pdf", files.small_pdf() + b"0" * 8_100_000, "application/pdf")
        answer = client.post(sv_world.path(), data=fields, files={"evidence_receipt": huge})
    assert answer.status_code == 422 and "huge.pdf" in answer.text and "8 MB" in answer.text


def test_record_needs_the_csrf_token_of_its_own_page(sv_world):
    with client_at(sv_world) as client:
        client.get(sv_world.path())
        answer = client.post(sv_world.path(), data={"action": "submit", **_record_form(sv_world)})
        assert answer.status_code == 403
        report_page = client.get(sv_world.path("report"))
        stolen = csrf_of(report_page)  # a token of another page does not open this one
        answer = client.post(sv_world.path(), data={"csrf_token": stolen, "action": "draft"})
        assert answer.status_code == 403


def test_forged_expired_and_someone_elses_links_refused_without_a_500(sv_world):
    checkpoint = sv_world.checkpoint()
    with session_scope(sv_world.engine) as session:
        other = session.exec(select(Supervisor).where(Supervisor.id != checkpoint.supervisor_id)).first()
    theirs = sign_link(
        purpose="checkpoint",
        subject_id=checkpoint.id,
        holder_id=other.id,
        nonce=checkpoint.token_nonce,
        expires_at=checkpoint_expiry(checkpoint, sv_world.settings),
        secret=link_secret(sv_world.settings),
    )
    review_purpose = sign_link(
        purpose="review",
        subject_id=checkpoint.id,
        holder_id=checkpoint.supervisor_id,
        nonce=checkpoint.token_nonce,
        expires_at=checkpoint_expiry(checkpoint, sv_world.settings),
        secret=link_secret(sv_world.settings),
    )
    with client_at(sv_world) as client:
        for path in (
            sv_world.path()[:-3] + "xyz",
            f"/supervise/{theirs}",
            f"/supervise/{review_purpose}",
            "/report/" + sv_world.path().split("/")[-1],  # the supervisor's token on the grantee's page
        ):
            assert client.get(path).status_code == 403, path
            assert client.post(path, data={"action": "draft"}).status_code == 403, path
    late = datetime.combine(checkpoint.due_on, datetime.min.time()).replace(tzinfo=VISIT_AT.tzinfo)
    with client_at(sv_world, late + timedelta(days=16)) as client:
        assert client.get(sv_world.path()).status_code == 403


def test_after_the_checkpoint_settles_the_page_is_read_only_and_posts_are_refused(sv_world):
    with client_at(sv_world) as client:
        page = client.get(sv_world.path())
        fields = {"csrf_token": csrf_of(page), "action": "submit", **_record_form(sv_world)}
        assert client.post(sv_world.path(), data=fields).status_code == 303
    with session_scope(sv_world.engine) as session:
        settle_submitted(
            session, competition_id=sv_world.competition_id, actor="t", now=VISIT_AT, timezone="Asia/Shanghai"
        )
    with client_at(sv_world) as client:
        page = client.get(sv_world.path())
        assert page.status_code == 200 and 'data-notice="sv.notice.closed"' in page.text
        assert 'id="submit"' not in page.text
        fields = {
            "csrf_token": csrf_of(page),
            "action": "submit",
            **_record_form(sv_world, activities_held="99"),
        }
        answer = client.post(sv_world.path(), data=fields)
        assert answer.status_code == 409 and "problem-notice" in answer.text
    with session_scope(sv_world.engine) as session:
        assert report_of(session, checkpoint_id=sv_world.checkpoint_id).activities_held == 6


def test_record_errors_come_back_beside_their_fields_in_english(sv_world):
    with client_at(sv_world) as client:
        page = client.get(sv_world.path() + "?lang=en")
        fields = {
            "csrf_token": csrf_of(page),
            "action": "submit",
            **_record_form(sv_world, points_progress="99"),
        }
        answer = client.post(sv_world.path(), data=fields)
    assert answer.status_code == 422
    assert 'id="error-points_progress"' in answer.text and "between 0 and 30" in answer.text


def test_submitted_record_emits_the_follow_up_event(sv_world, monkeypatch):
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from portal.events import RECORD_SUBMITTED
    from portal.serving import serve_in_background
    from tests.portal.test_events import unreachable_api

    url = unreachable_api()
    monkeypatch.setenv("PREFECT_API_URL", url)
    AssertingEventsClient.reset()
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            EventsWorker.instance()
        with serve_in_background(create_app(sv_world.settings, clock=lambda: VISIT_AT)) as base:
            import httpx

            with httpx.Client(base_url=base) as client:
                page = client.get(sv_world.path())
                fields = {"csrf_token": csrf_of(page), "action": "submit", **_record_form(sv_world)}
                assert client.post(sv_world.path(), data=fields).status_code == 303
        EventsWorker.drain_all()
        events = [e for client in AssertingEventsClient.all for e in client.events]
        (event,) = [e for e in events if e.event == RECORD_SUBMITTED]
        assert event.resource.id == f"grantflow.checkpoint.{sv_world.checkpoint_id}"
        assert event.resource["grantflow.competition.slug"] == "jiangtou-2025"
    finally:
        EventsWorker.drain_all()
        EventsWorker.set_client_override(None)
        AssertingEventsClient.reset()


def test_spending_above_a_budget_line_is_refused_at_that_line(sv_world):
    """The grantee's report: a line above its budget comes back beside that line, in Chinese and in
    English, and nothing is stored — the excess is the organisation's own money (自筹)."""
    with Session(sv_world.engine) as session:
        fields = progress_fields(session, grant_id=sv_world.grant_id)
    line = next(name for name in fields if name.startswith("spent_"))
    fields[line] = "999999"
    with client_at(sv_world) as client:
        page = client.get(sv_world.path("report"))
        answer = client.post(
            sv_world.path("report"), data={"csrf_token": csrf_of(page), "action": "submit", **fields}
        )
        assert answer.status_code == 422
        assert f'id="error-{line}"' in answer.text and "自筹" in answer.text and "不能超过预算" in answer.text
        page = client.get(sv_world.path("report") + "?lang=en")
        answer = client.post(
            sv_world.path("report"), data={"csrf_token": csrf_of(page), "action": "submit", **fields}
        )
    assert answer.status_code == 422 and "cannot exceed its budget" in answer.text
    with session_scope(sv_world.engine) as session:
        assert progress_of(session, checkpoint_id=sv_world.checkpoint_id) is None


def test_accepted_spending_above_the_grant_is_refused_at_its_field(sv_world):
    with client_at(sv_world) as client:
        page = client.get(sv_world.path())
        fields = {"csrf_token": csrf_of(page), "action": "submit", **_record_form(sv_world, spent="100000")}
        answer = client.post(sv_world.path(), data=fields)
    assert answer.status_code == 422
    assert 'id="error-spent"' in answer.text and "不能超过资助金额" in answer.text
    with session_scope(sv_world.engine) as session:
        assert report_of(session, checkpoint_id=sv_world.checkpoint_id) is None
