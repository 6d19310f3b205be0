"""The portal's application: the rooms' routes over one shared ``Site`` (FastAPI + Jinja2).

The rooms, by audience (each ``routes(site)`` documents its paths):

    portal/review/       experts: the review's score sheet (/review), the 结项 panel's sheet (/final-review)
    portal/supervision/  supervisors (/supervise) and grantees (/report), on a checkpoint's links
    portal/apply/        applicants: the web form (/apply)
    portal/admin/        the administrator's console (/admin): signed-in users with a role

and the kernel they share at the top of ``portal/``: ``site`` (pages, refusals, forms, personal
links), ``csrf``, ``limits``, ``uploads``, ``i18n`` (with the rooms' words in ``portal/words/``),
``events``, ``access_log`` and ``serving``. This module alone imports the rooms.

    GET  /healthz            {"status": "ok"} when the database answers
    GET  /static/…           the one stylesheet

Routes only translate: a form becomes a call of the domain function that tasks call too; its
``InputError`` becomes messages beside the fields; a refused link (``models.links``) or CSRF check
becomes a plain 403 page and a log line (with a fingerprint of the token, never the token); the web
server's access log names every personal link by its fingerprint too (``portal.access_log``). A
successful post redirects (303) back to the page with a notice. Language: Chinese, or English after
``?lang=en``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.db import database_fault, get_engine
from models.settings import TEMPLATES_DIR, Settings, get_settings
from models.types import utcnow
from portal import access_log
from portal.admin.routes import routes as admin_routes
from portal.apply.routes import routes as apply_routes
from portal.contact import contact_html
from portal.limits import BodyLimit
from portal.review.routes import routes as review_routes
from portal.serving import configure_logging
from portal.site import Site, log
from portal.supervision.routes import UPLOAD_PATHS
from portal.supervision.routes import routes as supervision_routes

WEB_TEMPLATES = TEMPLATES_DIR / "web"


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """The portal for ``settings`` (default: this process's); ``clock`` gives the current time."""
    settings = settings or get_settings()
    access_log.install()  # personal links appear in the access log as fingerprints only
    engine = get_engine(settings.effective_database_url)
    templates = Jinja2Templates(
        env=Environment(
            loader=FileSystemLoader(str(WEB_TEMPLATES)),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
        )
    )
    templates.env.filters["contact"] = contact_html
    site = Site(settings=settings, engine=engine, templates=templates, clock=clock)
    app = FastAPI(title="grantflow portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(WEB_TEMPLATES / "static")), name="static")

    async def refuse_body(scope: Any, kind: str) -> Response:
        return site.refusal(Request(scope), kind, 408 if kind == "too_slow" else 413)

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.portal_max_body_bytes,
        refuse=refuse_body,
        upload_paths=UPLOAD_PATHS,
        upload_max_bytes=settings.portal_max_upload_body_bytes,
        body_seconds=settings.portal_body_seconds,
    )

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok"})

    for routes in (review_routes, supervision_routes, apply_routes, admin_routes):
        app.include_router(routes(site))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Every HTTP refusal is a page in the reader's language, never raw JSON."""
        if exc.status_code == 404:
            return site.not_found(request)
        kind = "not_allowed" if exc.status_code == 405 else "bad_request"
        response = site.refusal(request, kind, exc.status_code)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return site.refusal(request, "bad_request", 400)

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
        response = site.refusal(request, "busy", 503)
        response.headers["Retry-After"] = "30"
        return response

    return app


def served_app() -> FastAPI:
    """The app one worker process of ``grantflow portal --workers N`` serves (uvicorn's factory)."""
    configure_logging()
    return create_app(get_settings())
