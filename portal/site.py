"""What every room of the portal shares to answer a request: pages, refusals, forms, personal links.

A ``Site`` is built once by ``portal.app.create_app`` and handed to each room's ``routes(site)``.
It knows the settings, the database engine, the clock and the page templates; it answers in the
reader's language with the security headers set, turns every refusal into a page (403 for a
refused link or CSRF token, 413 for a body or form too large, 404), reads a posted form within the
field limits, and builds the page of a form opened by a personal link (the CSRF token bound to the
link's fingerprint, its cookie scoped to the room's path).

Nothing here knows an audience: each room tells the site its paths' audience (``site.audience``:
"/supervise/" → supervisor, with its header), and every page — a refusal included — is headed and
worded for the audience of its path, with the station's contact (``station_contact``: the
competition's when the refused link named one, else ``GRANTFLOW_PORTAL_CONTACT``, else the newest
competition's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from models.competition.tables import station_contact
from models.db import database_fault, session_scope
from models.errors import AccessDenied, InputError, NotFound
from models.links import token_fingerprint
from models.settings import Settings
from portal import csrf
from portal.i18n import LANGUAGE_COOKIE, LANGUAGES, choose_language, has_message, translator
from portal.limits import read_form
from portal.uploads import StoredFile, file_response

log = logging.getLogger("grantflow.portal")
NOTICES = ("draft", "submitted", "conflict")  # ?done= after a successful post
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",  # a personal link must not leak to other sites
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True)
class Audience:
    """Who the pages under a path are for: ``name`` (expert | supervisor | grantee | applicant) words
    the refusals (``refused.body.<name>`` …), ``header`` is the words key of the site's name."""

    name: str
    header: str


VISITOR = Audience("visitor", "portal.site")  # a path no room claims


@dataclass(frozen=True)
class Site:
    settings: Settings
    engine: Engine
    templates: Jinja2Templates
    clock: Callable[[], datetime]
    audiences: dict[str, Audience] = field(default_factory=dict)  # path prefix → audience

    def audience(self, prefix: str, name: str, *, header: str) -> None:
        """Say whom the pages under ``prefix`` (``"/supervise/"``) are for (a room, once, in its routes)."""
        self.audiences[prefix] = Audience(name, header)

    def audience_of(self, request: Request) -> Audience:
        path = request.url.path
        found = [prefix for prefix in self.audiences if path.startswith(prefix)]
        return self.audiences[max(found, key=len)] if found else VISITOR

    def contact(self, competition_id: int | None) -> str:
        """Whom a page tells people to call (see the module docstring)."""
        if competition_id is None and self.settings.portal_contact:
            return self.settings.portal_contact
        try:
            with session_scope(self.engine) as session:
                return station_contact(session, competition_id=competition_id)
        except DBAPIError as exc:  # the database is gone (the 503 page itself asks): a page without it
            if database_fault(exc) is None:
                raise
            return ""

    @property
    def secret(self) -> str:
        return self.settings.secret_key.get_secret_value()

    @property
    def secure_cookies(self) -> bool:
        return self.settings.portal_url.startswith("https://")

    # ---- answering ---------------------------------------------------------------------------------

    def language_of(self, request: Request) -> str:
        return choose_language(
            request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE), self.settings.language
        )

    def finish(self, request: Request, response: Response) -> Response:
        """The security headers, and the language cookie when ``?lang=`` asked for one."""
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        asked = request.query_params.get("lang")
        if asked in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, asked, max_age=365 * 86400, samesite="lax", secure=self.secure_cookies
            )
        return response

    def page(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        language = self.language_of(request)
        audience = self.audience_of(request)
        base = {
            "lang": language,
            "t": translator(language),
            "other_lang": "en" if language != "en" else "zh-CN",
            "site_key": audience.header,
            "audience": audience.name,
        }
        response = self.templates.TemplateResponse(
            request, name, {**base, **context}, status_code=status_code
        )
        return self.finish(request, response)

    def redirect_done(self, request: Request, notice: str) -> Response:
        """After a successful post: back to the same page with ``?done=<notice>`` (303)."""
        return self.finish(request, RedirectResponse(f"{request.url.path}?done={notice}", status_code=303))

    # ---- refusing ----------------------------------------------------------------------------------

    def refused(self, request: Request, exc: AccessDenied, token: str = "") -> Response:
        """A refused personal link or CSRF token: a plain 403 page, a log line with a fingerprint."""
        reason = getattr(exc, "reason", "denied")
        log.warning(
            "portal refused %s %s: %s (token %s, client %s)",
            request.method,
            request.url.path.split("/")[1],
            reason,
            token_fingerprint(token) if token else "-",
            request.client.host if request.client else "-",
        )
        kind = "csrf" if isinstance(exc, csrf.CsrfRefused) else "refused"
        competition_id = getattr(exc, "competition_id", None)
        return self.refusal_page(request, kind, 403, reason=reason, competition_id=competition_id)

    def refusal(self, request: Request, kind: str, status_code: int) -> Response:
        """A plain page for a request the portal will not take (too large, a bad form, …)."""
        log.warning(
            "portal refused %s %s: %s (client %s)",
            request.method,
            request.url.path.split("/")[1],
            kind,
            request.client.host if request.client else "-",
        )
        return self.refusal_page(request, kind, status_code)

    def not_found(self, request: Request) -> Response:
        return self.refusal_page(request, "not_found", 404)

    def refusal_page(
        self,
        request: Request,
        kind: str,
        status_code: int,
        *,
        reason: str = "",
        competition_id: int | None = None,
    ) -> Response:
        """refused.html for ``kind``, worded for the path's audience, with the station's contact."""
        audience = self.audience_of(request).name
        worded = f"{kind}.body.{audience}"
        context = {
            "kind": kind,
            "reason": reason or kind,
            "body_key": worded if has_message(worded) else f"{kind}.body",
            "contact": self.contact(competition_id),
        }
        return self.page(request, "refused.html", context, status_code=status_code)

    # ---- forms -------------------------------------------------------------------------------------

    async def form_of(self, request: Request) -> tuple[dict[str, str], list[str]]:
        """The posted fields (text only) and the ticked communities; ``FormRefused`` when too many."""
        form = await read_form(request, max_fields=self.settings.portal_max_form_fields)
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        communities = [value for value in form.getlist("communities") if isinstance(value, str)]
        return fields, communities

    def check_csrf(self, request: Request, fields: dict[str, str], scope: str) -> None:
        csrf.check_form_token(
            field_value=fields.get(csrf.FIELD),
            cookie_value=request.cookies.get(csrf.COOKIE),
            scope=scope,
            secret=self.secret,
        )

    def cookie_value(self, request: Request) -> str:
        return request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()

    def form_page(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        cookie_value: str,
        scope: str,
        path: str,
        status_code: int = 200,
    ) -> Response:
        """A page holding a form: its CSRF token bound to ``scope``, the cookie limited to ``path``."""
        token = csrf.form_token(cookie_value=cookie_value, scope=scope, secret=self.secret)
        full = {**context, "csrf_field": csrf.FIELD, "csrf_token": token, "action_url": request.url.path}
        response = self.page(request, template, full, status_code=status_code)
        response.set_cookie(
            csrf.COOKIE, cookie_value, httponly=True, samesite="strict", secure=self.secure_cookies, path=path
        )
        return response

    # ---- pages opened by a personal link -----------------------------------------------------------

    @staticmethod
    def link_scope(path: str, token: str) -> str:
        return f"{path}:{token_fingerprint(token)}"

    def linked_response(
        self, request: Request, token: str, outcome: Any, cookie_value: str, *, template: str, path: str
    ) -> Response:
        """The page of a form opened by a personal link (``outcome`` has page, notice, problem_notice)."""
        context = {"page": outcome.page, "notice": outcome.notice, "problem_notice": outcome.problem_notice}
        return self.form_page(
            request,
            template,
            context,
            cookie_value=cookie_value,
            scope=self.link_scope(path, token),
            path=f"/{path}",
            status_code=outcome.status,
        )

    async def linked_get(
        self, request: Request, token: str, *, path: str, template: str, show: Callable[..., Any]
    ) -> Response:
        """GET of a page opened by a personal link: ``show`` checks the link and builds the outcome."""
        done = request.query_params.get("done")
        try:
            outcome = await run_in_threadpool(
                show,
                self.engine,
                token,
                self.settings,
                self.clock(),
                self.language_of(request),
                done if done in NOTICES else None,
            )
        except AccessDenied as exc:
            return self.refused(request, exc, token)
        return self.linked_response(
            request, token, outcome, self.cookie_value(request), template=template, path=path
        )

    async def evidence(
        self, request: Request, token: str, evidence_id: str, *, find: Callable[..., StoredFile]
    ) -> Response:
        """GET of a file a personal link may open: ``find(engine, token, settings, now, evidence_id)``
        checks the link (403 page) and which files it opens (``NotFound``: 404 page)."""
        if not (evidence_id.isascii() and evidence_id.isdigit() and len(evidence_id) <= 12):
            return self.not_found(request)
        try:
            stored = await run_in_threadpool(
                find, self.engine, token, self.settings, self.clock(), int(evidence_id)
            )
        except AccessDenied as exc:
            return self.refused(request, exc, token)
        except (NotFound, InputError):  # another link's file, or one not where it should be
            return self.not_found(request)
        thumb = request.query_params.get("thumb") == "1"
        response = await run_in_threadpool(file_response, stored, thumb=thumb)
        return self.finish(request, response)
