"""The portal: experts score applications through personal links (FastAPI + Jinja2).

    GET  /review/{token}     the sheet: application, rubric, comment, conflict declaration
    POST /review/{token}     action=draft | submit | conflict → save_sheet / declare_conflict
    GET  /apply/{slug}       the applicants' web form (网上申报), or a plain 409/404 page
    POST /apply/{slug}       action=submit → submit_web_application | add_rows (more budget lines)
    GET  /apply/{slug}/done/{token}   the confirmation with the 申报编号 (signed token)
    GET  /supervise/{token}  the supervisor's 督导记录表 for one checkpoint (plan, grantee's report, form)
    POST /supervise/{token}  action=draft | submit, with evidence uploads → save_record
    GET  /report/{token}     the grantee's progress report for one checkpoint
    POST /report/{token}     action=draft | submit, with evidence uploads → save_progress_report
    GET  /final-review/{token}   the expert panel's 结项 sheet: plan vs delivered, findings, score
    POST /final-review/{token}   action=draft | submit → save_panel_sheet
    GET  /healthz            {"status": "ok"} when the database answers
    GET  /static/…           the one stylesheet

Routes only translate: a form becomes a call of the domain function that tasks call too
(``models.review.score_sheets.save_sheet``, ``models.review.reviewing.declare_conflict``); its ``InputError``
becomes messages beside the fields; a refused link (``models.links``) or CSRF check becomes a plain
403 page and a log line (with a fingerprint of the token, never the token); the web server's
access log names every personal link by its fingerprint too (``portal.access_log``). A successful post
redirects (303) back to the sheet with a notice. Language: Chinese, or English after ``?lang=en``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from models.db import database_fault, get_engine, session_scope
from models.errors import AccessDenied, NotFound
from models.links import token_fingerprint
from models.review.links import open_review_link
from models.settings import TEMPLATES_DIR, Settings, get_settings
from models.types import utcnow
from portal import access_log, csrf
from portal.apply import ApplyOutcome, done_token, show_done, show_form
from portal.apply import handle_post as handle_apply
from portal.apply_form import HONEYPOT
from portal.checkpoint_forms import upload_rules
from portal.final_review import handle_panel_post, open_panel_sheet, show_panel_sheet
from portal.i18n import LANGUAGE_COOKIE, LANGUAGES, choose_language, translator
from portal.limits import BodyLimit, FormRefused, read_form
from portal.report import handle_report_post, show_report
from portal.review import SheetOutcome, handle_post, show_sheet
from portal.supervise import handle_record_post, show_record
from portal.uploads import MAX_PARTS, read_uploads

log = logging.getLogger("grantflow.portal")
WEB_TEMPLATES = TEMPLATES_DIR / "web"
NOTICES = ("draft", "submitted", "conflict")  # ?done= (the supervision pages use draft, submitted)
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
    access_log.install()  # personal links appear in the access log as fingerprints only
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
            "site_key": "apply.site" if request.url.path.startswith("/apply") else "site",
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

    def refusal(request: Request, kind: str, status_code: int) -> Response:
        """A plain page for a request the portal will not take (too large, a bad form, …)."""
        log.warning(
            "portal refused %s %s: %s (client %s)",
            request.method,
            request.url.path.split("/")[1],
            kind,
            request.client.host if request.client else "-",
        )
        return page(request, "refused.html", {"kind": kind, "reason": kind}, status_code=status_code)

    async def refuse_body(scope: Any, kind: str) -> Response:
        return refusal(Request(scope), kind, 413)

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.portal_max_body_bytes,
        refuse=refuse_body,
        upload_paths=("/supervise/", "/report/"),
        upload_max_bytes=settings.portal_max_upload_body_bytes,
    )

    async def form_of(request: Request) -> tuple[dict[str, str], list[str]]:
        """The posted fields (text only) and the ticked communities; ``FormRefused`` when too many."""
        form = await read_form(request, max_fields=settings.portal_max_form_fields)
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        communities = [value for value in form.getlist("communities") if isinstance(value, str)]
        return fields, communities

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
        language = language_of(request)
        try:
            await run_in_threadpool(_open, engine, token, settings, clock())  # the link before the body
            fields, _ = await form_of(request)
            csrf.check_form_token(
                field_value=fields.get(csrf.FIELD),
                cookie_value=request.cookies.get(csrf.COOKIE),
                scope=token_fingerprint(token),
                secret=secret,
            )
            outcome = await run_in_threadpool(handle_post, engine, token, settings, clock(), language, fields)
        except AccessDenied as exc:
            return refused(request, exc, token)
        except FormRefused:
            return refusal(request, "form_refused", 413)
        if outcome.redirect_notice:
            target = f"{request.url.path}?done={outcome.redirect_notice}"
            return finish(request, RedirectResponse(target, status_code=303))
        return sheet_response(
            request, token, outcome, request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        )

    def apply_response(request: Request, slug: str, outcome: ApplyOutcome, cookie_value: str) -> Response:
        if outcome.closed is not None:
            return page(request, "apply_closed.html", {"closed": outcome.closed}, status_code=outcome.status)
        context = {
            "form": outcome.page,
            "notice": outcome.notice,
            "problem_notice": outcome.problem_notice,
            "csrf_field": csrf.FIELD,
            "csrf_token": csrf.form_token(cookie_value=cookie_value, scope=f"apply:{slug}", secret=secret),
            "honeypot": HONEYPOT,
            "action_url": request.url.path,
        }
        response = page(request, "apply_form.html", context, status_code=outcome.status)
        response.set_cookie(
            csrf.COOKIE, cookie_value, httponly=True, samesite="strict", secure=secure_cookies, path="/apply"
        )
        return response

    def not_found(request: Request) -> Response:
        return page(request, "refused.html", {"kind": "not_found", "reason": "not_found"}, status_code=404)

    @app.get("/apply/{slug}")
    async def apply_form(request: Request, slug: str) -> Response:
        try:
            outcome = await run_in_threadpool(
                show_form, engine, slug, settings, clock(), language_of(request)
            )
        except NotFound:
            return not_found(request)
        cookie_value = request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        return apply_response(request, slug, outcome, cookie_value)

    @app.post("/apply/{slug}")
    async def apply_post(request: Request, slug: str) -> Response:
        language = language_of(request)
        try:
            current = await run_in_threadpool(show_form, engine, slug, settings, clock(), language)
            if current.closed is not None:  # closed: nothing posted is read, nothing stored
                return apply_response(request, slug, current, csrf.new_cookie_value())
            fields, communities = await form_of(request)
            csrf.check_form_token(
                field_value=fields.get(csrf.FIELD),
                cookie_value=request.cookies.get(csrf.COOKIE),
                scope=f"apply:{slug}",
                secret=secret,
            )
        except NotFound:
            return not_found(request)
        except AccessDenied as exc:
            return refused(request, exc)
        except FormRefused:
            return refusal(request, "form_refused", 413)
        if fields.get(HONEYPOT, "").strip():
            log.warning("portal refused a web application to %s: honeypot filled", slug)
            return page(request, "refused.html", {"kind": "spam", "reason": "honeypot"}, status_code=400)
        outcome = await run_in_threadpool(
            handle_apply, engine, slug, settings, clock(), language, fields, communities
        )
        if outcome.received is not None:
            target = f"/apply/{slug}/done/{done_token(outcome.received, slug, secret=secret)}"
            return finish(request, RedirectResponse(target, status_code=303))
        return apply_response(
            request, slug, outcome, request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        )

    @app.get("/apply/{slug}/done/{token}")
    async def apply_done(request: Request, slug: str, token: str) -> Response:
        try:
            done = await run_in_threadpool(show_done, engine, slug, token, settings)
        except NotFound:
            return not_found(request)
        return page(request, "apply_done.html", {"done": done})

    # ---- pages opened by a personal link: the supervisor's record, the grantee's report, the panel sheet

    def linked_response(
        request: Request, token: str, outcome: Any, cookie_value: str, *, template: str, path: str
    ) -> Response:
        context = {
            "page": outcome.page,
            "notice": outcome.notice,
            "problem_notice": outcome.problem_notice,
            "csrf_field": csrf.FIELD,
            "csrf_token": csrf.form_token(
                cookie_value=cookie_value, scope=f"{path}:{token_fingerprint(token)}", secret=secret
            ),
            "action_url": request.url.path,
        }
        response = page(request, template, context, status_code=outcome.status)
        response.set_cookie(
            csrf.COOKIE,
            cookie_value,
            httponly=True,
            samesite="strict",
            secure=secure_cookies,
            path=f"/{path}",
        )
        return response

    # a page opened by a personal link: path → (link purpose, template, show, handle a post)
    linked_pages: dict[str, tuple[str, str, Callable[..., Any], Callable[..., Any]]] = {
        "supervise": ("checkpoint", "supervise_record.html", show_record, handle_record_post),
        "report": ("report", "report_form.html", show_report, handle_report_post),
        "final-review": ("final_review", "final_review_sheet.html", show_panel_sheet, handle_panel_post),
    }

    async def linked_get(request: Request, token: str, path: str) -> Response:
        _, template, show, _ = linked_pages[path]
        done = request.query_params.get("done")
        try:
            outcome = await run_in_threadpool(
                show,
                engine,
                token,
                settings,
                clock(),
                language_of(request),
                done if done in NOTICES else None,
            )
        except AccessDenied as exc:
            return refused(request, exc, token)
        cookie_value = request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        return linked_response(request, token, outcome, cookie_value, template=template, path=path)

    async def checkpoint_post(request: Request, token: str, path: str) -> Response:
        purpose, template, _, handle = linked_pages[path]
        language = language_of(request)
        form = None
        try:
            max_bytes = await run_in_threadpool(upload_rules, engine, token, settings, clock(), purpose)
            form = await request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS * 4)
            fields = {key: value for key, value in form.items() if isinstance(value, str)}
            csrf.check_form_token(
                field_value=fields.get(csrf.FIELD),
                cookie_value=request.cookies.get(csrf.COOKIE),
                scope=f"{path}:{token_fingerprint(token)}",
                secret=secret,
            )
            uploads = await read_uploads(form, max_bytes=max_bytes)
            outcome = await run_in_threadpool(
                handle, engine, token, settings, clock(), language, fields, uploads
            )
        except AccessDenied as exc:
            return refused(request, exc, token)
        except MultiPartException as exc:
            log.warning("portal refused a %s post: %s", path, exc)
            return page(request, "refused.html", {"kind": "upload", "reason": "multipart"}, status_code=400)
        finally:
            if form is not None:
                await form.close()
        if outcome.redirect_notice:
            target = f"{request.url.path}?done={outcome.redirect_notice}"
            return finish(request, RedirectResponse(target, status_code=303))
        cookie_value = request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        return linked_response(request, token, outcome, cookie_value, template=template, path=path)

    @app.get("/supervise/{token}")
    async def supervise_get(request: Request, token: str) -> Response:
        return await linked_get(request, token, "supervise")

    @app.post("/supervise/{token}")
    async def supervise_post(request: Request, token: str) -> Response:
        return await checkpoint_post(request, token, "supervise")

    @app.get("/report/{token}")
    async def report_get(request: Request, token: str) -> Response:
        return await linked_get(request, token, "report")

    @app.post("/report/{token}")
    async def report_post(request: Request, token: str) -> Response:
        return await checkpoint_post(request, token, "report")

    # ---- the expert panel of the 结项 (evaluation.expert_panel): one sheet per personal link -----

    @app.get("/final-review/{token}")
    async def final_review_get(request: Request, token: str) -> Response:
        return await linked_get(request, token, "final-review")

    @app.post("/final-review/{token}")
    async def final_review_post(request: Request, token: str) -> Response:
        language = language_of(request)
        try:
            await run_in_threadpool(open_panel_sheet, engine, token, settings, clock())  # the link first
            fields, _ = await form_of(request)
            csrf.check_form_token(
                field_value=fields.get(csrf.FIELD),
                cookie_value=request.cookies.get(csrf.COOKIE),
                scope=f"final-review:{token_fingerprint(token)}",
                secret=secret,
            )
            outcome = await run_in_threadpool(
                handle_panel_post, engine, token, settings, clock(), language, fields
            )
        except AccessDenied as exc:
            return refused(request, exc, token)
        except FormRefused:
            return refusal(request, "form_refused", 413)
        if outcome.redirect_notice:
            target = f"{request.url.path}?done={outcome.redirect_notice}"
            return finish(request, RedirectResponse(target, status_code=303))
        cookie_value = request.cookies.get(csrf.COOKIE) or csrf.new_cookie_value()
        return linked_response(
            request, token, outcome, cookie_value, template="final_review_sheet.html", path="final-review"
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Every HTTP refusal is a page in the reader's language, never raw JSON."""
        if exc.status_code == 404:
            return not_found(request)
        kind = "not_allowed" if exc.status_code == 405 else "bad_request"
        response = refusal(request, kind, exc.status_code)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return refusal(request, "bad_request", 400)

    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, exc: DBAPIError) -> Response:
        """SQLite locked past the busy timeout, PostgreSQL restarting: the transaction was rolled
        back whole, so "nothing was saved, try again" is the truth — a page, never a 500."""
        fault = database_fault(exc)
        if fault is None:
            raise exc
        log.warning(
            "portal: database unavailable on %s %s: %s", request.method, request.url.path.split("/")[1], fault
        )
        response = refusal(request, "busy", 503)
        response.headers["Retry-After"] = "30"
        return response

    return app


def _open(engine: Any, token: str, settings: Settings, now: datetime) -> int:
    with session_scope(engine) as session:
        assignment = open_review_link(session, token=token, settings=settings, now=now)
        assert assignment.id is not None
        return assignment.id
