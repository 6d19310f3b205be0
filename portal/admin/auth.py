"""Signing in and out of the console.

    GET  /admin/login    the sign-in form (already signed in → /admin)
    POST /admin/login    name + password (CSRF: the portal's double-submit cookie, scope admin:login)
                         → a new session and its cookie, 303 to ``next`` (a console path) or /admin;
                         a wrong password 401, a locked name or throttled address 429 — the same
                         sentence whether the name exists or not
    POST /admin/logout   ends the session (CSRF bound to it), clears the cookie, 303 to the form

The throttle, the lock-out and the audit are ``models.accounts.login``'s; the session is
``models.accounts.sessions``' (a new one at every sign-in: no session fixation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from models.accounts.login import Limits, Refusal, sign_in
from models.accounts.roles import Power
from models.accounts.sessions import end_session, open_session
from models.db import session_scope
from models.errors import AccessDenied
from models.types import utcnow
from portal.admin.console import LOGIN_PATH, Call, Console, safe_next, words
from portal.limits import FormRefused

LOGIN_SCOPE = "admin:login"


@dataclass(frozen=True)
class Attempt:
    token: str | None  # the new session's token when signed in
    refused: Refusal | None
    until: datetime | None


def register(console: Console) -> None:
    site = console.site
    router = console.router

    def login_page(
        request: Request, *, message: Markup | None, name: str, next_path: str | None, status_code: int
    ) -> Response:
        context = {"w": words, "message": message, "name": name, "next": safe_next(next_path)}
        return site.form_page(
            request,
            "admin/login.html",
            context,
            cookie_value=site.cookie_value(request),
            scope=LOGIN_SCOPE,
            path="/admin",
            status_code=status_code,
        )

    @router.get(LOGIN_PATH, name="admin.login_form")
    async def login_form(request: Request) -> Response:
        if await console.viewer_of(request) is not None:
            return site.finish(request, RedirectResponse(safe_next(request.query_params.get("next")), 303))
        return login_page(
            request, message=None, name="", next_path=request.query_params.get("next"), status_code=200
        )

    def attempt(name: str, password: str, client: str, previous: str | None) -> Attempt:
        now = utcnow()
        with session_scope(site.engine) as session:
            outcome = sign_in(
                session, name=name, password=password, client=client, now=now, limits=Limits.of(site.settings)
            )
            if outcome.user is None:
                return Attempt(None, outcome.refused, outcome.until)
            token = open_session(session, user=outcome.user, client=client, now=now, previous=previous)
            return Attempt(token, None, None)

    @router.post(LOGIN_PATH, name="admin.login")
    async def login(request: Request) -> Response:
        try:
            fields, _ = await site.form_of(request)
            site.check_csrf(request, fields, LOGIN_SCOPE)
        except FormRefused:
            return site.refusal(request, "form_refused", 413)
        except AccessDenied as exc:
            return site.refused(request, exc)
        name = fields.get("name", "")[:200]
        client = request.client.host if request.client else "-"
        result = await run_in_threadpool(
            attempt, name, fields.get("password", "")[:1024], client, console.token_of(request)
        )
        if result.token is None:
            back = fields.get("next")
            if result.refused is Refusal.password:
                return login_page(
                    request, message=words("admin.login.wrong"), name=name, next_path=back, status_code=401
                )
            until = result.until.astimezone(ZoneInfo(site.settings.timezone)) if result.until else None
            key = "admin.login.locked" if result.refused is Refusal.locked else "admin.login.throttled"
            message = words(key, until=f"{until:%H:%M}" if until else "")
            return login_page(request, message=message, name=name, next_path=back, status_code=429)
        target = safe_next(fields.get("next"))
        response = RedirectResponse(target, status_code=303)
        console.set_session_cookie(request, response, result.token)
        return site.finish(request, response)

    @console.action("/admin/logout", power=Power.read)
    def logout(call: Call) -> Response:
        token = console.token_of(call.request)
        if token is not None:
            with call.session() as session:
                end_session(session, token=token, now=utcnow())
        response = call.redirect(LOGIN_PATH)
        console.clear_session_cookie(call.request, response)
        return response
