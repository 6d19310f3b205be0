"""Every route under /admin, read from the app's route table — so a page added later is covered
without touching this file: without a session it goes to the sign-in page; as 只读 every post is
refused (403) and writes nothing; a post without its CSRF token is refused (403) and writes nothing;
an id of another competition is not found; every page renders for each role that may open it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlmodel import Session, col, select

from models.accounts.roles import ROLE_POWERS
from models.audit import AuditEvent
from models.competition.tables import Competition
from models.documents.tables import GeneratedDocument
from models.funding.tables import Grant
from models.intake.tables import Application
from models.mail.outbox import OutboxLetter
from models.review.tables import Expert
from models.states import RunState
from models.steps.runs import ConsoleRun, finish, open_run
from models.supervision.tables import EvidenceFile, Supervisor
from models.types import utcnow
from tests.portal.admin.console_world import ROLES, SLUG, ConsoleWorld, csrf_of
from tests.support.factories import example_config_text, make_competition

pytestmark = pytest.mark.slow

PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login")}  # the sign-in form itself
SIGNED_IN_ONLY = {("POST", "/admin/logout")}  # any role may sign out
PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


def served(routes: list[Any]) -> list[APIRoute]:
    """Every route of a route table, also those of the routers it includes (FastAPI ≥ 0.150 keeps
    an included router as one entry holding the router; the rooms are included without a prefix)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(served(route.original_router.routes))
    return found


def admin_routes(world: ConsoleWorld) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves under /admin."""
    found = sorted(
        (method, route.path)
        for route in served(world.app.routes)
        if route.path.startswith("/admin")
        for method in route.methods
    )
    assert ("GET", "/admin/c/{slug}/applications") in found  # the table is the app's, not a copy
    return found


def ids(world: ConsoleWorld) -> dict[str, int | str]:
    """A real id of the year for every kind of id a console path takes."""
    with Session(world.engine) as session:
        funded = session.exec(
            select(Application).where(col(Application.state).in_(["active", "rectifying", "completed"]))
        ).first()
        assert funded is not None
        document = session.exec(
            select(GeneratedDocument).where(GeneratedDocument.competition_id.is_not(None))
        ).first()  # type: ignore[union-attr]
        letter = session.exec(select(OutboxLetter).where(OutboxLetter.competition_id.is_not(None))).first()  # type: ignore[union-attr]
        evidence = session.exec(select(EvidenceFile)).first()
        expert = session.exec(select(Expert)).first()
        supervisor = session.exec(select(Supervisor)).first()
        grant = session.exec(select(Grant).where(Grant.application_id == funded.id)).one()
    found = {"application_id": funded.id, "document_id": document.id, "letter_id": letter.id}
    found["grant_id"] = grant.id or 0
    found["evidence_id"] = evidence.id if evidence is not None else 1
    found.update(expert_id=expert.id, supervisor_id=supervisor.id, chart="communities")  # type: ignore[union-attr]
    found["run_id"] = a_finished_run(world)
    found["step"] = "final_evaluation"  # type: ignore[assignment]  (a path's text, not an id)
    return found  # type: ignore[return-value]


def a_finished_run(world: ConsoleWorld) -> int:
    """A console run of the year (one, ended), as the runs page records a stage started there."""
    with Session(world.engine) as session:
        competition = session.exec(select(Competition).where(Competition.slug == SLUG)).one()
        run = session.exec(select(ConsoleRun)).first()
        if run is None:
            run = open_run(
                session,
                step="final_evaluation",
                slug=SLUG,
                competition_id=competition.id,
                actor="admin:lin",
                as_of=None,
            )
            finish(session, run_id=run.id or 0, state=RunState.refused, now=utcnow(), message="不能 / cannot")
            session.commit()
        return run.id or 0


def url(path: str, values: dict[str, int | str], slug: str = SLUG) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return slug if name == "slug" else str(values.get(name, 1))

    return PARAM.sub(fill, path)


def test_every_route_without_a_session_goes_to_the_sign_in_page(console: ConsoleWorld) -> None:
    client = console.client()
    values = ids(console)
    before = console.counts()
    for method, path in admin_routes(console):
        if (method, path) in PUBLIC:
            continue
        answer = client.request(method, url(path, values), data={"x": "1"})
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/admin/login"), (method, path)
    assert console.counts() == before


def test_as_read_only_every_post_is_refused_and_writes_nothing(console: ConsoleWorld) -> None:
    client = console.signed_in("du")
    page = client.get(f"/admin/c/{SLUG}")
    token = csrf_of(page.text)  # a genuine token: the role alone refuses
    values = ids(console)
    posts = [
        p for m, p in admin_routes(console) if m == "POST" and ("POST", p) not in PUBLIC | SIGNED_IN_ONLY
    ]
    assert posts, "the console has actions"
    before = console.counts()
    for path in posts:
        answer = client.post(
            url(path, values), data={"csrf_token": token, "rule": "barred", "passed": "1", "reason": "x"}
        )
        assert answer.status_code == 403, (path, answer.status_code)
        assert "只读" in answer.text
    assert console.counts() == before


def test_a_post_without_its_csrf_token_is_refused_and_writes_nothing(console: ConsoleWorld) -> None:
    client = console.signed_in("lin")
    other = console.signed_in("lin")  # another browser of the same person: its token is not this one's
    token = csrf_of(other.get(f"/admin/c/{SLUG}").text)
    values = ids(console)
    before = console.counts()
    for method, path in admin_routes(console):
        if method != "POST" or ("POST", path) in PUBLIC:
            continue
        for data in ({"rule": "barred", "passed": "1", "reason": "x"}, {"csrf_token": "forged.token.value"}):
            answer = client.post(url(path, values), data=data)
            assert answer.status_code == 403, (path, data, answer.status_code)
    answer = client.post(
        url(f"/admin/c/{SLUG}/applications/{{application_id}}/screening", values), data={"csrf_token": token}
    )
    assert answer.status_code == 403
    assert console.counts() == before


def test_every_page_renders_for_every_role_that_may_open_it(console: ConsoleWorld) -> None:
    values = ids(console)
    powers = {  # a page and an action may share a path (a confirmation and its post): by method
        route.path: route.endpoint.power  # type: ignore[attr-defined]  (set by Console.page)
        for route in served(console.app.routes)
        if route.path.startswith("/admin") and hasattr(route.endpoint, "power") and "GET" in route.methods
    }
    for name, role in ROLES.items():
        client = console.signed_in(name)
        for method, path in admin_routes(console):
            if method != "GET" or ("GET", path) in PUBLIC:
                continue
            answer = client.get(url(path, values), follow_redirects=True)
            allowed = powers[path] in ROLE_POWERS[role]
            assert answer.status_code == (200 if allowed else 403), (name, path, answer.status_code)


def test_an_id_of_another_competition_is_not_found(console: ConsoleWorld) -> None:
    values = ids(console)
    with Session(console.engine) as session:
        make_competition(session, text=example_config_text(**{"slug: jiangtou-2025": "slug: other-2025"}))
        session.commit()
    client = console.signed_in("lin")
    for method, path in admin_routes(console):
        if method != "GET" or "{slug}" not in path or not re.search(r"\{[a-z_]+_id", path):
            continue
        mine = client.get(url(path, values))
        theirs = client.get(url(path, values, slug="other-2025"))
        assert mine.status_code == 200, (path, mine.status_code)
        assert theirs.status_code == 404, (path, theirs.status_code)
    before = console.counts()
    token = csrf_of(client.get("/admin/c/other-2025").text)
    answer = client.post(
        url("/admin/c/{slug}/applications/{application_id}/screening", values, slug="other-2025"),
        data={"csrf_token": token, "rule": "barred", "passed": "1", "reason": "typed into another address"},
    )
    assert answer.status_code == 404
    assert console.counts() == before


def test_every_action_is_audited_with_the_user_as_actor(console: ConsoleWorld) -> None:
    client = console.signed_in("lin")
    values = ids(console)
    client.get(url("/admin/c/{slug}/documents/{document_id}", values))
    client.get(f"/admin/c/{SLUG}/applications.xlsx")
    with Session(console.engine) as session:
        actions = {e.action for e in session.exec(select(AuditEvent).where(AuditEvent.actor == "admin:lin"))}
    assert {"login", "download", "export"} <= actions
