"""Signing in to the console through its form: the cookie's flags, a new session at every sign-in,
the lock-out (held in the database: a second app — another worker, a restart — sees it), idle
sessions ending, logout, a disabled account, and where a sign-in may lead."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from models.accounts.tables import ConsoleSession, LoginAttempt
from models.accounts.users import set_active, set_password
from models.audit import AuditEvent
from models.types import utcnow
from portal.app import create_app
from tests.portal.admin.console_world import PASSWORDS, SLUG, ConsoleWorld, build_world, csrf_of, sign_in

pytestmark = pytest.mark.slow


def cookie_header(answer) -> str:
    return next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("gf_admin="))


def test_the_session_cookie_is_http_only_same_site_and_scoped_to_the_console(console: ConsoleWorld) -> None:
    answer = sign_in(console.client(), "lin", PASSWORDS["lin"])
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    flags = [part.strip().lower() for part in cookie_header(answer).split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/admin" in flags
    assert "secure" not in flags  # plain http on the development address


def test_the_session_cookie_is_secure_behind_https(
    year_template: Path, tmp_path: Path, settings_env: Path
) -> None:
    world = build_world(year_template, tmp_path, portal_url="https://portal.example.org")
    answer = sign_in(world.client(), "lin", PASSWORDS["lin"])
    assert "secure" in [part.strip().lower() for part in cookie_header(answer).split(";")]


def test_signing_in_opens_a_new_session_and_ends_the_one_held_before(console: ConsoleWorld) -> None:
    client = console.client()
    token = csrf_of(client.get("/admin/login").text)
    form = {"csrf_token": token, "name": "lin", "password": PASSWORDS["lin"]}
    assert client.post("/admin/login", data=form).status_code == 303
    first = client.cookies.get("gf_admin")
    assert client.get(f"/admin/c/{SLUG}").status_code == 200
    assert client.post("/admin/login", data=form).status_code == 303  # the form, still open in a tab
    second = client.cookies.get("gf_admin")
    assert first and second and first != second
    planted = console.client()  # a browser given the old cookie (fixation) gets nothing
    planted.cookies.set("gf_admin", first, path="/admin")
    assert planted.get(f"/admin/c/{SLUG}").status_code == 303
    with Session(console.engine) as session:
        ended = session.exec(
            select(ConsoleSession.ended_why).where(col(ConsoleSession.ended_at).is_not(None))
        ).all()
    assert ended == ["login"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(console: ConsoleWorld) -> None:
    wrong = sign_in(console.client(), "lin", "not-the-password")
    nobody = sign_in(console.client(), "nobody-here", "not-the-password")
    assert wrong.status_code == nobody.status_code == 401
    assert "用户名或密码不正确" in wrong.text and "用户名或密码不正确" in nobody.text
    assert "gf_admin" not in wrong.headers.get("set-cookie", "")


def test_the_lock_out_holds_across_workers_and_restarts(console: ConsoleWorld) -> None:
    client = console.client()
    for _ in range(console.settings.console_login_failures):
        assert sign_in(client, "lin", "guess-guess-guess").status_code == 401
    locked = sign_in(client, "lin", PASSWORDS["lin"])
    assert locked.status_code == 429 and "暂时锁定" in locked.text
    other_worker = create_app(console.settings)  # a second process on the same database
    from fastapi.testclient import TestClient

    with TestClient(other_worker, follow_redirects=False) as fresh:
        assert sign_in(fresh, "LIN", PASSWORDS["lin"]).status_code == 429  # the name, whatever its case
    assert sign_in(console.client(), "cai", PASSWORDS["cai"]).status_code == 303  # only that name is locked
    with Session(console.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "user"))]
        set_password(session, name="lin", password="a-brand-new-password", actor="admin:cli")
        session.commit()
    assert actions.count("login_failed") == console.settings.console_login_failures
    assert actions.count("lockout") == 1
    assert (
        sign_in(console.client(), "lin", "a-brand-new-password").status_code == 303
    )  # a new password lifts it


def test_the_lock_out_lifts_after_its_window(console: ConsoleWorld) -> None:
    for _ in range(console.settings.console_login_failures):
        sign_in(console.client(), "du", "guess-guess-guess")
    assert sign_in(console.client(), "du", PASSWORDS["du"]).status_code == 429
    window = timedelta(minutes=console.settings.console_lockout_minutes + 1)
    with Session(console.engine) as session:
        for attempt in session.exec(select(LoginAttempt)):  # the window passes
            attempt.at -= window
            session.add(attempt)
        session.commit()
    assert sign_in(console.client(), "du", PASSWORDS["du"]).status_code == 303


def test_an_idle_session_ends_and_leads_back_to_the_sign_in_page(console: ConsoleWorld) -> None:
    client = console.signed_in("lin")
    assert client.get(f"/admin/c/{SLUG}/applications").status_code == 200
    idle = timedelta(minutes=console.settings.console_idle_minutes + 1)
    with Session(console.engine) as session:
        session.execute(update(ConsoleSession).values(seen_at=utcnow() - idle))
        session.commit()
    answer = client.get(f"/admin/c/{SLUG}/applications?standing=funded")
    assert answer.status_code == 303
    assert (
        answer.headers["location"]
        == "/admin/login?next=/admin/c/jiangtou-2025/applications%3Fstanding%3Dfunded"
    )
    with Session(console.engine) as session:
        assert session.exec(select(ConsoleSession.ended_why)).all() == ["idle"]


def test_logout_ends_the_session(console: ConsoleWorld) -> None:
    client = console.signed_in("du")
    cookie = client.cookies.get("gf_admin")
    page = client.get(f"/admin/c/{SLUG}")
    answer = client.post("/admin/logout", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"
    again = console.client()
    again.cookies.set("gf_admin", cookie or "", path="/admin")
    assert again.get(f"/admin/c/{SLUG}").status_code == 303


def test_disabling_an_account_ends_its_sessions_at_once(console: ConsoleWorld) -> None:
    client = console.signed_in("cai")
    assert client.get(f"/admin/c/{SLUG}").status_code == 200
    with Session(console.engine) as session:
        set_active(session, name="cai", active=False, actor="admin:cli")
        session.commit()
    assert client.get(f"/admin/c/{SLUG}").status_code == 303
    assert sign_in(console.client(), "cai", PASSWORDS["cai"]).status_code == 401


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        (
            "/admin/c/jiangtou-2025/applications?standing=funded",
            "/admin/c/jiangtou-2025/applications?standing=funded",
        ),
        ("https://evil.example.org/admin", "/admin"),
        ("//evil.example.org/admin", "/admin"),
        ("/admin//evil.example.org", "/admin"),
        ("/admin/../review/abc", "/admin"),
        ("/review/abc", "/admin"),
        ("/admin/login", "/admin"),
    ],
)
def test_a_sign_in_leads_only_back_into_the_console(console: ConsoleWorld, asked: str, lands: str) -> None:
    answer = sign_in(console.client(), "lin", PASSWORDS["lin"], next_path=asked)
    assert answer.headers["location"] == lands


def test_a_sign_in_without_its_csrf_token_is_refused(console: ConsoleWorld) -> None:
    client = console.client()
    answer = client.post("/admin/login", data={"name": "lin", "password": PASSWORDS["lin"]})
    assert answer.status_code == 403
    with Session(console.engine) as session:
        assert session.exec(select(LoginAttempt)).all() == []
