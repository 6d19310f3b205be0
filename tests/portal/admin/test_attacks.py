"""Attacks on the portal and the console over the example's year (issue 22, section 7): the security
headers on every page (tokenised, public, console, error pages), no inline script anywhere; a token of
one purpose on another's door, truncated or altered; markup typed by an applicant shown to the expert,
the supervisor and the console as text; evidence of another checkpoint through a link; ids walked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from models.accounts.roles import ROLE_POWERS, Role
from models.funding.tables import Grant
from models.intake.tables import Application
from models.review.links import review_expiry, review_token
from models.review.tables import ReviewAssignment
from models.supervision.links import checkpoint_expiry, checkpoint_token
from models.supervision.tables import Checkpoint, EvidenceFile
from portal.app import create_app
from tests.portal.admin.console_world import SLUG, ConsoleWorld, csrf_of
from tests.portal.admin.test_every_route import admin_routes, ids, served, url

pytestmark = pytest.mark.slow
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _secured(answer: Response, what: object) -> None:
    headers = answer.headers
    policy = headers.get("content-security-policy", "")
    if "sandbox" in policy.split("; "):  # a letter's HTML, framed by its own console page: its inline
        # styles shown, nothing run (no script source, a sandbox), framed by this site only
        assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy, (what, policy)
        assert "script-src" not in policy, (what, policy)
    else:
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, (what, policy)
    assert "script-src" not in policy or "'unsafe" not in policy, what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what
    if headers.get("content-type", "").startswith("text/html"):
        assert not INLINE_SCRIPT.search(answer.text), (what, INLINE_SCRIPT.search(answer.text))
        assert not HANDLER.search(answer.text), (what, HANDLER.search(answer.text))


def _tokens(world: ConsoleWorld) -> dict[str, str]:
    with Session(world.engine) as session:
        sheet = session.exec(select(ReviewAssignment).order_by(col(ReviewAssignment.id))).first()
        checkpoint = session.exec(select(Checkpoint).order_by(col(Checkpoint.id))).first()
        assert sheet is not None and checkpoint is not None
        return {
            "review": review_token(sheet, world.settings),
            "supervise": checkpoint_token(checkpoint, world.settings),
            "report": checkpoint_token(checkpoint, world.settings, purpose="report"),
        }


def test_every_page_carries_the_security_headers_and_no_inline_script(console: ConsoleWorld) -> None:
    client = console.client()
    tokens = _tokens(console)
    pages = [
        f"/apply/{SLUG}",
        "/admin/login",
        "/nowhere",
        f"/review/{tokens['review']}",
        f"/supervise/{tokens['supervise']}",
        f"/report/{tokens['report']}",
        "/review/forged",
        f"/review/{tokens['review'][:-3]}",
    ]
    for page in pages:
        _secured(client.get(page), page)
    signed = console.signed_in("lin")
    values = ids(console)
    for method, path in admin_routes(console):
        if method == "GET":
            target = url(path, values)
            _secured(signed.get(target), target)


def test_a_token_on_another_purposes_door_or_cut_or_altered_opens_nothing(console: ConsoleWorld) -> None:
    client = console.client()
    tokens = _tokens(console)
    tries = {
        "review token on /supervise/": f"/supervise/{tokens['review']}",
        "review token on /report/": f"/report/{tokens['review']}",
        "checkpoint token on /review/": f"/review/{tokens['supervise']}",
        "supervise token on /report/": f"/report/{tokens['supervise']}",
        "report token on /supervise/": f"/supervise/{tokens['report']}",
        "checkpoint token on /final-review/": f"/final-review/{tokens['supervise']}",
        "truncated review token": f"/review/{tokens['review'][:20]}",
        "altered review token": f"/review/{tokens['review'][:-1]}{'AB'[tokens['review'][-1] == 'A']}",
    }
    for what, path in tries.items():
        answer = client.get(path)
        assert answer.status_code in (403, 404, 410), (what, answer.status_code)
        assert "Traceback" not in answer.text
        _secured(answer, what)
    genuine = client.get(f"/review/{tokens['review']}")  # the year is past review: read-only or closed
    assert genuine.status_code < 500 and "Traceback" not in genuine.text


def test_markup_typed_by_an_applicant_is_text_for_experts_supervisors_and_the_console(
    console: ConsoleWorld,
) -> None:
    with Session(console.engine) as session:  # stored as the web form stores any text (test_hostile_web)
        sheet = session.exec(select(ReviewAssignment).order_by(col(ReviewAssignment.id))).first()
        checkpoint = session.exec(select(Checkpoint).order_by(col(Checkpoint.id))).first()
        assert sheet is not None and checkpoint is not None
        grant = session.get(Grant, checkpoint.grant_id)
        assert grant is not None and sheet.id is not None and checkpoint.id is not None
        sheet_id, checkpoint_id = sheet.id, checkpoint.id
        for application_id in {sheet.application_id, grant.application_id}:
            application = session.get(Application, application_id)
            assert application is not None
            application.title = XSS
            application.summary = XSS
            session.add(application)
        session.commit()
        reviewed, supervised = sheet.application_id, grant.application_id
    tokens = _tokens(console)
    with Session(console.engine) as session:  # each personal page opened while its link is open
        opened_sheet = session.get(ReviewAssignment, sheet_id)
        opened_checkpoint = session.get(Checkpoint, checkpoint_id)
        assert opened_sheet is not None and opened_checkpoint is not None
        review_open = review_expiry(opened_sheet) - timedelta(days=8)
        checkpoint_open = checkpoint_expiry(opened_checkpoint, console.settings) - timedelta(days=8)

    def opened(path: str, at: datetime) -> Response:
        app = create_app(console.settings, clock=lambda: at)
        return TestClient(app, follow_redirects=False).get(path)

    signed = console.signed_in("du")
    pages = {
        "expert's sheet": opened(f"/review/{tokens['review']}", review_open),
        "supervisor's form": opened(f"/supervise/{tokens['supervise']}", checkpoint_open),
        "grantee's report": opened(f"/report/{tokens['report']}", checkpoint_open),
        "console application (reviewed)": signed.get(f"/admin/c/{SLUG}/applications/{reviewed}"),
        "console application (supervised)": signed.get(f"/admin/c/{SLUG}/applications/{supervised}"),
        "console list": signed.get(f"/admin/c/{SLUG}/applications", params={"q": "alert"}),
    }
    for what, answer in pages.items():
        assert answer.status_code == 200, (what, answer.status_code)
        assert XSS not in answer.text and "<img src=x" not in answer.text, what
        assert "&lt;script&gt;" in answer.text or "&lt;img" in answer.text, f"{what}: the title is not shown"


def test_evidence_of_another_checkpoint_does_not_open_through_a_link(console: ConsoleWorld) -> None:
    client = console.client()
    with Session(console.engine) as session:
        evidence = session.exec(select(EvidenceFile)).first()
        assert evidence is not None
        other = session.exec(
            select(Checkpoint).where(Checkpoint.id != evidence.checkpoint_id).order_by(col(Checkpoint.id))
        ).first()
        own = session.get(Checkpoint, evidence.checkpoint_id)
        assert other is not None and own is not None
        foreign = checkpoint_token(other, console.settings, purpose="report")
        mine = checkpoint_token(own, console.settings, purpose="report")
    answer = client.get(f"/report/{foreign}/evidence/{evidence.id}")
    assert answer.status_code in (403, 404, 410), answer.status_code
    assert "Traceback" not in answer.text and answer.headers["content-type"].startswith("text/html")
    assert client.get(f"/report/{mine}/evidence/{evidence.id}").status_code < 500
    for walked in range(1, 40):  # walking ids through a link opens only its own files
        status = client.get(f"/report/{foreign}/evidence/{walked}").status_code
        assert status in (403, 404, 410, 200), status
        if status == 200:
            with Session(console.engine) as session:
                row = session.get(EvidenceFile, walked)
                assert row is not None and row.checkpoint_id == other.id


def test_finance_attempting_every_action_it_lacks_is_refused_and_writes_nothing(
    console: ConsoleWorld,
) -> None:
    """财务 holds read, download and payments: every other action (the stages, the decisions, the
    override, the outbox, the people) is refused with 403, with a genuine token, and no row changes."""
    client = console.signed_in("cai")
    token = csrf_of(client.get(f"/admin/c/{SLUG}").text)
    values = ids(console)
    held = ROLE_POWERS[Role.finance]
    posts = [
        route.path
        for route in served(console.app.routes)
        if "POST" in route.methods
        and route.path.startswith("/admin")
        and getattr(route.endpoint, "power", None) not in (None, *held)
    ]
    assert posts
    before = console.counts()
    for path in posts:
        answer = client.post(
            url(path, values),
            data={"csrf_token": token, "rule": "barred", "passed": "1", "reason": "试图改判"},
        )
        assert answer.status_code == 403, (path, answer.status_code)
        _secured(answer, path)
    assert console.counts() == before
