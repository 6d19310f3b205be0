"""The portal: experts score applications through personal links (FastAPI + Jinja2).

    GET  /review/{token}     the sheet: application, rubric, comment, conflict declaration
    POST /review/{token}     action=draft | submit | conflict → save_sheet / declare_conflict
    GET  /healthz            {"status": "ok"} when the database answers
    GET  /static/…           the one stylesheet

Routes only translate: a form becomes a call of the domain function that tasks call too
(``models.score_sheets.save_sheet``, ``models.reviewing.declare_conflict``); its ``InputError``
becomes messages beside the fields; a refused link (``models.links``) or CSRF check becomes a plain
403 page and a log line (with a fingerprint of the token, never the token). A successful post
redirects (303) back to the sheet with a notice. Language: Chinese, or English after ``?lang=en``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.db import get_engine, session_scope
from models.errors import AccessDenied
from models.links import open_review_link, token_fingerprint
from models.settings import TEMPLATES_DIR, Settings, get_settings
from models.types import utcnow
from portal import csrf
from portal.i18n import LANGUAGE_COOKIE, LANGUAGES, choose_language, translator
from portal.review import SheetOutcome, handle_post, show_sheet

log = logging.getLogger("grantflow.portal")
WEB_TEMPLATES = TEMPLATES_DIR / "web"
NOTICES = ("draft", "submitted", "conflict")
_SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",  # the personal link must not leak to other sites
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
}


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """The portal for ``settings`` (default: this process's); ``clock`` gives the current time."""
    settings = settings or get_settings()
    engine = get_engine(settings.effective_database_url)
    secret = settings.secret_key.get_secret_value()
    secure_cookies = settings.portal_url.startswith("https://")
    templates = Jinja2Templates(
        env=Environment(
            loader=FileSystemLoader(str(WEB_TEMPLATES)),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
        )
    )
    app = FastAPI(title="grantflow portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(WEB_TEMPLATES / "static")), name="static")

    def language_of(request: Request) -> str:
        return choose_language(
            request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE), settings.language
        )

    def finish(request: Request, response: Response) -> Response:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        asked = request.query_params.get("lang")
        if asked in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, asked, max_age=365 * 86400, samesite="lax", secure=secure_cookies
            )
        return response

    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        language = language_of(request)
        base = {
            "lang": language,
            "t": translator(language),
            "other_lang": "en" if language != "en" else "zh-CN",
        }
        return finish(
            request, templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
        )

    def refused(request: Request, exc: AccessDenied, token: str = "") -> Response:
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
        return page(request, "refused.html", {"kind": kind, "reason": reason}, status_code=403)

    def sheet_response(request: Request, token: str, outcome: SheetOutcome, cookie_value: str) -> Response:
        scope = token_fingerprint(token)
        context = {
            "sheet": outcome.page,
            "notice": outcome.notice,
            "problem_notice": outcome.problem_notice,
            "csrf_field": csrf.FIELD,
            "csrf_token": csrf.form_token(cookie_value=cookie_value, scope=scope, secret=secret),
            "action_url": request.url.path,
        }
        response = page(request, "review_sheet.html", context, status_code=outcome.status)
        response.set_cookie(
            csrf.COOKIE, cookie_value, httponly=True, samesite="strict", secure=secure_cookies, path="/review"
        )
        return response

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok"})

    @app.get("/review/{token}")
    async def review_sheet(request: Request, token: str) -> Response:
        language = language_of(request)
        done = request.query_params.get("done")
        try:
            outcome = await run_in_threadpool(
                show_sheet, engine, token, settings, clock(), language, done if done in NOTICES else None
            )
        except AccessDenied as exc:
            return refused(request, exc, token)
        cookie_value = request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        return sheet_response(request, token, outcome, cookie_value)

    @app.post("/review/{token}")
    async def review_post(request: Request, token: str) -> Response:
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        language = language_of(request)
        try:
            await run_in_threadpool(_open, engine, token, settings, clock())
            csrf.check_form_token(
                field_value=fields.get(csrf.FIELD),
                cookie_value=request.cookies.get(csrf.COOKIE),
                scope=token_fingerprint(token),
                secret=secret,
            )
            outcome = await run_in_threadpool(handle_post, engine, token, settings, clock(), language, fields)
        except AccessDenied as exc:
            return refused(request, exc, token)
        if outcome.redirect_notice:
            target = f"{request.url.path}?done={outcome.redirect_notice}"
            return finish(request, RedirectResponse(target, status_code=303))
        return sheet_response(
            request, token, outcome, request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(
                request, "refused.html", {"kind": "not_found", "reason": "not_found"}, status_code=404
            )
        return finish(request, JSONResponse({"detail": exc.detail}, status_code=exc.status_code))

    return app


def _open(engine: Any, token: str, settings: Settings, now: datetime) -> int:
    with session_scope(engine) as session:
        assignment = open_review_link(session, token=token, settings=settings, now=now)
        assert assignment.id is not None
        return assignment.id
